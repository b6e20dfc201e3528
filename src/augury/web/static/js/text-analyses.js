/* A text project's analyses: the Analyses tab (the list with live progress, and the
 * "New analysis" dialog over a group, an uploaded file's column or a dataset's) and
 * what the analysis page and the Try it box share with it: tags drawn with their
 * confidence, ABSA sentiments in their colours, status badges.
 */

import { api } from "./api.js";
import { $, $$, append, clear, h, show } from "./dom.js";
import { fmtCount, fmtNum, known } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { pager } from "./pager.js";
import { loadInto } from "./loading.js";
import { busy, showError } from "./toast.js";
import { fmtBytes } from "./data-common.js";
import { excerpt, listAll, postForm, projectPath } from "./text-common.js";
import { modelName } from "./text-models.js";

const STATUS_KIND = { QUEUED: "muted", RUNNING: "info", SUCCEEDED: "success", FAILED: "danger", ABORTED: "warning" };

/** Statuses an analysis leaves by itself: the pages poll while one is in them. */
export const RUNNING = new Set(["QUEUED", "RUNNING"]);

const analysisPath = (pid, aid) => projectPath(pid) + "/analyses/" + aid;

export function analysisStatusBadge(status, testid) {
  const el = badge(String(status || "").toLowerCase(), STATUS_KIND[status] || "muted", testid);
  el.dataset.status = status;
  return el;
}

/** ABSA's sentiments: the words people read, and the colours (see app.css .polarity-*). */
export const POLARITY = { POS: "positive", NEG: "negative", NEU: "neutral", CONFLICT: "conflict" };

/** A 0–1 confidence as a short bar with its percentage. */
export function confidenceBar(confidence, testid) {
  const v = known(confidence) ? Math.max(0, Math.min(1, Number(confidence))) : null;
  const fill = h("span", { class: "conf-fill" });
  fill.style.width = (v === null ? 0 : 100 * v) + "%";
  return h("span", { class: "conf", title: v === null ? "no confidence" : "confidence " + fmtNum(100 * v, 1) + " %", "data-testid": testid },
    h("span", { class: "conf-track", "aria-hidden": "true" }, fill),
    h("span", { class: "conf-pct small" }, v === null ? "–" : fmtNum(100 * v, 0) + " %"));
}

/** One tag: its class and label (an ABSA aspect in its sentiment's colour), and how sure. */
export function tagView(t, type, testid) {
  const absa = type === "ABSA" && t.label;
  const name = absa ? h("span", {}, t.class, " · ", h("span", { class: "polarity polarity-" + t.label }, POLARITY[t.label] || t.label))
    : [t.class, t.label].filter(Boolean).join(" · ") || "–";
  return h("span", { class: "tag-conf" + (absa ? " tag-absa polarity-edge-" + t.label : ""), "data-testid": testid },
    h("span", { class: "tag-conf-name" }, name), confidenceBar(t.confidence));
}

/** Tags, surest first. */
export const byConfidence = (tags) => (tags || []).slice().sort((a, b) => (b.confidence ?? -1) - (a.confidence ?? -1));

/** Where an analysis's texts came from, in words. */
export function sourceText(source, groups) {
  const s = source || {};
  if (s.group_id) {
    const g = groups && groups.get(s.group_id);
    return "group " + (g ? g.name : "#" + s.group_id);
  }
  if (s.file_id) return "file " + (s.file_name || s.file_id) + (s.column ? " · " + s.column : "");
  if (s.dataset_id) return "dataset #" + s.dataset_id + (s.version ? " v" + s.version : "") + (s.column ? " · " + s.column : "");
  return "–";
}

/** The model picker's options: the default (the active version, else zero-shot where the
 * project type allows it), then every READY version. */
export function modelOptions(select, models, type) {
  const ready = models.filter((m) => m.status === "READY");
  const active = ready.find((m) => m.active);
  const zeroShot = type === "CLASS" || type === "LABEL";
  const first = active ? "Active model: " + modelName(active) : zeroShot ? "Zero-shot, from the class names and examples" : "No model yet: train one first";
  append(clear(select), [
    h("option", { value: "", disabled: !active && !zeroShot }, first),
    ready.filter((m) => !m.active).map((m) => h("option", { value: m.id }, modelName(m) + (known(m.score) ? " · " + fmtNum(100 * m.score, 1) + " %" : ""))),
    // With an active model, zero-shot is still there to compare against.
    active && zeroShot ? h("option", { value: ZERO_SHOT }, "Zero-shot, from the class names and examples") : null,
  ]);
  select.value = active || zeroShot ? "" : ready.length ? String(ready[0].id) : "";
  return active || zeroShot || ready.length > 0;
}

const ZERO_SHOT = "zero-shot";

/** The request fields for the model `select` names: {} (the active model, else
 * zero-shot), {model_id} or {zero_shot: true}. */
export function modelChoice(select) {
  if (select.value === ZERO_SHOT) return { zero_shot: true };
  return select.value ? { model_id: Number(select.value) } : {};
}

/** The Analyses tab. ctx: {base, pid, project, canManage}. */
export function analysesTab(ctx) {
  const base = ctx.base;
  const state = { offset: 0, limit: 25, page: null, timer: null, groups: new Map() };
  const body = $("#analyses-body");
  const wrap = $("#analyses-table").closest(".table-wrap");

  function progress(a) {
    const pct = Math.max(0, Math.min(100, Number(a.progress) || 0));
    const bar = h("div", { class: "progress-bar" });
    bar.style.width = pct + "%";
    return h("div", { class: "text-progress" },
      h("div", { class: "progress progress-running", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(pct), "data-testid": "analysis-progress-" + a.id, "aria-label": "Progress of " + a.name }, bar),
      h("span", { class: "small pct" }, Math.round(pct) + "%"));
  }

  function row(a) {
    const href = analysisPath(ctx.pid, a.id);
    return h("tr", { "data-testid": "analysis-row-" + a.id, "data-status": a.status },
      h("td", { class: "dataset-cell" }, h("a", { href, class: "strong", "data-testid": "analysis-link-" + a.id }, a.name)),
      h("td", { class: "analysis-status-cell" }, analysisStatusBadge(a.status, "analysis-status-" + a.id),
        RUNNING.has(a.status) ? progress(a) : null,
        a.status === "FAILED" && a.error ? h("div", { class: "muted small model-error" }, a.error) : null),
      h("td", { class: "nowrap" }, a.model_label || "–"),
      h("td", { class: "muted small analysis-source", title: sourceText(a.source, state.groups) }, sourceText(a.source, state.groups)),
      h("td", { class: "num" }, fmtCount(a.document_count)),
      h("td", { class: "num" }, fmtCount(a.segment_count)),
      h("td", { class: "num" }, a.review_count ? h("a", { href: projectPath(ctx.pid) + "?tab=review" }, fmtCount(a.review_count)) : "–"),
      h("td", { class: "nowrap" }, timeEl(a.created_at, true)));
  }

  async function load() {
    await loadInto(body, async () => {
      const [page, groups] = await Promise.all([
        api(base + "/analyses", { query: { offset: state.offset, limit: state.limit } }),
        state.groups.size ? null : listAll(base + "/groups").catch(() => []),
      ]);
      if (groups) groups.forEach((g) => state.groups.set(g.id, g));
      state.page = page;
      const tbody = clear(body);
      page.items.forEach((a) => tbody.append(row(a)));
      show(wrap, page.total > 0);
      show($("#analyses-empty"), page.total === 0);
      pager($("#analyses-pager"), page, (off) => { state.offset = off; load(); }, "analyses");
      $("#tab-count-analyses").textContent = page.total ? fmtCount(page.total) : "";
      schedule();
    });
  }

  function schedule() {
    clearTimeout(state.timer);
    const running = state.page ? state.page.items.filter((a) => RUNNING.has(a.status)) : [];
    if (!running.length) return;
    state.timer = setTimeout(async () => {
      if ($("#panel-analyses").hidden) return;
      try {
        const now = await Promise.all(running.map((a) => api(base + "/analyses/" + a.id)));
        now.forEach((a) => {
          const old = $("[data-testid=analysis-row-" + a.id + "]");
          if (old) old.replaceWith(row(a));
          const i = state.page.items.findIndex((x) => x.id === a.id);
          if (i >= 0) state.page.items[i] = a;
        });
      } catch (err) {
        showError(err);
        return;
      }
      schedule();
    }, 1000);
  }

  bindAnalysisDialog(ctx);
  show($("#analysis-new"), ctx.canManage);
  return { load };
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

/** A time column's likely name. */
const guessTime = (columns) => columns.findIndex((c) => /^(date|time|timestamp|created(_at)?|posted(_at)?|day|when)$/i.test(String(c)));

/** "New analysis": a name, a model, and a source: a group, an uploaded file (its preview
 * and columns, as adding documents does) or a dataset's columns. */
function bindAnalysisDialog(ctx) {
  const dialog = $("#analysis-dialog");
  const form = $("#analysis-form");
  const error = $("#analysis-error");
  const state = { source: "group", file: null, datasets: [] };
  const setError = (message) => {
    error.textContent = message || "";
    show(error, !!message);
  };

  function columnsPicker(columns, rows) {
    const names = columns.map(String);
    const fill = (select, withNone) => append(clear(select), [
      withNone ? h("option", { value: "" }, "none") : null,
      names.map((c) => h("option", { value: c }, c))]);
    fill($("#analysis-column"), false);
    fill($("#analysis-id-column"), true);
    fill($("#analysis-time-column"), true);
    $("#analysis-column").value = names[guessColumn(names, rows || [])] ?? "";
    const t = guessTime(names);
    $("#analysis-time-column").value = t >= 0 ? names[t] : "";
    show($("#analysis-columns"), names.length > 0);
  }

  function pickSource(which) {
    state.source = which;
    $$("[data-source]", dialog).forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.source === which)));
    $$("[data-source-box]", dialog).forEach((box) => show(box, box.dataset.sourceBox === which));
    setError(null);
    if (which === "group") show($("#analysis-columns"), false);
    if (which === "file") {
      if (state.file) columnsPicker(state.file.columns || [], (state.file.preview || []).slice(1));
      else show($("#analysis-columns"), false);
    }
    if (which === "dataset") datasetColumns();
  }
  $$("[data-source]", dialog).forEach((b) => b.addEventListener("click", () => pickSource(b.dataset.source)));

  function datasetColumns() {
    const d = state.datasets.find((x) => String(x.id) === $("#analysis-dataset").value);
    const columns = d && d.version ? d.version.columns.map((c) => c.name) : [];
    columnsPicker(columns, []);
    const text = d && d.version ? d.version.columns.findIndex((c) => c.type === "string") : -1;
    if (text >= 0 && !/^(text|review|comment|body|content|message|document)s?$/i.test($("#analysis-column").value)) {
      $("#analysis-column").value = columns[text];
    }
  }
  $("#analysis-dataset").addEventListener("change", datasetColumns);

  // The file: uploaded as the documents tab does, then its preview and its columns.
  const input = $("#analysis-file");
  async function upload() {
    const chosen = input.files && input.files[0];
    if (!chosen) return;
    setError(null);
    $("#analysis-file-info").textContent = chosen.name + " · " + fmtBytes(chosen.size) + " · reading…";
    const fd = new FormData();
    fd.append("file", chosen, chosen.name);
    try {
      state.file = await postForm(ctx.base + "/files", fd);
    } catch (err) {
      setError(err.message);
      $("#analysis-file-info").textContent = chosen.name + " · " + fmtBytes(chosen.size);
      return;
    }
    const columns = state.file.columns || [];
    const [header, ...rows] = state.file.preview && state.file.preview.length ? state.file.preview : [columns];
    $("#analysis-file-info").textContent = chosen.name + " · " + fmtBytes(chosen.size);
    $("#analysis-file-caption").textContent = (state.file.file_name || chosen.name) + ": " + fmtCount(state.file.row_count) + " rows, " + fmtCount(columns.length) + " columns. The first rows:";
    clear($("#analysis-preview-head")).append(h("tr", {}, (header || columns).map((c) => h("th", {}, String(c)))));
    const tbody = clear($("#analysis-preview-body"));
    rows.slice(0, 5).forEach((r) => tbody.append(h("tr", {}, columns.map((_, i) => h("td", {}, excerpt(r[i] ?? "", 80))))));
    show($("#analysis-preview-box"), true);
    columnsPicker(columns, rows);
  }
  input.addEventListener("change", upload);
  const drop = $("#analysis-drop");
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

  async function open() {
    form.reset();
    state.file = null;
    show($("#analysis-preview-box"), false);
    $("#analysis-file-info").textContent = "CSV, TSV, Excel, JSON, JSON Lines or text.";
    setError(null);
    pickSource("group");
    dialog.showModal();
    $("#analysis-name").focus();
    const [models, groups, datasets] = await Promise.all([
      listAll(ctx.base + "/models", { status: "READY" }),
      listAll(ctx.base + "/groups"),
      api("/datasets", { query: { limit: 100 } }).then((p) => p.items).catch(() => []),
    ]);
    const usable = modelOptions($("#analysis-model"), models, ctx.project.type);
    if (!usable) setError("This project has no model that can tag it yet: train one on the Models tab first.");
    append(clear($("#analysis-group")), groups.length
      ? groups.map((g) => h("option", { value: g.id }, g.name + " (" + fmtCount(g.document_count) + " documents)"))
      : h("option", { value: "" }, "No group yet"));
    $("[data-source=group]", dialog).disabled = !groups.length;
    state.datasets = datasets;
    append(clear($("#analysis-dataset")), datasets.map((d) => h("option", { value: d.id }, d.name + (d.version ? " (" + fmtCount(d.version.rows) + " rows)" : ""))));
    $("[data-source=dataset]", dialog).disabled = !datasets.length;
    if (!groups.length && state.source === "group") pickSource("file");
    else if (state.source === "dataset") datasetColumns();
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("#analysis-name").value.trim();
    if (!name) return setError("Give the analysis a name.");
    const body = { name, review: $("#analysis-review").checked };
    Object.assign(body, modelChoice($("#analysis-model")));
    const columns = () => {
      body.column = $("#analysis-column").value;
      if ($("#analysis-id-column").value) body.id_column = $("#analysis-id-column").value;
      if ($("#analysis-time-column").value) body.time_column = $("#analysis-time-column").value;
    };
    if (state.source === "group") {
      if (!$("#analysis-group").value) return setError("Pick a group.");
      body.group_id = Number($("#analysis-group").value);
      const key = $("#analysis-group-time").value.trim();
      if (key) body.time_column = key;
    } else if (state.source === "file") {
      if (!state.file) return setError("Upload the file to analyze first.");
      body.file_id = state.file.id;
      columns();
    } else {
      if (!$("#analysis-dataset").value) return setError("Pick a dataset.");
      body.dataset_id = Number($("#analysis-dataset").value);
      columns();
    }
    setError(null);
    busy($("#analysis-submit"), async () => {
      try {
        const out = await api(ctx.base + "/analyses", { method: "POST", body });
        location.assign(analysisPath(ctx.pid, out.analysis.id));
      } catch (err) {
        setError(err.message);
      }
    });
  });
  $("#analysis-cancel").addEventListener("click", () => dialog.close());
  $("#analysis-new").addEventListener("click", () => open().catch((err) => setError(err.message)));
}
