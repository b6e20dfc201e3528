/* One metric (/metrics/explore/{id}): its chart over a chosen range and resolution
 * (with its band, anomalies, events and forecasts), its dimensions, and the chart as PNG.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount, fmtTime, isoOf } from "../format.js";
import { badge, timeEl, typeBadge } from "../badges.js";
import { busy, showError } from "../toast.js";
import { startApp } from "../shell.js";
import { drawSeries, RESOLUTION_SECONDS } from "../chart.js";
import { directionArrow, metricExpression, scorePill, stateBadge } from "../anomalies.js";
import { forecastName } from "../forecasts.js";

const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
const DEFAULT_RANGE = "24h";
const SERIES_RESOLUTIONS = ["auto", "native", "1m", "5m", "1h", "1d"];
const MAX_SERIES_POINTS = 10000; // the API's limit on one answer

function metricPage() {
  const id = $("#metric-root").dataset.metricId;
  const chart = $("#chart");
  // What is shown lives in the URL: ?range= (a preset ending at the newest point),
  // ?from=&to= (a zoom; wins over the preset) and ?resolution=.
  const view = { range: DEFAULT_RANGE, from: null, to: null, resolution: "auto" };
  let metric = null;
  let series = null;
  let events = [];
  let pngUrl = null;

  function readUrl() {
    const p = new URLSearchParams(location.search);
    view.range = RANGES[p.get("range")] ? p.get("range") : DEFAULT_RANGE;
    const from = Number(p.get("from"));
    const to = Number(p.get("to"));
    const zoomed = p.has("from") && p.has("to") && isFinite(from) && isFinite(to) && from >= 0 && to > from;
    view.from = zoomed ? from : null;
    view.to = zoomed ? to : null;
    view.resolution = SERIES_RESOLUTIONS.includes(p.get("resolution")) ? p.get("resolution") : "auto";
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (view.range !== DEFAULT_RANGE) p.set("range", view.range);
    if (view.from !== null) {
      p.set("from", String(view.from));
      p.set("to", String(view.to));
    }
    if (view.resolution !== "auto") p.set("resolution", view.resolution);
    const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
  }

  /** [from, to] in epoch seconds: the zoom, or the preset ending at the newest point. */
  function span() {
    if (view.from !== null) return [view.from, view.to];
    const end = Math.floor(metric.last_ts) + 1;
    return [end - RANGES[view.range], end];
  }

  function syncControls() {
    const zoomed = view.from !== null;
    $$("#range-presets .seg").forEach((b) => b.setAttribute("aria-pressed", String(!zoomed && b.dataset.range === view.range)));
    $$("#resolutions .seg").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.resolution === view.resolution)));
    show($("#zoom-reset"), zoomed);
  }

  function fact(label, value, testid) {
    return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));
  }

  function fillHeader(m) {
    $("#metric-what").textContent = m.what;
    append(clear($("#metric-type")), typeBadge(m.target_type));
    $("#metric-name").textContent = m.name;
    document.title = m.what + " · augury";
    const dims = Object.keys(m.dimensions).sort();
    append(clear($("#metric-dimensions")), dims.length
      ? dims.map((k) => fact(k, m.dimensions[k], "dimension-" + k))
      : h("p", { class: "muted" }, "This metric has no dimensions besides what."));
    if (m.tags && Object.keys(m.tags).length) {
      Object.entries(m.tags).forEach(([k, v]) => $("#metric-dimensions").append(fact("tag " + k, v.join(", "))));
    }
    append(clear($("#metric-facts")), [
      fact("Type", m.target_type === "counter" ? "counter (rollups sum)" : "gauge (rollups average)"),
      fact("Source", m.source),
      fact("First point", timeEl(isoOf(m.first_ts))),
      fact("Last point", timeEl(isoOf(m.last_ts))),
      fact("Created", timeEl(m.created_at)),
      fact("Metric id", "#" + m.id),
    ]);
    $("#metric-png").disabled = m.last_ts === null;
    $("#metric-forecast").href = "/forecasts?" + new URLSearchParams({
      new: "1", expression: metricExpression(m), name: forecastName(m),
    }).toString();
  }

  function setInfo(s) {
    show($("#series-info"), !!s);
    const res = $("#series-resolution");
    res.textContent = s ? s.resolution : "–";
    res.title = s && view.resolution === "auto" ? "chosen by auto for this range" : "";
    const count = s ? s.timestamps.length : null;
    $("#series-count").textContent = s ? fmtCount(count) : "–";
    let label = count === 1 ? "point" : "points";
    if (s && s.count) {
      const samples = s.count.reduce((a, b) => a + b, 0);
      label += " (" + fmtCount(samples) + (samples === 1 ? " sample)" : " samples)");
    }
    $("#series-count-label").textContent = label;
    $("#series-range").textContent = s ? fmtTime(isoOf(s.start)) + " – " + fmtTime(isoOf(s.end)) : "";
    const drawn = !!(s && s.timestamps.length);
    const minmax = drawn && !!s.min;
    const learned = drawn && !!(s.lower && s.upper);
    const anomalies = drawn && !!(s.anomalies && s.anomalies.length);
    const marked = drawn && events.length > 0;
    const suppressed = drawn && events.some((e) => e.type === "suppress");
    show($("#chart-legend"), minmax || learned || anomalies || marked);
    show($("#legend-minmax"), minmax);
    show($("#legend-learned"), learned);
    show($("#legend-anomaly"), anomalies);
    show($("#legend-events"), marked);
    show($("#legend-suppress"), suppressed);
    $("#legend-agg").textContent = metric && metric.target_type === "counter" ? "sum" : "average";
    listAnomalies(drawn ? s.anomalies : null);
  }

  /** The anomalies in range, under the chart (the strongest, if many): each opens its Anomaly. */
  function listAnomalies(items) {
    const list = clear($("#metric-anomalies-list"));
    const all = items || [];
    show($("#metric-anomalies"), all.length > 0);
    if (metric) $("#metric-anomalies-all").href = "/anomalies?q=" + encodeURIComponent(metricExpression(metric));
    const shown = all.length <= MAX_LISTED ? all
      : all.slice().sort((p, q) => q.peak_score - p.peak_score).slice(0, MAX_LISTED).sort((p, q) => p.start - q.start);
    if (all.length > shown.length) {
      list.append(h("li", { class: "muted small" }, "The " + shown.length + " strongest of " + all.length + ":"));
    }
    shown.forEach((a) => list.append(h("li", {},
      h("a", {
        href: "/anomalies/" + a.anomaly_id, class: "anomaly-chip", "data-testid": "metric-anomaly-" + a.anomaly_id,
      },
      scorePill(a.peak_score),
      directionArrow(a.direction),
      h("span", {}, fmtTime(isoOf(a.start)) + (a.end > a.start ? " – " + fmtTime(isoOf(a.end)) : "")),
      badge(a.timescale, "muted"),
      stateBadge(a.state)))));
  }

  const MAX_LISTED = 12;

  function openAnomaly(a) {
    location.assign("/anomalies/" + a.anomaly_id);
  }

  function draw(s) {
    drawSeries(chart, s, { onZoom: zoomTo, anomalies: s.anomalies, onAnomaly: openAnomaly, events });
  }

  /** The events overlapping the range (deploys, campaigns, suppressions): marks on the chart. */
  async function loadEvents(from, to) {
    try {
      const page = await api("/events", { query: { from, to, limit: 500 } });
      return page.items;
    } catch (err) {
      console.error(err); // the chart is still worth showing without them
      return [];
    }
  }

  function chartMessage(message, actions) {
    $$("svg", chart).forEach((el) => el.remove());
    show($("#chart-tip"), false);
    const box = clear($("#chart-empty"));
    box.append(h("div", { class: "empty-icon" }, "∅"), h("p", {}, message));
    if (actions && actions.length) box.append(h("div", { class: "chart-actions" }, actions));
    show(box, !!message);
  }

  function pick(resolution) {
    view.resolution = resolution;
    writeUrl();
    return load();
  }

  function errorActions(err) {
    // Too many points: suggest the resolutions that fit the range.
    const [from, to] = span();
    const coarser = Object.keys(RESOLUTION_SECONDS)
      .filter((r) => r !== view.resolution && (to - from) / RESOLUTION_SECONDS[r] <= MAX_SERIES_POINTS);
    if (view.resolution !== "auto") coarser.unshift("auto");
    const buttons = coarser.map((r) => h("button", {
      type: "button", class: "btn btn-small", "data-testid": "suggest-" + r, onclick: () => pick(r),
    }, "Use " + r));
    return { buttons, hint: err.details && err.details.max_points && buttons.length
      ? " Pick one of the coarser resolutions below, or zoom in." : "" };
  }

  const seriesCall = newestOnly();
  async function load() {
    const stale = seriesCall();
    syncControls();
    chart.classList.add("loading");
    let s;
    try {
      const m = await api("/metrics/" + id);
      if (stale()) return;
      metric = m;
      fillHeader(m);
      if (m.last_ts === null) {
        series = null;
        setInfo(null);
        chartMessage("This metric has no points yet.");
        return;
      }
      const [from, to] = span();
      let evs;
      [s, evs] = await Promise.all([
        api("/metrics/" + id + "/timeseries", { query: { from, to, resolution: view.resolution } }),
        loadEvents(from, to),
      ]);
      if (stale()) return;
      events = evs;
    } catch (err) {
      if (stale()) return;
      series = null;
      setInfo(null);
      if (err.status === 404) {
        $("#metric-what").textContent = "Metric #" + id;
        $("#metric-name").textContent = "This metric does not exist in this organization.";
        chartMessage("Nothing to draw.");
        $$(".chart-toolbar button").forEach((b) => { b.disabled = true; });
        return;
      }
      if (err.status === 422) {
        const { buttons, hint } = errorActions(err);
        const el = $("#chart-error");
        el.textContent = err.message + hint;
        show(el, true);
        chartMessage("No chart for this range at this resolution.", buttons);
        return;
      }
      throw err;
    } finally {
      if (!stale()) chart.classList.remove("loading");
    }
    if (stale()) return;
    series = s;
    show($("#chart-error"), false);
    setInfo(s);
    if (!s.timestamps.length) {
      const native = view.resolution !== "native" && s.resolution !== "native";
      chartMessage("No points between " + fmtTime(isoOf(s.start)) + " and " + fmtTime(isoOf(s.end)) + "."
        + (native ? " Rollups follow new points within seconds; native shows the points themselves." : ""),
        [
          view.from !== null ? h("button", { type: "button", class: "btn btn-small", onclick: resetZoom }, "Reset zoom") : null,
          native ? h("button", { type: "button", class: "btn btn-small", onclick: () => pick("native") }, "Use native") : null,
        ].filter(Boolean));
      return;
    }
    show($("#chart-empty"), false);
    draw(s);
  }

  function zoomTo(from, to) {
    view.from = from;
    view.to = to;
    writeUrl();
    load().catch(showError);
  }

  function resetZoom() {
    view.from = null;
    view.to = null;
    writeUrl();
    load().catch(showError);
  }

  $$("#range-presets .seg").forEach((b) => b.addEventListener("click", () => {
    view.range = b.dataset.range;
    view.from = null;
    view.to = null;
    writeUrl();
    load().catch(showError);
  }));
  $$("#resolutions .seg").forEach((b) => b.addEventListener("click", () => pick(b.dataset.resolution).catch(showError)));
  $("#zoom-reset").addEventListener("click", resetZoom);
  window.addEventListener("popstate", () => {
    readUrl();
    load().catch(showError);
  });
  let lastWidth = chart.clientWidth;
  new ResizeObserver(() => {
    if (chart.clientWidth === lastWidth) return;
    lastWidth = chart.clientWidth;
    if (series && series.timestamps.length) draw(series);
  }).observe(chart);

  // The PNG the server draws needs the bearer token: fetch it, show it from a blob URL.
  const dialog = $("#png-dialog");
  $("#metric-png").addEventListener("click", () => busy($("#metric-png"), async () => {
    const [from, to] = span();
    const blob = await api("/metrics/" + id + "/graph.png", {
      blob: true, query: { from, to, resolution: view.resolution, width: 1200, height: 400 },
    });
    if (pngUrl) URL.revokeObjectURL(pngUrl);
    pngUrl = URL.createObjectURL(blob);
    $("#png-image").src = pngUrl;
    $("#png-download").href = pngUrl;
    $("#png-download").download = (metric ? metric.what : "metric") + "-" + id + ".png";
    dialog.showModal();
  }));
  $("#png-close").addEventListener("click", () => dialog.close());

  readUrl();
  return load();
}

startApp(metricPage);
