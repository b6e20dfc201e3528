/* A data stream (/collect/streams/{id}): its definition, its state (status, lag,
 * watermark, counters, last error), the metrics it created in the last day and week,
 * what watches its metrics, its runs; pause and resume, rewind (collect from a date
 * again) and delete, with or without its metrics. While the stream is pending or
 * backfilling the page reads it again every few seconds.
 */

import { api, ApiError } from "../api.js";
import { $, append, clear, h, newestOnly, show } from "../dom.js";
import { badge, factEl } from "../badges.js";
import { onSubmit } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { busy, showError, toast } from "../toast.js";
import { startApp } from "../shell.js";
import { dateFmt, fmtCount, fmtDuration } from "../format.js";
import { fromLocalInput, localInputValue, shownZone } from "../alerts.js";
import { epochEl, historyLabel, intervalLabel, metricsHref, pick, SOURCE_TYPES, streamReads, streamState, streamStatusBadge, typeBadge } from "../collect-common.js";

const WATCH_MS = 3000;
const POLICY_TEXT = { fill: "filled with", ignore: "left out", skip: "row skipped" };

function streamPage(me) {
  const id = Number($("#ds-root").dataset.streamId);
  const base = "/data-streams/" + id;
  const canWrite = me.role !== "viewer";
  let stream = null;
  let source = null;
  let watchTimer = null;
  const runs = { offset: 0, limit: 25 };

  // --- the stream -------------------------------------------------------------------------

  function timeColumnText(s) {
    if (s.timestampColumn) return s.timestampColumn + " · " + (s.timestampType || "TIMESTAMP");
    const td = s.timeDefinition || {};
    const col = pick(td, "path", "timeColumnIdx", "sourceColumn");
    return col === null ? "–" : col + " · " + (td.timePattern || "");
  }

  function fillDefinition(s) {
    const policy = s.missingDimPolicy || {};
    const src = source
      ? h("a", { href: "/collect", "data-testid": "ds-source" }, source.name)
      : h("span", { "data-testid": "ds-source" }, "#" + s.dataSourceId);
    append(clear($("#ds-definition")), [
      factEl("Source", src),
      factEl("Type", typeBadge(s.type)),
      factEl("Reads", streamReads(s), "ds-reads"),
      factEl("Time column", h("span", { class: "mono small" }, timeColumnText(s))),
      factEl("Polling", intervalLabel(s.pollingInterval), "ds-interval"),
      factEl("History", historyLabel((s.historicalDateRange || {}).constRange), "ds-history"),
      factEl("Delay", (s.delayMinutes || 0) + " min"),
      factEl("Time zone", s.timeZone || "UTC"),
      factEl("Empty dimension", (POLICY_TEXT[policy.action] || "filled with") + (policy.action === "fill" || !policy.action ? " \u201c" + (policy.fill || "unknown") + "\u201d" : "")),
      factEl("Created", epochEl(s.createTime))]);
    const cols = ((s.schema || {}).columns || []).filter((c) => !c.hidden);
    append(clear($("#ds-columns")), cols.length ? cols.map((c) => h("span", { class: "ds-chip ds-chip-" + c.type, "data-testid": "ds-column" },
      badge(c.type, c.type === "metric" ? "info" : "violet"), " ", h("span", { class: "mono" }, c.name),
      c.sourceColumn && c.sourceColumn !== c.name ? h("span", { class: "muted small" }, " \u2190 " + c.sourceColumn) : null,
      c.type === "metric" ? h("span", { class: "muted small" }, " · " + (c.targetType || "gauge") + ((c.metricTags || {}).unit ? ", " + c.metricTags.unit : "")) : null))
      : h("span", { class: "muted small" }, "No columns."));
    const metrics = cols.filter((c) => c.type === "metric");
    const dims = cols.filter((c) => c.type === "dimension").map((c) => c.name);
    append(clear($("#ds-metric-links")), metrics.length ? metrics.map((c) => h("a", { class: "ds-metric-link", href: metricsHref(c.name), "data-testid": "ds-metric-link" },
      h("span", { class: "metric-name" }, c.name), h("span", { class: "muted small" }, dims.length ? " by " + dims.join(", ") : " (no dimension)")))
      : h("span", { class: "muted small" }, "No metric column."));
  }

  function fillState(s) {
    stream = s;
    const state = streamState(s);
    document.title = s.name + " · augury";
    $("#ds-title").textContent = s.name;
    clear($("#ds-status")).append(streamStatusBadge(s, "ds-status-badge"));
    $("#ds-lede").textContent = (SOURCE_TYPES[s.type] || { label: s.type }).label + " stream" + (source ? " of " + source.name : "") + ", polled " + intervalLabel(s.pollingInterval).toLowerCase() + ".";
    $("#ds-toggle-label").textContent = s.paused ? "Resume" : "Pause";
    $("#ds-toggle").title = s.paused ? "Poll the stream again" : "Stop polling until resumed";
    [$("#ds-toggle"), $("#ds-rewind-open"), $("#ds-delete-open")].forEach((b) => { b.disabled = !canWrite; });
    $("#ds-lag").textContent = s.lagSeconds === null || s.lagSeconds === undefined ? "–" : fmtDuration(s.lagSeconds);
    $("#ds-rows").textContent = fmtCount(s.rowsRead || 0);
    $("#ds-points").textContent = fmtCount(s.pointsWritten || 0);
    const failed = state === "error" || (!!s.error && s.status === "error");
    show($("#ds-error"), failed && !!s.error);
    $("#ds-error-text").textContent = s.error || "";
    $("#ds-error-code").textContent = s.errorCode || "";
    show($("#ds-error-code"), !!s.errorCode);
    append(clear($("#ds-state")), [
      factEl("Status", streamStatusBadge(s), "ds-state-status"),
      factEl("Watermark", epochEl(s.watermark), "ds-watermark"),
      factEl("Last poll", epochEl(s.lastPollTime, true), "ds-last-poll"),
      factEl("Last success", epochEl(s.lastSuccessTime, true)),
      factEl("Rows read", fmtCount(s.rowsRead || 0)),
      factEl("Points written", fmtCount(s.pointsWritten || 0)),
      factEl("Changed", epochEl(s.modifyTime))]);
    fillDefinition(s);
    watch(state === "pending" || state === "backfilling");
  }

  /** While the collector has work to do on it, read the stream and its runs again. */
  function watch(on) {
    clearTimeout(watchTimer);
    show($("#ds-live"), on);
    if (!on) return;
    watchTimer = setTimeout(async () => {
      try {
        await refresh();
      } catch (err) {
        showError(err);
      }
    }, WATCH_MS);
  }

  async function loadTotals() {
    const [day, week, totals] = await Promise.all([
      api("/data-streams/metrics/total", { query: { streamId: id, timeRange: "day" } }),
      api("/data-streams/metrics/total", { query: { streamId: id, timeRange: "week" } }),
      api("/data-streams/totals", { query: { streamId: id } }),
    ]);
    $("#ds-new-metrics").textContent = fmtCount(day.total) + " / " + fmtCount(week.total);
    const box = clear($("#ds-watchers"));
    const group = (key, label, href) => {
      const g = totals[key] || {};
      const list = g[key] || g.items || [];
      const total = g.total || list.length;
      return h("div", { class: "ds-watch", "data-testid": "ds-watch-" + key },
        h("span", { class: "ds-watch-label" }, label, " ", badge(fmtCount(total), total ? "info" : "muted")),
        h("span", { class: "ds-watch-list" }, list.slice(0, 8).map((x) => h("a", { href: href(x), class: "ds-watch-item" }, x.title || x.name || "#" + x.id)),
          total > 8 ? h("span", { class: "muted small" }, "and " + (total - 8) + " more") : null));
    };
    box.append(group("alerts", "Alerts", (x) => "/alerts/" + x.id + "/edit"),
      group("dashboards", "Dashboards", (x) => "/dashboards/" + x.id),
      group("composites", "Composite metrics", () => "/metrics/explore"));
  }

  // --- runs -------------------------------------------------------------------------------

  const runsWrap = $("#runs-table").closest(".table-wrap");

  function runRow(r) {
    const status = pick(r, "status") || "ok";
    const error = pick(r, "error");
    const code = pick(r, "errorCode", "error_code");
    const ms = pick(r, "durationMs", "duration_ms");
    const wStart = pick(r, "windowStart", "window_start", "from");
    const wEnd = pick(r, "windowEnd", "window_end", "to");
    const rows = [
      h("tr", { "data-testid": "run-row", "data-status": status },
        h("td", { class: "nowrap" }, epochEl(pick(r, "startTime", "startedAt", "started_at", "createTime"))),
        h("td", { class: "nowrap small" }, wStart === null ? h("span", { class: "muted" }, "–") : [epochEl(wStart), " \u2192 ", epochEl(wEnd)]),
        h("td", {}, badge(status, status === "ok" ? "success" : status === "error" ? "danger" : "muted")),
        h("td", { class: "num" }, fmtCount(pick(r, "rowsRead", "rows_read") || 0)),
        h("td", { class: "num" }, fmtCount(pick(r, "rowsUsed", "rows_used") || 0)),
        h("td", { class: "num" }, fmtCount(pick(r, "points", "pointsWritten") || 0)),
        h("td", { class: "num" }, fmtCount(pick(r, "metricsNew", "newMetrics", "metrics_new") || 0)),
        h("td", { class: "num" }, ms === null ? "–" : ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s")),
    ];
    if (error) {
      rows.push(h("tr", { class: "detail-row run-error-row" }, h("td", { colspan: 8 },
        h("span", { class: "run-error-text", "data-testid": "run-error" }, code ? h("code", {}, code) : null, " ", error))));
    }
    return rows;
  }

  const runsCall = newestOnly();
  async function loadRuns() {
    const stale = runsCall();
    let page;
    try {
      page = await api(base + "/runs", { query: { offset: runs.offset, limit: runs.limit } });
    } catch (err) {
      if (stale()) return;
      showFailed("runs-failed", runsWrap, err, loadRuns);
      return;
    }
    if (stale()) return;
    hideFailed("runs-failed", runsWrap);
    const body = clear($("#runs-body"));
    page.items.forEach((r) => append(body, runRow(r)));
    show($("#runs-table"), page.total > 0);
    show($("#runs-empty"), page.total === 0);
    $("#runs-empty-text").textContent = stream && stream.paused
      ? "No poll yet, and none while the stream is paused."
      : "No poll yet: the collector reads the stream's history first, then each bucket once it is complete.";
    pager($("#runs-pager"), page, (off) => { runs.offset = off; loadRuns(); }, "runs");
  }

  async function refresh() {
    const s = await api(base);
    fillState(s);
    await loadRuns();
  }

  // --- actions ----------------------------------------------------------------------------

  $("#ds-toggle").addEventListener("click", () => busy($("#ds-toggle"), async () => {
    const out = await api(base + "/state/" + (stream.paused ? "resume" : "pause"), { method: "PUT" });
    toast(out.paused ? "Stream paused: the collector leaves it alone." : "Stream resumed.", "success");
    fillState(await api(base));
  }));
  $("#ds-refresh").addEventListener("click", () => busy($("#ds-refresh"), async () => {
    await refresh();
    await loadTotals();
  }));

  const rewind = $("#rewind-dialog");
  $("#ds-rewind-open").addEventListener("click", () => {
    $("#rewind-form").reset();
    $("#rewind-from").value = localInputValue(new Date(Date.now() - 86400000));
    $("#rewind-zone").textContent = shownZone();
    rewind.showModal();
  });
  $("#rewind-cancel").addEventListener("click", () => rewind.close());
  onSubmit($("#rewind-form"), async () => {
    const from = fromLocalInput($("#rewind-from").value);
    const to = fromLocalInput($("#rewind-to").value);
    if (isNaN(from)) throw new ApiError(422, "VALIDATION_ERROR", "Pick the time to collect from.", { field: "from" });
    const body = { from };
    if (!isNaN(to)) body.to = to;
    await api(base + "/rewind", { method: "POST", body });
    rewind.close();
    toast("The stream collects from " + dateFmt.format(new Date(from * 1000)) + " again.", "success");
    await refresh();
  });

  const del = $("#delete-dialog");
  $("#ds-delete-open").addEventListener("click", () => {
    $("#delete-metrics").checked = true;
    del.showModal();
  });
  $("#delete-cancel").addEventListener("click", () => del.close());
  onSubmit($("#delete-form"), async () => {
    await api(base, { method: "DELETE", query: { deleteMetrics: $("#delete-metrics").checked ? "true" : "false" } });
    location.assign("/collect");
  });

  return (async () => {
    let s;
    try {
      s = await api(base);
    } catch (err) {
      if (err.status !== 404) throw err;
      // Gone (deleted, or another organization's): say so in place of the page.
      append(clear($("#ds-root")), h("section", { class: "card empty-state", "data-testid": "ds-missing" },
        h("h3", {}, "No such data stream"), h("p", { class: "muted" }, "It was deleted, or it belongs to another organization. "),
        h("p", {}, h("a", { href: "/collect" }, "All data streams"))));
      return;
    }
    try {
      source = await api("/data-sources/" + s.dataSourceId);
    } catch (err) {
      source = null;
    }
    fillState(s);
    await Promise.all([loadRuns(), loadTotals().catch((err) => {
      $("#ds-new-metrics").textContent = "–";
      clear($("#ds-watchers")).append(h("span", { class: "muted small" }, err.message));
    })]);
  })();
}

startApp(streamPage);
