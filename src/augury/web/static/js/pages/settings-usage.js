/* Settings › Usage (admins): the organization's figures, requests and active people a
 * day as charts, and each member's use of the period. */

import { api } from "../api.js";
import { $, clear, h, show } from "../dom.js";
import { fmtCount, fmtDuration, fmtNum } from "../format.js";
import { roleBadge, timeEl } from "../badges.js";
import { drawSeries } from "../chart.js";
import { needsAdmin } from "../settings.js";
import { canAdmin, startApp } from "../shell.js";

const DAY = 86400;

function stat(label, value, testid, note) {
  return h("div", { class: "card stat", "data-testid": testid },
    h("span", { class: "stat-label" }, label),
    h("span", { class: "stat-value" }, value),
    note ? h("span", { class: "muted small" }, note) : null);
}

function figures(m) {
  const p = m.performance;
  return [
    stat("People", fmtCount(m.users.total), "usage-users",
      fmtCount(m.users.active_today) + " today · " + fmtCount(m.users.active_this_week) + " this week · " + fmtCount(m.users.active_this_month) + " this month"),
    stat("Charts", fmtCount(m.charts.total), "usage-charts", fmtCount(m.charts.created_this_week) + " made this week"),
    stat("Questions asked", fmtCount(m.ai_queries.total), "usage-questions", fmtCount(m.ai_queries.this_week) + " this week"),
    stat("Datasets", fmtCount(m.datasets.total), "usage-datasets", fmtCount(m.datasets.versions) + " versions"),
    stat("Points ingested", fmtCount(m.metrics.points_ingested), "usage-points", fmtCount(m.metrics.points_refused) + " refused"),
    stat("Jobs", fmtCount(m.jobs.total), "usage-jobs", fmtCount(m.jobs.failed) + " failed"),
    stat("Requests", fmtCount(m.requests.requests), "usage-requests",
      p.average_response_time_ms === null ? "no requests" : fmtNum(p.average_response_time_ms, 0) + " ms on average"),
    stat("Error rate", fmtNum(p.error_rate * 100, 2) + " %", "usage-error-rate",
      fmtCount(m.requests.client_errors) + " client · " + fmtCount(m.requests.server_errors) + " server errors"),
  ];
}

/** A daily series as the metric chart draws it: one point a day, at its UTC midnight. */
function series(daily, key) {
  const timestamps = daily.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
  return {
    timestamps, values: daily.map((d) => d[key] || 0), resolution: "1d",
    start: timestamps[0], end: timestamps[timestamps.length - 1] + DAY - 1,
  };
}

function memberRows(members) {
  const tb = clear($("#usage-members-body"));
  members.forEach((m) => {
    tb.append(h("tr", { "data-testid": "usage-member-" + m.user_id },
      h("td", {}, h("div", { class: "strong" }, m.name || m.email), h("div", { class: "muted small" }, m.email)),
      h("td", {}, roleBadge(m.role)),
      h("td", { class: "num" }, fmtCount(m.api_calls)),
      h("td", { class: "num" }, fmtCount(m.ai_queries)),
      h("td", { class: "num" }, fmtCount(m.errors)),
      h("td", { class: "nowrap" }, timeEl(m.last_active, true)),
      h("td", { class: "nowrap" }, timeEl(m.last_login))));
  });
}

async function usagePage(me) {
  if (!canAdmin(me)) {
    needsAdmin("Usage is for the organization's admins.");
    return;
  }
  show($("#usage-body"), true);
  const charts = [$("#usage-requests-chart"), $("#usage-people-chart")];
  let last = null;

  function drawCharts() {
    if (!last) return;
    drawSeries(charts[0], series(last.daily, "requests"), {});
    drawSeries(charts[1], series(last.daily, "active_users"), {});
  }

  async function load() {
    const days = Number($("#usage-days").value);
    const to = new Date();
    const from = new Date(to.getTime() - days * DAY * 1000);
    last = await api("/metrics/platform", { query: { from: from.toISOString(), to: to.toISOString() } });
    clear($("#usage-stats")).append(...figures(last));
    $("#usage-uptime").textContent = "Server up for " + fmtDuration(last.performance.uptime_s)
      + " · " + fmtNum(last.performance.uptime_percentage, 2) + " % of requests answered without a server error";
    drawCharts();
    memberRows(last.members);
  }

  let width = charts[0].clientWidth;
  new ResizeObserver(() => {
    if (charts[0].clientWidth === width) return;
    width = charts[0].clientWidth;
    drawCharts();
  }).observe(charts[0]);
  $("#usage-days").addEventListener("change", () => load().catch(() => {}));
  await load();
}

startApp(usagePage);
