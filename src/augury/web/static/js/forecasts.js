/* How a forecast task and its runs show: their status, horizon, schedule, levels and
 * outcome (the Forecasts pages, the Overview, a metric's chart).
 */

import { api } from "./api.js";
import { h } from "./dom.js";
import { fmtDuration } from "./format.js";
import { badge } from "./badges.js";
import { fmtLevel, RESOLUTION_SECONDS } from "./chart.js";
import { ACTIVE, progressBar } from "./jobs.js";

const RUN_KIND = { pending: "muted", running: "info", complete: "success", failed: "danger", aborted: "warning" };
export const RESULT_TEXT = {
  ok: "ok", no_data: "no data", too_short: "too short", resolution_mismatch: "resolution mismatch", failed: "failed",
};
export const ERROR_METRIC = { smape: "sMAPE", mase: "MASE" };
export const HISTORY_HORIZONS = 3; // the history drawn before a forecast: three times its horizon

export function runBadge(status, testid) {
  return badge(status, RUN_KIND[status] || "muted", testid);
}

/** A name for the forecast of one metric: "cpu on dc=east, host=a". */
export function forecastName(m) {
  const dims = Object.keys(m.dimensions || {}).sort();
  return m.what + (dims.length ? " on " + dims.map((k) => k + "=" + m.dimensions[k]).join(", ") : "");
}

export function horizonText(t) {
  return t.horizon + " × " + t.resolution;
}

export function aheadText(t) {
  const sec = RESOLUTION_SECONDS[t.resolution];
  return sec ? fmtDuration(t.horizon * sec) + " ahead" : "at each metric's own interval";
}

export function fmtEvery(minutes) {
  if (minutes % 1440 === 0) return minutes / 1440 + " d";
  if (minutes % 60 === 0) return minutes / 60 + " h";
  return minutes + " min";
}

export function scheduleText(t) {
  return t.every_minutes ? "every " + fmtEvery(t.every_minutes) : "once";
}

export function levelBadges(levels, testid) {
  return h("span", { class: "badges", "data-testid": testid },
    levels.slice().sort((a, b) => a - b).map((l) => badge(fmtLevel(l), "warning")));
}

/** "80 % and 95 %" */
export function levelsText(levels) {
  const parts = levels.slice().sort((a, b) => a - b).map(fmtLevel);
  return parts.length > 1 ? parts.slice(0, -1).join(", ") + " and " + parts[parts.length - 1] : parts.join("");
}

/** The jobs of the runs still going: run id -> job (null where it could not be read). */
export async function activeRunJobs(runs) {
  const active = runs.filter((r) => r && ACTIVE.has(r.status) && r.job_id);
  const jobs = await Promise.all(active.map((r) => api("/jobs/" + r.job_id).catch(() => null)));
  return new Map(active.map((r, i) => [r.id, jobs[i]]));
}

/** Whether a poll saw a run's job end (or lost it): time to read the runs again. */
export function jobsEnded(jobs) {
  return !jobs.size || [...jobs.values()].some((j) => !j || !ACTIVE.has(j.status));
}

/** The progress of a run still going, from its job. */
export function runProgress(run, job, testid) {
  const j = job || { status: run.status, progress: 0, message: "" };
  return h("div", { class: "run-progress" },
    progressBar(j, testid),
    h("div", { class: "progress-text small" },
      h("span", { class: "pct" }, Math.round(Number(j.progress) || 0) + "%"), " ",
      h("span", { class: "muted msg" }, j.status === "pending" ? "waiting for a runner" : j.message || "")));
}

export function runMetrics(run) {
  return run.metrics + (run.metrics === 1 ? " metric" : " metrics")
    + (run.failed_metrics ? ", " + run.failed_metrics + " not forecast" : "");
}

/** What a finished run did: its metrics, or why it ended. */
export function runOutcome(run, testid) {
  if (run.status === "complete") return h("span", { class: "muted small", "data-testid": testid }, runMetrics(run));
  return h("span", { class: "small run-error", title: run.error || "", "data-testid": testid }, run.error || run.status);
}
