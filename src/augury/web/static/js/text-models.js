/* A text project's models: the Models tab (its versions with live training progress,
 * training one, uploading one, and each version's promote, download, abort and delete)
 * and what the model page shares with it (status badges, scores, those actions).
 *
 * A version trains as a job; while any listed version is QUEUED or TRAINING the tab
 * reads those versions again every second, so their progress moves without a reload.
 */

import { api } from "./api.js";
import { $, $$, append, clear, h, show } from "./dom.js";
import { fmtCount, fmtNum, known } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { pager } from "./pager.js";
import { loadInto } from "./loading.js";
import { busy, showError, toast } from "./toast.js";
import { saveFrom } from "./data-common.js";
import { listAll, postForm, projectPath } from "./text-common.js";

const STATUS_KIND = { QUEUED: "muted", TRAINING: "info", READY: "success", FAILED: "danger", ABORTED: "warning" };

/** Statuses a version leaves by itself: the pages poll while one is in them. */
export const TRAINING = new Set(["QUEUED", "TRAINING"]);

export const modelPath = (pid, mid) => projectPath(pid) + "/models/" + mid;
export const modelName = (m) => m.name + " v" + m.version;

export function modelStatusBadge(status, testid) {
  const el = badge(String(status || "").toLowerCase(), STATUS_KIND[status] || "muted", testid);
  el.dataset.status = status;
  return el;
}

export function activeBadge(testid) {
  const el = badge("active", "violet", testid);
  el.title = "The project's active model: analyses, correction sessions and Try it use it unless told otherwise";
  return el;
}

/** A 0–1 score as a percentage ("87.5 %"), "–" before there is one. */
export function fmtScore(v) {
  return known(v) ? fmtNum(100 * v, 1) + " %" : "–";
}

/** What the headline score measures for a project type. */
export const SCORE_NAME = {
  CLASS: "accuracy", LABEL: "micro F1", CLASSLABEL: "micro F1", ABSA: "mean of aspect F1 and sentiment accuracy",
};

/** A version's training progress as a bar with its figure. */
export function trainingBar(m, testid) {
  const pct = Math.max(0, Math.min(100, Number(m.progress) || 0));
  const bar = h("div", { class: "progress-bar" });
  bar.style.width = pct + "%";
  return h("div", { class: "text-progress" },
    h("div", {
      class: "progress " + (m.status === "QUEUED" ? "progress-pending" : "progress-running"), role: "progressbar",
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(pct), "data-testid": testid,
      "aria-label": "Training of " + modelName(m),
    }, bar),
    h("span", { class: "small pct" }, Math.round(pct) + "%"));
}

/** Training and test examples, "120 / 30". */
export function examplesText(m) {
  const counts = (m.training && m.training.counts) || {};
  return known(counts.train) ? fmtCount(counts.train) + " / " + fmtCount(counts.test || 0) : "–";
}

export function promoteModel(base, m) {
  return api(base + "/models/" + m.id + "/promote", { method: "POST" }).then((out) => {
    toast(modelName(m) + " is now the active model.", "success");
    return out;
  });
}

export function abortModel(base, m) {
  return api(base + "/models/" + m.id + "/abort", { method: "POST" }).then((out) => {
    toast("Training of " + modelName(m) + " stopped.", "success");
    return out;
  });
}

export function downloadModel(base, m) {
  const file = (m.name.replace(/[^\w.-]+/g, "_") || "model") + "-v" + m.version + ".zip";
  return saveFrom(base + "/models/" + m.id + "/download", {}, file);
}

/** Ask, then delete; true when deleted. The active version says so, and goes only with confirm=true. */
export async function deleteModel(base, m) {
  const what = m.active
    ? modelName(m) + " is the project's active model: analyses and Try it fall back to zero-shot (or no model) without it. Delete it anyway?"
    : "Delete " + modelName(m) + " and its file? This cannot be undone.";
  if (!confirm(what)) return false;
  await api(base + "/models/" + m.id, { method: "DELETE", query: { confirm: m.active ? "true" : undefined } });
  toast("Deleted " + modelName(m) + ".", "success");
  return true;
}

/**
 * The Models tab. ctx: {base, pid, project, canManage, onChange(models)} — onChange
 * hears the list whenever it changed (the Try it box offers its READY versions).
 */
export function modelsTab(ctx) {
  const base = ctx.base;
  const state = { offset: 0, limit: 25, page: null, timer: null, polling: false };
  const body = $("#models-body");
  const wrap = $("#models-table").closest(".table-wrap");

  function actions(m) {
    const out = [];
    const button = (label, testid, fn, cls) => {
      const b = h("button", { type: "button", class: "btn btn-small" + (cls ? " " + cls : ""), "data-testid": testid + "-" + m.id }, label);
      b.addEventListener("click", () => busy(b, fn));
      return b;
    };
    if (ctx.canManage && m.status === "READY" && !m.active) out.push(button("Promote", "model-promote", async () => { await promoteModel(base, m); await load(); }));
    if (m.status === "READY") out.push(button("Download", "model-download", () => downloadModel(base, m)));
    if (ctx.canManage && TRAINING.has(m.status)) out.push(button("Abort", "model-abort", async () => { await abortModel(base, m); await load(); }, "btn-danger-ghost"));
    if (ctx.canManage && !TRAINING.has(m.status)) {
      out.push(button("Delete", "model-delete", async () => { if (await deleteModel(base, m)) await load(); }, "btn-danger-ghost"));
    }
    return h("span", { class: "row-actions" }, out);
  }

  function row(m) {
    const href = modelPath(ctx.pid, m.id);
    return h("tr", { "data-testid": "model-row-" + m.id, "data-status": m.status },
      h("td", { class: "dataset-cell" },
        h("a", { href, class: "strong", "data-testid": "model-link-" + m.id }, modelName(m)),
        m.active ? activeBadge("model-active-" + m.id) : null,
        m.origin === "uploaded" ? badge("uploaded", "muted") : null,
        m.description ? h("div", { class: "muted small" }, m.description) : null),
      h("td", { class: "model-status-cell" }, modelStatusBadge(m.status, "model-status-" + m.id),
        TRAINING.has(m.status) ? trainingBar(m, "model-progress-" + m.id) : null,
        m.status === "FAILED" && m.error ? h("div", { class: "muted small model-error", "data-testid": "model-error-" + m.id }, m.error) : null),
      h("td", { class: "num strong", "data-testid": "model-score-" + m.id, title: SCORE_NAME[m.task] || "" }, fmtScore(m.score)),
      h("td", { class: "num", title: "training / test examples" }, examplesText(m)),
      h("td", { class: "nowrap" }, timeEl(m.created_at)),
      h("td", { class: "c-actions" }, actions(m)));
  }

  async function load() {
    await loadInto(body, async () => {
      const page = await api(base + "/models", { query: { offset: state.offset, limit: state.limit } });
      state.page = page;
      const tbody = clear(body);
      page.items.forEach((m) => tbody.append(row(m)));
      show(wrap, page.total > 0);
      show($("#models-empty"), page.total === 0);
      pager($("#models-pager"), page, (off) => { state.offset = off; load(); }, "models");
      $("#tab-count-models").textContent = page.total ? fmtCount(page.total) : "";
      schedule();
    });
    if (ctx.onChange) ctx.onChange(state.page ? state.page.items : []);
  }

  /** While a listed version trains: read those versions every second, redraw their rows,
   * and the whole list once one has ended (the active flags and scores change). */
  function schedule() {
    clearTimeout(state.timer);
    const busyOnes = state.page ? state.page.items.filter((m) => TRAINING.has(m.status)) : [];
    if (!busyOnes.length) return;
    state.timer = setTimeout(async () => {
      if ($("#panel-models").hidden) return;
      try {
        const now = await Promise.all(busyOnes.map((m) => api(base + "/models/" + m.id)));
        if (now.some((m) => !TRAINING.has(m.status))) {
          await load();
          return;
        }
        now.forEach((m) => {
          const old = $("[data-testid=model-row-" + m.id + "]");
          if (old) old.replaceWith(row(m));
          const i = state.page.items.findIndex((x) => x.id === m.id);
          if (i >= 0) state.page.items[i] = m;
        });
      } catch (err) {
        showError(err);
        return;
      }
      schedule();
    }, 1000);
  }

  bindTrainDialog(ctx, () => { state.offset = 0; return load(); });
  bindUploadDialog(ctx, () => { state.offset = 0; return load(); });
  [$("#model-train"), $("#model-upload")].forEach((b) => show(b, ctx.canManage));
  $("#models-empty-text").textContent = ctx.canManage
    ? "Label documents in a session, then train a model on them: augury keeps some documents aside to test it."
    : "No model has been trained in this project yet.";
  return { load };
}

function setError(box, message) {
  box.textContent = message || "";
  show(box, !!message);
}

/** The "Train a model" dialog: a name (an existing one gets its next version), sessions
 * split automatically with a test share, or training and test sessions picked. */
function bindTrainDialog(ctx, done) {
  const dialog = $("#train-dialog");
  const form = $("#train-form");
  const error = $("#train-error");

  function mode() {
    const pick = form.elements.split.value === "pick";
    show($("#train-auto"), !pick);
    show($("#train-pick"), pick);
  }
  form.addEventListener("change", (ev) => { if (ev.target.name === "split") mode(); });

  const chip = (s, name, checked) => h("label", { class: "check check-chip" },
    h("input", { type: "checkbox", name, value: s.id, checked, "data-testid": name + "-" + s.id }),
    s.name, h("span", { class: "muted small" }, " " + fmtCount(s.document_count) + " docs"));

  async function open() {
    form.reset();
    setError(error, null);
    mode();
    dialog.showModal();
    $("#train-name").focus();
    const [sessions, models] = await Promise.all([listAll(ctx.base + "/sessions"), listAll(ctx.base + "/models")]);
    const names = [...new Set(models.map((m) => m.name))];
    append(clear($("#train-names")), names.map((n) => h("option", { value: n })));
    if (!$("#train-name").value && names.length === 1) $("#train-name").value = names[0];
    const usable = sessions.filter((s) => s.document_count > 0);
    if (!usable.length) {
      const none = h("span", { class: "muted small" }, "No session has documents yet: label some first.");
      [$("#train-sessions"), $("#train-train"), $("#train-test")].forEach((box) => clear(box).append(none.cloneNode(true)));
      return;
    }
    append(clear($("#train-sessions")), usable.map((s) => chip(s, "session", true)));
    append(clear($("#train-train")), usable.map((s, i) => chip(s, "train", i < usable.length - 1 || usable.length === 1)));
    append(clear($("#train-test")), usable.map((s, i) => chip(s, "test", usable.length > 1 && i === usable.length - 1)));
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const ids = (name) => fd.getAll(name).map(Number);
    const body = {
      name: String(fd.get("name") || "").trim(),
      language: String(fd.get("language") || "en").trim() || "en",
    };
    const description = String(fd.get("description") || "").trim();
    if (description) body.description = description;
    if (fd.get("split") === "pick") {
      body.train_session_ids = ids("train");
      body.test_session_ids = ids("test");
    } else {
      body.session_ids = ids("session");
      body.test_fraction = Number(fd.get("test_fraction") || 20) / 100;
    }
    if (!body.name) return setError(error, "Give the model a name.");
    if (body.session_ids && !body.session_ids.length) return setError(error, "Pick at least one session to learn from.");
    if (body.train_session_ids && (!body.train_session_ids.length || !body.test_session_ids.length)) {
      return setError(error, "Pick at least one session to train on and one to test on.");
    }
    setError(error, null);
    busy($("#train-submit"), async () => {
      try {
        const out = await api(ctx.base + "/models", { method: "POST", body });
        dialog.close();
        toast("Training " + modelName(out.model) + " (job #" + out.job_id + ").", "success");
        await done();
      } catch (err) {
        setError(error, err.message);
      }
    });
  });
  $("#train-cancel").addEventListener("click", () => dialog.close());
  $("#model-train").addEventListener("click", () => open().catch((err) => setError(error, err.message)));
}

/** "Upload a model": a zip this server's download gave, and the name to keep it under. */
function bindUploadDialog(ctx, done) {
  const dialog = $("#model-upload-dialog");
  const form = $("#model-upload-form");
  const error = $("#model-upload-error");
  $("#model-upload-file").addEventListener("change", () => {
    const file = $("#model-upload-file").files[0];
    const name = $("#model-upload-name");
    if (file && !name.value) name.value = file.name.replace(/\.zip$/i, "").replace(/-v\d+$/, "");
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = $("#model-upload-file").files[0];
    const name = $("#model-upload-name").value.trim();
    if (!file || !name) return setError(error, "Choose the model's file and give it a name.");
    const fd = new FormData();
    fd.append("file", file, file.name);
    fd.append("name", name);
    setError(error, null);
    busy($("#model-upload-submit"), async () => {
      try {
        const m = await postForm(ctx.base + "/models/upload", fd);
        dialog.close();
        toast("Uploaded " + modelName(m) + ".", "success");
        await done();
      } catch (err) {
        setError(error, err.message);
      }
    });
  });
  $("#model-upload-cancel").addEventListener("click", () => dialog.close());
  $("#model-upload").addEventListener("click", () => {
    form.reset();
    setError(error, null);
    dialog.showModal();
  });
  $$("#model-upload-dialog input").forEach((el) => el.addEventListener("input", () => setError(error, null)));
}
