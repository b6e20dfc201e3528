/* What the Data pages share: sizes in bytes, column-type and profile badges, and saving
 * a file the API answers.
 */

import { api } from "./api.js";
import { h } from "./dom.js";
import { badge } from "./badges.js";

/** The logical types a column can have (the API's column_types), in menu order. */
export const COLUMN_TYPES = ["integer", "float", "decimal", "boolean", "string", "category", "date", "datetime", "duration"];

export const NUMERIC_TYPES = new Set(["integer", "float", "decimal"]);
export const TIME_TYPES = new Set(["date", "datetime"]);

const TYPE_KIND = {
  integer: "info", float: "info", decimal: "info", boolean: "violet",
  string: "muted", category: "success", date: "warning", datetime: "warning", duration: "warning",
};

export function columnTypeBadge(type, testid) {
  return badge(type, TYPE_KIND[type] || "muted", testid);
}

const PROFILE_KIND = { pending: "muted", running: "info", complete: "success", failed: "danger" };
const PROFILE_TEXT = { pending: "queued", running: "profiling", complete: "profiled", failed: "profile failed" };

export function profileBadge(status, testid) {
  const el = badge(PROFILE_TEXT[status] || status, PROFILE_KIND[status] || "muted", testid);
  el.dataset.status = status;
  return el;
}

export const PROFILING = new Set(["pending", "running"]);

export function fmtBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(v) : v.toLocaleString(undefined, { maximumFractionDigits: v >= 100 ? 0 : 1 })) + " " + units[i];
}

/** A cell as text (null for a missing value): numbers without float noise, nested values as JSON. */
export function cellText(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  return String(value);
}

/** "finance, 2024 ,," → ["finance", "2024"] */
export function splitTags(text) {
  return String(text || "").split(",").map((t) => t.trim()).filter(Boolean);
}

export function tagBadges(tags, onClick) {
  return h("span", { class: "badges" }, (tags || []).map((t) => onClick
    ? h("button", { type: "button", class: "badge badge-tag tag-button", "data-tag": t, onclick: (ev) => { ev.stopPropagation(); onClick(t); } }, t)
    : h("span", { class: "badge badge-tag" }, t)));
}

/**
 * Save what an API route answers as a file. The routes need the bearer token, which a
 * plain link cannot carry: the body is fetched as a Blob and handed to the browser
 * through a temporary object URL.
 */
export async function saveFrom(path, opts, fileName) {
  const blob = await api(path, Object.assign({ blob: true }, opts));
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: fileName, class: "offscreen" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}
