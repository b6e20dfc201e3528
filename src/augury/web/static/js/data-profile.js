/* A dataset's profile on its page: the quality panel (score, its parts, the issues) and
 * a card per column (type and its override, missing values, unique values, the semantic
 * hint, and a histogram or the most frequent values).
 */

import { $, $$, clear, h, svg } from "./dom.js";
import { fmtCount, fmtValue } from "./format.js";
import { badge } from "./badges.js";
import { COLUMN_TYPES, columnTypeBadge, NUMERIC_TYPES, TIME_TYPES } from "./data-common.js";

const SEVERITY_KIND = { error: "danger", warning: "warning", info: "info" };

function pct(share) {
  if (share === null || share === undefined) return "–";
  const p = 100 * share;
  if (p > 0 && p < 0.1) return "<0.1 %";
  if (p > 99.9 && p < 100) return ">99.9 %";
  return p.toLocaleString(undefined, { maximumFractionDigits: 1 }) + " %";
}

function scoreKind(score) {
  return score >= 0.9 ? "good" : score >= 0.7 ? "fair" : "poor";
}

/** The score as a ring that fills with it. */
function gauge(score) {
  const R = 46;
  const C = 2 * Math.PI * R;
  const ring = svg("circle", { cx: 60, cy: 60, r: R, class: "gauge-value", "stroke-dasharray": (C * score).toFixed(1) + " " + C.toFixed(1) });
  return h("div", { class: "gauge gauge-" + scoreKind(score), "data-testid": "quality-gauge" },
    svg("svg", { viewBox: "0 0 120 120", width: 120, height: 120, role: "img", "aria-label": "Quality score " + score.toFixed(2) },
      svg("circle", { cx: 60, cy: 60, r: R, class: "gauge-track" }), ring),
    h("div", { class: "gauge-text" },
      h("div", { class: "gauge-number", "data-testid": "quality-score" }, score.toFixed(2)),
      h("div", { class: "gauge-label" }, "quality")));
}

function part(label, share, note, testid) {
  const fill = h("span", { class: "bar-fill" });
  fill.style.width = Math.max(0, Math.min(100, 100 * (share || 0))) + "%";
  return h("li", { class: "quality-part" },
    h("span", { class: "quality-part-label" }, label),
    h("span", { class: "bar" }, fill),
    h("span", { class: "quality-part-value", "data-testid": testid }, pct(share)),
    note ? h("span", { class: "muted small quality-part-note" }, note) : null);
}

/** Fill `box` with the quality of a profile; `onColumn(name)` shows a column's card. */
export function renderQuality(box, quality, rows, onColumn) {
  clear(box);
  const q = quality;
  const dup = q.duplicate_rows || 0;
  const parts = h("ul", { class: "quality-parts" },
    part("Completeness", q.completeness, "cells present", "quality-completeness"),
    part("Unique rows", rows ? 1 - dup / rows : 0, fmtCount(dup) + (dup === 1 ? " duplicate row" : " duplicate rows"), "quality-unique"),
    part("Validity", q.validity, "values that read as their type"),
    part("Consistency", q.consistency, "columns neither constant nor mixed"),
    part("Within range", 1 - (q.outlier_share || 0), "numbers not outliers"));
  const issues = q.issues || [];
  const list = h("ul", { class: "issues", "data-testid": "quality-issues" });
  issues.forEach((i) => list.append(h("li", { class: "issue", "data-testid": "issue-" + i.code },
    badge(i.severity, SEVERITY_KIND[i.severity] || "muted"),
    i.column !== null && i.column !== undefined
      ? h("button", { type: "button", class: "link-button issue-column", "data-testid": "issue-column", onclick: () => onColumn(i.column) }, i.column)
      : h("span", { class: "strong issue-column issue-table" }, "table"),
    h("span", { class: "issue-message" }, i.message))));
  box.append(h("div", { class: "quality-grid" },
    gauge(q.score || 0),
    parts,
    h("div", { class: "quality-issues" },
      h("div", { class: "small-head" }, issues.length ? issues.length + (issues.length === 1 ? " finding" : " findings") : "Findings"),
      issues.length ? list : h("p", { class: "home-empty" }, h("span", { class: "ok-dot" }), "Nothing to report: every column is complete and consistent."))));
}

/** Bars of a histogram; dates' edges are ISO strings. */
function histogram(hist, type) {
  const counts = hist.counts || [];
  const top = Math.max(1, ...counts);
  const W = 240;
  const H = 52;
  const bw = W / Math.max(1, counts.length);
  const edge = (e) => (TIME_TYPES.has(type) ? String(e).replace("T00:00:00", "").replace("T", " ") : fmtValue(e));
  const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", class: "hist", role: "img", "aria-label": "Distribution" });
  chart.append(svg("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: "hist-base" }));
  counts.forEach((n, i) => {
    const bh = n ? Math.max(1.5, ((H - 2) * n) / top) : 0;
    chart.append(svg("rect", { x: (i * bw + 0.75).toFixed(2), width: Math.max(0.5, bw - 1.5).toFixed(2), y: (H - bh).toFixed(2), height: bh.toFixed(2), class: "hist-bar" },
      svg("title", {}, edge(hist.edges[i]) + " – " + edge(hist.edges[i + 1]) + ": " + fmtCount(n))));
  });
  return h("div", { class: "col-chart", "data-testid": "col-histogram" }, chart,
    h("div", { class: "hist-axis" }, h("span", {}, edge(hist.edges[0])), h("span", {}, edge(hist.edges[hist.edges.length - 1]))));
}

function topValues(top, present) {
  const most = Math.max(1, ...top.map((t) => t.count));
  return h("ul", { class: "topvals", "data-testid": "col-top" }, top.slice(0, 5).map((t) => {
    const fill = h("span", { class: "bar-fill" });
    fill.style.width = (100 * t.count) / most + "%";
    const text = t.value === null ? "null" : String(t.value);
    return h("li", {},
      h("span", { class: "topval-name", title: text }, text === "" ? "(empty)" : text),
      h("span", { class: "bar" }, fill),
      h("span", { class: "topval-count", title: present ? pct(t.count / present) + " of the values" : null }, fmtCount(t.count)));
  }));
}

function stat(label, value, testid, wide) {
  return h("div", { class: "col-stat" + (wide ? " col-stat-wide" : "") }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));
}

function typeMenu(col, canWrite, onType) {
  const select = h("select", {
    class: "select-small type-select", "aria-label": "Type of " + col.name, "data-testid": "col-type-" + col.name,
    disabled: !canWrite, title: canWrite ? "Read this column as another type" : "Viewers cannot change types",
  });
  select.append(h("option", { value: "" }, col.override ? "auto (inferred)" : col.type + " · auto"));
  COLUMN_TYPES.forEach((t) => select.append(h("option", { value: t, selected: !!col.override && t === col.type }, t)));
  if (!col.override) select.value = "";
  select.addEventListener("change", () => onType(col.name, select.value || null, select));
  return select;
}

function columnCard(col, rows, opts) {
  const present = rows - (col.nulls || 0);
  const stats = h("dl", { class: "col-stats" },
    stat("Missing", pct(rows ? col.nulls / rows : 0), "col-nulls-" + col.name),
    stat("Unique", (col.unique_approx ? "≈ " : "") + fmtCount(col.unique), "col-unique-" + col.name));
  if (NUMERIC_TYPES.has(col.type)) {
    stats.append(stat("Mean", fmtValue(col.mean)), stat("Min", fmtValue(col.min)), stat("Max", fmtValue(col.max)),
      stat("Std dev", fmtValue(col.std)));
  } else if (TIME_TYPES.has(col.type)) {
    stats.append(stat("Range", (col.min || "–") + " → " + (col.max || "–"), null, true));
  }
  let chart = null;
  if (col.histogram && col.histogram.counts && col.histogram.counts.length) chart = histogram(col.histogram, col.type);
  else if (col.top && col.top.length && col.top[0].count > 1) chart = topValues(col.top, present);
  else if (col.samples && col.samples.length) {
    chart = h("div", { class: "col-samples", "data-testid": "col-samples" }, h("div", { class: "small-head" }, "Samples"),
      col.samples.slice(0, 3).map((s) => h("code", { class: "col-sample", title: String(s) }, String(s))));
  }
  const notes = [];
  if (col.semantic) notes.push(badge(col.semantic.replace(/_/g, " "), "violet", "col-semantic-" + col.name));
  if (col.mixed) notes.push(badge("mixed", "warning"));
  if (col.outliers) notes.push(badge(fmtCount(col.outliers) + " outliers", "warning"));
  if (col.invalid) notes.push(badge(fmtCount(col.invalid) + " invalid", "danger"));
  if (col.override) notes.push(h("span", { class: "muted small" }, "type set by you"));
  return h("article", { class: "col-card", "data-column": col.name, "data-testid": "col-card-" + col.name },
    h("header", { class: "col-head" },
      h("div", { class: "col-title" },
        h("span", { class: "col-name", title: col.name }, col.name),
        h("span", { class: "col-physical" }, col.physical)),
      opts.onType ? typeMenu(col, opts.canWrite, opts.onType) : columnTypeBadge(col.type)),
    notes.length ? h("div", { class: "col-notes" }, notes) : null,
    stats,
    chart);
}

/** Fill `box` with a card per column of `profile`. opts: canWrite, onType(column, type|null, select). */
export function renderColumns(box, profile, opts) {
  clear(box);
  profile.columns.forEach((col) => box.append(columnCard(col, profile.rows, opts)));
}

/** Cards without figures while the profile is computed: the columns as the reader found them. */
export function renderPendingColumns(box, columns) {
  clear(box);
  columns.forEach((c) => box.append(h("article", { class: "col-card col-card-pending", "data-column": c.name },
    h("header", { class: "col-head" },
      h("div", { class: "col-title" }, h("span", { class: "col-name" }, c.name), h("span", { class: "col-physical" }, c.physical)),
      c.type ? columnTypeBadge(c.type) : null),
    h("div", { class: "skeleton-lines" }, h("span", { class: "skeleton" }), h("span", { class: "skeleton" })))));
}

/** Bring a column's card into view and flash it. */
export function showColumn(box, name) {
  const card = $$(".col-card", box).find((c) => c.dataset.column === name);
  if (!card) return;
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.remove("flash");
  void card.offsetWidth;
  card.classList.add("flash");
  const select = $("select", card);
  if (select) select.focus({ preventScroll: true });
}
