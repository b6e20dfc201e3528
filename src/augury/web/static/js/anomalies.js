/* How an anomaly shows wherever it is listed: its score, direction, state, kind,
 * deltas and metrics (the Anomalies pages, the Overview, the alert pages).
 */

import { h } from "./dom.js";
import { fmtNum, fmtPct, fmtSigned } from "./format.js";
import { badge } from "./badges.js";
import { TIMESCALE_SECONDS } from "./chart.js";

const TYPE_LABEL = { transient: "transient", pattern_change: "pattern change" };
const ARROW = { up: "↑", down: "↓", both: "↕" };

export function scoreLevel(score) {
  return score >= 80 ? "high" : score >= 60 ? "mid" : "low";
}

/** The score 0-100 as a coloured pill, rounded (the exact value in its title). */
export function scorePill(score, testid) {
  const v = Number(score) || 0;
  return h("span", {
    class: "score score-" + scoreLevel(v), "data-testid": testid, "data-score": v,
    title: "Score " + fmtNum(v, 1) + " of 100",
  }, String(Math.round(v)));
}

export function directionArrow(direction, testid) {
  return h("span", {
    class: "dir dir-" + direction, title: direction === "both" ? "up and down" : direction,
    "aria-label": direction, "data-testid": testid,
  }, ARROW[direction] || "·");
}

export function stateBadge(state, testid) {
  return badge(state, state === "open" ? "danger" : "muted", testid);
}

export function kindBadge(type) {
  return badge(TYPE_LABEL[type] || type, type === "pattern_change" ? "violet" : "info");
}

/** Delta as value and percent of the expected: "+12.1 (+24.3 %)". */
export function deltaEl(delta, pct, testid) {
  const p = fmtPct(pct);
  return h("span", { class: "delta", "data-testid": testid },
    h("span", { class: "strong" }, fmtSigned(delta)), p ? h("span", { class: "muted" }, " (" + p + ")") : null);
}

/** Anodot-style kinds of an anomaly: the types of its metrics. */
export function anomalyTypes(a) {
  return [...new Set(a.metrics.map((m) => m.type))];
}

/** The seconds between points of a metric's anomaly (its buckets, for rollup scales). */
export function anomalyInterval(a, m) {
  return TIMESCALE_SECONDS[a.timescale] || Math.max(1, m.duration - (m.end - m.start)) || 60;
}

/** An expression that matches exactly this metric: what="cpu" AND host="web-1". */
export function metricExpression(m) {
  const quote = (v) => '"' + String(v).replace(/[\\"]/g, (c) => "\\" + c) + '"';
  const dims = Object.keys(m.dimensions || {}).sort();
  return ["what=" + quote(m.what), ...dims.map((k) => k + "=" + quote(m.dimensions[k]))].join(" AND ");
}

export function metricsSummary(a) {
  const chip = (m) => {
    const dims = Object.keys(m.dimensions || {}).sort();
    return h("span", { class: "dim", title: m.name },
      dims.length ? dims.map((k, j) => [j ? ", " : "", h("span", { class: "dim-key" }, k + "="), m.dimensions[k]]) : m.name);
  };
  const shown = a.metrics.length <= 3 ? a.metrics : a.metrics.slice(0, 2);
  const rest = a.metric_count - shown.length;
  return h("div", { class: "anomaly-metrics", "data-testid": "anomaly-metrics-" + a.id },
    h("span", { class: "muted small metric-count" }, a.metric_count + (a.metric_count === 1 ? " metric" : " metrics")),
    h("span", { class: "dims" }, shown.map(chip), rest > 0 ? h("span", { class: "muted small" }, "and " + rest + " more") : null));
}
