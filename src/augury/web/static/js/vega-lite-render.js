/* Vega-Lite specs drawn in SVG: the marks augury's answers carry (bar, line, area,
 * point, arc, a text mark as a big-number card), read from the spec's encoding (x, y,
 * color, theta, text, xOffset), field types, sort, formats and theme config.
 *
 * Not a Vega-Lite implementation: the spec is augury's own output, with its rows inline
 * in data.values and already aggregated, so the work here is the few transforms it
 * uses (fold, joinaggregate, a year or a share calculated), scales, axes, marks, a
 * legend and a hover tip; a mark or transform it does not know is said, not guessed. Drawn by hand because the pages' policy allows no script
 * from outside augury, and the Vega runtime is far larger than what these marks need.
 */

import { clear, h, svg } from "./dom.js";
import { compactFmt, fmtValue } from "./format.js";

const CATEGORY = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];
const LIGHT = {
  background: null, text: "#667085", title: "#1b2130", grid: "#eef0f4", domain: "#cfd4de",
  mark: "#4c78a8", category: CATEGORY,
};

/** The page's own colours (the stylesheet's variables, so the dark theme too), else LIGHT. */
function pageTheme() {
  const css = typeof getComputedStyle === "function" ? getComputedStyle(document.documentElement) : null;
  const v = (name, fallback) => (css && css.getPropertyValue(name).trim()) || fallback;
  return Object.assign({}, LIGHT, {
    text: v("--muted", LIGHT.text), title: v("--text", LIGHT.title), surface: v("--surface", "#fff"),
    grid: v("--line", LIGHT.grid), domain: v("--border-strong", LIGHT.domain),
  });
}
const CAT_TYPES = new Set(["nominal", "ordinal"]);
const DAY = 86400000;
const H = 340;

/** The one view to draw: a single view, or the first layer that is not text (labels). */
function unitOf(spec) {
  if (!Array.isArray(spec.layer) || !spec.layer.length) return spec;
  const layers = spec.layer;
  const main = layers.find((l) => markType(l.mark) !== "text" && markType(l.mark) !== "rule") || layers[0];
  return Object.assign({}, main, {
    encoding: Object.assign({}, spec.encoding || {}, main.encoding || {}),
    data: main.data || spec.data,
    transform: (spec.transform || []).concat(main.transform || []),
    title: spec.title,
  });
}

const markType = (mark) => (typeof mark === "string" ? mark : (mark && mark.type) || "");
const markProp = (mark, key) => (mark && typeof mark === "object" ? mark[key] : undefined);

function themeOf(spec) {
  const LIGHT = pageTheme();
  const c = spec.config || {};
  const axis = c.axis || {};
  const range = c.range || {};
  if (document.documentElement.dataset.theme === "dark") {
    // A chart saved in light colours on a dark page: the page's colours for text, grid
    // and background; its own for the marks.
    return Object.assign({}, LIGHT, {
      legend: null, heading: null,
      mark: (c.mark && c.mark.color) || (c.bar && c.bar.color) || LIGHT.mark,
      category: Array.isArray(range.category) && range.category.length ? range.category : LIGHT.category,
    });
  }
  return {
    background: c.background || LIGHT.background,
    text: axis.labelColor || LIGHT.text,
    title: axis.titleColor || (c.title && c.title.color) || LIGHT.title,
    grid: axis.gridColor || LIGHT.grid,
    domain: axis.domainColor || LIGHT.domain,
    legend: (c.legend && c.legend.labelColor) || null,
    heading: (c.title && c.title.color) || null,
    mark: (c.mark && c.mark.color) || (c.bar && c.bar.color) || LIGHT.mark,
    category: Array.isArray(range.category) && range.category.length ? range.category : LIGHT.category,
  };
}

function titleText(t) {
  if (!t) return "";
  if (typeof t === "string") return t;
  if (Array.isArray(t)) return t.join(" ");
  return titleText(t.text);
}

/** A field name as the data has it: Vega-Lite escapes dots and brackets with a backslash. */
const unescapeField = (field) => String(field).replace(/\\(.)/g, "$1");

/** A channel's field, with its type, title, time unit, format and legend labels. */
function channel(enc, name) {
  const ch = enc && enc[name];
  if (!ch || !ch.field) return null;
  const field = unescapeField(ch.field);
  return {
    field,
    type: ch.type || "nominal",
    title: ch.title === undefined ? field : titleText(ch.title),
    timeUnit: typeof ch.timeUnit === "string" ? ch.timeUnit : ch.timeUnit && ch.timeUnit.unit,
    format: ch.format || (ch.axis && ch.axis.format) || (ch.legend && ch.legend.format),
    labels: ch.legend && labelsOf(ch.legend.labelExpr),
    sort: ch.sort,
    scale: ch.scale || {},
    stack: ch.stack,
  };
}

/** The one labelExpr augury writes: a JSON object of labels looked up by datum.label. */
function labelsOf(expr) {
  const m = /^\s*(\{.*\})\s*\[datum\.label\]/.exec(expr || "");
  if (!m) return null;
  try {
    return JSON.parse(m[1]);
  } catch (e) {
    return null;
  }
}

// --- transforms -----------------------------------------------------------------------

const DATUM = String.raw`datum(?:\[("(?:[^"\\]|\\.)*")\]|\.([\w$]+))`;

function datumRef(m, i) {
  return m[i] !== undefined ? JSON.parse(m[i]) : m[i + 1];
}

/** The calculate expressions augury writes: a year as a date, one field over another. */
function expression(text) {
  const s = String(text).trim();
  let m = new RegExp("^utc\\(" + DATUM + ",\\s*0,\\s*1\\)$").exec(s);
  if (m) {
    const f = datumRef(m, 1);
    return (r) => (r[f] === null || r[f] === undefined || !isFinite(r[f]) ? null : Date.UTC(Number(r[f]), 0, 1));
  }
  m = new RegExp("^" + DATUM + "\\s*/\\s*" + DATUM + "$").exec(s);
  if (m) {
    const a = datumRef(m, 1);
    const b = datumRef(m, 3);
    return (r) => (Number(r[b]) ? Number(r[a]) / Number(r[b]) : null);
  }
  return null;
}

const AGGREGATES = {
  sum: (xs) => xs.reduce((s, x) => s + x, 0),
  mean: (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null),
  count: (xs) => xs.length,
  min: (xs) => (xs.length ? Math.min(...xs) : null),
  max: (xs) => (xs.length ? Math.max(...xs) : null),
};

/** The spec's transforms over its rows; false when one of them is not known here. */
function transformed(rows, transforms) {
  let out = rows.map((r) => Object.assign({}, r));
  for (const t of transforms || []) {
    if (t.fold) {
      const [key, value] = t.as || ["key", "value"];
      const fields = t.fold.map(unescapeField);
      out = out.flatMap((r) => fields.map((f) => Object.assign({}, r, { [key]: f, [value]: r[f] })));
    } else if (t.calculate) {
      const f = expression(t.calculate);
      if (!f) return false;
      out.forEach((r) => { r[t.as] = f(r); });
    } else if (t.joinaggregate) {
      const by = (t.groupby || []).map(unescapeField);
      const groups = new Map();
      out.forEach((r) => {
        const k = by.map((f) => keyOf(r[f])).join("|");
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k).push(r);
      });
      for (const a of t.joinaggregate) {
        const fn = AGGREGATES[a.op];
        if (!fn) return false;
        groups.forEach((list) => {
          const v = fn(list.map((r) => Number(r[unescapeField(a.field)])).filter(isFinite));
          list.forEach((r) => { r[a.as] = v; });
        });
      }
    } else if (t.window) {
      const numbered = t.window.find((w) => w.op === "row_number");
      if (!numbered) return false;
      out.forEach((r, i) => { r[numbered.as] = i + 1; });
    } else {
      return false;
    }
  }
  return out;
}

// --- formats --------------------------------------------------------------------------

/** A d3-format string such as ",.2f", ".1%", "~s", "d", or a sensible default. */
function numberFormat(spec) {
  const m = /^(,)?(?:\.(\d+))?(~)?([dfegs%])?$/.exec(spec || "");
  if (!spec || !m) return (v) => (Math.abs(v) >= 1e6 ? compactFmt.format(v) : fmtValue(v));
  const [, group, digits, , kind] = m;
  const d = digits === undefined ? undefined : Number(digits);
  return (v) => {
    if (kind === "%") return (v * 100).toLocaleString(undefined, { maximumFractionDigits: d ?? 0, minimumFractionDigits: d ?? 0 }) + "%";
    if (kind === "s") return compactFmt.format(v);
    if (kind === "e") return Number(v).toExponential(d ?? 2);
    if (kind === "g") return Number(Number(v).toPrecision(d || 6)).toLocaleString(undefined, { maximumFractionDigits: 20, useGrouping: !!group });
    const opts = { useGrouping: !!group };
    if (kind === "d") opts.maximumFractionDigits = 0;
    else if (d !== undefined) Object.assign(opts, { maximumFractionDigits: d, minimumFractionDigits: kind === "f" ? d : 0 });
    else opts.maximumFractionDigits = 6;
    return Number(v).toLocaleString(undefined, opts);
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A date or a year-like number as epoch ms (UTC: the answers' dates carry no zone). */
function timeOf(v) {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") return v >= 1000 && v <= 9999 ? Date.UTC(v, 0, 1) : v;
  const s = String(v);
  if (/^\d{4}$/.test(s)) return Date.UTC(Number(s), 0, 1);
  if (/^\d{4}-\d{2}$/.test(s)) return Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, 1);
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(s);
  const t = Date.parse(zoned || !/T|\s\d/.test(s) ? s : s.replace(" ", "T") + "Z");
  return isNaN(t) ? null : t;
}

/** A date as short as its precision allows: "2014", "Mar 2014", "Mar 5, 2014", "Mar 5 06:00". */
function fmtDate(t, unit) {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const mon = MONTHS[d.getUTCMonth()];
  if (unit === "year") return String(y);
  if (unit === "month" || unit === "quarter") return unit === "quarter" ? "Q" + (Math.floor(d.getUTCMonth() / 3) + 1) + " " + y : mon + " " + y;
  const day = mon + " " + d.getUTCDate();
  if (unit === "day" || unit === "week") return day + ", " + y;
  return day + " " + String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
}

/** A d3 time format ("%b %Y", "%Y-%m-%d %H:00", "%Y Q%q") of a UTC time. */
function strftime(t, format) {
  const d = new Date(t);
  const pad = (n, w) => String(n).padStart(w || 2, "0");
  const parts = {
    Y: () => String(d.getUTCFullYear()), y: () => pad(d.getUTCFullYear() % 100), m: () => pad(d.getUTCMonth() + 1),
    d: () => pad(d.getUTCDate()), e: () => String(d.getUTCDate()), b: () => MONTHS[d.getUTCMonth()],
    B: () => new Intl.DateTimeFormat("en", { month: "long", timeZone: "UTC" }).format(d),
    H: () => pad(d.getUTCHours()), M: () => pad(d.getUTCMinutes()), S: () => pad(d.getUTCSeconds()),
    q: () => String(Math.floor(d.getUTCMonth() / 3) + 1), "%": () => "%",
  };
  return String(format).replace(/%([a-zA-Z%])/g, (all, c) => (parts[c] ? parts[c]() : all));
}

const UNIT_RANK = { hour: 0, day: 1, week: 2, month: 3, quarter: 4, year: 5 };

/** The unit a Vega-Lite timeUnit ends at: "utcyearmonth" is months. */
function unitOfTimeUnit(tu) {
  const u = String(tu || "").replace(/^utc/, "");
  if (!u) return null;
  if (/(hours|minutes|seconds|milliseconds)$/.test(u)) return "hour";
  if (/(date|day)$/.test(u)) return "day";
  if (/week$/.test(u)) return "week";
  if (/month$/.test(u)) return "month";
  if (/quarter$/.test(u)) return "quarter";
  if (/year$/.test(u)) return "year";
  return null;
}

/** The coarsest unit that every time in `ts` is a whole one of. */
function precisionOf(ts) {
  const dates = ts.map((t) => new Date(t));
  if (dates.some((d) => d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds())) return "hour";
  if (dates.some((d) => d.getUTCDate() !== 1)) return "day";
  if (dates.some((d) => d.getUTCMonth() !== 0)) return dates.every((d) => d.getUTCMonth() % 3 === 0) && ts.length > 2 ? "quarter" : "month";
  return "year";
}

function formatterFor(ch, values) {
  if (!ch) return (v) => String(v);
  if (ch.type === "temporal" || (ch.timeUnit && ch.type !== "quantitative")) {
    const pattern = ch.format && /%/.test(ch.format) ? ch.format : null;
    const unit = unitOfTimeUnit(ch.timeUnit) || precisionOf(values.map(timeOf).filter((t) => t !== null));
    return (v) => {
      const t = timeOf(v);
      if (t === null) return String(v ?? "–");
      return pattern ? strftime(t, pattern) : fmtDate(t, unit);
    };
  }
  if (ch.labels) return (v) => (ch.labels[v] !== undefined ? ch.labels[v] : String(v ?? "null"));
  if (ch.type === "quantitative") {
    const f = numberFormat(ch.format);
    return (v) => (v === null || v === undefined || v === "" ? "–" : isFinite(v) ? f(Number(v)) : String(v));
  }
  return (v) => (v === null || v === undefined ? "null" : String(v));
}

// --- scales ---------------------------------------------------------------------------

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** A linear scale over [lo, hi] rounded to nice ticks; `zero` keeps 0 in view. */
function linear(values, range, zero, count) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (zero) { lo = Math.min(0, lo); hi = Math.max(0, hi); }
  if (hi === lo) { const pad = Math.abs(lo) * 0.1 || 1; lo -= pad; hi += pad; }
  const step = niceStep(hi - lo, count || 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
  const [r0, r1] = range;
  const scale = (v) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0);
  return Object.assign(scale, { ticks, lo, hi });
}

// [size, unit]: hours and days in ms, months (and quarters, years) in months.
const TIME_STEPS = [
  [3600000, "hour"], [3 * 3600000, "hour"], [6 * 3600000, "hour"], [12 * 3600000, "hour"],
  [DAY, "day"], [2 * DAY, "day"], [7 * DAY, "week"], [14 * DAY, "week"],
  [1, "month"], [3, "quarter"], [6, "quarter"], [12, "year"], [24, "year"], [60, "year"], [120, "year"], [240, "year"], [600, "year"],
];
const IN_MONTHS = new Set(["month", "quarter", "year"]);

/** A time scale with ticks at round UTC times, about one per `px` pixels, none finer than `finest`. */
function timeScale(ts, range, px, finest) {
  let lo = Math.min(...ts);
  let hi = Math.max(...ts);
  if (hi === lo) { lo -= DAY; hi += DAY; }
  const [r0, r1] = range;
  const scale = (t) => r0 + ((t - lo) / (hi - lo)) * (r1 - r0);
  const want = Math.max(2, Math.floor(Math.abs(r1 - r0) / px));
  const months = (hi - lo) / (30.4 * DAY);
  const allowed = TIME_STEPS.filter(([, u]) => UNIT_RANK[u] >= (UNIT_RANK[finest] || 0));
  const [step, unit] = allowed.find(([n, u]) => (IN_MONTHS.has(u) ? months / n : (hi - lo) / n) <= want) || allowed[allowed.length - 1];
  const ticks = [];
  if (IN_MONTHS.has(unit)) {
    // Months counted from year 0, so steps of 3, 12 or 60 land on quarters, years, lustra.
    const d = new Date(lo);
    const at = (n) => Date.UTC(Math.floor(n / 12), n % 12, 1);
    let n = Math.ceil((d.getUTCFullYear() * 12 + d.getUTCMonth()) / step) * step;
    if (at(n) < lo) n += step;
    for (; at(n) <= hi; n += step) ticks.push(at(n));
  } else {
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  }
  return Object.assign(scale, { ticks: ticks.length ? ticks : [lo, hi], unit: ticks.length ? unit : finest || "day" });
}

/** The categories of `ch` in the order its sort asks (Vega-Lite's default: ascending). */
function domainOf(rows, ch, enc) {
  const seen = [];
  const index = new Map();
  rows.forEach((r) => {
    const k = keyOf(r[ch.field]);
    if (!index.has(k)) { index.set(k, seen.length); seen.push(r[ch.field]); }
  });
  const sort = ch.sort;
  if (sort === null) return seen;
  if (Array.isArray(sort)) {
    const rank = new Map(sort.map((v, i) => [keyOf(v), i]));
    return seen.slice().sort((a, b) => (rank.get(keyOf(a)) ?? 1e9) - (rank.get(keyOf(b)) ?? 1e9));
  }
  let by = null;
  let desc = false;
  if (typeof sort === "string" && /^-?(x|y|color|theta|text)$/.test(sort)) {
    desc = sort.startsWith("-");
    const other = channel(enc, sort.replace("-", ""));
    by = other && other.field;
  } else if (sort && typeof sort === "object") {
    by = sort.field || (sort.encoding && channel(enc, sort.encoding) && channel(enc, sort.encoding).field) || null;
    desc = sort.order === "descending";
  } else {
    desc = sort === "descending";
  }
  if (by) {
    const total = new Map();
    rows.forEach((r) => { const k = keyOf(r[ch.field]); total.set(k, (total.get(k) || 0) + (Number(r[by]) || 0)); });
    return seen.slice().sort((a, b) => (desc ? -1 : 1) * (total.get(keyOf(a)) - total.get(keyOf(b))));
  }
  const cmp = ch.type === "temporal" ? (a, b) => timeOf(a) - timeOf(b) : compareValues;
  return seen.slice().sort((a, b) => (desc ? -1 : 1) * cmp(a, b));
}

const keyOf = (v) => (v === null || v === undefined ? "\u0000null" : typeof v + ":" + String(v));

function compareValues(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a ?? "").localeCompare(String(b ?? ""), undefined, { numeric: true });
}

function band(domain, range, padding) {
  const [r0, r1] = range;
  const step = (r1 - r0) / Math.max(1, domain.length);
  const index = new Map(domain.map((v, i) => [keyOf(v), i]));
  const scale = (v) => r0 + step * (index.get(keyOf(v)) ?? 0) + step * padding / 2;
  return Object.assign(scale, { bandwidth: Math.abs(step) * (1 - padding), step, domain, center: (v) => scale(v) + Math.abs(step) * (1 - padding) / 2 });
}

// --- pieces of a chart ----------------------------------------------------------------

function textWidth(s, size) {
  return String(s).length * (size || 11) * 0.58;
}

function truncate(s, px, size) {
  const text = String(s);
  const max = Math.max(3, Math.floor(px / ((size || 11) * 0.58)));
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function axisTitle(x, y, text, theme, rotate) {
  return svg("text", {
    x, y, "text-anchor": "middle", fill: theme.title, "font-size": 11.5, "font-weight": 600,
    transform: rotate ? "rotate(-90 " + x + " " + y + ")" : null, class: "vl-axis-title",
  }, text);
}

function colorScale(rows, ch, enc, theme) {
  if (!ch) return null;
  if (ch.type === "quantitative") {
    const vals = rows.map((r) => Number(r[ch.field])).filter(isFinite);
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const f = (v) => {
      const p = hi > lo ? (Number(v) - lo) / (hi - lo) : 0.5;
      return "rgb(" + Math.round(222 - 160 * p) + "," + Math.round(235 - 120 * p) + "," + Math.round(247 - 80 * p) + ")";
    };
    return Object.assign(f, { domain: [], continuous: true });
  }
  const domain = domainOf(rows, Object.assign({}, ch, { sort: ch.sort === undefined ? undefined : ch.sort }), enc);
  const custom = ch.scale && Array.isArray(ch.scale.range) ? ch.scale.range : theme.category;
  const index = new Map(domain.map((v, i) => [keyOf(v), i]));
  const f = (v) => custom[(index.get(keyOf(v)) ?? 0) % custom.length];
  return Object.assign(f, { domain });
}

function legend(ch, color, fmt) {
  if (!ch || !color || color.continuous || color.domain.length < 2) return null;
  return h("div", { class: "vl-legend", "data-testid": "vl-legend", "aria-label": "Legend: " + ch.title },
    h("span", { class: "vl-legend-title" }, ch.title),
    color.domain.slice(0, 30).map((v) => h("span", { class: "vl-key" },
      h("span", { class: "vl-swatch", "data-color": color(v) }), fmt(v))),
    color.domain.length > 30 ? h("span", { class: "muted small" }, "+ " + (color.domain.length - 30) + " more") : null);
}

/** Swatch colours are data, not style: set through the CSSOM, which the policy allows. */
function paintSwatches(root) {
  root.querySelectorAll("[data-color]").forEach((el) => { el.style.background = el.dataset.color; });
}

/** The hover tip: every field of the row the pointer is on (the spec's tooltip list first). */
function tipper(box, tooltip, fmts) {
  const tip = h("div", { class: "chart-tip vl-tip", hidden: true, role: "tooltip" });
  box.append(tip);
  const fields = tooltip;
  function showRow(row, ev) {
    clear(tip);
    fields.forEach((f) => tip.append(h("div", { class: "vl-tip-row" },
      h("span", { class: "vl-tip-key" }, f.title), " ", h("span", { class: "vl-tip-value" }, (fmts[f.field] || String)(row[f.field])))));
    tip.hidden = false;
    const r = box.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const left = x + 14 + tip.offsetWidth > r.width ? x - tip.offsetWidth - 14 : x + 14;
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = Math.max(0, y - tip.offsetHeight - 10) + "px";
  }
  return {
    bind(el, row) {
      el.addEventListener("mousemove", (ev) => showRow(row, ev));
      el.addEventListener("mouseleave", () => { tip.hidden = true; });
    },
  };
}

function tooltipFields(spec, enc, rows) {
  const t = enc.tooltip;
  const list = Array.isArray(t) ? t : t && t.field ? [t] : [];
  const out = list.filter((f) => f && f.field).map((f) => ({
    field: String(f.field), title: f.title === undefined ? f.field : titleText(f.title), type: f.type || "nominal", format: f.format,
  }));
  if (out.length) return out;
  const seen = new Set();
  ["x", "y", "color", "theta", "xOffset", "text", "size"].forEach((name) => {
    const ch = channel(enc, name);
    if (ch && !seen.has(ch.field)) { seen.add(ch.field); out.push(ch); }
  });
  if (!out.length && rows.length) Object.keys(rows[0]).forEach((k) => out.push({ field: k, title: k, type: "nominal" }));
  return out;
}

// --- the marks ------------------------------------------------------------------------

/** Bars: vertical over a categorical x, horizontal over a categorical y; colours stack them, xOffset groups them. */
function drawBars(ctx) {
  const { enc, rows, theme, W, x: xc, y: yc } = ctx;
  const horizontal = xc && yc && xc.type === "quantitative" && yc.type !== "quantitative";
  const cat = horizontal ? yc : xc;
  const val = horizontal ? xc : yc;
  if (!cat || !val) return null;
  const colorCh = channel(enc, "color");
  const offsetCh = channel(enc, horizontal ? "yOffset" : "xOffset");
  const color = colorCh && colorCh.field !== cat.field ? colorScale(rows, colorCh, enc, theme) : colorCh ? colorScale(rows, colorCh, enc, theme) : null;
  const stacked = !!color && !offsetCh && colorCh.field !== cat.field && val.stack !== null && val.stack !== false;
  const domain = domainOf(rows, cat, enc);
  const fmtCat = formatterFor(cat, domain);
  const fmtVal = formatterFor(val, []);

  // Totals per category give the value axis its extent when bars stack.
  const sums = new Map();
  const values = [];
  rows.forEach((r) => {
    const v = Number(r[val.field]);
    if (!isFinite(v)) return;
    if (stacked) {
      const k = keyOf(r[cat.field]);
      const s = sums.get(k) || { pos: 0, neg: 0 };
      if (v >= 0) s.pos += v; else s.neg += v;
      sums.set(k, s);
    } else values.push(v);
  });
  sums.forEach((s) => values.push(s.pos, s.neg));

  const labelW = horizontal ? Math.min(170, Math.max(...domain.map((d) => textWidth(fmtCat(d))), 20) + 10) : 0;
  const valueLabelW = horizontal ? 0 : 46;
  const left = horizontal ? labelW + 28 : valueLabelW + 28;
  const slotW = (W - left - 16) / Math.max(1, domain.length);
  const longest = Math.max(...domain.map((d) => textWidth(fmtCat(d))), 0);
  const rotate = !horizontal && longest > slotW - 6;
  const bottom = horizontal ? 44 : rotate ? Math.min(120, longest * 0.72 + 30) : 46;
  const height = horizontal ? Math.max(H, domain.length * 22 + bottom + 20) : H;
  const plot = { l: left, r: W - 16, t: 14, b: height - bottom };
  const vscale = horizontal ? linear(values, [plot.l, plot.r], true, Math.max(2, Math.floor((plot.r - plot.l) / 90)))
    : linear(values, [plot.b, plot.t], true, 5);
  const span = horizontal ? plot.b - plot.t : plot.r - plot.l;
  // Few bars stay slim: the band's padding grows rather than a bar wider than 90 px.
  const padding = Math.max(domain.length > 1 ? 0.22 : 0.5, 1 - 90 / Math.max(1, span / Math.max(1, domain.length)));
  const cscale = band(domain, horizontal ? [plot.t, plot.b] : [plot.l, plot.r], padding);
  const groups = offsetCh ? domainOf(rows, offsetCh, enc) : [];
  const sub = offsetCh ? band(groups, [0, cscale.bandwidth], 0.08) : null;

  const root = svg("svg", { class: "vl-svg", width: W, height, viewBox: "0 0 " + W + " " + height, role: "img" });
  if (theme.background) root.append(svg("rect", { x: 0, y: 0, width: W, height, fill: theme.background }));
  const grid = svg("g", { class: "vl-grid" });
  const axis = svg("g", { class: "vl-axis", "font-size": 11, fill: theme.text });
  vscale.ticks.forEach((t) => {
    const p = vscale(t);
    if (horizontal) {
      grid.append(svg("line", { x1: p, x2: p, y1: plot.t, y2: plot.b, stroke: theme.grid }));
      axis.append(svg("text", { x: p, y: plot.b + 16, "text-anchor": "middle" }, fmtVal(t)));
    } else {
      grid.append(svg("line", { x1: plot.l, x2: plot.r, y1: p, y2: p, stroke: theme.grid }));
      axis.append(svg("text", { x: plot.l - 6, y: p + 4, "text-anchor": "end" }, fmtVal(t)));
    }
  });
  const every = horizontal ? 1 : Math.max(1, Math.ceil(domain.length / Math.max(1, Math.floor((plot.r - plot.l) / 14))));
  domain.forEach((d, i) => {
    if (i % every) return;
    const label = fmtCat(d);
    if (horizontal) {
      axis.append(svg("text", { x: plot.l - 6, y: cscale.center(d) + 4, "text-anchor": "end" }, truncate(label, labelW)));
    } else if (rotate) {
      const cx = cscale.center(d);
      axis.append(svg("text", { x: cx, y: plot.b + 12, "text-anchor": "end", transform: "rotate(-40 " + cx + " " + (plot.b + 12) + ")" }, truncate(label, 150)));
    } else {
      axis.append(svg("text", { x: cscale.center(d), y: plot.b + 16, "text-anchor": "middle" }, label));
    }
  });
  const zero = vscale(0);
  const marks = svg("g", { class: "vl-marks" });
  const tip = ctx.tip;
  const offsets = new Map();
  rows.forEach((r) => {
    const v = Number(r[val.field]);
    if (!isFinite(v)) return;
    let from = 0;
    if (stacked) {
      const k = keyOf(r[cat.field]) + (v >= 0 ? "+" : "-");
      from = offsets.get(k) || 0;
      offsets.set(k, from + v);
    }
    const a = vscale(from);
    const b = vscale(from + v);
    let pos = cscale(r[cat.field]);
    let size = cscale.bandwidth;
    if (sub) { pos += sub(r[offsetCh.field]); size = sub.bandwidth; }
    const fill = color ? color(r[colorCh.field]) : theme.mark;
    const rect = horizontal
      ? svg("rect", { x: Math.min(a, b), y: pos, width: Math.max(1, Math.abs(b - a)), height: size, fill })
      : svg("rect", { x: pos, y: Math.min(a, b), width: size, height: Math.max(1, Math.abs(b - a)), fill });
    rect.setAttribute("class", "vl-mark vl-bar");
    rect.setAttribute("data-testid", "vl-bar");
    tip.bind(rect, r);
    marks.append(rect);
  });
  const domainLine = horizontal
    ? svg("line", { x1: zero, x2: zero, y1: plot.t, y2: plot.b, stroke: theme.domain })
    : svg("line", { x1: plot.l, x2: plot.r, y1: zero, y2: zero, stroke: theme.domain });
  root.append(grid, marks, domainLine, axis);
  if (horizontal) {
    root.append(axisTitle((plot.l + plot.r) / 2, height - 8, val.title, theme));
  } else {
    root.append(axisTitle(12, (plot.t + plot.b) / 2, val.title, theme, true));
    if (!rotate) root.append(axisTitle((plot.l + plot.r) / 2, height - 8, cat.title, theme));
  }
  return { root, count: marks.childNodes.length, legend: color && colorCh.field !== cat.field ? legend(colorCh, color, formatterFor(colorCh, [])) : null };
}

/** Lines, areas and points share an x scale: time, numbers, or categories at band centres. */
function xScaleOf(rows, ch, enc, range) {
  if (ch.type === "temporal") {
    const ts = rows.map((r) => timeOf(r[ch.field])).filter((t) => t !== null);
    const finest = unitOfTimeUnit(ch.timeUnit) || precisionOf(ts);
    const s = timeScale(ts, range, 110, finest);
    const pattern = ch.format && /%/.test(ch.format) ? ch.format : null;
    const unit = UNIT_RANK[s.unit] > UNIT_RANK[finest] ? s.unit : finest;
    // Coarser ticks than the data say the data's own way ("Apr 2014" on a monthly line), years as years.
    const label = (t) => (unit === "year" ? fmtDate(t, "year") : pattern ? strftime(t, pattern)
      : fmtDate(t, unit === "week" ? "day" : unit === "quarter" && finest === "month" ? "month" : unit));
    const pos = (v) => { const t = timeOf(v); return t === null ? null : s(t); };
    return { pos, ticks: s.ticks.map((t) => [s(t), label(t)]), order: (r) => timeOf(r[ch.field]) };
  }
  if (ch.type === "quantitative") {
    const vals = rows.map((r) => Number(r[ch.field])).filter(isFinite);
    const s = linear(vals, range, ch.scale.zero === true, Math.max(2, Math.floor(Math.abs(range[1] - range[0]) / 90)));
    const f = formatterFor(ch, []);
    return { pos: (v) => (v === null || v === "" || !isFinite(v) ? null : s(Number(v))), ticks: s.ticks.map((t) => [s(t), f(t)]), order: (r) => Number(r[ch.field]) };
  }
  const domain = domainOf(rows, ch, enc);
  const b = band(domain, range, 0);
  const f = formatterFor(ch, domain);
  const every = Math.max(1, Math.ceil(domain.length / Math.max(1, Math.floor(Math.abs(range[1] - range[0]) / 70))));
  const index = new Map(domain.map((v, i) => [keyOf(v), i]));
  return { pos: (v) => b.center(v), ticks: domain.filter((_, i) => i % every === 0).map((d) => [b.center(d), f(d)]), order: (r) => index.get(keyOf(r[ch.field])) };
}

function drawXY(ctx, kind) {
  const { enc, rows, theme, W, x: xc, y: yc, mark } = ctx;
  if (!xc || !yc) return null;
  const colorCh = channel(enc, "color");
  const color = colorScale(rows, colorCh, enc, theme);
  const fmtY = formatterFor(yc, []);
  const yValues = rows.map((r) => Number(r[yc.field])).filter(isFinite);
  const plot = { l: 74, r: W - 16, t: 14, b: H - 46 };
  const yIsCat = yc.type !== "quantitative";
  let yscale;
  let yticks;
  let base = plot.b; // where an area's fill ends: zero when the axis holds it
  if (yIsCat) {
    const s = xScaleOf(rows, yc, enc, [plot.b, plot.t]);
    yscale = s.pos;
    yticks = s.ticks;
  } else {
    const zero = yc.scale.zero === undefined ? kind !== "point" : yc.scale.zero === true;
    const s = linear(yValues, [plot.b, plot.t], zero, 5);
    yscale = (v) => (v === null || v === "" || !isFinite(v) ? null : s(Number(v)));
    yticks = s.ticks.map((t) => [s(t), fmtY(t)]);
    base = s(Math.min(Math.max(0, s.lo), s.hi));
  }
  const xs = xScaleOf(rows, xc, enc, [plot.l, plot.r]);
  const root = svg("svg", { class: "vl-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  if (theme.background) root.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: theme.background }));
  const grid = svg("g", { class: "vl-grid" });
  const axis = svg("g", { class: "vl-axis", "font-size": 11, fill: theme.text });
  yticks.forEach(([p, label]) => {
    grid.append(svg("line", { x1: plot.l, x2: plot.r, y1: p, y2: p, stroke: theme.grid }));
    axis.append(svg("text", { x: plot.l - 6, y: p + 4, "text-anchor": "end" }, truncate(label, 64)));
  });
  let lastEnd = -Infinity;
  xs.ticks.forEach(([p, label]) => {
    const w = textWidth(label);
    if (p - w / 2 < lastEnd + 6) return;
    lastEnd = p + w / 2;
    axis.append(svg("text", { x: p, y: plot.b + 16, "text-anchor": "middle" }, label));
  });
  const marks = svg("g", { class: "vl-marks" });
  const series = new Map();
  rows.forEach((r) => {
    const k = colorCh ? keyOf(r[colorCh.field]) : "";
    if (!series.has(k)) series.set(k, []);
    series.get(k).push(r);
  });
  const opacity = markProp(mark, "opacity");
  const points = [];
  series.forEach((list) => {
    const fill = color ? color(list[0][colorCh.field]) : theme.mark;
    const pts = list.map((r) => [xs.pos(r[xc.field]), yscale(r[yc.field]), r])
      .filter(([px, py]) => px !== null && py !== null && isFinite(px) && isFinite(py));
    if (kind !== "point") pts.sort((a, b) => xs.order(a[2]) - xs.order(b[2]));
    if (kind === "area" && pts.length) {
      const d = "M" + pts.map(([px, py]) => px.toFixed(1) + " " + py.toFixed(1)).join("L")
        + "L" + pts[pts.length - 1][0].toFixed(1) + " " + base.toFixed(1) + "L" + pts[0][0].toFixed(1) + " " + base.toFixed(1) + "Z";
      marks.append(svg("path", { d, fill, "fill-opacity": opacity ?? (series.size > 1 ? 0.3 : 0.55), class: "vl-area", "data-testid": "vl-area" }));
    }
    if (kind !== "point" && pts.length > 1) {
      const d = "M" + pts.map(([px, py]) => px.toFixed(1) + " " + py.toFixed(1)).join("L");
      marks.append(svg("path", { d, fill: "none", stroke: fill, "stroke-width": 2, "stroke-linejoin": "round", class: "vl-line", "data-testid": "vl-line" }));
    }
    const dots = kind === "point" || markProp(mark, "point") || pts.length <= 60;
    pts.forEach(([px, py, r]) => {
      const dot = svg("circle", {
        cx: px.toFixed(1), cy: py.toFixed(1), r: kind === "point" ? 4 : dots ? 3 : 6,
        fill: kind === "point" ? fill : dots ? pageTheme().surface : "transparent",
        "fill-opacity": kind === "point" ? (opacity ?? 0.75) : 1,
        stroke: kind === "point" ? "none" : dots ? fill : "none", "stroke-width": 1.5,
        class: "vl-mark vl-point", "data-testid": "vl-point",
      });
      ctx.tip.bind(dot, r);
      points.push(dot);
    });
  });
  points.forEach((p) => marks.append(p));
  root.append(grid, svg("line", { x1: plot.l, x2: plot.r, y1: plot.b, y2: plot.b, stroke: theme.domain }), marks, axis,
    axisTitle(14, (plot.t + plot.b) / 2, yc.title, theme, true),
    axisTitle((plot.l + plot.r) / 2, H - 8, xc.title, theme));
  return { root, count: points.length, legend: legend(colorCh, color, formatterFor(colorCh, [])) };
}

/** A pie (a donut with the mark's innerRadius): theta sizes the slices, color names them. */
function drawArc(ctx) {
  const { enc, rows, theme, W, mark } = ctx;
  const theta = channel(enc, "theta");
  const colorCh = channel(enc, "color");
  if (!theta) return null;
  const color = colorScale(rows, colorCh, enc, theme) || (() => theme.mark);
  const size = Math.min(H, W);
  const root = svg("svg", { class: "vl-svg", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  if (theme.background) root.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: theme.background }));
  const cx = W / 2;
  const cy = H / 2;
  const R = size / 2 - 14;
  const inner = Math.min(R - 10, Number(markProp(mark, "innerRadius")) || 0);
  const ordered = colorCh ? domainOf(rows, colorCh, enc).map((k) => rows.find((r) => keyOf(r[colorCh.field]) === keyOf(k))) : rows;
  const total = ordered.reduce((s, r) => s + Math.max(0, Number(r[theta.field]) || 0), 0) || 1;
  const marks = svg("g", { class: "vl-marks" });
  let a0 = 0;
  ordered.forEach((r) => {
    const v = Math.max(0, Number(r[theta.field]) || 0);
    const a1 = a0 + (v / total) * Math.PI * 2;
    const p = (a, rad) => [cx + rad * Math.sin(a), cy - rad * Math.cos(a)];
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const [x0, y0] = p(a0, R);
    const [x1, y1] = p(a1 - (a1 - a0 >= Math.PI * 2 ? 1e-4 : 0), R);
    let d = "M" + x0 + " " + y0 + "A" + R + " " + R + " 0 " + large + " 1 " + x1 + " " + y1;
    if (inner > 0) {
      const [x2, y2] = p(a1 - (a1 - a0 >= Math.PI * 2 ? 1e-4 : 0), inner);
      const [x3, y3] = p(a0, inner);
      d += "L" + x2 + " " + y2 + "A" + inner + " " + inner + " 0 " + large + " 0 " + x3 + " " + y3 + "Z";
    } else {
      d += "L" + cx + " " + cy + "Z";
    }
    const slice = svg("path", { d, fill: colorCh ? color(r[colorCh.field]) : theme.mark, stroke: theme.background || pageTheme().surface, "stroke-width": 1.5, class: "vl-mark vl-arc", "data-testid": "vl-arc" });
    ctx.tip.bind(slice, r);
    marks.append(slice);
    a0 = a1;
  });
  root.append(marks);
  const fmtShare = (k) => {
    const r = ordered.find((row) => keyOf(row[colorCh.field]) === keyOf(k));
    const share = r ? (Math.max(0, Number(r[theta.field]) || 0) / total) * 100 : 0;
    return String(k) + " · " + share.toLocaleString(undefined, { maximumFractionDigits: 1 }) + "%";
  };
  return { root, count: marks.childNodes.length, legend: colorCh ? legend(colorCh, color, fmtShare) : null };
}

/** One number, large, with what it is: the text mark's field, and the caption layer's text when there is one. */
function drawNumber(ctx, caption) {
  const { enc, rows } = ctx;
  const first = rows[0] || {};
  const text = channel(enc, "text") || { field: Object.keys(first).find((k) => typeof first[k] === "number") || Object.keys(first)[0], type: "quantitative", title: "" };
  if (!text.field || !rows.length) return null;
  const value = first[text.field];
  const fmt = typeof value === "number" ? formatterFor(Object.assign({}, text, { type: "quantitative" }), []) : (v) => String(v ?? "–");
  const label = caption || text.title || text.field;
  return {
    root: h("div", { class: "vl-number", "data-testid": "vl-number", role: "img", "aria-label": label + ": " + fmt(value) },
      h("div", { class: "vl-number-value", "data-testid": "vl-number-value" }, fmt(value)),
      h("div", { class: "vl-number-label" }, label)),
    count: 1,
    legend: null,
  };
}

const KIND_NAMES = { bar: "Bar chart", line: "Line chart", area: "Area chart", point: "Scatter plot", arc: "Pie chart", number: "Number" };

/**
 * Draw `spec` into `box` (emptied first). Answers {kind, count}: the kind of mark drawn
 * ("bar", "line", "area", "point", "arc", "number") and how many marks, or kind
 * "table" when the spec is a listing (the page shows the rows instead) and
 * "unsupported" for marks this renderer does not draw.
 */
export function drawSpec(box, spec, opts) {
  clear(box);
  box.classList.remove("vl-themed");
  box.style.background = "";
  const view = unitOf(spec || {});
  const enc = view.encoding || {};
  const values = view.data && Array.isArray(view.data.values) ? view.data.values : [];
  let kind = markType(view.mark);
  if (kind === "circle" || kind === "square" || kind === "tick") kind = "point";
  const usermeta = (spec && spec.usermeta) || {};
  if ((opts && opts.chartType === "table") || usermeta.render === "table") return { kind: "table", count: 0 };
  if (kind === "text") kind = channel(enc, "x") || channel(enc, "y") ? "table" : "number";
  if (kind === "table") return { kind, count: 0 };
  const rows = transformed(values, view.transform);
  if (!rows || !["bar", "line", "area", "point", "arc", "number"].includes(kind)) return { kind: "unsupported", count: 0 };
  const theme = themeOf(spec);
  const width = Math.max(320, Math.floor(box.clientWidth || (opts && opts.width) || 720));
  const tooltip = tooltipFields(spec, enc, rows);
  const fmts = {};
  tooltip.forEach((f) => { fmts[f.field] = formatterFor(f, rows.map((r) => r[f.field])); });
  const ctx = { enc, rows, theme, W: width, x: channel(enc, "x"), y: channel(enc, "y"), mark: view.mark, tip: null };
  const frame = h("div", { class: "vl-frame" });
  box.append(frame);
  ctx.tip = tipper(frame, tooltip, fmts);
  let out = null;
  if (!rows.length) out = null;
  else if (kind === "bar") out = drawBars(ctx);
  else if (kind === "arc") out = drawArc(ctx);
  else if (kind === "number") out = drawNumber(ctx, captionOf(spec));
  else out = drawXY(ctx, kind);
  if (!out) {
    clear(box).append(h("p", { class: "muted vl-empty" }, rows.length ? "This answer has nothing to draw." : "No rows: nothing to draw."));
    return { kind, count: 0 };
  }
  const title = titleText(view.title);
  if (out.root.tagName.toLowerCase() === "svg") {
    const x = ctx.x ? ctx.x.title : "";
    const y = ctx.y ? ctx.y.title : "";
    out.root.setAttribute("aria-label", (KIND_NAMES[kind] || "Chart") + (title ? ": " + title : "") +
      (x && y ? " (" + y + " by " + x + ")" : "") + ", " + out.count + (kind === "bar" ? " bars" : kind === "arc" ? " slices" : " points"));
    out.root.setAttribute("data-testid", "vl-chart");
  }
  out.root.dataset.kind = kind;
  frame.prepend(out.root);
  if (title && kind !== "number") {
    const heading = h("div", { class: "vl-title", "data-testid": "vl-title" }, title);
    if (theme.heading) heading.style.color = theme.heading;
    box.prepend(heading);
  }
  if (out.legend) {
    if (theme.legend) out.legend.style.color = theme.legend;
    box.append(out.legend);
    paintSwatches(out.legend);
  }
  // A dark theme paints the whole chart, title and legend included.
  const dark = theme.background && !/^#f{3}(f{3})?$/i.test(theme.background);
  box.classList.toggle("vl-themed", !!dark);
  if (dark) box.style.background = theme.background;
  return { kind, count: out.count };
}

/** The big number's caption: the text of a layer that shows a constant value. */
function captionOf(spec) {
  const layer = (spec.layer || []).find((l) => l.encoding && l.encoding.text && l.encoding.text.value !== undefined);
  return layer ? String(layer.encoding.text.value) : "";
}

/**
 * The chart drawn in `box` as a standalone SVG document (its title above and its
 * legend below, as drawn), for export; null when the box holds no SVG (a number card).
 */
export function svgOf(box) {
  const plot = box.querySelector("svg.vl-svg");
  if (!plot) return null;
  const width = Number(plot.getAttribute("width"));
  const title = box.querySelector(".vl-title");
  const keys = Array.from(box.querySelectorAll(".vl-key"));
  const top = title ? 30 : 0;
  const rows = [];
  let x = 0;
  keys.forEach((k) => {
    const label = k.textContent;
    const w = 22 + textWidth(label, 12);
    if (x + w > width && x > 0) { rows.push([]); x = 0; }
    if (!rows.length) rows.push([]);
    rows[rows.length - 1].push([x, label, k.querySelector(".vl-swatch").dataset.color]);
    x += w + 10;
  });
  const height = top + Number(plot.getAttribute("height")) + rows.length * 20 + (rows.length ? 10 : 0);
  const background = box.style.background || "#ffffff";
  const doc = svg("svg", {
    xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: "0 0 " + width + " " + height,
    "font-family": "system-ui, -apple-system, 'Segoe UI', sans-serif",
  }, svg("rect", { width, height, fill: background }));
  if (title) doc.append(svg("text", { x: 0, y: 18, "font-size": 14, "font-weight": 600, fill: title.style.color || "#1b2130" }, title.textContent));
  const body = plot.cloneNode(true);
  body.setAttribute("y", top);
  doc.append(body);
  const legend = box.querySelector(".vl-legend");
  const legendColor = (legend && legend.style.color) || "#475467";
  rows.forEach((row, i) => row.forEach(([kx, label, color]) => {
    const y = top + Number(plot.getAttribute("height")) + 14 + i * 20;
    doc.append(svg("rect", { x: kx, y: y - 9, width: 10, height: 10, rx: 3, fill: color }),
      svg("text", { x: kx + 16, y, "font-size": 12, fill: legendColor }, label));
  }));
  return new XMLSerializer().serializeToString(doc);
}
