/* The Documents tab of a text project: the list with full-text search (?q=), adding
 * documents (upload a file → its preview → pick the text column → create; or paste
 * texts, one a line), and one document opened with its segments and their tags.
 */

import { api } from "./api.js";
import { $, $$, append, clear, h, newestOnly, show } from "./dom.js";
import { fmtCount } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { pager } from "./pager.js";
import { hideFailed, loadInto, showFailed } from "./loading.js";
import { busy, toast } from "./toast.js";
import { fmtBytes } from "./data-common.js";
import { excerpt, postForm } from "./text-common.js";

/** Tags as one line each: "class · label", with the span's text when it has one. */
function tagText(t, segmentText) {
  const what = [t.class, t.label].filter(Boolean).join(" · ") || "–";
  const span = t.start !== null && t.start !== undefined && segmentText ? " “" + segmentText.slice(t.start, t.end) + "”" : "";
  return what + span;
}

function segmentsView(doc) {
  const tags = doc.tags || [];
  const bySegment = new Map();
  tags.forEach((t) => {
    const key = t.segment_id;
    if (!bySegment.has(key)) bySegment.set(key, []);
    bySegment.get(key).push(t);
  });
  const segments = doc.segments || [];
  if (!segments.length) return h("p", { class: "muted" }, "This document has no segments.");
  return h("ol", { class: "doc-segments", "data-testid": "doc-segments" }, segments.map((s) => {
    const own = s.tags || bySegment.get(s.id) || [];
    return h("li", { class: "doc-segment", "data-testid": "doc-segment-" + s.position },
      h("div", { class: "doc-segment-text" }, s.text),
      h("div", { class: "doc-segment-meta muted small" },
        "chars " + s.start + "–" + s.end + (s.page ? " · page " + s.page : "")),
      own.length ? h("div", { class: "badges doc-segment-tags" }, own.map((t) => {
        const b = badge(tagText(t, s.text), "info");
        b.title = [t.annotator ? "by " + t.annotator : null, t.session_id ? "session #" + t.session_id : null].filter(Boolean).join(", ");
        return b;
      })) : null);
  }));
}

export function documentsTab(ctx) {
  const base = ctx.base + "/documents";
  const state = { q: "", offset: 0, limit: 25 };
  const body = $("#docs-body");
  const wrap = $("#docs-table").closest(".table-wrap");

  function row(d) {
    const open = () => openDocument(d.id);
    const tr = h("tr", { class: "row-link", "data-testid": "doc-row-" + d.id },
      h("td", { class: "num muted" }, d.id),
      h("td", { class: "nowrap" }, d.external_id || h("span", { class: "muted" }, "–")),
      h("td", { class: "doc-text-cell" }, h("button", { type: "button", class: "link-button link-plain doc-open", "data-testid": "doc-open-" + d.id, onclick: open },
        excerpt(d.text, 160) || "Document #" + d.id)),
      h("td", { class: "num" }, fmtCount(d.segment_count)),
      h("td", {}, d.source ? badge(d.source, "muted") : "–"),
      h("td", { class: "nowrap" }, timeEl(d.created_at)));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) open();
    });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    let page;
    try {
      page = await api(base, { query: { q: state.q, offset: state.offset, limit: state.limit } });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("docs-failed", wrap, err, load);
      return;
    }
    hideFailed("docs-failed", wrap);
    clear(body);
    page.items.forEach((d) => body.append(row(d)));
    show($("#docs-empty"), page.total === 0 && !state.q);
    show($("#docs-none"), page.total === 0 && !!state.q);
    show($("#docs-table"), page.total > 0);
    pager($("#docs-pager"), page, (off) => { state.offset = off; load(); }, "docs");
    if (!state.q) ctx.onCount(page.total);
  }

  $("#docs-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#docs-q").value.trim();
    state.offset = 0;
    load();
  });
  let typing = null;
  $("#docs-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => $("#docs-search").requestSubmit(), 350);
  });
  $("#docs-clear").addEventListener("click", () => {
    state.q = "";
    $("#docs-q").value = "";
    load();
  });

  // --- one document ---
  const docDialog = $("#doc-dialog");
  $("#doc-close").addEventListener("click", () => docDialog.close());
  function openDocument(id) {
    $("#doc-dialog-title").textContent = "Document #" + id;
    $("#doc-dialog-sub").textContent = "";
    const box = $("#doc-body");
    clear(box).append(h("div", { class: "skeleton-lines" }, [1, 2, 3, 4].map(() => h("span", { class: "skeleton" }))));
    docDialog.showModal();
    loadInto(box, async () => {
      const doc = await api(base + "/" + id, { query: { details: "segments,meta,tags" } });
      $("#doc-dialog-title").textContent = doc.external_id ? "Document " + doc.external_id : "Document #" + doc.id;
      $("#doc-dialog-sub").textContent = fmtCount(doc.length ?? (doc.text || "").length) + " characters · "
        + fmtCount(doc.segment_count ?? (doc.segments || []).length) + " segments" + (doc.source ? " · from " + doc.source : "");
      const meta = Object.entries(doc.meta || {});
      append(clear(box), [
        meta.length ? h("dl", { class: "facts facts-flat doc-meta", "data-testid": "doc-meta" },
          meta.slice(0, 24).map(([k, v]) => h("div", { class: "fact" }, h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))))) : null,
        segmentsView(doc)]);
    });
  }

  bindAddDialog(ctx, () => {
    state.q = "";
    state.offset = 0;
    $("#docs-q").value = "";
    return load().then(ctx.onChange);
  });
  return { load };
}

/** The "Add documents" dialog: a file through its preview and column, or pasted texts. */
function bindAddDialog(ctx, done) {
  const dialog = $("#docs-dialog");
  const fileForm = $("#docs-file-form");
  const pasteForm = $("#docs-paste-form");
  const input = $("#docs-file");
  const drop = $("#docs-drop");
  const submit = $("#docs-file-submit");
  let file = null; // the uploaded file's answer: {id, columns, preview, row_count}

  function setError(message) {
    $("#docs-error").textContent = message || "";
    show($("#docs-error"), !!message);
  }

  function mode(which) {
    $("#docs-mode-file").setAttribute("aria-pressed", String(which === "file"));
    $("#docs-mode-paste").setAttribute("aria-pressed", String(which === "paste"));
    show(fileForm, which === "file");
    show(pasteForm, which === "paste");
    setError(null);
    if (which === "paste") $("#docs-paste").focus();
  }
  $("#docs-mode-file").addEventListener("click", () => mode("file"));
  $("#docs-mode-paste").addEventListener("click", () => mode("paste"));

  function reset() {
    file = null;
    fileForm.reset();
    pasteForm.reset();
    show($("#docs-preview-box"), false);
    drop.classList.remove("has-file");
    show(drop, true);
    $("#docs-file-info").textContent = "CSV, TSV, Excel, JSON, JSON Lines, text (one document a line), PDF or an image.";
    submit.textContent = "Upload";
    submit.disabled = true;
    mode("file");
  }

  /** Guess the text column: a name that says so, else the column with the longest cells. */
  function guessColumn(columns, rows) {
    const named = columns.findIndex((c) => /^(text|review|comment|body|content|message|document)s?$/i.test(String(c)));
    if (named >= 0) return named;
    let best = 0;
    let bestLen = -1;
    columns.forEach((_, i) => {
      const len = rows.reduce((a, r) => a + String(r[i] ?? "").length, 0);
      if (len > bestLen) { best = i; bestLen = len; }
    });
    return best;
  }

  function renderPreview() {
    const columns = file.columns || [];
    const [header, ...rows] = file.preview && file.preview.length ? file.preview : [columns];
    const pick = $("#docs-column");
    const idPick = $("#docs-id-column");
    clear(pick);
    clear(idPick).append(h("option", { value: "" }, "none"));
    columns.forEach((c, i) => {
      pick.append(h("option", { value: String(c) }, String(c)));
      idPick.append(h("option", { value: String(c), "data-index": i }, String(c)));
    });
    pick.value = String(columns[guessColumn(columns, rows)] ?? "");
    const markColumn = () => {
      const at = columns.map(String).indexOf(pick.value);
      $$("#docs-preview th, #docs-preview td").forEach((c) => c.classList.toggle("col-picked", Number(c.dataset.col) === at));
    };
    clear($("#docs-preview-head")).append(h("tr", {}, (header || columns).map((c, i) => h("th", { "data-col": i }, String(c)))));
    const tbody = clear($("#docs-preview-body"));
    rows.slice(0, 8).forEach((r) => tbody.append(h("tr", {}, columns.map((_, i) => h("td", { "data-col": i }, excerpt(r[i] ?? "", 90))))));
    pick.onchange = markColumn;
    markColumn();
    $("#docs-preview-caption").textContent = (file.file_name || "The file") + ": " + fmtCount(file.row_count) + " rows, "
      + fmtCount(columns.length) + " columns. The first rows:";
    show($("#docs-preview-box"), true);
    show(drop, false);
    submit.textContent = "Create " + fmtCount(file.row_count) + " documents";
    submit.disabled = false;
    pick.focus();
  }

  async function upload() {
    const chosen = input.files && input.files[0];
    if (!chosen) return;
    setError(null);
    $("#docs-file-info").textContent = chosen.name + " · " + fmtBytes(chosen.size) + " · reading…";
    drop.classList.add("has-file", "disabled");
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    try {
      file = await postForm(ctx.base + "/files", form);
      renderPreview();
    } catch (err) {
      setError(err.message);
      $("#docs-file-info").textContent = chosen.name + " · " + fmtBytes(chosen.size);
    } finally {
      drop.classList.remove("disabled");
    }
  }
  input.addEventListener("change", upload);
  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (ev) => { ev.preventDefault(); drop.classList.add("dragging"); }));
  ["dragleave", "dragend"].forEach((type) => drop.addEventListener(type, () => drop.classList.remove("dragging")));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("dragging");
    if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
    const picked = new DataTransfer();
    picked.items.add(ev.dataTransfer.files[0]);
    input.files = picked.files;
    upload();
  });

  function created(out) {
    dialog.close();
    if (out && out.job) {
      const job = out.job.id;
      toast("A large upload: the documents are being split in job #" + job + "; you will be notified when it is done.", "success");
    } else {
      toast(fmtCount(out.count) + (out.count === 1 ? " document" : " documents") + " added.", "success");
    }
    return done();
  }

  fileForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!file) return;
    const body = { file_id: file.id, column: $("#docs-column").value };
    if ($("#docs-id-column").value) body.id_column = $("#docs-id-column").value;
    busy(submit, async () => {
      try {
        created(await api(ctx.base + "/documents", { method: "POST", body }));
      } catch (err) {
        setError(err.message);
      }
    });
  });

  pasteForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const texts = $("#docs-paste").value.split("\n").map((t) => t.trim()).filter(Boolean);
    if (!texts.length) {
      setError("Paste at least one text: one document a line.");
      return;
    }
    busy($("#docs-paste-submit"), async () => {
      try {
        created(await api(ctx.base + "/documents", { method: "POST", body: { documents: texts.map((text) => ({ text })) } }));
      } catch (err) {
        setError(err.message);
      }
    });
  });

  $$(".docs-cancel", dialog).forEach((b) => b.addEventListener("click", () => dialog.close()));
  const open = () => {
    reset();
    dialog.showModal();
  };
  ["#docs-add", "#docs-add-empty"].forEach((sel) => {
    const btn = $(sel);
    btn.addEventListener("click", open);
    if (!ctx.canManage) {
      btn.disabled = true;
      btn.title = "Only the project's managers add documents";
    }
  });
}
