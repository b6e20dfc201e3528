/* The Explanation section of the anomaly page: which dimension values drive a grouped
 * anomaly (the API's `explanation`: a sentence, the drivers, and the token map).
 *
 * Each token is a chip, largest share of the deviation first, a little larger the more
 * it carries; it links to the metrics of the anomaly's `what` that carry it.
 */

import { $, append, clear, h, show } from "./dom.js";
import { fmtNum } from "./format.js";

const PLAIN = /^[^\s()="!\\]+$/;
const KEYWORDS = new Set(["and", "or", "not"]);

/** A value as a metric expression writes it: bare when it can be, else double-quoted. */
function exprValue(value) {
  const v = String(value);
  if (PLAIN.test(v) && !KEYWORDS.has(v.toLowerCase())) return v;
  return '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

/** The metrics list filtered to the metrics of `what` carrying key=value. */
function metricsHref(what, key, value) {
  const q = "what=" + exprValue(what) + " AND " + exprValue(key) + "=" + exprValue(value);
  return "/metrics/explore?q=" + encodeURIComponent(q);
}

const pct = (x) => Math.floor(100 * x + 1e-9) + "%";

function tokenChip(what, t, driver) {
  const label = t.key + "=" + t.value;
  const title = label + ": " + pct(t.share) + " of the deviation; " + t.anomalous + " of the anomaly's "
    + "metrics and " + t.total + " of all " + what + " metrics carry it"
    + (t.lift != null ? " (lift " + fmtNum(t.lift, 1) + "×)" : "")
    + (t.expected_share != null ? "; " + pct(t.expected_share) + " of what was expected" : "") + ".";
  const bar = h("span", { class: "explain-bar", "aria-hidden": "true" });
  // Sized through the CSSOM: the page's policy refuses style attributes.
  bar.style.display = "inline-block";
  bar.style.height = "6px";
  bar.style.borderRadius = "3px";
  bar.style.width = Math.max(2, Math.round(48 * t.share)) + "px";
  bar.style.background = "var(--danger)";
  const chip = h("a", {
    class: "anomaly-chip explain-chip" + (driver ? " explain-driver" : ""),
    href: metricsHref(what, t.key, t.value),
    title,
    "data-testid": "explanation-token",
    "data-token": label,
    "data-share": t.share,
  },
  h("code", {}, label),
  bar,
  h("span", { class: "strong" }, pct(t.share)),
  h("span", { class: "muted" }, t.anomalous + "/" + t.total
    + (t.lift != null && t.lift >= 1.05 ? " · " + fmtNum(t.lift, 1) + "×" : "")));
  chip.style.fontSize = (12 + 4 * Math.min(1, Math.max(0, t.share))).toFixed(1) + "px";
  if (driver) {
    chip.style.borderColor = "var(--danger)";
    chip.style.fontWeight = "600";
  }
  return h("li", {}, chip);
}

/** Fill the section from the API's anomaly `a` (hidden when it has no explanation). */
export function renderExplanation(a) {
  const root = $("#anomaly-explanation");
  if (!root) return;
  const e = a.explanation;
  show(root, !!e);
  if (!e) return;
  const sentence = $("#anomaly-explanation-sentence");
  sentence.textContent = e.sentence;
  sentence.style.margin = "0 0 12px";
  const drivers = new Set(e.drivers.map((d) => d.key + "=" + d.value));
  const list = clear($("#anomaly-explanation-tokens"));
  e.tokens.forEach((t) => list.append(tokenChip(a.what, t, drivers.has(t.key + "=" + t.value))));
  const note = clear($("#anomaly-explanation-note"));
  note.style.margin = "12px 0 0";
  if (e.tokens.length) {
    append(note, [
      "Each dimension value with its share of the deviation and how many of the anomaly's metrics and of all ",
      h("code", {}, a.what), " metrics carry it (×: how much more common it is among the anomalous ones)",
      e.token_count > e.tokens.length ? "; the " + e.tokens.length + " largest of " + e.token_count : "",
      ". A value opens the metrics that carry it.",
    ]);
  }
  show(note, e.tokens.length > 0);
}
