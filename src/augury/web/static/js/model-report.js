/* A model version's report as pictures: the validation metrics per fold with their mean
 * and spread, the confusion matrix at the decision threshold, the residuals of a
 * regression, the features' importance and, for one prediction, each feature's
 * contribution as signed bars (what the what-if panel and a single prediction show).
 *
 * Plain HTML and SVG built with dom.js; sizes come from CSS (the pages' policy refuses
 * inline style attributes, so widths are set through the CSSOM).
 */

import { h, svg } from "./dom.js";
import { fmtCount, fmtNum, fmtValue, known } from "./format.js";
import { fmtMetric, lowerIsBetter, metricName } from "./models-common.js";

/** Metrics per fold: a row per metric (the primary first), a column per fold, then the
 * mean and the spread. */
export function foldsTable(metrics) {
  const m = metrics || {};
  const keys = Object.keys(m.mean || {}).filter((k) => known(m.mean[k]));
  if (m.primary && keys.includes(m.primary)) {
    keys.splice(keys.indexOf(m.primary), 1);
    keys.unshift(m.primary);
  }
  const folds = m.folds || [];
  const foldName = (f, i) => (f.fold !== undefined ? String(f.fold) : String(i + 1));
  // Mean and spread first, the folds after them: repeated folds (15 on a small table)
  // scroll sideways without hiding the figures that matter.
  return h("div", { class: "pm-folds-scroll" }, h("table", { class: "table table-compact pm-folds", "data-testid": "mv-folds" },
    h("thead", {}, h("tr", {}, h("th", {}, "Metric"),
      h("th", { class: "num" }, "Mean"), h("th", { class: "num pm-folds-spread" }, h("span", { title: "Standard deviation over the folds" }, "Spread")),
      folds.map((f, i) => h("th", { class: "num", title: known(f.rows) ? fmtCount(f.rows) + " rows validated" : "" }, "Fold " + foldName(f, i))))),
    h("tbody", {}, keys.map((k) => h("tr", { "data-testid": "mv-metric-" + k, class: k === m.primary ? "pm-folds-primary" : "" },
      h("th", { scope: "row", title: lowerIsBetter(k) ? "lower is better" : "higher is better" }, metricName(k),
        k === m.primary ? h("span", { class: "pm-primary-mark", title: "The metric the model was chosen by" }, " ★") : null),
      h("td", { class: "num strong", "data-col": "mean" }, fmtMetric(k, m.mean[k])),
      h("td", { class: "num muted pm-folds-spread", "data-col": "std" }, known((m.std || {})[k]) ? "± " + fmtMetric(k, m.std[k]) : "–"),
      folds.map((f, i) => h("td", { class: "num", "data-col": "fold-" + i }, fmtMetric(k, f[k]))))))));
}

/** True rows by predicted columns; the diagonal (right) in green, errors in red, the
 * darker the more rows. */
export function confusionTable(confusion) {
  const labels = confusion.labels || [];
  const matrix = confusion.matrix || [];
  const max = Math.max(0, ...matrix.flat().map(Number));
  const total = matrix.flat().reduce((a, b) => a + Number(b), 0);
  return h("table", { class: "table table-compact cm", "data-testid": "mv-confusion-table" },
    h("thead", {}, h("tr", {}, h("th", { class: "cm-corner" }, h("span", { class: "muted small" }, "true ↓ predicted →")),
      labels.map((l) => h("th", { class: "num cm-head", title: String(l) }, String(l))))),
    h("tbody", {}, labels.map((t, i) => h("tr", {},
      h("th", { class: "cm-row", scope: "row" }, String(t)),
      labels.map((p, j) => {
        const v = Number((matrix[i] || [])[j] || 0);
        const share = total ? " (" + fmtNum((100 * v) / total, 1) + " % of rows)" : "";
        const cell = h("td", { class: "num cm-cell" + (i === j ? " cm-diag" : ""), "data-testid": "mv-cm-" + i + "-" + j, title: String(t) + " predicted " + String(p) + ": " + v + share }, fmtCount(v));
        const a = max > 0 ? v / max : 0;
        if (v) cell.style.background = (i === j ? "rgba(18, 128, 92, " : "rgba(217, 45, 32, ") + (0.08 + 0.62 * a).toFixed(3) + ")";
        if (a > 0.55) cell.classList.add("cm-strong");
        return cell;
      })))));
}

/** Horizontal bars from 0: each feature's share of the model's importance, largest first. */
export function importanceBars(importance, limit) {
  const items = (importance || []).slice(0, limit || 15);
  const max = Math.max(1e-12, ...items.map((x) => Number(x.importance) || 0));
  const rest = (importance || []).slice(items.length).reduce((a, x) => a + (Number(x.importance) || 0), 0);
  return h("div", { class: "pm-bars", role: "list", "data-testid": "mv-importance-bars" },
    items.map((x, i) => {
      const fill = h("span", { class: "pm-bar-fill" });
      fill.style.width = (100 * (Number(x.importance) || 0)) / max + "%";
      return h("div", { class: "pm-bar-row", role: "listitem", "data-testid": "mv-importance-" + i, "data-feature": x.feature },
        h("span", { class: "pm-bar-label", title: x.feature }, x.feature),
        h("span", { class: "pm-bar-track", "aria-hidden": "true" }, fill),
        h("span", { class: "pm-bar-value num" }, fmtNum(100 * (Number(x.importance) || 0), 1) + " %"));
    }),
    rest > 0 ? h("div", { class: "pm-bar-more muted small" }, (importance.length - items.length) + " more columns: " + fmtNum(100 * rest, 1) + " % together") : null);
}

/**
 * Signed bars of one prediction's explanation: each feature pushes the model's output
 * up (right) or down (left) from the base; largest pushes first, the smallest summed
 * into one row. `output` says in what unit ("log-odds of yes", "price units").
 */
export function contributionBars(explanation, opts) {
  const o = opts || {};
  const all = (explanation.contributions || []).slice().sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const limit = o.limit || 12;
  const shown = all.slice(0, limit);
  const rest = all.slice(limit);
  if (rest.length) shown.push({ feature: rest.length + " other columns", value: null, contribution: rest.reduce((a, c) => a + c.contribution, 0), rest: true });
  const max = Math.max(1e-12, ...shown.map((c) => Math.abs(c.contribution)));
  const total = all.reduce((a, c) => a + c.contribution, 0);
  const valueText = (v) => (v === null || v === undefined ? "missing" : typeof v === "number" ? fmtValue(v) : String(v));
  return h("div", { class: "pm-contrib", "data-testid": o.testid || "explanation" },
    h("div", { class: "pm-contrib-axis muted small", "aria-hidden": "true" },
      h("span", {}, "← lowers"), h("span", {}, "raises →")),
    h("div", { role: "list" }, shown.map((c, i) => {
      const bar = h("span", { class: "pm-contrib-bar " + (c.contribution >= 0 ? "pm-up" : "pm-down") });
      bar.style.width = (50 * Math.abs(c.contribution)) / max + "%";
      if (c.contribution < 0) bar.style.right = "50%";
      else bar.style.left = "50%";
      const sign = c.contribution > 0 ? "+" : c.contribution < 0 ? "−" : "";
      return h("div", { class: "pm-contrib-row" + (c.rest ? " pm-contrib-rest" : ""), role: "listitem", "data-testid": (o.testid || "explanation") + "-" + i, "data-feature": c.feature, "data-sign": c.contribution >= 0 ? "+" : "-" },
        h("span", { class: "pm-contrib-label", title: c.feature }, h("span", { class: "strong" }, c.feature),
          c.rest ? null : h("span", { class: "muted small" }, " = " + valueText(c.value))),
        h("span", { class: "pm-contrib-track", "aria-hidden": "true" }, h("span", { class: "pm-contrib-zero" }), bar),
        h("span", { class: "pm-contrib-value num" }, sign + fmtPush(Math.abs(c.contribution))));
    })),
    h("div", { class: "pm-contrib-foot muted small" },
      "Base ", h("span", { class: "strong" }, fmtPush(explanation.base)), " + contributions ", h("span", { class: "strong" }, (total >= 0 ? "+" : "−") + fmtPush(Math.abs(total))),
      " = ", h("span", { class: "strong" }, fmtPush((Number(explanation.base) || 0) + total)),
      explanation.output ? " (" + explanation.output + ")" : null));
}

/** A regression's out-of-fold residuals (actual − predicted) against the prediction,
 * with the zero line: a good model's points straddle it evenly at every size. */
export function residualPlot(residuals) {
  const xs = (residuals.predicted || []).map(Number);
  const ys = (residuals.actual || []).map((a, i) => Number(a) - xs[i]);
  const W = 640;
  const H = 300;
  const pad = { l: 66, r: 16, t: 12, b: 36 };
  const finite = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => isFinite(x) && isFinite(y));
  if (!finite.length) return h("p", { class: "muted" }, "No residuals were kept for this version.");
  const [x0, x1] = span(finite.map((p) => p[0]));
  const m = Math.max(...finite.map((p) => Math.abs(p[1]))) || 1;
  const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y) => pad.t + ((m - y) / (2 * m)) * (H - pad.t - pad.b);
  const ticks = (a, b) => [a, (a + b) / 2, b];
  // svg() takes children one by one (not arrays), hence the spreads.
  return svg("svg", { class: "pm-residuals", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Residuals against predictions, " + finite.length + " rows", "data-testid": "mv-residual-plot" },
    ...ticks(-m, m).map((y) => svg("g", {},
      svg("line", { class: "pm-grid", x1: pad.l, x2: W - pad.r, y1: sy(y), y2: sy(y) }),
      svg("text", { class: "pm-tick", x: pad.l - 6, y: sy(y) + 4, "text-anchor": "end" }, fmtValue(y)))),
    ...ticks(x0, x1).map((x, i) => svg("text", { class: "pm-tick", x: sx(x), y: H - pad.b + 16, "text-anchor": ["start", "middle", "end"][i] }, fmtValue(x))),
    svg("line", { class: "pm-zero", x1: pad.l, x2: W - pad.r, y1: sy(0), y2: sy(0) }),
    ...finite.map(([x, y]) => svg("circle", { class: "pm-dot", cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 3 })),
    svg("text", { class: "pm-axis-label", x: (pad.l + W - pad.r) / 2, y: H - 4, "text-anchor": "middle" }, "predicted"),
    svg("text", { class: "pm-axis-label", x: 12, y: (pad.t + H - pad.b) / 2, "text-anchor": "middle", transform: "rotate(-90 12 " + (pad.t + H - pad.b) / 2 + ")" }, "actual − predicted"));
}

/** A push on the model's output: about three significant figures. */
function fmtPush(v) {
  if (!known(v)) return "–";
  const a = Math.abs(v);
  return fmtNum(v, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

function span(values) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  return [lo, hi];
}
