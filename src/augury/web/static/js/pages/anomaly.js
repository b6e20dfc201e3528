/* One anomaly (/anomalies/{id}): its facts, which dimension values drive it, each
 * metric's chart around it, and feedback.
 */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtCount, fmtDuration, fmtNum, fmtValue, isoOf } from "../format.js";
import { factEl, timeEl } from "../badges.js";
import { startApp } from "../shell.js";
import { drawSeries, medianStep, TIMESCALE_SECONDS } from "../chart.js";
import { anomalyInterval, anomalyTypes, deltaEl, directionArrow, kindBadge, scoreLevel, scorePill, stateBadge } from "../anomalies.js";
import { feedbackBox } from "../feedback.js";
import { renderExplanation } from "../anomaly-explanation.js";

async function anomalyPage(me) {
  const id = $("#anomaly-root").dataset.anomalyId;
  let a;
  try {
    a = await api("/anomalies/" + id, { query: { context_points: 60 } });
  } catch (err) {
    if (err.status === 404) {
      $("#anomaly-summary").textContent = "This anomaly does not exist in this organization.";
      show($("#anomaly-root"), false);
      return;
    }
    throw err;
  }
  document.title = a.what + " anomaly · augury";
  $("#anomaly-what").textContent = a.what;
  append(clear($("#anomaly-state")), stateBadge(a.state, "anomaly-state"));
  append(clear($("#anomaly-summary")), [
    a.metric_count + (a.metric_count === 1 ? " metric" : " metrics") + " of ",
    h("code", {}, a.what), " went " + (a.direction === "both" ? "up and down" : a.direction) + " at time scale "
      + a.timescale + ", from ", timeEl(isoOf(a.start)), " for " + fmtDuration(a.duration) + ".",
  ]);
  const box = $("#anomaly-score-box");
  box.classList.add("score-" + scoreLevel(a.score));
  $("#anomaly-score").textContent = String(Math.round(a.score));
  box.title = "Score " + fmtNum(a.score, 1) + " of 100";
  append(clear($("#anomaly-facts")), [
    factEl("Direction", [directionArrow(a.direction), " " + (a.direction === "both" ? "up and down" : a.direction)], "fact-direction"),
    factEl("Delta", deltaEl(a.delta, a.delta_pct), "fact-delta"),
    factEl("Start", timeEl(isoOf(a.start)), "fact-start"),
    factEl("End", timeEl(isoOf(a.end)), "fact-end"),
    factEl("Duration", fmtDuration(a.duration), "fact-duration"),
    factEl("Time scale", a.timescale, "fact-timescale"),
    factEl("Type", h("span", { class: "badges" }, anomalyTypes(a).map((t) => kindBadge(t))), "fact-type"),
    factEl("Metrics", fmtCount(a.metric_count), "fact-metrics"),
    factEl("Detected", timeEl(a.created_at), "fact-created"),
    factEl("Updated", timeEl(a.updated_at), "fact-updated"),
  ]);

  renderExplanation(a);

  const tb = clear($("#anomaly-metrics-body"));
  a.metrics.forEach((m) => tb.append(h("tr", { "data-testid": "anomaly-metric-" + m.metric_id },
    h("td", { class: "metric-name-cell" },
      h("a", { href: "/metrics/explore/" + m.metric_id, class: "strong", "data-testid": "anomaly-metric-link-" + m.metric_id }, m.name)),
    h("td", { class: "num" }, scorePill(m.peak_score)),
    h("td", { class: "nowrap" }, timeEl(isoOf(m.start))),
    h("td", { class: "num" }, fmtDuration(m.duration)),
    h("td", { class: "num" }, h("span", { class: "strong" }, fmtValue(m.peak_value)),
      h("span", { class: "muted" }, " (" + fmtValue(m.expected) + ")")),
    h("td", { class: "num" }, directionArrow(m.direction), " ", deltaEl(m.delta, m.delta_pct)),
    h("td", {}, h("div", { class: "badges nowrap-badges" }, kindBadge(m.type), stateBadge(m.state))))));

  const charts = clear($("#anomaly-charts"));
  const parts = new Map(a.metrics.map((m) => [m.metric_id, m]));
  const drawn = [];
  a.series.forEach((s) => {
    const m = parts.get(s.metric_id);
    const ts = s.timestamps;
    const n = ts.length;
    const step = TIMESCALE_SECONDS[a.timescale] || (m ? anomalyInterval(a, m) : medianStep(ts));
    const series = { ...s, start: n ? ts[0] : 0, end: n ? ts[n - 1] + (isFinite(step) ? step : 60) : 1 };
    const learned = !!(s.lower && s.upper);
    const explore = "/metrics/explore/" + s.metric_id + (n
      ? "?from=" + Math.floor(ts[0]) + "&to=" + Math.ceil(series.end) + "&resolution=" + s.resolution : "");
    const chart = h("div", { class: "chart chart-small", "data-testid": "anomaly-chart-box-" + s.metric_id },
      h("div", { class: "chart-tip", hidden: true }));
    const card = h("section", { class: "card", "data-testid": "anomaly-chart-" + s.metric_id, "data-metric-id": s.metric_id },
      h("div", { class: "card-head" },
        h("div", {},
          h("h2", { class: "metric-name" }, h("a", { href: "/metrics/explore/" + s.metric_id }, s.name)),
          m ? h("p", { class: "muted small" },
            "Peak ", h("span", { class: "strong" }, fmtValue(m.peak_value)), " at ", timeEl(isoOf(m.peak_ts)),
            " where ", fmtValue(m.expected), " was expected: ", deltaEl(m.delta, m.delta_pct),
            ", score " + Math.round(m.peak_score) + ".") : null),
        h("div", { class: "head-tools" },
          h("a", { class: "btn btn-small", href: explore, "data-testid": "explore-" + s.metric_id }, "Open in explorer"))),
      chart,
      h("div", { class: "chart-legend small muted" },
        h("span", {}, h("span", { class: "key key-line" }), "value (" + s.resolution + ")"),
        learned ? h("span", {}, h("span", { class: "key key-learned" }), "learned normal band") : null,
        h("span", {}, h("span", { class: "key key-anomaly" }), "anomaly"),
        h("span", {}, h("span", { class: "key key-peak" }), "peak")));
    charts.append(card);
    const draw = () => {
      if (!n) {
        append(chart, h("div", { class: "chart-empty" }, h("p", {}, "No points of this metric around the anomaly.")));
        return;
      }
      drawSeries(chart, series, {
        anomalies: m ? [{ start: m.start, end: m.end, timescale: a.timescale, peak_score: m.peak_score }] : [],
        peak: m ? { ts: m.peak_ts, value: m.peak_value } : null,
      });
    };
    drawn.push([chart, draw]);
  });
  if (a.series.length < a.metric_count) {
    charts.append(h("p", { class: "muted small" }, "Charts of the " + a.series.length + " strongest of its "
      + a.metric_count + " metrics."));
  }
  drawn.forEach(([chart, draw]) => {
    draw();
    let lastWidth = chart.clientWidth;
    new ResizeObserver(() => {
      if (chart.clientWidth === lastWidth) return;
      lastWidth = chart.clientWidth;
      draw();
    }).observe(chart);
  });
  await feedbackBox({ anomaly_id: a.id }, me);
}

startApp(anomalyPage);
