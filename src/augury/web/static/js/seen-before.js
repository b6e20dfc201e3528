/* "Seen before" on an anomaly's page (templates/anomaly_seen_before.html): the past
 * anomalies most like this one with their similarity, the saved patterns it matched as
 * labels, and "Save as pattern".
 */

import { api } from "./api.js";
import { $, append, clear, h, show } from "./dom.js";
import { fmtDuration, fmtNum, isoOf } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { busy, showError, toast } from "./toast.js";

function pct(x) {
  return Math.round(100 * x) + "%";
}

function labelChip(p) {
  const el = badge(p.name + " · " + pct(p.similarity), "violet", "pattern-label");
  el.title = "Matched the saved pattern “" + p.name + "” at " + pct(p.similarity);
  return el;
}

function row(item) {
  return h(
    "tr",
    { "data-testid": "seen-before-row" },
    h("td", {}, h("a", { href: item.link }, "#" + item.anomaly_id)),
    h("td", {}, h("code", {}, item.metric_name), item.same_metric ? "" : h("span", { class: "muted small" }, " (same measure)")),
    h("td", {}, timeEl(isoOf(item.start))),
    h("td", { class: "num" }, fmtDuration(item.duration)),
    h("td", {}, item.direction),
    h("td", { class: "num" }, fmtNum(item.peak_score, 0)),
    h("td", { class: "num", "data-testid": "seen-before-similarity" }, pct(item.similarity))
  );
}

async function load(id) {
  const status = $("#seen-before-status");
  let out;
  try {
    out = await api("/anomalies/" + id + "/similar", { query: { limit: 10, min_similarity: 0.5 } });
  } catch (err) {
    status.textContent = err.status === 404 ? "" : "Similar anomalies could not be read: " + err.message;
    return;
  }
  append(clear($("#seen-before-labels")), out.patterns.map(labelChip));
  append(clear($("#seen-before-body")), out.items.map(row));
  show($("#seen-before-wrap"), out.items.length > 0);
  status.textContent = out.items.length
    ? out.items.length + " of " + out.candidates + " past anomalies compared are alike."
    : out.candidates
      ? "Nothing like it among the " + out.candidates + " past anomalies compared."
      : "No past anomalies of this metric or measure to compare with.";
}

function init() {
  const box = $("#seen-before");
  if (!box) return;
  const id = box.dataset.anomalyId;
  load(id).catch(showError);
  $("#pattern-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("#pattern-name");
    const name = input.value.trim();
    if (!name) {
      input.focus();
      return;
    }
    busy($("#pattern-save"), async () => {
      const p = await api("/patterns", { method: "POST", body: { anomaly_id: Number(id), name } });
      input.value = "";
      toast("Saved as pattern “" + p.name + "”: later anomalies like it will be labelled.", "success");
    });
  });
}

init();
