/* "Try it" on a project's Models tab: a text, a model (the active version or zero-shot
 * by default, or any READY version), and each segment the ad-hoc analysis found with
 * its tags, surest first, as confidence bars; ABSA aspects in their sentiment's colour.
 * Nothing is stored (POST .../analyze).
 */

import { api } from "./api.js";
import { $, append, clear, h, show } from "./dom.js";
import { badge } from "./badges.js";
import { busy } from "./toast.js";
import { listAll } from "./text-common.js";
import { byConfidence, confidenceBar, modelChoice, modelOptions, tagView } from "./text-analyses.js";

/** ctx: {base, project}. Answers {refresh()}: read the READY versions again (after the
 * Models tab changed them). */
export function tryIt(ctx) {
  const type = ctx.project.type;
  const card = $("#tryit-card");
  const select = $("#tryit-model");
  const error = $("#tryit-error");
  const out = $("#tryit-result");
  // Zero-shot answers CLASS and LABEL projects before any model; pairs need a trained one.
  show(card, type === "CLASS" || type === "LABEL");

  async function refresh() {
    const models = await listAll(ctx.base + "/models", { status: "READY" });
    const keep = select.value;
    const usable = modelOptions(select, models, type);
    if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
    show(card, usable);
  }

  function segmentView(seg, i) {
    const tags = byConfidence(seg.tags);
    return h("li", { class: "tryit-seg", "data-testid": "tryit-seg-" + i },
      h("div", { class: "tryit-seg-head" },
        h("span", { class: "tryit-seg-text" }, seg.text),
        h("span", { class: "muted small tryit-seg-conf", title: "The segment's confidence: the least of its tags'" }, confidenceBar(seg.confidence))),
      tags.length
        ? h("div", { class: "tryit-tags" }, tags.map((t, j) => tagView(t, type, "tryit-tag-" + i + "-" + j)))
        : h("div", { class: "muted small" }, "No tag: the model is not sure of any."));
  }

  function render(answer) {
    const docs = answer.documents || [];
    const segments = docs.flatMap((d) => d.segments || []);
    append(clear(out), [
      h("div", { class: "tryit-by muted small", "data-testid": "tryit-by" }, "Tagged by ",
        h("span", { class: "strong" }, answer.model.name), " ",
        answer.model.name !== answer.model.kind ? badge(answer.model.kind, answer.model.kind === "trained" ? "success" : "info") : null),
      segments.length
        ? h("ol", { class: "tryit-segs" }, segments.map(segmentView))
        : h("p", { class: "muted" }, "The text has no segment to tag.")]);
  }

  $("#tryit-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("#tryit-text").value.trim();
    show(error, false);
    if (!text) {
      error.textContent = "Type or paste a text to analyze.";
      show(error, true);
      return;
    }
    const body = { texts: [text], ...modelChoice(select) };
    busy($("#tryit-submit"), async () => {
      try {
        render(await api(ctx.base + "/analyze", { method: "POST", body }));
      } catch (err) {
        clear(out);
        error.textContent = err.message;
        show(error, true);
      }
    });
  });
  // Ctrl+Enter (⌘+Enter) in the text analyzes it.
  $("#tryit-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      $("#tryit-form").requestSubmit();
    }
  });
  return { refresh };
}
