/* One batch analysis (/text/projects/{pid}/analyses/{aid}): its progress while the job
 * runs, then its figures, the tags counted over time (stacked bars per day, week or
 * month: per class, per label, or for ABSA per sentiment of one aspect or all), and the
 * results with filters (class, label, confidence range, text) and paging; exports as
 * CSV, JSONL or XLSX; the results sent to review link to the review queue.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount, fmtTime, known } from "../format.js";
import { badge, timeEl } from "../badges.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { busy, showError } from "../toast.js";
import { startApp } from "../shell.js";
import { saveFrom } from "../data-common.js";
import { excerpt, listAll, projectPath, usesClasses, usesLabels } from "../text-common.js";
import { modelPath } from "../text-models.js";
import { POLARITY, RUNNING, analysisStatusBadge, byConfidence, confidenceBar, sourceText, tagView } from "../text-analyses.js";
import { drawSpec } from "../vega-lite-render.js";

const POLARITY_COLOR = { POS: "#12805c", NEG: "#d92d20", NEU: "#98a2b3", CONFLICT: "#dc8b0b" };
const PERIOD_TITLE = { day: "Day", week: "Week (from Monday)", month: "Month" };

/** When a text was written: its day alone when the source gave a date (midnight UTC). */
function occurred(iso) {
  if (!iso) return "–";
  if (!/T00:00:00(\.0+)?(Z|\+00:00)?$/.test(iso)) return timeEl(iso);
  const day = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z");
  return h("time", { datetime: iso }, day.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }));
}

function analysisPage() {
  const root = $("#ta-root");
  const pid = Number(root.dataset.projectId);
  const aid = Number(root.dataset.analysisId);
  const base = projectPath(pid);
  const path = base + "/analyses/" + aid;
  const state = {
    project: null, analysis: null, aggregates: null, period: "day", aspect: "", timer: null,
    filters: { class: "", label: "", min: "", max: "", q: "" }, offset: 0, limit: 50, groups: new Map(),
  };
  const canManage = () => !!state.project && state.project.role === "MANAGER";
  const type = () => state.project.type;

  // --- the header and figures ---
  function fillHeader() {
    const a = state.analysis;
    $("#ta-name").textContent = a.name;
    document.title = a.name + " · augury";
    clear($("#ta-status")).append(analysisStatusBadge(a.status, "ta-status-badge"));
    const model = a.model_id ? h("a", { href: modelPath(pid, a.model_id) }, a.model_label) : a.model_label;
    append(clear($("#ta-lede")), [state.project.name, " · ", model || "–", " · ", sourceText(a.source, state.groups), " · started ", fmtTime(a.created_at)]);
    show($("#ta-abort"), canManage() && RUNNING.has(a.status));
    show($("#ta-delete"), canManage());
    const running = RUNNING.has(a.status);
    show($("#ta-running"), running);
    if (running) {
      $("#ta-running-title").textContent = a.status === "QUEUED" ? "Waiting to run" : "Running";
      const pct = Math.max(0, Math.min(100, Number(a.progress) || 0));
      const bar = h("div", { class: "progress-bar" });
      bar.style.width = pct + "%";
      append(clear($("#ta-running-bar")), h("div", { class: "text-progress" },
        h("div", { class: "progress progress-running", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(pct), "data-testid": "ta-progress", "aria-label": "Progress of the analysis" }, bar),
        h("span", { class: "small pct" }, Math.round(pct) + "%")));
    }
    const failed = a.status === "FAILED" || a.status === "ABORTED";
    show($("#ta-error"), failed);
    $("#ta-error").textContent = a.status === "FAILED" ? "The analysis failed: " + (a.error || "no reason given.") : "The analysis was stopped; what it wrote was removed.";
    const stat = (label, value, testid, extra) => h("div", { class: "card stat stat-plain" },
      h("span", { class: "stat-label" }, label), h("span", { class: "stat-value", "data-testid": testid }, value), extra || null);
    append(clear($("#ta-stats")), [
      stat("Documents", fmtCount(a.document_count), "ta-documents"),
      stat("Segments", fmtCount(a.segment_count), "ta-segments"),
      stat("Sent to review", fmtCount(a.review_count), "ta-review",
        a.review_count ? h("a", { class: "small", href: base + "?tab=review", "data-testid": "ta-review-link" }, "Open the review queue →")
          : h("span", { class: "muted small" }, a.source && a.source.review === false ? "review was off" : "none under the threshold")),
    ]);
  }

  // --- the aggregates chart ---
  /** The series as the chart's rows: counts per period and per the stacking key. */
  function chartRows() {
    const ag = state.aggregates;
    const t = type();
    const key = t === "LABEL" || t === "ABSA" ? "label" : "class";
    const rows = new Map();
    ag.series.forEach((p) => {
      if (t === "ABSA" && state.aspect && p.class !== state.aspect) return;
      const k = p[key] ?? "–";
      const id = p.period + "\u0000" + k;
      const period = state.period === "month" ? p.period.slice(0, 7) : p.period.slice(0, 10);
      const row = rows.get(id) || { period, key: t === "ABSA" ? POLARITY[k] || k : k, count: 0 };
      row.count += p.count;
      rows.set(id, row);
    });
    return [...rows.values()].sort((a, b) => a.period.localeCompare(b.period));
  }

  function drawChart() {
    const t = type();
    const rows = chartRows();
    const color = { field: "key", type: "nominal", title: t === "ABSA" ? "Sentiment" : t === "LABEL" ? "Label" : "Class" };
    if (t === "ABSA") {
      const order = Object.keys(POLARITY);
      color.sort = order.map((k) => POLARITY[k]);
      color.scale = { range: order.map((k) => POLARITY_COLOR[k]) };
    }
    const spec = {
      mark: "bar",
      data: { values: rows },
      encoding: {
        x: { field: "period", type: "ordinal", title: PERIOD_TITLE[state.period], sort: "ascending" },
        y: { field: "count", type: "quantitative", title: "Tags" },
        color,
        tooltip: [{ field: "period", title: PERIOD_TITLE[state.period] }, { field: "key", title: color.title }, { field: "count", title: "Tags" }],
      },
    };
    const box = $("#ta-chart");
    const drawn = drawSpec(box, spec, {});
    box.dataset.bars = String(drawn.count);
    box.dataset.periods = String(new Set(rows.map((r) => r.period)).size);
    box.dataset.shown = state.period;
  }

  function fillTotals() {
    const ag = state.aggregates;
    const t = type();
    const totals = ag.totals.slice().sort((a, b) => b.count - a.count);
    append(clear($("#ta-totals")), totals.slice(0, 40).map((x) => {
      const name = t === "ABSA" ? x.class + " · " + (POLARITY[x.label] || x.label) : [x.class, x.label].filter(Boolean).join(" · ");
      const el = badge(name + ": " + fmtCount(x.count), t === "ABSA" ? "muted" : "info");
      if (t === "ABSA" && x.label) el.classList.add("polarity-edge-" + x.label);
      el.dataset.testid = "ta-total";
      return el;
    }));
  }

  async function loadAggregates() {
    state.aggregates = await api(path + "/aggregates", { query: { period: state.period } });
    const ag = state.aggregates;
    const t = type();
    $("#ta-chart-caption").textContent = t === "ABSA" ? "Aspects found per period of the texts' time, by sentiment." : t === "LABEL" ? "Labels per period of the texts' time." : "Classes per period of the texts' time" + (t === "CLASSLABEL" ? " (a class counts once per label it is paired with)." : ".");
    show($("#ta-aspect-box"), t === "ABSA");
    if (t === "ABSA") {
      const select = $("#ta-aspect");
      const keep = select.value;
      append(clear(select), [h("option", { value: "" }, "every aspect"), ag.classes.map((c) => h("option", { value: c }, c))]);
      select.value = ag.classes.includes(keep) ? keep : "";
      state.aspect = select.value;
    }
    drawChart();
    fillTotals();
    fillFilterOptions();
  }

  $$("[data-period]").forEach((b) => b.addEventListener("click", () => {
    state.period = b.dataset.period;
    $$("[data-period]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    loadAggregates().catch(showError);
  }));
  $("#ta-aspect").addEventListener("change", () => {
    state.aspect = $("#ta-aspect").value;
    drawChart();
  });

  // --- results ---
  function fillFilterOptions() {
    const ag = state.aggregates;
    const t = type();
    const fill = (select, names, word) => {
      const keep = select.value;
      append(clear(select), [h("option", { value: "" }, "any"), names.map((n) => h("option", { value: n }, word ? word(n) : n))]);
      select.value = names.includes(keep) ? keep : "";
    };
    fill($("#ta-class"), ag.classes);
    fill($("#ta-label"), ag.labels, t === "ABSA" ? (n) => POLARITY[n] || n : null);
    $("#ta-class").closest("label").firstChild.textContent = t === "ABSA" ? "Aspect " : "Class ";
    $("#ta-label").closest("label").firstChild.textContent = t === "ABSA" ? "Sentiment " : "Label ";
    show($("#ta-class").closest("label"), usesClasses(t));
    show($("#ta-label-box"), usesLabels(t));
  }

  function resultRow(r) {
    return h("tr", { "data-testid": "ta-result-" + r.id },
      h("td", { class: "num muted" }, r.document_id),
      h("td", { class: "ta-text" }, excerpt(r.text, 400)),
      h("td", {}, h("div", { class: "ta-tags" }, byConfidence(r.tags).map((t, i) => tagView(t, type(), "ta-tag-" + r.id + "-" + i)))),
      h("td", { class: "col-conf" }, confidenceBar(r.confidence)),
      h("td", { class: "nowrap small" }, occurred(r.occurred_at)));
  }

  const resultsCall = newestOnly();
  async function loadResults() {
    const stale = resultsCall();
    const f = state.filters;
    const wrap = $("#ta-results").closest(".table-wrap");
    let page;
    try {
      page = await api(path + "/results", {
        query: {
          class: f.class, label: f.label, q: f.q, offset: state.offset, limit: state.limit,
          min_confidence: known(f.min) && f.min !== "" ? Number(f.min) / 100 : undefined,
          max_confidence: known(f.max) && f.max !== "" ? Number(f.max) / 100 : undefined,
        },
      });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("ta-results-failed", wrap, err, loadResults);
      return;
    }
    hideFailed("ta-results-failed", wrap);
    const body = clear($("#ta-results-body"));
    page.items.forEach((r) => body.append(resultRow(r)));
    show(wrap, page.total > 0);
    show($("#ta-results-none"), page.total === 0);
    $("#ta-results").dataset.total = String(page.total);
    pager($("#ta-pager"), page, (off) => { state.offset = off; loadResults(); }, "ta");
  }

  function readFilters() {
    state.filters = {
      class: $("#ta-class").value, label: $("#ta-label").value,
      min: $("#ta-min").value, max: $("#ta-max").value, q: $("#ta-q").value.trim(),
    };
    state.offset = 0;
    loadResults();
  }
  const form = $("#ta-filters");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); readFilters(); });
  form.addEventListener("change", (ev) => { if (ev.target.id !== "ta-q") readFilters(); });
  let typing = null;
  $("#ta-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(readFilters, 350);
  });
  $("#ta-clear").addEventListener("click", () => {
    form.reset();
    readFilters();
  });

  $$("[data-export]").forEach((b) => b.addEventListener("click", () => {
    const format = b.dataset.export;
    const name = (state.analysis.name.replace(/[^\w.-]+/g, "_") || "analysis") + "." + format;
    busy(b, () => saveFrom(path + "/export", { query: { format } }, name));
  }));

  // --- actions ---
  $("#ta-abort").addEventListener("click", () => busy($("#ta-abort"), async () => {
    state.analysis = await api(path + "/abort", { method: "POST" });
    fillHeader();
  }));
  $("#ta-delete").addEventListener("click", () => busy($("#ta-delete"), async () => {
    if (!confirm("Delete " + state.analysis.name + " and its results? The documents it added stay in the project.")) return;
    await api(path, { method: "DELETE" });
    location.assign(base + "?tab=analyses");
  }));

  // --- loading, and following the job ---
  async function showResults() {
    const done = state.analysis.status === "SUCCEEDED";
    show($("#ta-chart-card"), done);
    show($("#ta-results-card"), done);
    if (!done) return;
    await loadAggregates();
    await loadResults();
  }

  function follow() {
    clearTimeout(state.timer);
    if (!RUNNING.has(state.analysis.status)) return;
    state.timer = setTimeout(async () => {
      try {
        state.analysis = await api(path);
      } catch (err) {
        showError(err);
        return;
      }
      fillHeader();
      if (!RUNNING.has(state.analysis.status)) {
        await showResults().catch(showError);
        return;
      }
      follow();
    }, 1000);
  }

  async function load() {
    try {
      [state.project, state.analysis] = await Promise.all([api(base), api(path)]);
    } catch (err) {
      if (err.status === 404) {
        $("#ta-name").textContent = "Analysis not found";
        $("#ta-lede").textContent = "This analysis does not exist in this project, or it was deleted.";
        show(root, false);
        return;
      }
      throw err;
    }
    if (state.analysis.source && state.analysis.source.group_id) {
      (await listAll(base + "/groups").catch(() => [])).forEach((g) => state.groups.set(g.id, g));
    }
    fillHeader();
    await showResults();
    follow();
  }
  return load();
}

startApp(analysisPage);
