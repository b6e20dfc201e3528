/* What the predictive-model pages share: the applications' names, a version's status
 * badge, the validation metrics' names and how each is written, and the pages' paths.
 *
 * A model is a named training of one application; each training run is a numbered
 * version, of which one is the model's current one (the one predictions use).
 */

import { api } from "./api.js";
import { h } from "./dom.js";
import { fmtNum, fmtValue, known } from "./format.js";
import { badge } from "./badges.js";

export const APP_TEXT = {
  forecast: "Forecast", failure: "Failure prediction", classification: "Classification", regression: "Regression",
};
const APP_KIND = { forecast: "info", failure: "danger", classification: "violet", regression: "success" };

export function appBadge(app, testid) {
  return badge(APP_TEXT[app] || app, APP_KIND[app] || "muted", testid);
}

const STATUS_KIND = { queued: "muted", training: "info", ready: "success", failed: "danger", aborted: "warning" };

/** Statuses a version leaves by itself: the pages poll while one is in them. */
export const TRAINING = new Set(["queued", "training"]);

export function versionStatusBadge(status, testid) {
  const el = badge(String(status || "–"), STATUS_KIND[status] || "muted", testid);
  el.dataset.status = status || "";
  return el;
}

export function currentBadge(testid) {
  const el = badge("current", "violet", testid);
  el.title = "The version predictions and what-ifs use unless told otherwise";
  return el;
}

export const modelPath = (id, number) => "/models/" + id + (number ? "?version=" + number : "");

/** What each validation metric is called, and whether lower is better. */
const METRICS = {
  roc_auc: ["ROC AUC"], pr_auc: ["PR AUC"], average_precision: ["Average precision"], f1: ["F1"],
  f1_macro: ["Macro F1"], f1_weighted: ["Weighted F1"], accuracy: ["Accuracy"], balanced_accuracy: ["Balanced accuracy"],
  precision: ["Precision"], recall: ["Recall"], mcc: ["MCC"], log_loss: ["Log loss", true], brier: ["Brier score", true],
  rmse: ["RMSE", true], mae: ["MAE", true], mape: ["MAPE", true], smape: ["sMAPE", true], mase: ["MASE", true],
  r2: ["R²"], cost: ["Expected cost", true],
};

export function metricName(key) {
  return (METRICS[key] || [String(key).replace(/_/g, " ")])[0];
}

export function lowerIsBetter(key) {
  return !!(METRICS[key] || [])[1];
}

/** A metric's value: ratios with 3 decimals, errors as values of the target. */
export function fmtMetric(key, v) {
  if (!known(v)) return "–";
  if (["rmse", "mae", "cost"].includes(key)) return fmtValue(v);
  if (key === "mape" || key === "smape") return fmtNum(100 * v, 1) + " %";
  return fmtNum(v, 3);
}

/** A version's headline: its primary metric's name, mean and spread over the folds. */
export function primaryOf(v) {
  const m = (v && v.metrics) || {};
  const key = m.primary || Object.keys(m.mean || {})[0];
  if (!key) return null;
  return { key, mean: (m.mean || {})[key], std: (m.std || {})[key] };
}

export function primaryText(v) {
  const p = primaryOf(v);
  if (!p || !known(p.mean)) return "–";
  return metricName(p.key) + " " + fmtMetric(p.key, p.mean) + (known(p.std) ? " ± " + fmtMetric(p.key, p.std) : "");
}

/** A version's training progress bar (its job's), with the figure beside it. */
export function trainingBar(v, testid) {
  const pct = Math.max(0, Math.min(100, Number(v.progress ?? (v.job || {}).progress) || 0));
  const bar = h("div", { class: "progress-bar" });
  bar.style.width = pct + "%";
  return h("div", { class: "text-progress" },
    h("div", {
      class: "progress " + (v.status === "queued" ? "progress-pending" : "progress-running"), role: "progressbar",
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(pct), "data-testid": testid,
      "aria-label": "Training of version " + v.number,
    }, bar),
    h("span", { class: "small pct" }, Math.round(pct) + "%"));
}

/** Every item of a paged list (or a plain list), 500 at a time. */
export async function listEvery(path, query) {
  const items = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api(path, { query: Object.assign({}, query || {}, { offset, limit: 500 }) });
    const got = Array.isArray(page) ? page : page.items;
    items.push(...got);
    if (Array.isArray(page) || !page.has_more || !got.length) return items;
  }
}
