/* The Overview (/): getting started, open alerts, ingestion health, the latest
 * anomalies with their sparklines, and recent forecasts.
 */

import { api, inPool } from "../api.js";
import { $, $$, append, clear, h, show } from "../dom.js";
import { fmtAgo, fmtCount, fmtRate, fmtSpan, isoOf, known } from "../format.js";
import { badge } from "../badges.js";
import { loadInto, skeletonLines } from "../loading.js";
import { startApp } from "../shell.js";
import { drawIngest, drawSparkline } from "../sparkline.js";
import { anomalyInterval, directionArrow, metricsSummary, scorePill, stateBadge } from "../anomalies.js";
import { horizonText, runBadge, scheduleText } from "../forecasts.js";
import { severityBadge } from "../alerts.js";

const HOME_LISTED = 5;

/** The newest anomalies' strongest metric around the anomaly, with its band. */
async function loadAnomalySpark(a, box) {
  const m = a.metrics[0];
  if (!m) return;
  const step = anomalyInterval(a, m);
  try {
    const s = await api("/metrics/" + m.metric_id + "/timeseries", {
      query: { from: Math.floor(m.start - 30 * step), to: Math.ceil(m.end + 30 * step) + 1, resolution: a.timescale },
    });
    drawSparkline(box, s, a, m);
  } catch (err) {
    append(clear(box), h("span", { class: "muted small", title: err.message }, "no chart"));
  }
}

function homeAlertRow(t) {
  return h("li", { class: "home-row", "data-testid": "home-alert-" + t.id },
    severityBadge(t.severity),
    h("div", { class: "home-row-main" },
      h("a", { href: "/alerts/triggered/" + t.id, class: "strong", "data-testid": "home-alert-link-" + t.id }, t.title),
      h("div", { class: "muted small" }, t.metric_count + (t.metric_count === 1 ? " metric" : " metrics")
        + (known(t.peak_score) ? " · score " + Math.round(t.peak_score) : "")
        + (t.acknowledged_at ? " · acknowledged" : ""))),
    h("div", { class: "home-row-when" }, h("span", { class: "small nowrap" }, (t.status === "open" ? "since " : "") + fmtAgo(isoOf(t.start))),
      t.status === "open" ? null : badge("closed", "muted")));
}

function homeAnomalyRow(a) {
  const spark = h("div", { class: "spark-box", "data-testid": "home-spark-" + a.id }, h("span", { class: "skeleton skeleton-spark" }));
  const li = h("li", { class: "home-row home-anomaly", "data-testid": "home-anomaly-" + a.id },
    scorePill(a.score),
    h("div", { class: "home-row-main" },
      h("div", {}, h("a", { href: "/anomalies/" + a.id, class: "strong", "data-testid": "home-anomaly-link-" + a.id }, a.what),
        " ", directionArrow(a.direction)),
      metricsSummary(a)),
    spark,
    h("div", { class: "home-row-when" }, h("span", { class: "small nowrap" }, fmtAgo(isoOf(a.start))),
      h("div", {}, stateBadge(a.state))));
  return [li, () => loadAnomalySpark(a, spark)];
}

function homeForecastRow(t) {
  const run = t.runs[0];
  return h("li", { class: "home-row", "data-testid": "home-forecast-" + t.id },
    h("span", { class: "home-row-icon" }, "↗"),
    h("div", { class: "home-row-main" },
      h("a", { href: "/forecasts/" + t.id, class: "strong", "data-testid": "home-forecast-link-" + t.id }, t.name),
      h("div", { class: "muted small" }, horizonText(t) + " · " + scheduleText(t))),
    run ? h("div", { class: "home-row-when" }, runBadge(run.status),
      h("div", { class: "muted small nowrap" }, fmtAgo(run.finished_at || run.created_at)))
      : h("span", { class: "muted small" }, "never run"));
}

function fmtLag(s) {
  if (!s || s < 1) return "none";
  return fmtSpan(s);
}

async function homePage(me) {
  $("#greeting").textContent = "Welcome" + (me.name ? ", " + me.name.split(" ")[0] : "");
  $$("#checklist .origin").forEach((el) => { el.textContent = location.origin; });
  let overview = null; // shared by ingestion health and the checklist

  async function alerts() {
    const page = await api("/alerts/triggered", { query: { status: "open", sort: "start", order: "desc", limit: HOME_LISTED } });
    $("#stat-open-alerts").textContent = fmtCount(page.total);
    $("#stat-open-alerts-card").classList.toggle("stat-alert", page.total > 0);
    if (!page.items.length) {
      // Nothing open: say so, and show what closed last.
      const closed = await api("/alerts/triggered", { query: { status: "closed", sort: "start", order: "desc", limit: 3 } });
      const box = clear($("#home-alerts"));
      box.append(h("div", { class: "home-empty", "data-testid": "home-no-open-alert" }, h("span", { class: "ok-dot" }), "No open alert right now."));
      if (closed.items.length) {
        box.append(h("div", { class: "home-sub" }, "Recently closed"), h("ul", { class: "home-list" }, closed.items.map(homeAlertRow)));
      } else {
        box.append(h("p", { class: "muted small" }, h("a", { href: "/alerts/new" }, "Create an alert"), " to be told when a metric leaves its band."));
      }
      return;
    }
    const box = clear($("#home-alerts"));
    box.append(h("ul", { class: "home-list" }, page.items.map(homeAlertRow)));
    if (page.total > page.items.length) {
      box.append(h("p", { class: "muted small home-more" }, h("a", { href: "/alerts" }, "and " + fmtCount(page.total - page.items.length) + " more open")));
    }
  }

  async function anomalies() {
    const [page, count] = await Promise.all([
      api("/anomalies", { query: { sort: "-start", limit: HOME_LISTED } }),
      api("/anomalies/count", { query: { from: Math.floor(Date.now() / 1000) - 86400 } }),
    ]);
    $("#stat-anomalies").textContent = fmtCount(count.total);
    const box = clear($("#home-anomalies"));
    if (!page.items.length) {
      box.append(h("div", { class: "home-empty" }, "No anomaly yet. Detection scores every point as it arrives and learns each metric's normal band."));
      return;
    }
    const rows = page.items.map(homeAnomalyRow);
    box.append(h("ul", { class: "home-list" }, rows.map(([li]) => li)));
    await inPool(rows.map(([, load]) => load), 3);
  }

  async function ingestion() {
    overview = overview || await api("/metrics/overview");
    const o = overview;
    $("#stat-eps").textContent = fmtRate(o.eps);
    $("#stat-refused").textContent = fmtCount(o.refused_last_hour);
    $("#stat-refused-card").classList.toggle("stat-alert", o.refused_last_hour > 0);
    const box = clear($("#home-ingest"));
    const lagging = o.detection_lag_s >= 60;
    box.append(
      h("dl", { class: "health" },
        h("div", { class: "health-item" }, h("dt", {}, "Samples/s"), h("dd", { "data-testid": "health-eps" }, fmtRate(o.eps))),
        h("div", { class: "health-item" }, h("dt", {}, "In 1 h"), h("dd", { "data-testid": "health-accepted" }, fmtCount(o.accepted_last_hour))),
        h("div", { class: "health-item" + (o.refused_last_hour ? " health-bad" : "") }, h("dt", {}, "Refused in 1 h"),
          h("dd", { "data-testid": "health-refused" }, fmtCount(o.refused_last_hour))),
        h("div", { class: "health-item" + (lagging ? " health-bad" : ""), title: "How long the oldest points not yet through anomaly detection have waited" },
          h("dt", {}, "Detection lag"), h("dd", { "data-testid": "health-lag" }, fmtLag(o.detection_lag_s)))),
      h("div", { class: "ingest-chart home-ingest-chart", "data-testid": "home-ingest-chart" }));
    drawIngest($(".home-ingest-chart", box), o.ingest_per_minute);
    if (!o.metrics) {
      box.append(h("p", { class: "muted small" }, "No metric yet: follow the steps above to send one."));
    }
  }

  async function forecasts() {
    const page = await api("/forecasts", { query: { limit: HOME_LISTED } });
    const box = clear($("#home-forecasts"));
    if (!page.items.length) {
      box.append(h("div", { class: "home-empty" }, "No forecast yet. ",
        h("a", { href: "/forecasts?new=1" }, "Forecast a metric"), " with confidence bands, once or on a schedule."));
      return;
    }
    box.append(h("ul", { class: "home-list" }, page.items.map(homeForecastRow)));
  }

  /** First steps for a new organization: shown until it has metrics and an alert. */
  async function checklist() {
    const [keys, configs, o] = await Promise.all([
      api("/api-keys", { query: { limit: 1 } }),
      api("/alerts", { query: { limit: 1 } }),
      overview ? Promise.resolve(overview) : api("/metrics/overview"),
    ]);
    overview = o;
    if (o.metrics > 0 && configs.total > 0) return;
    let banded = false;
    let newest = null;
    if (o.metrics > 0) {
      newest = (await api("/metrics", { query: { sort: "-last_seen", limit: 1 } })).items[0] || null;
      if (newest && newest.last_ts !== null) {
        const s = await api("/metrics/" + newest.id + "/timeseries", {
          query: { from: Math.floor(newest.last_ts) - 86400, to: Math.floor(newest.last_ts) + 1, resolution: "native" },
        });
        banded = !!(s.lower && s.lower.some(known));
      }
    }
    if (newest) {
      $("#step-band-link").href = "/metrics/explore/" + newest.id;
      $("#cmd-band-id").textContent = String(newest.id);
    }
    const steps = [
      ["step-key", keys.total > 0, keys.total + (keys.total === 1 ? " key" : " keys")],
      ["step-metric", o.metrics > 0, fmtCount(o.metrics) + (o.metrics === 1 ? " metric" : " metrics")],
      ["step-band", banded, newest ? (banded ? "learned" : "learning: a few more points") : ""],
      ["step-alert", configs.total > 0, configs.total + (configs.total === 1 ? " alert" : " alerts")],
    ];
    let done = 0;
    steps.forEach(([id, ok, what]) => {
      const li = $("#" + id);
      li.classList.toggle("done", ok);
      li.dataset.done = String(ok);
      $(".step-state", li).textContent = ok ? "· done (" + what + ")" : what ? "· " + what : "";
      if (ok) done++;
    });
    const next = steps.find(([, ok]) => !ok);
    $$(".step", $("#checklist")).forEach((li) => li.classList.toggle("current", !!next && li.id === next[0]));
    $("#checklist-progress").textContent = done + " of " + steps.length + " done";
    show($("#checklist"), true);
  }

  await Promise.all([
    loadInto($("#home-alerts"), alerts, null, ["stat-open-alerts"]),
    loadInto($("#home-ingest"), ingestion, () => h("div", { class: "skeleton skeleton-chart" }), ["stat-eps", "stat-refused"]),
    loadInto($("#home-anomalies"), anomalies, null, ["stat-anomalies"]),
    loadInto($("#home-forecasts"), forecasts, () => skeletonLines(2)),
    checklist().catch((err) => console.error(err)), // a help, not data: no panel when it fails
  ]);
}

startApp(homePage);
