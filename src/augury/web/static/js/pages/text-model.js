/* One model version (/text/projects/{pid}/models/{mid}): its headline scores, the
 * per-class precision/recall/F1 (weakest first, sortable), the confusion matrix as a
 * heat map (CLASS, and ABSA's sentiments; tp/fp/fn per label for LABEL and CLASSLABEL),
 * the test examples it got most wrong, how it was trained, and its name's other
 * versions with a side-by-side F1 comparison. Promote, download, abort, delete.
 *
 * While the version trains the page reads it every second and shows the report once
 * it is READY.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, show } from "../dom.js";
import { fmtCount, fmtNum, known } from "../format.js";
import { badge, factEl, timeEl } from "../badges.js";
import { busy, showError } from "../toast.js";
import { startApp } from "../shell.js";
import { listAll, projectPath } from "../text-common.js";
import { SCORE_NAME, TRAINING, abortModel, activeBadge, deleteModel, downloadModel, examplesText, fmtScore, modelName, modelPath, modelStatusBadge, promoteModel, trainingBar } from "../text-models.js";
import { POLARITY } from "../text-analyses.js";

const pct = (v) => (known(v) ? fmtNum(100 * v, 1) + " %" : "–");

/** A cell's heat: 0–1 of the largest count, on the diagonal's colour or the errors'. */
function heat(cell, value, max, right) {
  const a = max > 0 ? value / max : 0;
  cell.style.background = value ? (right ? "rgba(18, 128, 92, " : "rgba(217, 45, 32, ") + (0.08 + 0.62 * a).toFixed(3) + ")" : "";
  if (a > 0.55) cell.classList.add("cm-strong");
}

function modelPage() {
  const root = $("#tm-root");
  const pid = Number(root.dataset.projectId);
  const mid = Number(root.dataset.modelId);
  const base = projectPath(pid);
  const state = { model: null, project: null, report: null, sort: { key: "f1", desc: false }, timer: null };
  const canManage = () => !!state.project && state.project.role === "MANAGER";

  // --- the header ---
  function fillHeader() {
    const m = state.model;
    $("#tm-name").textContent = modelName(m);
    document.title = modelName(m) + " · augury";
    append(clear($("#tm-badges")), [modelStatusBadge(m.status, "tm-status"), m.active ? activeBadge("tm-active") : null,
      m.origin === "uploaded" ? badge("uploaded", "muted") : null]);
    $("#tm-lede").textContent = [state.project.name, m.task, m.description].filter(Boolean).join(" · ");
    show($("#tm-promote"), canManage() && m.status === "READY" && !m.active);
    show($("#tm-download"), m.status === "READY");
    show($("#tm-abort"), canManage() && TRAINING.has(m.status));
    show($("#tm-delete"), canManage() && !TRAINING.has(m.status));
    show($("#tm-error"), m.status === "FAILED" || m.status === "ABORTED");
    $("#tm-error").textContent = m.status === "FAILED" ? "Training failed: " + (m.error || "no reason given.")
      : m.status === "ABORTED" ? "Training was stopped before it ended." : "";
    const training = TRAINING.has(m.status);
    show($("#tm-training"), training);
    if (training) {
      $("#tm-training-title").textContent = m.status === "QUEUED" ? "Waiting to train" : "Training";
      $("#tm-training-text").textContent = "The report appears here when the model is trained and tested.";
      clear($("#tm-training-bar")).append(trainingBar(m, "tm-progress"));
    }
  }

  function fillStats() {
    const m = state.model;
    const x = m.metrics || {};
    const stat = (label, value, testid, title) => h("div", { class: "card stat stat-plain", title: title || "" },
      h("span", { class: "stat-label" }, label), h("span", { class: "stat-value", "data-testid": testid }, value));
    const counts = (m.training && m.training.counts) || {};
    const figures = [stat("Score", fmtScore(m.score), "tm-score", SCORE_NAME[m.task])];
    if (m.task === "ABSA") {
      figures.push(stat("Aspect F1", pct(x.category_f1), "tm-aspect-f1"), stat("Sentiment accuracy", pct(x.polarity_accuracy), "tm-polarity"));
    } else {
      figures.push(m.task === "CLASS" ? stat("Macro F1", pct(x.macro_f1), "tm-macro-f1", "The mean of the classes' F1: every class counts the same")
        : stat("Macro F1", pct(x.macro_f1), "tm-macro-f1"));
      if (m.task !== "CLASS") figures.push(stat("Micro F1", pct(x.micro_f1), "tm-micro-f1"));
    }
    figures.push(stat("Test / training", known(counts.test) ? fmtCount(counts.test) + " / " + fmtCount(counts.train) : "–", "tm-counts", "Examples tested on / trained on"));
    append(clear($("#tm-stats")), figures);
  }

  // --- the report ---
  function perClassRows() {
    const r = state.report;
    const rows = Object.entries(r.per_class || {}).map(([name, v]) => Object.assign({ name }, v));
    const { key, desc } = state.sort;
    rows.sort((a, b) => {
      const x = a[key];
      const y = b[key];
      const c = key === "name" ? String(x).localeCompare(String(y)) : (x ?? -1) - (y ?? -1);
      return (desc ? -c : c) || a.name.localeCompare(b.name);
    });
    return rows;
  }

  function fillPerClass() {
    const body = clear($("#tm-per-class-body"));
    perClassRows().forEach((c) => {
      const bar = h("span", { class: "f1-fill" });
      bar.style.width = (known(c.f1) ? 100 * c.f1 : 0) + "%";
      body.append(h("tr", { "data-testid": "tm-class-" + c.name, "data-class": c.name },
        h("td", { class: "strong" }, c.name),
        h("td", { class: "num", "data-col": "precision" }, pct(c.precision)),
        h("td", { class: "num", "data-col": "recall" }, pct(c.recall)),
        h("td", { class: "col-f1" }, h("span", { class: "f1" }, h("span", { class: "f1-track", "aria-hidden": "true" }, bar),
          h("span", { class: "f1-value", "data-col": "f1" }, pct(c.f1)))),
        h("td", { class: "num", "data-col": "support" }, fmtCount(c.support))));
    });
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No class was tested.")));
    $$("#tm-per-class .sort-button").forEach((b) => {
      const on = b.dataset.sort === state.sort.key;
      b.closest("th").setAttribute("aria-sort", on ? (state.sort.desc ? "descending" : "ascending") : "none");
      b.classList.toggle("sorted", on);
    });
  }
  $$("#tm-per-class .sort-button").forEach((b) => b.addEventListener("click", () => {
    const key = b.dataset.sort;
    state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : key !== "name" && key !== "f1" && key !== "precision" && key !== "recall" };
    fillPerClass();
  }));

  /** True rows by predicted columns, counts, the diagonal in green. */
  function matrix(names, count, labels) {
    const max = Math.max(0, ...names.flatMap((t) => names.map((p) => count(t, p))));
    const show_ = labels || ((n) => n);
    return h("table", { class: "table table-compact cm", "data-testid": "tm-matrix" },
      h("thead", {}, h("tr", {}, h("th", { class: "cm-corner" }, h("span", { class: "muted small" }, "true ↓ predicted →")),
        names.map((p) => h("th", { class: "num cm-head", title: show_(p) }, show_(p))))),
      h("tbody", {}, names.map((t, i) => h("tr", {},
        h("th", { class: "cm-row", scope: "row" }, show_(t)),
        names.map((p, j) => {
          const v = count(t, p);
          const cell = h("td", { class: "num cm-cell" + (i === j ? " cm-diag" : ""), "data-testid": "tm-cm-" + i + "-" + j, title: show_(t) + " taken for " + show_(p) + ": " + v }, v ? fmtCount(v) : "·");
          heat(cell, v, max, i === j);
          return cell;
        })))));
  }

  function fillConfusion() {
    const r = state.report;
    const box = clear($("#tm-confusion"));
    const conf = r.confusion;
    const task = state.model.task;
    if (task === "CLASS" && Array.isArray(conf)) {
      const names = r.classes || [];
      box.append(matrix(names, (t, p) => Number((conf[names.indexOf(t)] || [])[names.indexOf(p)] || 0)));
      return;
    }
    if (task === "ABSA" && conf && typeof conf === "object") {
      $("#tm-confusion-title").textContent = "Sentiments";
      $("#tm-confusion-caption").textContent = "On aspects both the truth and the model found. Rows: the true sentiment; columns: the model's.";
      const names = Object.keys(POLARITY).filter((p) => p in conf || Object.values(conf).some((row) => row && p in row));
      box.append(matrix(names, (t, p) => Number((conf[t] || {})[p] || 0), (n) => POLARITY[n] || n));
      return;
    }
    if (conf && typeof conf === "object") {
      $("#tm-confusion-title").textContent = "Right and wrong per " + (task === "CLASSLABEL" ? "pair" : "label");
      $("#tm-confusion-caption").textContent = "True positives (found and right), false positives (said but wrong) and false negatives (missed), on the test examples.";
      const names = Object.keys(conf);
      const max = Math.max(0, ...names.flatMap((n) => ["tp", "fp", "fn"].map((k) => Number(conf[n][k] || 0))));
      box.append(h("table", { class: "table table-compact cm", "data-testid": "tm-matrix" },
        h("thead", {}, h("tr", {}, h("th", {}, task === "CLASSLABEL" ? "Pair" : "Label"),
          h("th", { class: "num" }, "TP"), h("th", { class: "num" }, "FP"), h("th", { class: "num" }, "FN"))),
        h("tbody", {}, names.map((n, i) => h("tr", { "data-testid": "tm-cm-row-" + i },
          h("th", { class: "cm-row", scope: "row" }, n),
          ["tp", "fp", "fn"].map((k) => {
            const v = Number(conf[n][k] || 0);
            const cell = h("td", { class: "num cm-cell" + (k === "tp" ? " cm-diag" : ""), "data-testid": "tm-cm-" + i + "-" + k }, fmtCount(v));
            heat(cell, v, max, k === "tp");
            return cell;
          }))))));
      return;
    }
    box.append(h("p", { class: "muted" }, "This report has no confusion matrix."));
  }

  const namesText = (v) => (Array.isArray(v) ? v.join(", ") : v ?? "") || "–";

  function fillWorst() {
    const worst = state.report.worst || [];
    show($("#tm-worst-card"), worst.length > 0);
    const body = clear($("#tm-worst-body"));
    worst.forEach((w, i) => body.append(h("tr", { "data-testid": "tm-worst-" + i },
      h("td", { class: "tm-worst-text" }, w.text),
      h("td", {}, badge(namesText(w.truth), "success")),
      h("td", {}, badge(namesText(w.predicted), "danger")),
      h("td", { class: "num" }, pct(w.confidence)))));
  }

  async function fillFacts() {
    const m = state.model;
    const t = m.training || {};
    const counts = t.counts || {};
    const sessions = await listAll(base + "/sessions").catch(() => []);
    const byId = new Map(sessions.map((s) => [s.id, s]));
    const named = (ids) => (ids && ids.length ? ids.map((id) => (byId.get(id) ? byId.get(id).name : "#" + id)).join(", ") : null);
    const extra = Object.entries(counts).filter(([k]) => !["train", "test", "train_documents", "test_documents"].includes(k));
    append(clear($("#tm-facts")), [
      named(t.session_ids) ? factEl("Sessions", named(t.session_ids), "tm-fact-sessions") : null,
      named(t.session_ids) ? factEl("Split", "by document, " + fmtNum(100 * (t.test_fraction ?? 0.2), 0) + " % tested" + (t.seed ? ", seed " + t.seed : "")) : null,
      named(t.train_session_ids) ? factEl("Trained on", named(t.train_session_ids), "tm-fact-train") : null,
      named(t.test_session_ids) ? factEl("Tested on", named(t.test_session_ids), "tm-fact-test") : null,
      factEl("Examples", known(counts.train) ? fmtCount(counts.train) + " training, " + fmtCount(counts.test) + " test" : "–", "tm-fact-examples"),
      known(counts.train_documents) ? factEl("Documents", fmtCount(counts.train_documents) + " training, " + fmtCount(counts.test_documents) + " test") : null,
      extra.map(([k, v]) => factEl(k.replace(/_/g, " "), typeof v === "object" ? JSON.stringify(v) : fmtCount(v))),
      factEl("Classes", (m.classes || []).length ? fmtCount(m.classes.length) : "–", "tm-fact-classes"),
      factEl("Embeddings", m.base || "–"),
      factEl("Language", m.language || "–"),
      factEl("Training time", known(t.seconds) ? fmtNum(t.seconds, 1) + " s" : "–"),
      factEl("Created", timeEl(m.created_at)),
      factEl("Trained", m.trained_at ? timeEl(m.trained_at) : "–"),
      factEl("Size", known(m.size_bytes) ? fmtNum(m.size_bytes / 1024, 0) + " KB" : "–"),
      factEl("Content hash", m.content_hash ? h("code", { title: m.content_hash }, m.content_hash.replace(/^sha256:/, "").slice(0, 12) + "…") : "–"),
    ]);
  }

  // --- versions and comparing them ---
  async function fillVersions() {
    const m = state.model;
    const versions = await listAll(base + "/models", { name: m.name });
    $("#tm-versions-title").textContent = "Versions of " + m.name;
    const body = clear($("#tm-versions-body"));
    versions.sort((a, b) => b.version - a.version).forEach((v) => body.append(h("tr", { "data-testid": "tm-version-" + v.id, class: v.id === m.id ? "row-current" : "" },
      h("td", { class: "c-check" }, h("input", {
        type: "checkbox", value: v.id, "aria-label": "Compare " + modelName(v), disabled: v.status !== "READY",
        checked: v.status === "READY" && (v.id === m.id || v.active), "data-testid": "tm-version-pick-" + v.id,
      })),
      h("td", {}, v.id === m.id ? h("span", { class: "strong" }, "v" + v.version + " (this one)") : h("a", { href: modelPath(pid, v.id) }, "v" + v.version),
        v.active ? activeBadge() : null),
      h("td", {}, modelStatusBadge(v.status)),
      h("td", { class: "num" }, fmtScore(v.score)),
      h("td", { class: "num" }, examplesText(v)),
      h("td", { class: "nowrap" }, timeEl(v.created_at)))));
    show($("#tm-versions-card"), versions.length > 1);
    pickedChanged();
  }

  const picked = () => $$("#tm-versions-body input:checked").map((el) => Number(el.value));
  function pickedChanged() {
    $("#tm-compare").disabled = picked().length < 2;
  }
  $("#tm-versions-body").addEventListener("change", pickedChanged);

  async function compare() {
    const ids = picked();
    const out = await api(base + "/models/compare", { query: { ids: ids.join(",") } });
    const box = $("#tm-compare-box");
    const models = out.models;
    const best = (cls) => Math.max(...models.map((x) => out.per_class[cls][String(x.id)] ?? -1));
    append(clear(box), h("table", { class: "table table-compact tm-compare-table", "data-testid": "tm-compare-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "F1 per class"), models.map((x) => h("th", { class: "num" }, "v" + x.version, x.active ? activeBadge() : null)))),
      h("tbody", {},
        h("tr", { class: "tm-compare-score" }, h("th", { scope: "row" }, "Score"), models.map((x) => h("td", { class: "num strong" }, fmtScore(x.score)))),
        out.classes.map((cls) => h("tr", { "data-testid": "tm-compare-" + cls }, h("th", { scope: "row" }, cls),
          models.map((x) => {
            const v = out.per_class[cls][String(x.id)];
            return h("td", { class: "num" + (known(v) && v === best(cls) && models.length > 1 ? " tm-best" : "") }, known(v) ? pct(v) : "–");
          }))))));
    show(box, true);
  }
  $("#tm-compare").addEventListener("click", () => busy($("#tm-compare"), compare));

  // --- actions ---
  $("#tm-promote").addEventListener("click", () => busy($("#tm-promote"), async () => {
    state.model = await promoteModel(base, state.model);
    fillHeader();
    await fillVersions();
  }));
  $("#tm-download").addEventListener("click", () => busy($("#tm-download"), () => downloadModel(base, state.model)));
  $("#tm-abort").addEventListener("click", () => busy($("#tm-abort"), async () => {
    state.model = await abortModel(base, state.model);
    fillHeader();
  }));
  $("#tm-delete").addEventListener("click", () => busy($("#tm-delete"), async () => {
    if (await deleteModel(base, state.model)) location.assign(projectPath(pid) + "?tab=models");
  }));

  // --- loading, and following the training ---
  async function showReport() {
    if (state.model.status !== "READY") {
      show($("#tm-report"), false);
      show($("#tm-worst-card"), false);
      return;
    }
    state.report = await api(base + "/models/" + mid + "/report");
    show($("#tm-report"), true);
    const noun = { ABSA: "aspect", CLASS: "class", LABEL: "label", CLASSLABEL: "pair" }[state.model.task] || "class";
    $("#tm-classes-title").textContent = "Per " + noun;
    $("[data-sort=name]").textContent = noun.charAt(0).toUpperCase() + noun.slice(1);
    fillPerClass();
    fillConfusion();
    fillWorst();
  }

  function follow() {
    clearTimeout(state.timer);
    if (!TRAINING.has(state.model.status)) return;
    state.timer = setTimeout(async () => {
      try {
        state.model = await api(base + "/models/" + mid);
      } catch (err) {
        showError(err);
        return;
      }
      fillHeader();
      if (!TRAINING.has(state.model.status)) {
        fillStats();
        await Promise.all([showReport(), fillFacts(), fillVersions()]).catch(showError);
        return;
      }
      follow();
    }, 1000);
  }

  async function load() {
    try {
      [state.project, state.model] = await Promise.all([api(base), api(base + "/models/" + mid)]);
    } catch (err) {
      if (err.status === 404) {
        $("#tm-name").textContent = "Model not found";
        $("#tm-lede").textContent = "This model does not exist in this project, or it was deleted.";
        show(root, false);
        return;
      }
      throw err;
    }
    fillHeader();
    fillStats();
    await Promise.all([showReport(), fillFacts(), fillVersions()]);
    follow();
  }
  return load();
}

startApp(modelPage);
