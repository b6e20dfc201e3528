/* The review queue of a text project (human review of a model's unsure predictions):
 * each item's segment with what the model said and how sure it was, accepted as it is
 * or corrected with the project's classes and labels. Two reviewers on one item: the
 * second is told it was reviewed meanwhile.
 */

import { api } from "./api.js";
import { $, clear, h, show } from "./dom.js";
import { fmtNum } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { pager } from "./pager.js";
import { loadInto } from "./loading.js";
import { busy, toast } from "./toast.js";
import { listAll, usesClasses, usesLabels } from "./text-common.js";

const STATUS_KIND = { PENDING: "warning", ACCEPTED: "success", CORRECTED: "info" };

function tagsText(tags) {
  return (tags || []).map((t) => [t.class, t.label].filter(Boolean).join(" · ")
    + (t.confidence !== undefined && t.confidence !== null ? " (" + fmtNum(100 * t.confidence, 0) + " %)" : ""));
}

export function reviewTab(ctx) {
  const state = { offset: 0, status: "PENDING", vocab: null };
  const list = $("#review-list");
  const type = ctx.project.type;

  async function vocabulary() {
    if (!state.vocab) {
      const [classes, labels] = await Promise.all([
        usesClasses(type) ? listAll(ctx.base + "/classes") : [],
        usesLabels(type) ? listAll(ctx.base + "/labels") : [],
      ]);
      state.vocab = { classes, labels };
    }
    return state.vocab;
  }

  /** The correction form: one choice of class (CLASS), labels (LABEL), or a label for each class. */
  function editor(item, vocab, done) {
    const predicted = item.predicted || [];
    const has = (c, l) => predicted.some((t) => (c === null || t.class === c) && (l === null || t.label === l));
    const name = "fix-" + item.id;
    let fields;
    if (type === "CLASS") {
      fields = vocab.classes.map((c) => h("label", { class: "check check-chip" },
        h("input", { type: "radio", name, value: c.name, checked: has(c.name, null) }), c.name));
    } else if (type === "LABEL") {
      fields = vocab.labels.map((l) => h("label", { class: "check check-chip" },
        h("input", { type: "checkbox", name, value: l.name, checked: has(null, l.name) }), l.name));
    } else {
      fields = vocab.classes.map((c) => {
        const current = predicted.find((t) => t.class === c.name);
        return h("label", { class: "field review-pair" }, c.name,
          h("select", { class: "select-small", "data-class": c.name },
            h("option", { value: "" }, "–"),
            vocab.labels.map((l) => h("option", { value: l.name, selected: current && current.label === l.name }, l.name))));
      });
    }
    const save = h("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": "review-save-" + item.id }, "Save correction");
    const box = h("div", { class: "review-editor" }, h("div", { class: "levels" }, fields),
      h("div", { class: "row-actions" }, save, h("button", { type: "button", class: "btn btn-small", onclick: () => done(false) }, "Cancel")));
    save.addEventListener("click", () => busy(save, async () => {
      let tags;
      if (type === "CLASS" || type === "LABEL") {
        tags = [...box.querySelectorAll("input:checked")].map((i) => (type === "CLASS" ? { class: i.value } : { label: i.value }));
      } else {
        tags = [...box.querySelectorAll("select")].filter((s) => s.value).map((s) => ({ class: s.dataset.class, label: s.value }));
      }
      await settle(item, "correct", { tags });
      done(true);
    }));
    return box;
  }

  async function settle(item, how, body) {
    try {
      await api(ctx.base + "/review/items/" + item.id + "/" + how, { method: "POST", body: body || {} });
    } catch (err) {
      if (err.status === 409) {
        toast("Someone reviewed this item meanwhile: the queue is up to date again.");
        await load();
        return;
      }
      throw err;
    }
    toast(how === "accept" ? "Accepted: the model's tags are training data now." : "Corrected: your tags are training data now.", "success");
    await load();
  }

  function card(item) {
    const text = item.text ?? item.segment_text ?? (item.segment && item.segment.text) ?? "";
    const actions = h("div", { class: "row-actions" });
    const el = h("article", { class: "review-item", "data-testid": "review-item-" + item.id },
      h("div", { class: "review-head" },
        badge(String(item.status || "").toLowerCase(), STATUS_KIND[item.status] || "muted"),
        h("span", { class: "muted small" }, "confidence " + fmtNum(100 * (item.confidence || 0), 0) + " %"),
        h("span", { class: "muted small" }, "document #" + item.document_id),
        h("span", { class: "muted small review-when" }, timeEl(item.created_at))),
      h("blockquote", { class: "review-text" }, text || h("span", { class: "muted" }, "Segment #" + item.segment_id)),
      h("div", { class: "review-predicted" }, h("span", { class: "muted small" }, "The model said "),
        h("span", { class: "badges" }, tagsText(item.predicted).map((t) => badge(t, "info")))),
      item.status === "PENDING" ? actions : null);
    if (item.status === "PENDING") {
      const accept = h("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": "review-accept-" + item.id }, "Accept");
      const correct = h("button", { type: "button", class: "btn btn-small", "data-testid": "review-correct-" + item.id }, "Correct");
      accept.addEventListener("click", () => busy(accept, () => settle(item, "accept")));
      correct.addEventListener("click", () => busy(correct, async () => {
        const vocab = await vocabulary();
        const ed = editor(item, vocab, (saved) => { if (!saved) { ed.remove(); show(actions, true); } });
        show(actions, false);
        el.append(ed);
      }));
      actions.append(accept, correct);
    }
    return el;
  }

  async function fill() {
    const page = await api(ctx.base + "/review/items", { query: { status: state.status, offset: state.offset, limit: 20 } });
    clear(list);
    page.items.forEach((it) => list.append(card(it)));
    show($("#review-empty"), page.total === 0);
    show(list, page.total > 0);
    if (state.status === "PENDING") ctx.onCount(page.total);
    pager($("#review-pager"), page, (off) => { state.offset = off; load(); }, "review");
  }

  function load() {
    return loadInto(list, fill);
  }

  $("#review-status").addEventListener("change", () => {
    state.status = $("#review-status").value;
    state.offset = 0;
    load();
  });
  return { load };
}
