/* One forecast task (/forecasts/{id}): its settings and accuracy, the chart of each
 * metric's forecast over its history, and its runs; run it now or delete it.
 */

import { api, inPool } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtCount, fmtNum } from "../format.js";
import { badge, factEl, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { emptyRow } from "../pager.js";
import { startApp } from "../shell.js";
import { bandLook, drawSeries, fmtLevel, RESOLUTION_SECONDS } from "../chart.js";
import { ACTIVE } from "../jobs.js";
import { activeRunJobs, aheadText, ERROR_METRIC, fmtEvery, HISTORY_HORIZONS, horizonText, jobsEnded, levelBadges, levelsText, RESULT_TEXT, runBadge, runMetrics, runOutcome, runProgress, scheduleText } from "../forecasts.js";

function forecastPage(me) {
  const id = $("#forecast-root").dataset.taskId;
  const canWrite = me.role !== "viewer";
  const runBtn = $("#forecast-run");
  const delBtn = $("#forecast-delete");
  const st = { task: null, jobs: new Map(), results: null, timer: null, gen: 0, shown: undefined, starting: false };
  let observers = [];

  const activeRun = () => st.task.runs.find((r) => ACTIVE.has(r.status)) || null;

  function fillHeader(t) {
    document.title = t.name + " · augury";
    $("#forecast-name").textContent = t.name;
    append(clear($("#forecast-status")), t.runs[0] ? runBadge(t.runs[0].status, "forecast-status") : null);
    const sec = RESOLUTION_SECONDS[t.resolution];
    append(clear($("#forecast-summary")), [
      "Forecasts ", h("code", {}, t.expression), " ",
      sec ? aheadText(t) + ", at " + t.resolution + " resolution," : t.horizon + " steps ahead at each metric's own interval,",
      " with " + levelsText(t.levels) + " intervals" + (t.every_minutes ? "; runs every " + fmtEvery(t.every_minutes) : "") + ".",
    ]);
    append(clear($("#forecast-facts")), [
      factEl("Metrics", h("code", { class: "expr" }, t.expression), "fact-expression"),
      factEl("Horizon", [horizonText(t), h("div", { class: "muted small" }, aheadText(t))], "fact-horizon"),
      factEl("Intervals", levelBadges(t.levels), "fact-levels"),
      factEl("Schedule", scheduleText(t), "fact-schedule"),
      t.every_minutes ? factEl("Next run", t.next_run_at ? timeEl(t.next_run_at) : "–", "fact-next-run") : null,
      factEl("Created", timeEl(t.created_at), "fact-created"),
    ]);
  }

  function renderRuns() {
    const runs = st.task.runs;
    const tb = clear($("#runs-body"));
    if (!runs.length) emptyRow(tb, 7, "This task has not run yet.");
    runs.forEach((r) => tb.append(h("tr", { "data-testid": "run-row-" + r.id, "data-run-id": r.id, "data-status": r.status },
      h("td", { class: "strong nowrap" }, "#" + r.id),
      h("td", {}, runBadge(r.status, "run-status-" + r.id)),
      h("td", { class: "col-progress" }, ACTIVE.has(r.status) ? runProgress(r, st.jobs.get(r.id), "run-progress-" + r.id)
        : r.status === "complete" ? h("span", { class: "muted small" }, "done") : runOutcome(r, "run-error-" + r.id)),
      h("td", { class: "num" }, r.status === "complete" ? h("span", { title: runMetrics(r) }, fmtCount(r.metrics),
        r.failed_metrics ? h("span", { class: "muted" }, " (" + r.failed_metrics + " not forecast)") : null) : "–"),
      h("td", { class: "nowrap" }, timeEl(r.created_at)),
      h("td", { class: "nowrap" }, timeEl(r.finished_at)),
      h("td", {}, r.job_id ? h("a", { href: "/jobs/" + r.job_id, "data-testid": "run-job-" + r.id }, "#" + r.job_id) : "–"))));
    show($("#runs-live"), !!activeRun());
  }

  function syncButtons() {
    const active = !!activeRun();
    runBtn.disabled = !canWrite || active || st.starting;
    runBtn.title = !canWrite ? "Viewers cannot run forecasts"
      : active ? "A run is queued or running: wait for it to finish." : "Forecast every metric again from its newest points";
    delBtn.disabled = !canWrite;
    delBtn.title = canWrite ? "Delete the task with its runs and results" : "Viewers cannot delete forecasts";
  }

  function gone() {
    $("#forecast-summary").textContent = "This forecast does not exist in this organization.";
    show($("#forecast-root"), false);
    runBtn.disabled = true;
    delBtn.disabled = true;
  }

  async function load() {
    clearTimeout(st.timer);
    const gen = ++st.gen;
    let task;
    let jobs;
    try {
      task = await api("/forecasts/" + id);
      jobs = await activeRunJobs(task.runs);
    } catch (err) {
      if (gen !== st.gen) return;
      if (err.status === 404) {
        gone();
        return;
      }
      showError(err);
      st.timer = setTimeout(() => load().catch(showError), 5000);
      return;
    }
    if (gen !== st.gen) return;
    st.task = task;
    st.jobs = jobs;
    fillHeader(task);
    renderRuns();
    syncButtons();
    // Results change only when a newer run completes.
    const newest = task.runs.find((r) => r.status === "complete");
    if ((newest ? newest.id : null) !== st.shown) {
      st.shown = newest ? newest.id : null;
      await loadResults();
      if (gen !== st.gen) return;
    } else {
      caption();
    }
    schedule(gen);
  }

  // Every second while a run goes; now and then for a refreshing task; else not at all.
  function schedule(gen) {
    if (activeRun()) st.timer = setTimeout(() => poll(gen), 1000);
    else if (st.task.every_minutes) st.timer = setTimeout(() => load().catch(showError), 15000);
  }

  async function poll(gen) {
    const jobs = await activeRunJobs(st.task.runs);
    if (gen !== st.gen) return;
    if (jobsEnded(jobs)) {
      load().catch(showError);
      return;
    }
    st.jobs = jobs;
    renderRuns();
    schedule(gen);
  }

  function caption() {
    const el = clear($("#results-caption"));
    const res = st.results;
    if (!res || !res.run) return;
    const run = res.run;
    const active = activeRun();
    append(el, [
      "From run #" + run.id + ", finished ", timeEl(run.finished_at, true), ": " + runMetrics(run) + ".",
      active && active.id > run.id ? " Run #" + active.id + " is " + (active.status === "pending" ? "queued" : "running")
        + "; its forecasts replace these when it completes." : "",
    ]);
  }

  async function loadResults() {
    const [res, acc] = await Promise.all([
      api("/forecasts/" + id + "/results"),
      api("/forecasts/" + id + "/accuracy"),
    ]);
    st.results = res;
    caption();
    observers.forEach((o) => o.disconnect());
    observers = [];
    const box = clear($("#forecast-results"));
    if (!res.run) {
      box.append(noResults());
      return;
    }
    const accuracy = new Map(acc.map((a) => [a.metric_id, a]));
    const draws = res.results.map((r) => resultCard(box, r, accuracy.get(r.metric_id)));
    if (!res.results.length) box.append(h("p", { class: "muted" }, "The expression matched no metric at the time of this run."));
    await inPool(draws.filter(Boolean), 4);
  }

  function noResults() {
    const last = st.task.runs[0];
    const message = !last ? "This task has not run yet."
      : ACTIVE.has(last.status) ? "The first run is on its way: each metric's forecast shows here once it completes."
        : "No run has completed yet" + (last.error ? "; the last one ended with: " + last.error : ".")
          + " Start another with Run now.";
    return h("section", { class: "card" },
      h("div", { class: "empty-state small-empty", "data-testid": "results-empty" }, h("p", { class: "muted" }, message)));
  }

  function resultCard(box, r, acc) {
    const title = h("h2", { class: "metric-name" },
      h("a", { href: "/metrics/explore/" + r.metric_id, "data-testid": "forecast-metric-" + r.metric_id }, r.name));
    const card = h("section", {
      class: "card forecast-card", "data-testid": "forecast-result-" + r.metric_id, "data-metric-id": r.metric_id,
      "data-status": r.status,
    });
    box.append(card);
    if (r.status !== "ok") {
      append(card, [
        h("div", { class: "card-head" }, h("div", {}, title),
          badge(RESULT_TEXT[r.status] || r.status, r.status === "failed" ? "danger" : "warning", "result-status-" + r.metric_id)),
        h("div", { class: "alert alert-warning result-message", "data-testid": "result-message-" + r.metric_id },
          r.message || "No forecast for this metric."),
      ]);
      return null;
    }
    const t = st.task;
    const n = r.timestamps.length;
    const step = r.step || (n > 1 ? r.timestamps[1] - r.timestamps[0] : 60);
    const levels = Object.keys(r.lower || {}).map((key) => ({
      key, level: Number(key), lower: r.lower[key], upper: (r.upper || {})[key] || [],
    }));
    // The history: the last few horizons up to the forecast's origin, and the points that
    // arrived since, where it can be checked.
    const from = Math.max(0, Math.floor(r.origin - (HISTORY_HORIZONS * n - 1) * step));
    const to = Math.floor(r.timestamps[n - 1]) + 1;
    const chart = h("div", { class: "chart chart-small", "data-testid": "forecast-chart-" + r.metric_id },
      h("div", { class: "chart-tip", hidden: true }));
    const facts = [
      r.periods && r.periods.length ? "seasonality " + r.periods.join(", ") + (r.periods.length === 1 && r.periods[0] === 1 ? " step" : " steps") : "no seasonality",
      "learned from " + fmtCount(r.history_points) + " points",
    ];
    append(card, [
      h("div", { class: "card-head" },
        h("div", {}, title,
          h("p", { class: "small model-line" }, h("span", { class: "muted" }, "Model "),
            h("code", { class: "model-name", "data-testid": "forecast-model-" + r.metric_id }, modelName(r.model)),
            h("span", { class: "muted" }, " · " + facts.join(" · "))),
          h("p", { class: "muted small", "data-testid": "forecast-reason-" + r.metric_id }, "Why: " + r.reason + ".")),
        h("div", { class: "head-tools" }, h("a", {
          class: "btn btn-small", href: "/metrics/explore/" + r.metric_id + "?from=" + from + "&to=" + to + "&resolution=" + t.resolution,
        }, "Open in explorer"))),
      chart,
      forecastLegend(t.resolution, levels),
      h("div", { class: "forecast-details" }, candidatesEl(r), accuracyEl(r, acc)),
    ]);
    return async () => {
      let s = null;
      try {
        s = await api("/metrics/" + r.metric_id + "/timeseries", { query: { from, to, resolution: t.resolution } });
      } catch (err) {
        chart.after(h("p", { class: "muted small" }, "The history is not shown: " + err.message));
      }
      // The line alone: the forecast's bands are the ones to read here.
      const series = {
        name: r.name, resolution: s ? s.resolution : t.resolution,
        timestamps: s ? s.timestamps : [], values: s ? s.values : [],
        start: from - step / 2, end: r.timestamps[n - 1] + step / 2,
      };
      const forecast = { origin: r.origin, step, timestamps: r.timestamps, mean: r.mean, levels };
      const draw = () => drawSeries(chart, series, { forecast });
      draw();
      let lastWidth = chart.clientWidth;
      const ro = new ResizeObserver(() => {
        if (chart.clientWidth === lastWidth) return;
        lastWidth = chart.clientWidth;
        draw();
      });
      ro.observe(chart);
      observers.push(ro);
    };
  }

  function forecastLegend(resolution, levels) {
    const widest = levels.slice().sort((a, b) => b.level - a.level);
    return h("div", { class: "chart-legend small muted" },
      h("span", {}, h("span", { class: "key key-line" }), "actual (" + resolution + ")"),
      h("span", {}, h("span", { class: "key key-forecast" }), "forecast"),
      widest.slice().reverse().map((b) => {
        const key = h("span", { class: "key key-interval" });
        key.style.opacity = bandLook(widest.length, widest.indexOf(b)).toFixed(3);
        return h("span", {}, key, fmtLevel(b.level) + " interval");
      }));
  }

  /** A model's name, that may break after each "+" of a combination. */
  function modelName(name) {
    return String(name || "").split("+").map((part, i) => (i ? [h("wbr"), "+" + part] : part));
  }

  function fmtError(v, metric) {
    return metric === "smape" ? fmtNum(v, 2) + " %" : fmtNum(v, 3);
  }

  function candidatesEl(r) {
    const entries = Object.entries(r.candidates || {}).sort((a, b) => {
      if (a[1] === null || b[1] === null) return (a[1] === null) - (b[1] === null) || a[0].localeCompare(b[0]);
      return a[1] - b[1] || a[0].localeCompare(b[0]);
    });
    const combo = /^combination\((.*)\)$/.exec(r.model || "");
    const members = combo ? combo[1].split("+") : [];
    const label = ERROR_METRIC[r.error_metric] || r.error_metric || "error";
    return h("div", { class: "forecast-candidates" },
      h("h3", { class: "small-head" }, "Candidates"),
      h("table", { class: "table table-compact", "data-testid": "candidates-" + r.metric_id },
        h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", { class: "num", title: "Lower is better" }, "Backtest " + label))),
        h("tbody", {}, entries.map(([name, err]) => {
          const chosen = name === r.model;
          return h("tr", {
            class: chosen ? "row-chosen" : "", "data-testid": "candidate-" + r.metric_id, "data-name": name,
            "data-chosen": String(chosen),
          },
          h("td", {}, h("code", {}, modelName(name)), " ",
            chosen ? badge("chosen", "success") : members.includes(name) ? badge("averaged", "muted") : null),
          h("td", { class: "num" }, err === null ? h("span", { class: "muted" }, "failed") : fmtError(err, r.error_metric)));
        }))),
      h("p", { class: "muted small" }, "Each model forecast the metric's own past from several points in it; "
        + label + " is how far off it was, on average."));
  }

  function accuracyEl(r, acc) {
    const box = h("div", { class: "forecast-accuracy", "data-testid": "accuracy-" + r.metric_id },
      h("h3", { class: "small-head" }, "Accuracy of past forecasts"));
    if (!acc || !acc.points) {
      box.append(h("p", { class: "muted small", "data-testid": "accuracy-none-" + r.metric_id },
        "No past forecast to check yet: once points arrive for the times a run forecast, this says how close it came."));
      return box;
    }
    const m = r.metric_id;
    const levels = Object.keys(acc.coverage || {}).sort((a, b) => Number(a) - Number(b));
    box.append(
      h("dl", { class: "facts facts-flat accuracy-facts" },
        factEl("sMAPE", acc.smape === null ? "–" : fmtNum(acc.smape, 2) + " %", "accuracy-smape-" + m),
        factEl("MASE", acc.mase === null ? "–" : fmtNum(acc.mase, 3), "accuracy-mase-" + m),
        levels.map((k) => factEl("Coverage " + fmtLevel(Number(k)), fmtNum(acc.coverage[k], 1) + " %",
          "accuracy-coverage-" + m + "-" + k)),
        factEl("Checked", fmtCount(acc.points) + " points, " + acc.runs_evaluated + (acc.runs_evaluated === 1 ? " run" : " runs"),
          "accuracy-points-" + m)),
      h("p", { class: "muted small" }, "Past runs' forecasts against the points that came since. MASE under 1 beats "
        + "repeating the last season; each interval should hold about its level's share of the points."));
    return box;
  }

  runBtn.addEventListener("click", async () => {
    st.starting = true;
    syncButtons();
    try {
      const run = await api("/forecasts/" + id + "/run", { method: "POST" });
      toast("Run #" + run.id + " queued.", "success");
    } catch (err) {
      showError(err); // 409: the API's "already queued or running"
    } finally {
      st.starting = false;
      await load().catch(showError);
    }
  });

  delBtn.addEventListener("click", async () => {
    if (!st.task || !confirm("Delete the forecast \u201c" + st.task.name + "\u201d with all its runs and results?")) return;
    await busy(delBtn, async () => {
      await api("/forecasts/" + id, { method: "DELETE" });
      clearTimeout(st.timer);
      st.gen++;
      location.assign("/forecasts");
    });
  });

  return load();
}

startApp(forecastPage);
