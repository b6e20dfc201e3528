/* Collectors: what the sources list, the stream builder and a stream's page share: the
 * source types and what each one reads, a stream's status as a badge, the schedule's
 * names (polling intervals, history ranges and the pairs the seed allows), and times
 * as the collectors API answers them (epoch seconds).
 */

import { h } from "./dom.js";
import { badge, timeEl } from "./badges.js";
import { isoOf } from "./format.js";

/** Source types: a label, the family of streams they feed (what a stream reads). */
export const SOURCE_TYPES = {
  psql: { label: "PostgreSQL", family: "sql" },
  mysql: { label: "MySQL", family: "sql" },
  mariadb: { label: "MariaDB", family: "sql" },
  sqlite: { label: "SQLite file", family: "sql" },
  folder: { label: "Local folder", family: "files" },
  s3: { label: "Amazon S3", family: "files" },
  prometheus: { label: "Prometheus", family: "prometheus" },
  http: { label: "HTTP JSON", family: "http" },
};

const TYPE_KIND = { sql: "info", files: "violet", prometheus: "warning", http: "success" };

export const familyOf = (type) => (SOURCE_TYPES[type] || {}).family || "sql";

export function typeBadge(type) {
  const t = SOURCE_TYPES[type];
  return badge(t ? t.label : type, TYPE_KIND[t && t.family] || "muted");
}

/** Where a source is, in a line: host:port/database, the file or folder, the bucket, the URL. */
export function sourceWhere(source) {
  const c = (source && source.config) || {};
  const fam = familyOf(source && source.type);
  if (source.type === "sqlite" || source.type === "folder") return c.path || "";
  if (fam === "sql") return (c.host || "") + (c.port ? ":" + c.port : "") + (c.database ? "/" + c.database : "");
  if (source.type === "s3") return "s3://" + (c.bucket || "") + (c.prefix ? "/" + c.prefix : "");
  return c.url || "";
}

const STATUS_KIND = { ok: "success", backfilling: "info", error: "danger", pending: "muted", paused: "warning" };

/** A stream's state as people read it: paused wins over the collector's status. */
export const streamState = (s) => (s.paused ? "paused" : s.status || "pending");

export function streamStatusBadge(stream, testid) {
  const st = streamState(stream);
  const el = badge(st, STATUS_KIND[st] || "muted", testid);
  el.dataset.status = st;
  return el;
}

/** Epoch seconds (or an RFC 3339 string) as a <time>, relative ("3 min ago") or not. */
export function epochEl(value, relative) {
  const iso = typeof value === "number" ? isoOf(value) : value || null;
  return timeEl(iso, relative);
}

/** The runs and other answers may spell a field more than one way: the first one set. */
export function pick(obj, ...keys) {
  for (const k of keys) {
    if (obj && obj[k] !== undefined && obj[k] !== null) return obj[k];
  }
  return null;
}

export const POLLING_INTERVALS = [
  ["m1", "Every minute"], ["m5", "Every 5 minutes"], ["m10", "Every 10 minutes"],
  ["m15", "Every 15 minutes"], ["m30", "Every 30 minutes"], ["hourly", "Hourly"],
  ["h2", "Every 2 hours"], ["h3", "Every 3 hours"], ["h4", "Every 4 hours"], ["h6", "Every 6 hours"],
  ["h8", "Every 8 hours"], ["h12", "Every 12 hours"], ["daily", "Daily"],
];

export const HISTORY_RANGES = [
  ["h1", "1 hour"], ["h4", "4 hours"], ["d1", "1 day"], ["d3", "3 days"], ["w1", "1 week"],
  ["m1", "1 month"], ["m3", "3 months"], ["m6", "6 months"], ["y1", "1 year"], ["y2", "2 years"],
  ["y5", "5 years"], ["y10", "10 years"], ["y15", "15 years"], ["y20", "20 years"],
];

const SUB_HOURLY = ["h1", "h4", "d1", "d3", "w1", "m1"];
const HOURS = ["d1", "d3", "w1", "m1", "m3", "m6", "y1"];

/** The seed's table of the history ranges each polling interval may backfill. */
export const ALLOWED_HISTORY = {
  m1: ["h1", "h4", "d1", "d3", "w1"],
  m5: SUB_HOURLY, m10: SUB_HOURLY, m15: SUB_HOURLY, m30: SUB_HOURLY,
  hourly: HOURS, h2: HOURS, h3: HOURS, h4: HOURS, h6: HOURS, h8: HOURS, h12: HOURS,
  daily: ["d1", "d3", "w1", "m1", "m3", "m6", "y1", "y2", "y5", "y10", "y15", "y20"],
};

const label = (table, key) => (table.find(([k]) => k === key) || [null, key || "–"])[1];
export const intervalLabel = (key) => label(POLLING_INTERVALS, key);
export const historyLabel = (key) => label(HISTORY_RANGES, key);

/** What a stream reads, in a line: the table, the query, the files, the PromQL or the path. */
export function streamReads(s) {
  const fam = familyOf(s.type);
  if (fam === "sql") {
    if (s.customQuery) return h("code", { class: "expr", title: s.query || "" }, clip(s.query || "", 80));
    return h("code", {}, (s.schemaName ? s.schemaName + "." : "") + (s.tableName || ""));
  }
  if (fam === "files") {
    return h("code", {}, (s.path ? s.path.replace(/\/$/, "") + "/" : "") + (s.fileNamePattern || "*") +
      (s.fileFormat ? " · " + s.fileFormat : ""));
  }
  if (fam === "prometheus") return h("code", { class: "expr", title: s.query || "" }, clip(s.query || "", 80));
  return h("code", {}, (s.path || "/") + (s.jsonPath ? " · " + s.jsonPath : ""));
}

export const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

/** A metric's expression for the Metrics explorer: what=name (quoted unless a plain word). */
export function metricsHref(what) {
  const name = String(what);
  const value = /^[\w.:-]+$/.test(name) ? name : '"' + name.replace(/"/g, '\\"') + '"';
  return "/metrics/explore?q=" + encodeURIComponent("what=" + value);
}
