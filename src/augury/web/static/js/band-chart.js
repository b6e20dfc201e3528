/* A metric with its band and alert times, where alert decisions are made (the alert
 * form's preview and a triggered alert's page).
 */

import { api } from "./api.js";
import { $, $$, append, clear, h, show } from "./dom.js";
import { fmtTime, isoOf } from "./format.js";
import { drawSeries } from "./chart.js";

/**
 * A chart in `box` (a .chart with a .chart-tip) of one metric from `from` to `to` with
 * its learned band, its anomalies shaded and `fired` alert times marked. Native points
 * where the API allows that many, else hourly ones (which carry the hourly band).
 * Redraws itself when the box changes width. Answers the series.
 */
export function bandChart(box) {
  let last = null;
  let width = box.clientWidth;
  new ResizeObserver(() => {
    if (box.clientWidth === width) return;
    width = box.clientWidth;
    if (last && last.s.timestamps.length) drawSeries(box, last.s, last.opts);
  }).observe(box);

  function message(text) {
    $$("svg", box).forEach((el) => el.remove());
    $$(".skeleton", box).forEach((el) => el.remove());
    let el = $(".chart-empty", box);
    if (!el) {
      el = h("div", { class: "chart-empty" });
      box.append(el);
    }
    append(clear(el), h("div", { class: "empty-icon" }, "∅"), h("p", {}, text));
    show(el, true);
  }

  async function draw(metricId, from, to, fired) {
    box.classList.add("loading");
    let s;
    try {
      const q = { from: Math.floor(from), to: Math.ceil(to) };
      try {
        s = await api("/metrics/" + metricId + "/timeseries", { query: { ...q, resolution: "native" } });
      } catch (err) {
        if (err.status !== 422) throw err;
        s = await api("/metrics/" + metricId + "/timeseries", { query: { ...q, resolution: "1h" } });
      }
    } finally {
      box.classList.remove("loading");
    }
    $$(".skeleton", box).forEach((el) => el.remove());
    if (!s.timestamps.length) {
      last = null;
      message("No points of this metric between " + fmtTime(isoOf(from)) + " and " + fmtTime(isoOf(to)) + ".");
      return s;
    }
    show($(".chart-empty", box), false);
    const opts = {
      anomalies: s.anomalies, fired,
      onAnomaly: (a) => location.assign("/anomalies/" + a.anomaly_id),
    };
    last = { s, opts };
    drawSeries(box, s, opts);
    return s;
  }

  return { box, draw, message };
}
