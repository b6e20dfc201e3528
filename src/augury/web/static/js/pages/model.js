/* A model (/models/{id}?version=N): one version's report (validation per fold with its
 * spread, the confusion matrix at the decision threshold or a regression's residuals,
 * feature importance, the columns left out and the candidates tried), its training live
 * while it runs, the what-if panel, a batch prediction over a dataset, and the model's
 * versions (compare, promote, download, upload, delete).
 *
 * The version shown is ?version=N, else the current one, else the newest. While it
 * trains the page reads it every second and shows the report once it is ready.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, show } from "../dom.js";
import { fmtCount, fmtDuration, fmtNum, fmtValue, known } from "../format.js";
import { badge, factEl, statusBadge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { startApp } from "../shell.js";
import { ACTIVE, progressBar, setProgress } from "../jobs.js";
import { fmtBytes, saveFrom } from "../data-common.js";
import { postForm } from "../text-common.js";
import { confusionTable, foldsTable, importanceBars, residualPlot } from "../model-report.js";
import { whatIfPanel } from "../model-whatif.js";
import { APP_TEXT, TRAINING, appBadge, currentBadge, fmtMetric, listEvery, lowerIsBetter, metricName, modelPath, primaryOf, primaryText, trainingBar, versionStatusBadge } from "../models-common.js";

const TASK_TEXT = { binary: "binary classification", multiclass: "multiclass classification", regression: "regression", forecast: "forecast" };
const CODE_TEXT = {
  identifier: "identifier", constant: "constant", all_null: "empty", leak: "leak", too_many_levels: "too many levels",
  date: "date", user: "left out by you", target: "target",
};

function modelPage(me) {
  const root = $("#mv-root");
  const mid = Number(root.dataset.modelId);
  const base = "/models/" + mid;
  const canWrite = me.role !== "viewer";
  const state = { model: null, versions: [], version: null, datasets: [], timer: null, whatIf: false };
  const vpath = (n) => base + "/versions/" + n;

  // --- the header ---
  function fillHeader() {
    const m = state.model;
    const v = state.version;
    $("#mv-name").textContent = m.name;
    document.title = m.name + " v" + v.number + " · augury";
    append(clear($("#mv-badges")), [appBadge(m.application, "mv-app"), versionStatusBadge(v.status, "mv-status"), v.current ? currentBadge("mv-current") : null,
      v.source === "uploaded" ? badge("uploaded", "muted") : null]);
    $("#mv-lede").textContent = ["v" + v.number, "predicts " + v.target, TASK_TEXT[v.task] || null,
      v.dataset ? "from " + (v.dataset.name || "dataset #" + v.dataset.id) + (v.dataset.version ? " v" + v.dataset.version : "") : null, m.description || null]
      .filter(Boolean).join(" · ");
    const select = $("#mv-version");
    select.replaceChildren(...state.versions.map((x) => h("option", { value: x.number },
      "v" + x.number + " · " + x.status + (x.current ? " · current" : ""))));
    select.value = String(v.number);
    const training = TRAINING.has(v.status);
    show($("#mv-promote"), canWrite && v.status === "ready" && !v.current);
    show($("#mv-download"), v.status === "ready");
    show($("#mv-abort"), canWrite && training);
    show($("#mv-retrain"), canWrite);
    show($("#mv-delete"), canWrite);
    show($("#mv-upload"), canWrite);
    show($("#mv-error"), v.status === "failed" || v.status === "aborted");
    $("#mv-error").textContent = v.status === "failed" ? "Training failed: " + (v.error || "no reason given.")
      : v.status === "aborted" ? "Training was stopped before it ended." : "";
    show($("#mv-training"), training);
    if (training) fillTraining();
  }

  async function fillTraining() {
    const v = state.version;
    $("#mv-training-title").textContent = v.status === "queued" ? "Waiting to train" : "Training";
    clear($("#mv-training-bar")).append(trainingBar(v, "mv-progress"));
    const link = $("#mv-training-job");
    show(link, !!v.job);
    if (!v.job) return;
    link.href = "/jobs/" + v.job.id;
    link.textContent = "job #" + v.job.id;
    const job = await api("/jobs/" + v.job.id).catch(() => null);
    $("#mv-training-text").textContent = (job && job.message) || "The report appears here when the model is trained and validated.";
  }

  // --- the report ---
  function stat(label, value, testid, sub, title) {
    return h("div", { class: "card stat stat-plain", title: title || "" },
      h("span", { class: "stat-label" }, label), h("span", { class: "stat-value", "data-testid": testid }, value),
      sub ? h("span", { class: "muted small", "data-testid": testid + "-sub" }, sub) : null);
  }

  function fillStats() {
    const v = state.version;
    const r = v.report || {};
    const mean = (v.metrics || {}).mean || {};
    const std = (v.metrics || {}).std || {};
    const p = primaryOf(v);
    const figures = [];
    if (p && known(p.mean)) {
      figures.push(stat(metricName(p.key), fmtMetric(p.key, p.mean), "mv-primary", known(p.std) ? "± " + fmtMetric(p.key, p.std) + " over the folds" : null,
        "The metric the model was chosen by, mean over the validation folds"));
    } else {
      figures.push(stat("Validation", "–", "mv-primary"));
    }
    const second = ["f1", "pr_auc", "accuracy", "r2", "mae", "rmse", "mase"].find((k) => (!p || k !== p.key) && known(mean[k]));
    if (second) figures.push(stat(metricName(second), fmtMetric(second, mean[second]), "mv-second", known(std[second]) ? "± " + fmtMetric(second, std[second]) : null));
    if (known(r.threshold)) figures.push(stat("Threshold", fmtNum(r.threshold, 3), "mv-threshold", thresholdWhy(v), "A row is predicted positive when its probability reaches this"));
    figures.push(stat("Rows · columns", fmtCount(r.rows) + " · " + fmtCount((v.features || []).length), "mv-shape", "learned from · used"));
    figures.push(stat("Training time", known(v.training_seconds) ? fmtDuration(v.training_seconds) : "–", "mv-time", v.size_bytes ? fmtBytes(v.size_bytes) + " model file" : null));
    append(clear($("#mv-stats")), figures);
  }

  function thresholdWhy(v) {
    const o = v.options || {};
    return known(o.cost_missed) ? "least expected cost (miss " + fmtValue(o.cost_missed) + ", alarm " + fmtValue(o.cost_false_alarm) + ")" : "best F1";
  }

  function fillReport() {
    const v = state.version;
    const r = v.report || {};
    const m = v.metrics || {};
    $("#mv-validation").textContent = (m.validation || "") + ((m.folds || []).length ? (m.validation ? " · " : "") + m.folds.length + " folds" : "");
    append(clear($("#mv-folds-box")), (m.folds || []).length || Object.keys(m.mean || {}).length ? foldsTable(m) : h("p", { class: "muted" }, "No validation figures."));

    const box = clear($("#mv-confusion"));
    if (r.confusion && (r.confusion.labels || []).length) {
      $("#mv-confusion-title").textContent = "Confusion";
      $("#mv-confusion-caption").textContent = "Out-of-fold rows. Rows: the truth; columns: what the model said"
        + (known(r.threshold) ? " at the threshold " + fmtNum(r.threshold, 3) : "") + ". The diagonal is right.";
      box.append(confusionTable(r.confusion));
    } else if (r.residuals && (r.residuals.predicted || []).length) {
      $("#mv-confusion-title").textContent = "Residuals";
      $("#mv-confusion-caption").textContent = "Out-of-fold rows (a sample of " + fmtCount(r.residuals.predicted.length) + "): how far the truth was from the prediction. A good model's points straddle zero evenly at every size.";
      box.append(residualPlot(r.residuals));
    } else {
      $("#mv-confusion-title").textContent = "Errors";
      $("#mv-confusion-caption").textContent = "";
      box.append(h("p", { class: "muted" }, "This version has neither a confusion matrix nor residuals."));
    }

    append(clear($("#mv-importance")), (r.importance || []).length ? importanceBars(r.importance, 15) : h("p", { class: "muted" }, "No importance was recorded."));

    const excluded = v.excluded || [];
    append(clear($("#mv-excluded")), excluded.length
      ? excluded.map((e) => h("li", { "data-testid": "mv-excluded-" + e.column, "data-code": e.code },
        h("div", {}, h("code", {}, e.column), " ", badge(CODE_TEXT[e.code] || e.code, e.code === "leak" ? "danger" : e.code === "user" ? "info" : "muted")),
        h("div", { class: "muted small" }, e.reason)))
      : h("li", { class: "muted small" }, "None: every column but the target was used."));

    // A candidate's score is its validation loss (1 − AUC, log loss or RMSE): lower is
    // better. Best first; past the first six, a button shows the rest.
    const cands = (r.candidates || []).slice().sort((a, b) => (a.score ?? Infinity) - (b.score ?? Infinity));
    const body = clear($("#mv-candidates-body"));
    cands.forEach((c, i) => body.append(h("tr", { "data-testid": "mv-candidate-" + i, class: (c.chosen ? "row-current" : "") + (i >= 6 ? " pm-more-row" : ""), hidden: i >= 6 },
      h("td", {}, h("span", { class: c.chosen ? "strong" : "" }, c.name),
        c.params && Object.keys(c.params).length ? h("div", { class: "muted small pm-params", title: paramsText(c.params, 99) }, paramsText(c.params, 4)) : null),
      h("td", { class: "num" }, known(c.score) ? fmtNum(c.score, 4) : "–"),
      h("td", { class: "nowrap" }, c.chosen ? badge(known(c.weight) && c.weight < 1 ? "kept · " + fmtNum(100 * c.weight, 0) + " %" : "kept", "success") : null))));
    if (!cands.length) body.append(h("tr", {}, h("td", { colspan: 3, class: "muted" }, "Not recorded.")));
    if (cands.length > 6) {
      const more = h("button", { type: "button", class: "link-button link-plain small", "data-testid": "mv-candidates-more" }, "Show all " + cands.length);
      more.addEventListener("click", () => {
        $$(".pm-more-row", body).forEach((tr) => { tr.hidden = false; });
        more.closest("tr").remove();
      });
      body.append(h("tr", {}, h("td", { colspan: 3 }, more)));
    }

    append(clear($("#mv-warnings")), (r.warnings || []).map((w) => h("div", { class: "alert alert-warning small", "data-testid": "mv-warning" }, String(w))));
  }

  const paramsText = (p, n) => Object.entries(p).slice(0, n).map(([k, x]) => k + " " + (typeof x === "number" ? fmtValue(x) : String(x))).join(", ");

  function fillFacts() {
    const v = state.version;
    const o = v.options || {};
    const r = v.report || {};
    const ds = v.dataset;
    append(clear($("#mv-facts")), [
      factEl("Dataset", ds ? h("a", { href: "/data/" + ds.id + (ds.version ? "?version=" + ds.version : ""), "data-testid": "mv-fact-dataset" },
        (ds.name || "#" + ds.id) + (ds.version ? " v" + ds.version : "")) : "–"),
      factEl("Target", h("code", {}, v.target), "mv-fact-target"),
      factEl("Task", TASK_TEXT[v.task] || v.task || "–", "mv-fact-task"),
      factEl("Application", APP_TEXT[v.application] || v.application),
      factEl("Columns used", fmtCount((v.features || []).length)),
      r.date_column ? factEl("Date column", h("code", {}, r.date_column)) : null,
      (r.series_columns || []).length ? factEl("Series", r.series_columns.join(", ")) : null,
      (r.classes || []).length ? factEl("Classes", r.classes.map(String).join(", ")) : null,
      known(o.time_budget_s) ? factEl("Time budget", fmtDuration(o.time_budget_s)) : null,
      known(o.cost_missed) ? factEl("Costs", "miss " + fmtValue(o.cost_missed) + " · false alarm " + fmtValue(o.cost_false_alarm)) : null,
      known(o.horizon) && v.task === "forecast" ? factEl("Steps ahead", fmtCount(o.horizon)) : null,
      factEl("Training time", known(v.training_seconds) ? fmtNum(v.training_seconds, 1) + " s" : "–"),
      factEl("Size", v.size_bytes ? fmtBytes(v.size_bytes) : "–"),
      factEl("Source", v.source),
      factEl("Created", timeEl(v.created_at)),
      factEl("Finished", v.finished_at ? timeEl(v.finished_at) : "–"),
      factEl("Content hash", v.content_hash ? h("code", { title: v.content_hash }, v.content_hash.replace(/^sha256:/, "").slice(0, 12) + "…") : "–"),
    ]);
  }

  // --- versions ---
  function fillVersions() {
    const body = clear($("#mv-versions-body"));
    state.versions.forEach((x) => {
      const actions = [];
      const act = (label, testid, fn, cls) => {
        const b = h("button", { type: "button", class: "btn btn-small" + (cls ? " " + cls : ""), "data-testid": testid + "-" + x.number }, label);
        b.addEventListener("click", () => busy(b, fn));
        actions.push(b);
      };
      if (canWrite && x.status === "ready" && !x.current) act("Promote", "mv-v-promote", () => promote(x));
      if (x.status === "ready") act("Download", "mv-v-download", () => download(x));
      if (canWrite && !TRAINING.has(x.status)) act("Delete", "mv-v-delete", () => deleteVersion(x), "btn-danger-ghost");
      const here = x.number === state.version.number;
      body.append(h("tr", { "data-testid": "mv-v-" + x.number, class: here ? "row-current" : "" },
        h("td", { class: "c-check" }, h("input", {
          type: "checkbox", value: x.number, "aria-label": "Compare v" + x.number, disabled: x.status !== "ready",
          checked: x.status === "ready" && (here || x.current), "data-testid": "mv-v-pick-" + x.number,
        })),
        h("td", { class: "nowrap" }, here ? h("span", { class: "strong" }, "v" + x.number) : h("a", { href: modelPath(mid, x.number) }, "v" + x.number),
          x.current ? currentBadge("mv-v-current-" + x.number) : null),
        h("td", {}, versionStatusBadge(x.status, "mv-v-status-" + x.number)),
        h("td", { class: "num" }, primaryText(x)),
        h("td", { class: "small" }, x.dataset ? (x.dataset.name || "#" + x.dataset.id) + (x.dataset.version ? " v" + x.dataset.version : "") : x.source),
        h("td", { class: "num" }, x.size_bytes ? fmtBytes(x.size_bytes) : "–"),
        h("td", { class: "nowrap" }, timeEl(x.created_at)),
        h("td", { class: "c-actions" }, h("span", { class: "row-actions" }, actions))));
    });
    pickedChanged();
  }

  const picked = () => $$("#mv-versions-body input:checked").map((el) => Number(el.value));
  function pickedChanged() {
    $("#mv-compare").disabled = picked().length < 2;
  }
  $("#mv-versions-body").addEventListener("change", pickedChanged);

  async function compare() {
    const numbers = picked().sort((a, b) => a - b);
    const out = await api(base + "/compare", { query: { versions: numbers.join(",") } });
    const keys = numbers.map(String);
    const best = (name, cells) => {
      const vals = keys.map((k) => (cells[k] ? cells[k].mean : null)).filter(known);
      if (vals.length < 2 || new Set(vals).size < 2) return null;
      return lowerIsBetter(name) ? Math.min(...vals) : Math.max(...vals);
    };
    const topFeatures = Object.entries(out.importance || {})
      .map(([f, cells]) => [f, Math.max(...keys.map((k) => cells[k] || 0))]).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([f]) => f);
    const head = h("tr", {}, h("th", {}, "Validation"), out.versions.map((x) => h("th", { class: "num" }, "v" + x.number, x.current ? currentBadge() : null)));
    append(clear($("#mv-compare-box")), h("table", { class: "table table-compact tm-compare-table", "data-testid": "mv-compare-table" },
      h("thead", {}, head),
      h("tbody", {},
        Object.entries(out.metrics || {}).map(([name, cells]) => {
          const top = best(name, cells);
          return h("tr", { "data-testid": "mv-compare-" + name }, h("th", { scope: "row" }, metricName(name)),
            keys.map((k) => {
              const c = cells[k];
              return h("td", { class: "num" + (c && known(c.mean) && c.mean === top ? " tm-best" : "") },
                c && known(c.mean) ? fmtMetric(name, c.mean) + (known(c.std) ? " ± " + fmtMetric(name, c.std) : "") : "–");
            }));
        }),
        topFeatures.length ? h("tr", { class: "tm-compare-score" }, h("th", { colspan: keys.length + 1 }, "Importance of the top columns")) : null,
        topFeatures.map((f) => h("tr", {}, h("th", { scope: "row" }, f),
          keys.map((k) => h("td", { class: "num" }, known(out.importance[f][k]) ? fmtNum(100 * out.importance[f][k], 1) + " %" : "–")))))));
    show($("#mv-compare-box"), true);
  }
  $("#mv-compare").addEventListener("click", () => busy($("#mv-compare"), compare));

  // --- actions ---
  async function promote(x) {
    await api(vpath(x.number) + "/promote", { method: "POST" });
    toast("v" + x.number + " is now the current version.", "success");
    await load(state.version.number);
  }

  function download(x) {
    const file = (state.model.name.replace(/[^\w.-]+/g, "_") || "model") + "-v" + x.number + ".zip";
    return saveFrom(vpath(x.number) + "/file", {}, file);
  }

  async function deleteVersion(x) {
    if (x.current) {
      toast("v" + x.number + " is the current version: make another current first, or delete the model.", "error");
      return;
    }
    if (!confirm("Delete v" + x.number + " and its file? This cannot be undone.")) return;
    await api(vpath(x.number), { method: "DELETE" });
    toast("Deleted v" + x.number + ".", "success");
    await load(x.number === state.version.number ? null : state.version.number);
  }

  $("#mv-promote").addEventListener("click", () => busy($("#mv-promote"), () => promote(state.version)));
  $("#mv-download").addEventListener("click", () => busy($("#mv-download"), () => download(state.version)));
  $("#mv-abort").addEventListener("click", () => busy($("#mv-abort"), async () => {
    await api(vpath(state.version.number) + "/abort", { method: "POST" });
    toast("Abort requested for v" + state.version.number + ".", "success");
    state.version = await api(vpath(state.version.number));
    fillHeader();
  }));
  $("#mv-delete").addEventListener("click", () => busy($("#mv-delete"), async () => {
    if (!confirm("Delete the model " + state.model.name + ", every version and their files? Its predictions' datasets stay.")) return;
    await api(base, { method: "DELETE" });
    location.assign("/models");
  }));
  $("#mv-version").addEventListener("change", () => {
    history.replaceState(null, "", modelPath(mid, $("#mv-version").value));
    load(Number($("#mv-version").value)).catch(showError);
  });

  // --- upload ---
  const dialog = $("#mv-upload-dialog");
  const uploadError = (message) => {
    $("#mv-upload-error").textContent = message || "";
    show($("#mv-upload-error"), !!message);
  };
  $("#mv-upload").addEventListener("click", () => {
    $("#mv-upload-form").reset();
    uploadError(null);
    dialog.showModal();
  });
  $("#mv-upload-cancel").addEventListener("click", () => dialog.close());
  $("#mv-upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = $("#mv-upload-file").files[0];
    if (!file) return uploadError("Choose the model's file.");
    const fd = new FormData();
    fd.append("file", file, file.name);
    busy($("#mv-upload-submit"), async () => {
      try {
        const out = await postForm(base + "/versions/upload", fd);
        const v = out.version || out;
        dialog.close();
        toast("Uploaded as v" + v.number + ".", "success");
        history.replaceState(null, "", modelPath(mid, v.number));
        await load(v.number);
      } catch (err) {
        uploadError(err.message);
      }
    });
  });

  // --- predicting a dataset ---
  let predictBound = false;
  function fillPredict() {
    const v = state.version;
    // A batch prediction writes a dataset: a writer's (viewers predict rows in what-if).
    show($("#mv-predict"), v.status === "ready" && canWrite);
    if (v.status !== "ready" || !canWrite) return;
    const select = $("#pr-dataset");
    const keep = select.value || (v.dataset ? String(v.dataset.id) : "");
    select.replaceChildren(...state.datasets.map((d) => h("option", { value: d.id }, d.name)));
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    predictVersions().catch(showError);
    if (predictBound) return;
    predictBound = true;
    select.addEventListener("change", () => predictVersions().catch(showError));
    $("#pr-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = { dataset_id: Number(select.value), model_version: state.version.number };
      if ($("#pr-version").value) body.version = Number($("#pr-version").value);
      const name = $("#pr-output").value.trim();
      if (name) body.output_name = name;
      busy($("#pr-submit"), async () => {
        const out = await api(base + "/predictions", { method: "POST", body });
        const job = out.job || out;
        toast("Predicting " + select.selectedOptions[0].textContent + " (job #" + job.id + ").", "success");
        followPrediction(job);
      });
    });
  }

  async function predictVersions() {
    const id = Number($("#pr-dataset").value);
    const vs = $("#pr-version");
    const d = state.datasets.find((x) => x.id === id);
    if (!d) return vs.replaceChildren();
    const versions = await listEvery("/datasets/" + id + "/versions");
    vs.replaceChildren(h("option", { value: "" }, "latest (v" + d.latest_version + ")"),
      ...versions.filter((x) => x.number !== d.latest_version).map((x) => h("option", { value: x.number }, "v" + x.number)));
  }

  /** A batch prediction's job: its bar until it ends, then the output dataset's link. */
  function followPrediction(job) {
    const box = $("#pr-run");
    show(box, true);
    const bar = progressBar(job, "pr-progress");
    const status = h("span", { "data-testid": "pr-status" }, statusBadge(job.status));
    const text = h("span", { class: "muted small", "data-testid": "pr-message" }, job.message || "");
    const out = h("span", { class: "pm-predict-out", "data-testid": "pr-output-link" });
    append(clear(box), [h("div", { class: "pm-predict-head" }, h("a", { href: "/jobs/" + job.id, "data-testid": "pr-job" }, "Job #" + job.id), status, text, out), bar]);
    const tick = async () => {
      let now;
      try {
        now = await api("/jobs/" + job.id);
      } catch (err) {
        showError(err);
        return;
      }
      setProgress(bar, now);
      append(clear(status), statusBadge(now.status));
      text.textContent = now.error || now.message || "";
      if (ACTIVE.has(now.status)) {
        setTimeout(tick, 1000);
        return;
      }
      if (now.status === "succeeded") {
        const links = await api("/jobs/" + job.id + "/datasets");
        const output = links.items.find((l) => l.role === "output");
        if (output) {
          const ds = await api("/datasets/" + output.dataset_id).catch(() => null);
          append(clear(out), h("a", { class: "btn btn-small btn-primary", href: "/data/" + output.dataset_id + "?version=" + output.version, "data-testid": "pr-open" },
            "Open ", ds ? ds.name : "the predictions", " v" + output.version));
        }
      }
    };
    setTimeout(tick, 500);
  }

  // --- what-if ---
  let whatIf = null;
  function fillWhatIf() {
    const v = state.version;
    const usable = v.status === "ready" && v.task !== "forecast";
    show($("#mv-whatif"), usable);
    if (!usable || state.whatIf === v.number) return;
    state.whatIf = v.number;
    whatIf = whatIf || whatIfPanel({ model: state.model, datasets: state.datasets });
    whatIf.setVersion(v);
  }

  // --- loading, and following the training ---
  function fillAll() {
    fillHeader();
    const ready = state.version.status === "ready";
    show($("#mv-report"), ready);
    show($("#mv-stats"), ready);
    if (ready) {
      fillStats();
      fillReport();
    } else {
      clear($("#mv-warnings"));
    }
    fillFacts();
    fillVersions();
    fillPredict();
    fillWhatIf();
  }

  function follow() {
    clearTimeout(state.timer);
    if (!TRAINING.has(state.version.status)) return;
    state.timer = setTimeout(async () => {
      try {
        const now = await api(vpath(state.version.number));
        if (!TRAINING.has(now.status)) {
          await load(now.number);
          return;
        }
        state.version = now;
        fillHeader();
      } catch (err) {
        showError(err);
        return;
      }
      follow();
    }, 1000);
  }

  async function load(number) {
    let wanted = number;
    try {
      state.model = await api(base);
      state.versions = (await listEvery(base + "/versions")).sort((a, b) => b.number - a.number);
      wanted = wanted || Number(new URLSearchParams(location.search).get("version")) || state.model.current_version || state.model.latest_version;
      if (!state.versions.some((x) => x.number === wanted) && state.versions.length) wanted = state.versions[0].number;
      if (!state.versions.length) throw Object.assign(new Error("This model has no version."), { status: 404 });
      state.version = await api(vpath(wanted));
    } catch (err) {
      if (err.status === 404) {
        $("#mv-name").textContent = "Model not found";
        $("#mv-lede").textContent = "This model does not exist in this organization, or it was deleted.";
        show(root, false);
        ["#mv-version", "#mv-promote", "#mv-download", "#mv-retrain", "#mv-delete"].forEach((s) => show($(s).closest(".version-pick") || $(s), false));
        return;
      }
      throw err;
    }
    if (!state.datasets.length) state.datasets = await listEvery("/datasets").catch(() => []);
    fillAll();
    follow();
  }
  return load(null);
}

startApp(modelPage);
