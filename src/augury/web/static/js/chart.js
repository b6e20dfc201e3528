/* One metric's chart, drawn here in SVG: its series, learned band, anomalies, events,
 * forecasts and fired alerts, with axes, a hover tip and a legend.
 *
 * Drawn by hand rather than by a library so the UI needs nothing beyond augury.
 */

import { $, $$, append, clear, h, show, svg } from "./dom.js";
import { compactFmt, dateFmt, dayFmt, fmtCount, fmtNum, fmtTime, fmtValue, hmFmt, hmsFmt, isoOf, known, monthFmt, zoneOffset } from "./format.js";

export const RESOLUTION_SECONDS = { "1m": 60, "5m": 300, "1h": 3600, "1d": 86400 };

/** 1, 2 or 5 times a power of ten, near span / count. */
function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function valueTicks(lo, hi, count) {
  if (hi <= lo) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  const fmt = (v) => (Math.abs(v) >= 1e4 ? compactFmt.format(v)
    : v.toLocaleString(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }));
  return { lo: first, hi: last, ticks, fmt };
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
  86400, 2 * 86400, 7 * 86400, 14 * 86400];

/** Ticks on [t0, t1] (epoch s) at round local times, about one per 110 pixels of `width`. */
function timeTicks(t0, t1, width) {
  const want = Math.max(2, Math.floor(width / 110));
  const span = t1 - t0;
  const step = TIME_STEPS.find((s) => span / s <= want);
  const ticks = [];
  if (step && step < 86400) {
    // Round in the viewer's time zone (their preference): 00:00, 06:00 ... there.
    const off = zoneOffset(t0);
    for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1; t += step) ticks.push(t);
    return { ticks, step, label: (t, prev) => {
      const d = new Date(t * 1000);
      const time = (step < 60 ? hmsFmt : hmFmt).format(d);
      const newDay = prev === null || dayFmt.format(new Date(prev * 1000)) !== dayFmt.format(d);
      return [time, newDay ? dayFmt.format(d) : null];
    } };
  }
  if (step) {
    // Days or weeks from a midnight in the viewer's zone (its offset taken per tick, so
    // that a daylight-saving change keeps them at midnight).
    const midnight = (t) => Math.floor((t + zoneOffset(t)) / 86400) * 86400 - zoneOffset(t);
    let t = midnight(t0);
    while (t < t0) t = midnight(t + 86400 + 7200);
    for (; t <= t1; t = midnight(t + step + 7200)) ticks.push(t);
    return { ticks, step, label: (t) => [dayFmt.format(new Date(t * 1000)), null] };
  }
  // Months from the first of a month.
  const d = new Date(t0 * 1000);
  d.setHours(0, 0, 0, 0);
  const months = Math.max(1, Math.ceil(span / (30 * 86400) / want));
  d.setDate(1);
  while (d.getTime() / 1000 < t0) d.setMonth(d.getMonth() + 1);
  for (; d.getTime() / 1000 <= t1; d.setMonth(d.getMonth() + months)) ticks.push(d.getTime() / 1000);
  return { ticks, step: months * 30 * 86400, label: (t) => [monthFmt.format(new Date(t * 1000)), null] };
}

export const TIMESCALE_SECONDS = { native: 0, "1h": 3600, "1d": 86400 };
let chartSeq = 0;

/** Median spacing of ascending timestamps (Infinity for fewer than two). */
export function medianStep(ts) {
  const diffs = [];
  for (let i = 1; i < ts.length; i++) diffs.push(ts[i] - ts[i - 1]);
  diffs.sort((a, b) => a - b);
  return diffs.length ? diffs[Math.floor(diffs.length / 2)] : Infinity;
}

/**
 * Runs of point indexes to draw as one line: it breaks where a rollup misses a
 * bucket, or where native points are much further apart than usual.
 */
export function segmentsOf(ts, resolution) {
  const res = RESOLUTION_SECONDS[resolution];
  const gap = res ? res * 1.5 : Math.max(medianStep(ts) * 3, 1);
  const segments = [];
  for (let i = 0; i < ts.length; i++) {
    if (!i || ts[i] - ts[i - 1] > gap) segments.push([]);
    segments[segments.length - 1].push(i);
  }
  return segments;
}

export const r1 = (v) => Math.round(v * 10) / 10;

/** "M x y L x y ..." through the points of each segment; one M or L per point. */
export function linePath(segments, px, py) {
  return segments.map((seg) => seg.map((i, k) => (k ? "L" : "M") + r1(px(i)) + " " + r1(py(i))).join("")).join("");
}

/**
 * A closed area between `top(i)` and `bottom(i)` along each segment; points where
 * either is missing (null) break the area. Answers [path, points in the area].
 */
export function areaPath(segments, px, top, bottom) {
  let d = "";
  let points = 0;
  const close = (run) => {
    if (!run.length) return;
    d += run.map((i, k) => (k ? "L" : "M") + r1(px(i)) + " " + r1(top(i))).join("");
    d += run.slice().reverse().map((i) => "L" + r1(px(i)) + " " + r1(bottom(i))).join("") + "Z";
    points += run.length;
  };
  segments.forEach((seg) => {
    let run = [];
    seg.forEach((i) => {
      if (known(top(i)) && known(bottom(i))) {
        run.push(i);
      } else {
        close(run);
        run = [];
      }
    });
    close(run);
  });
  return [d, points];
}

/**
 * The time an anomaly covers on a chart, in epoch s: its points, widened by half the
 * spacing of native points (so a one-point anomaly shows), or its rollup buckets.
 */
export function anomalySpan(a, nativeStep) {
  const bucket = TIMESCALE_SECONDS[a.timescale];
  if (bucket) return [a.start, a.end + bucket];
  const half = isFinite(nativeStep) ? nativeStep / 2 : 0;
  return [a.start - half, a.end + half];
}

/** The lowest and highest value a chart must show: values, min–max, learned band. */
export function valueRange(s) {
  const n = s.timestamps.length;
  const lows = s.min || s.values;
  const highs = s.max || s.values;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, lows[i]);
    hi = Math.max(hi, highs[i]);
  }
  if (s.lower && s.upper && n) {
    // The band widens the value axis, but by half the values' range at most: a band
    // still wide from learning must not flatten the line.
    const pad = Math.max(hi - lo, Math.abs(hi) * 0.02, 1e-9) * 0.5;
    let blo = Infinity;
    let bhi = -Infinity;
    for (let i = 0; i < n; i++) {
      if (known(s.lower[i])) blo = Math.min(blo, s.lower[i]);
      if (known(s.upper[i])) bhi = Math.max(bhi, s.upper[i]);
    }
    if (isFinite(blo)) lo = Math.min(lo, Math.max(blo, lo - pad));
    if (isFinite(bhi)) hi = Math.max(hi, Math.min(bhi, hi + pad));
  }
  return [lo, hi];
}

/** Index of the timestamp in ascending `arr` nearest to `t` (arr not empty). */
function nearestIndex(arr, t) {
  let a = 0;
  let b = arr.length - 1;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (arr[m] < t) a = m;
    else b = m;
  }
  return Math.abs(arr[a] - t) <= Math.abs(arr[b] - t) ? a : b;
}

/** [lo, hi] widened to hold a forecast's line and every interval. */
function forecastRange(fc, range) {
  let [lo, hi] = range;
  const take = (arr) => (arr || []).forEach((v) => {
    if (known(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  });
  take(fc.mean);
  fc.levels.forEach((b) => { take(b.lower); take(b.upper); });
  return [lo, hi];
}

/** Opacity of each band, widest first: together they darken towards the centre. */
function bandOpacities(count) {
  return Array.from({ length: count }, (_, k) => (count > 1 ? Math.round(100 * (0.1 + (0.14 * k) / (count - 1))) / 100 : 0.16));
}

/** How opaque the k-th band (widest first) looks where it lies over the wider ones. */
export function bandLook(count, k) {
  return 1 - bandOpacities(count).slice(0, k + 1).reduce((left, a) => left * (1 - a), 1);
}

export function fmtLevel(level) {
  return fmtNum(level, Number(level) % 1 ? 1 : 0) + "\u00a0%"; // "95 %", never broken
}

function drawForecastBands(plot, fc, bands, x, y) {
  const fts = fc.timestamps;
  const seg = [fts.map((_, i) => i)];
  const alphas = bandOpacities(bands.length);
  bands.forEach((b, k) => {
    const top = (i) => (known(b.upper[i]) ? y(b.upper[i]) : null);
    const bottom = (i) => (known(b.lower[i]) ? y(b.lower[i]) : null);
    const attrs = { class: "forecast-band", "data-testid": "chart-forecast-band", "data-level": b.key, "fill-opacity": alphas[k] };
    if (fts.length === 1) {
      // One step ahead: an error bar rather than an area without width.
      const ok = top(0) !== null && bottom(0) !== null;
      plot.append(svg("rect", { ...attrs, x: r1(x(fts[0]) - 5), width: 10, y: ok ? r1(top(0)) : 0,
        height: ok ? r1(Math.max(0, bottom(0) - top(0))) : 0, "data-points": ok ? 1 : 0 }));
      return;
    }
    const [d, points] = areaPath(seg, (i) => x(fts[i]), top, bottom);
    plot.append(svg("path", { ...attrs, d, "data-points": points }));
  });
}

/** The forecast's line (one point per step), joined to the last point of history before it. */
function drawForecastLine(plot, fc, x, y, dots, hist) {
  const fts = fc.timestamps;
  if (hist && known(fc.origin)) {
    let j = -1;
    for (let k = 0; k < hist.ts.length && hist.ts[k] <= fc.origin; k++) j = k;
    if (j >= 0 && fc.origin - hist.ts[j] <= Math.max(fts[0] - fc.origin, 0) * 1.5) {
      plot.append(svg("path", {
        d: "M" + r1(x(hist.ts[j])) + " " + r1(y(hist.vs[j])) + "L" + r1(x(fts[0])) + " " + r1(y(fc.mean[0])),
        class: "forecast-link",
      }));
    }
  }
  plot.append(svg("path", {
    d: linePath([fts.map((_, i) => i)], (i) => x(fts[i]), (i) => y(fc.mean[i])), class: "forecast-line",
    "data-testid": "chart-forecast-line", "data-points": fts.length,
  }));
  if (dots || fts.length === 1) {
    plot.append(svg("g", { class: "forecast-dots" },
      ...fts.map((t, i) => svg("circle", { cx: r1(x(t)), cy: r1(y(fc.mean[i])), r: 2.5 }))));
  }
}

const EVENT_TYPE_TEXT = { display: "event", influence: "influencing event", suppress: "suppress event" };

/** What a marker's <title> says about an event: title, kind, time, and what it holds. */
function eventText(e) {
  const when = known(e.end) && e.end > e.start
    ? dateFmt.format(new Date(e.start * 1000)) + " – " + dateFmt.format(new Date(e.end * 1000))
    : dateFmt.format(new Date(e.start * 1000)) + (e.type === "suppress" && !known(e.end) ? " – (ongoing)" : "");
  const props = Object.entries(e.properties || {}).map(([k, v]) => k + "=" + v).join(", ");
  return [
    e.title,
    (EVENT_TYPE_TEXT[e.type] || e.type) + " · " + e.category + " · " + e.source,
    when,
    e.type === "suppress" ? "Alert messages held" + (props ? " for " + props : "") : props,
    e.description || "",
  ].filter(Boolean).join("\n");
}

/**
 * Draw a timeseries answer into `box` as an SVG chart: value axis, time axis, the line,
 * the min–max band of rollups, the learned normal band (lower–upper) where the answer
 * has one, shaded anomaly intervals and a tooltip on hover. Options:
 * - onZoom(from, to): drag across the chart to zoom (epoch s);
 * - anomalies: [{start, end, timescale, anomaly_id, peak_score, direction}] to shade;
 * - onAnomaly(a): a click on a shaded interval;
 * - peak: {ts, value} to mark;
 * - forecast: {origin, step, timestamps, mean, levels: [{key, level, lower, upper}]}, drawn
 *   after the series: a dashed line, a band per confidence level (the wider, the lighter)
 *   and a mark where it starts;
 * - events: user events [{id, title, category, source, type, start, end}] (GET /events): a
 *   dashed line with a flag at its start (its title shows on hover), and a shaded band
 *   over its span when it has one; suppress events are hatched.
 * - fired: [{start, end, label}] when an alert fired (or would have): a bell-coloured line
 *   with a marker at its start and a light band to its end.
 */
export function drawSeries(box, s, opts) {
  const o = opts || {};
  $$("svg", box).forEach((el) => el.remove());
  const tip = $(".chart-tip", box);
  show(tip, false);
  const W = Math.max(320, box.clientWidth);
  const H = Math.max(160, box.clientHeight);
  const evs = o.events || [];
  // Events put their flags above the plot: room for them there.
  const M = { l: 64, r: 18, t: evs.length ? 26 : 14, b: 40 };
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const ts = s.timestamps;
  const vs = s.values;
  const band = !!(s.min && s.max);
  const learned = !!(s.lower && s.upper);
  const n = ts.length;
  // Native points: an anomaly widens by half their spacing (rollups: see anomalySpan).
  const nativeStep = RESOLUTION_SECONDS[s.resolution] ? Infinity : medianStep(ts);
  const fc = o.forecast && o.forecast.timestamps && o.forecast.timestamps.length ? o.forecast : null;
  const fts = fc ? fc.timestamps : [];
  const fn = fts.length;
  // Widest level first: each band is drawn over the wider ones.
  const fbands = fc ? fc.levels.slice().sort((a, b) => b.level - a.level) : [];

  const t0 = Math.min(s.start, n ? ts[0] : s.start);
  const t1 = Math.max(s.end, fn ? fts[fn - 1] : s.end);
  const [lo, hi] = fc ? forecastRange(fc, valueRange(s)) : valueRange(s);
  const yv = valueTicks(lo, hi, Math.max(3, Math.floor(ph / 56)));
  const x = (t) => M.l + ((t - t0) / (t1 - t0)) * pw;
  const y = (v) => M.t + ph - ((v - yv.lo) / (yv.hi - yv.lo)) * ph;
  const tOf = (px) => t0 + ((Math.min(Math.max(px, M.l), M.l + pw) - M.l) / pw) * (t1 - t0);
  const px = (i) => x(ts[i]);
  const segments = segmentsOf(ts, s.resolution);

  // Anomalies as pixel intervals, at least 6 px wide so that a one-point one shows.
  const spans = (o.anomalies || []).map((a) => {
    const [from, to] = anomalySpan(a, nativeStep);
    let a0 = x(from);
    let a1 = x(to);
    if (a1 - a0 < 6) {
      const mid = (a0 + a1) / 2;
      a0 = mid - 3;
      a1 = mid + 3;
    }
    return { a, from, to, x0: Math.max(M.l, a0), x1: Math.min(M.l + pw, a1) };
  }).filter((sp) => sp.x1 > sp.x0);

  // Events as pixels: a line at the start, a band to the end (an open suppress event
  // lasts to the right edge). Those wholly outside the range are not drawn.
  const eventMarks = evs.map((e) => {
    const ranged = known(e.end) ? e.end > e.start : e.type === "suppress";
    const end = known(e.end) ? e.end : ranged ? t1 : e.start;
    if (end < t0 || e.start > t1) return null;
    return { e, ranged, xs: x(Math.max(e.start, t0)), xe: x(Math.min(end, t1)), atStart: e.start >= t0 };
  }).filter(Boolean);

  // Alert times as pixels: a line at the start, a band to the end, within the range.
  const firedMarks = (o.fired || []).map((f) => {
    const end = known(f.end) ? Math.max(f.end, f.start) : f.start;
    if (end < t0 || f.start > t1) return null;
    return { f, xs: x(Math.max(f.start, t0)), xe: x(Math.min(end, t1)), atStart: f.start >= t0 };
  }).filter(Boolean);

  const root = svg("svg", {
    width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img",
    "aria-label": s.name + ": " + n + " points at resolution " + s.resolution,
    "data-testid": "chart-svg", "data-points": n, "data-resolution": s.resolution, "data-band": String(band),
    "data-learned": String(learned), "data-anomalies": spans.length,
    "data-forecast-points": fc ? fn : null, "data-forecast-levels": fc ? fbands.map((b) => b.key).join(",") : null,
    "data-events": eventMarks.length, "data-fired": firedMarks.length,
  });
  if (fc) root.setAttribute("aria-label", root.getAttribute("aria-label") + ", then " + fn + " forecast points");
  const clipId = "plot-clip-" + ++chartSeq;
  root.append(svg("defs", {}, svg("clipPath", { id: clipId },
    svg("rect", { x: M.l, y: M.t - 2, width: pw, height: ph + 4 }))));

  const shading = svg("g", { class: "anomaly-spans" });
  spans.forEach((sp) => {
    const attrs = {
      "data-anomaly-id": sp.a.anomaly_id, "data-start": sp.a.start, "data-end": sp.a.end,
    };
    shading.append(
      svg("rect", { x: r1(sp.x0), y: M.t, width: r1(sp.x1 - sp.x0), height: ph, class: "anomaly-span",
        "data-testid": "chart-anomaly", ...attrs }),
      svg("rect", { x: r1(sp.x0), y: M.t, width: r1(sp.x1 - sp.x0), height: 3, class: "anomaly-mark" }));
  });
  root.append(shading);
  if (firedMarks.length) {
    const bands = svg("g", { class: "fired-bands" });
    firedMarks.forEach((m) => bands.append(svg("rect", {
      x: r1(m.xs), y: M.t, width: r1(Math.max(1, m.xe - m.xs)), height: ph, class: "fired-band",
    })));
    root.append(bands);
  }
  if (eventMarks.length) {
    const bands = svg("g", { class: "event-bands" });
    eventMarks.filter((m) => m.ranged).forEach((m) => bands.append(svg("rect", {
      x: r1(m.xs), y: M.t, width: r1(Math.max(1, m.xe - m.xs)), height: ph,
      class: "event-band event-" + m.e.type, "data-testid": "chart-event-band", "data-event-id": m.e.id,
    })));
    if (eventMarks.some((m) => m.ranged && m.e.type === "suppress")) {
      root.querySelector("defs").append(svg("pattern", {
        id: clipId + "-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)",
      }, svg("rect", { width: 6, height: 6, class: "hatch-bg" }), svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" })));
      $$(".event-suppress", bands).forEach((r) => { r.style.fill = "url(#" + clipId + "-hatch)"; });
    }
    root.append(bands);
  }

  const grid = svg("g", { class: "grid" });
  const axis = svg("g", { class: "axis" });
  yv.ticks.forEach((v) => {
    const yy = r1(y(v)) + 0.5;
    grid.append(svg("line", { x1: M.l, x2: M.l + pw, y1: yy, y2: yy }));
    axis.append(svg("text", { x: M.l - 8, y: yy + 4, "text-anchor": "end" }, yv.fmt(v)));
  });
  const tt = timeTicks(t0, t1, pw);
  let prev = null;
  tt.ticks.forEach((t) => {
    const xx = r1(x(t)) + 0.5;
    if (xx < M.l - 0.5 || xx > M.l + pw + 0.5) return;
    grid.append(svg("line", { x1: xx, x2: xx, y1: M.t, y2: M.t + ph, class: "grid-v" }));
    const [line1, line2] = tt.label(t, prev);
    prev = t;
    const label = svg("text", { x: xx, y: M.t + ph + 16, "text-anchor": "middle" }, line1);
    axis.append(label);
    if (line2) axis.append(svg("text", { x: xx, y: M.t + ph + 31, "text-anchor": "middle", class: "axis-day" }, line2));
  });
  axis.append(svg("line", { x1: M.l, x2: M.l + pw, y1: M.t + ph + 0.5, y2: M.t + ph + 0.5, class: "axis-line" }));
  root.append(grid, axis);

  const plot = svg("g", { "clip-path": "url(#" + clipId + ")" });
  if (learned) {
    const [d, points] = areaPath(segments, px, (i) => (known(s.upper[i]) ? y(s.upper[i]) : null),
      (i) => (known(s.lower[i]) ? y(s.lower[i]) : null));
    plot.append(svg("path", { d, class: "learned-band", "data-testid": "chart-learned-band", "data-points": points }));
    if (s.expected) {
      const runs = [];
      segments.forEach((seg) => {
        let run = [];
        seg.forEach((i) => {
          if (known(s.expected[i])) run.push(i);
          else if (run.length) { runs.push(run); run = []; }
        });
        if (run.length) runs.push(run);
      });
      plot.append(svg("path", {
        d: linePath(runs, px, (i) => y(s.expected[i])), class: "learned-expected", "data-testid": "chart-expected",
      }));
    }
  }
  if (band) {
    const [d] = areaPath(segments, px, (i) => y(s.max[i]), (i) => y(s.min[i]));
    plot.append(svg("path", { d, class: "series-band", "data-testid": "chart-band" }));
  }
  if (fc) drawForecastBands(plot, fc, fbands, x, y);
  // The metric's newest bucket while it fills holds part of its period (a counter's
  // hour reads low): drawn dashed and hollow, apart from the complete ones.
  const partial = !!s.partial && n > 0;
  const whole = partial
    ? segments.map((seg) => seg.filter((i) => i !== n - 1)).filter((seg) => seg.length)
    : segments;
  plot.append(svg("path", { d: linePath(whole, px, (i) => y(vs[i])), class: "series-line", "data-testid": "chart-line" }));
  if (partial) {
    const last = segments.find((seg) => seg.includes(n - 1));
    const mark = svg("g", { class: "series-partial", "data-testid": "chart-partial", "data-ts": ts[n - 1] });
    if (last && last.length > 1) {
      mark.append(svg("path", { d: linePath([[n - 2, n - 1]], px, (i) => y(vs[i])), class: "partial-line" }));
    }
    mark.append(svg("circle", { cx: r1(px(n - 1)), cy: r1(y(vs[n - 1])), r: 3.5, class: "partial-dot" },
      svg("title", {}, "Still filling: part of its " + s.resolution)));
    plot.append(mark);
  }
  // Dots on the forecast too when it has only a few points.
  if (fc) drawForecastLine(plot, fc, x, y, fn <= 12 && fn <= pw / 8, n ? { ts, vs } : null);
  // Points stand out when there are few; a lone point has no line to show it.
  const dots = svg("g", { class: "series-dots" });
  segments.forEach((seg) => {
    if (seg.length === 1 || n <= pw / 8) {
      seg.forEach((i) => dots.append(svg("circle", { cx: r1(px(i)), cy: r1(y(vs[i])), r: 2.5 })));
    }
  });
  plot.append(dots);
  // The points inside an anomaly, in the anomaly colour.
  const hot = svg("g", { class: "anomaly-dots" });
  let hotCount = 0;
  spans.forEach((sp) => {
    for (let i = 0; i < n && hotCount < 500; i++) {
      if (ts[i] >= sp.a.start && ts[i] <= sp.a.end) {
        hot.append(svg("circle", { cx: r1(px(i)), cy: r1(y(vs[i])), r: 3 }));
        hotCount++;
      }
    }
  });
  plot.append(hot);
  if (o.peak && known(o.peak.ts) && known(o.peak.value)) {
    plot.append(svg("circle", {
      cx: r1(x(o.peak.ts)), cy: r1(y(o.peak.value)), r: 5.5, class: "peak-dot", "data-testid": "chart-peak",
      "data-ts": o.peak.ts,
    }));
  }
  root.append(plot);
  if (firedMarks.length) {
    const marks = svg("g", { class: "fired-marks" });
    firedMarks.forEach((m) => {
      const fx = r1(m.xs) + 0.5;
      const g = svg("g", {
        class: "fired-marker", "data-testid": "chart-fired", "data-start": m.f.start, "data-end": known(m.f.end) ? m.f.end : null,
      }, svg("title", {}, (m.f.label || "Fired") + "\n" + dateFmt.format(new Date(m.f.start * 1000))));
      if (m.atStart) {
        g.append(
          svg("line", { x1: fx, x2: fx, y1: M.t, y2: M.t + ph, class: "fired-line" }),
          svg("path", { d: "M" + (fx - 5) + " " + M.t + "h10l-5 7z", class: "fired-head" }));
      }
      marks.append(g);
    });
    root.append(marks);
  }
  if (fc && known(fc.origin) && fc.origin >= t0) {
    const ox = r1(x(fc.origin)) + 0.5;
    root.append(svg("g", { class: "forecast-origin", "data-testid": "chart-forecast-origin", "data-ts": fc.origin },
      svg("line", { x1: ox, x2: ox, y1: M.t, y2: M.t + ph }),
      svg("text", { x: ox + 6, y: M.t + 11 }, "forecast")));
  }

  const hover = svg("g", { class: "hover", visibility: "hidden" },
    svg("line", { y1: M.t, y2: M.t + ph, class: "hover-line" }),
    svg("circle", { r: 4, class: "hover-dot" }));
  const selection = svg("rect", { y: M.t, height: ph, class: "selection", visibility: "hidden", "data-testid": "chart-selection" });
  const overlay = svg("rect", {
    x: M.l, y: M.t, width: pw, height: ph, class: "overlay" + (o.onZoom ? " zoomable" : ""), "data-testid": "chart-overlay",
  });
  root.append(hover, selection, overlay);
  // Event markers over the overlay, so that hovering one shows its title (SVG <title>).
  if (eventMarks.length) {
    const marks = svg("g", { class: "event-marks" });
    const flag = (ex) => "M" + ex + " " + (M.t - 14) + "h11l-3 4.5 3 4.5h-11z";
    eventMarks.forEach((m) => {
      const ex = r1(m.xs) + 0.5;
      const g = svg("g", {
        class: "event-marker event-" + m.e.type, "data-testid": "chart-event", "data-event-id": m.e.id,
        "data-type": m.e.type, "data-start": m.e.start,
      }, svg("title", {}, eventText(m.e)));
      if (m.atStart) {
        g.append(
          svg("line", { x1: ex, x2: ex, y1: M.t - 14, y2: M.t + ph, class: "event-line" }),
          svg("line", { x1: ex, x2: ex, y1: M.t - 14, y2: M.t + ph, class: "event-hit" }),
          svg("path", { d: flag(ex), class: "event-flag" }));
      } else {
        // Started before the range: a flag at the left edge only.
        g.append(svg("path", { d: flag(ex), class: "event-flag" }));
      }
      marks.append(g);
    });
    root.append(marks);
  }
  box.append(root);

  const localX = (ev) => ev.clientX - root.getBoundingClientRect().left;
  const clampX = (p) => Math.min(Math.max(p, M.l), M.l + pw);
  const spanAt = (p) => spans.find((sp) => p >= sp.x0 && p <= sp.x1) || null;
  // The events under the pointer: within a band, or a few pixels from a line.
  const eventsAt = (p) => eventMarks.filter((m) => (m.ranged ? p >= m.xs - 3 && p <= m.xe + 3 : Math.abs(p - m.xs) <= 6));

  // Half the forecast's step: a point of the series this close to a forecast point is its actual.
  const fTol = fc ? (known(fc.step) ? fc.step : fn > 1 ? fts[1] - fts[0] : 0) / 2 : 0;

  function showHover(p) {
    if (!n && !fn) return;
    const t = tOf(p);
    let i = n ? nearestIndex(ts, t) : -1;
    let f = fn ? nearestIndex(fts, t) : -1;
    // The nearer of the two, and the other if it falls at the same time.
    if (f >= 0 && (i < 0 || Math.abs(fts[f] - t) < Math.abs(ts[i] - t))) {
      if (i >= 0 && Math.abs(ts[i] - fts[f]) > fTol) i = -1;
    } else if (f >= 0 && Math.abs(fts[f] - ts[i]) > fTol) {
      f = -1;
    }
    const hx = r1(x(i >= 0 ? ts[i] : fts[f]));
    const hy = r1(i >= 0 ? y(vs[i]) : y(fc.mean[f]));
    const sp = spanAt(p);
    overlay.classList.toggle("on-anomaly", !!(sp && o.onAnomaly));
    hover.setAttribute("visibility", "visible");
    hover.firstChild.setAttribute("x1", hx);
    hover.firstChild.setAttribute("x2", hx);
    hover.lastChild.setAttribute("cx", hx);
    hover.lastChild.setAttribute("cy", hy);
    const normal = i >= 0 && learned && known(s.lower[i]) && known(s.upper[i]);
    append(clear(tip), [
      h("div", { class: "tip-time" }, dateFmt.format(new Date((i >= 0 ? ts[i] : fts[f]) * 1000))),
      i >= 0 ? h("div", { class: "tip-value" }, fmtValue(vs[i])) : null,
      i >= 0 && band ? h("div", { class: "tip-extra" }, "min " + fmtValue(s.min[i]) + " · max " + fmtValue(s.max[i])
        + (s.count ? " · " + fmtCount(s.count[i]) + (s.count[i] === 1 ? " point" : " points") : "")) : null,
      f >= 0 ? h("div", { class: "tip-forecast" }, "forecast " + fmtValue(fc.mean[f])) : null,
      f >= 0 ? fbands.slice().reverse().map((b) => h("div", { class: "tip-extra" },
        fmtLevel(b.level) + ": " + fmtValue(b.lower[f]) + " – " + fmtValue(b.upper[f]))) : null,
      normal ? h("div", { class: "tip-extra" }, "normal " + fmtValue(s.lower[i]) + " – " + fmtValue(s.upper[i])
        + (s.scores && known(s.scores[i]) ? " · score " + Math.round(s.scores[i]) : "")) : null,
      sp ? h("div", { class: "tip-anomaly" }, "Anomaly" + (sp.a.anomaly_id ? " #" + sp.a.anomaly_id : "")
        + (known(sp.a.peak_score) ? " · score " + Math.round(sp.a.peak_score) : "")
        + (o.onAnomaly ? " · click to open" : "")) : null,
      firedMarks.filter((m) => p >= m.xs - 4 && p <= Math.max(m.xe, m.xs) + 4).slice(0, 1).map((m) => h("div", { class: "tip-fired" },
        (m.f.label || "Fired") + " " + fmtTime(isoOf(m.f.start)))),
      eventsAt(p).map((m) => h("div", { class: "tip-event" },
        (m.e.type === "suppress" ? "Suppressed: " : "Event: ") + m.e.title)),
    ]);
    show(tip, true);
    const left = hx + 12 + tip.offsetWidth > W ? hx - 12 - tip.offsetWidth : hx + 12;
    tip.style.left = left + "px";
    tip.style.top = Math.max(0, Math.min(hy - tip.offsetHeight - 10, H - tip.offsetHeight)) + "px";
  }

  function hideHover() {
    hover.setAttribute("visibility", "hidden");
    show(tip, false);
  }

  let drag = null;
  overlay.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    ev.preventDefault();
    drag = { from: clampX(localX(ev)) };
    overlay.setPointerCapture(ev.pointerId);
    if (o.onZoom) hideHover();
  });
  overlay.addEventListener("pointermove", (ev) => {
    const p = clampX(localX(ev));
    if (!drag || !o.onZoom) {
      showHover(p);
      return;
    }
    selection.setAttribute("visibility", "visible");
    selection.setAttribute("x", Math.min(drag.from, p));
    selection.setAttribute("width", Math.abs(p - drag.from));
  });
  const endDrag = (ev, apply) => {
    if (!drag) return;
    const a = drag.from;
    const b = clampX(localX(ev));
    drag = null;
    selection.setAttribute("visibility", "hidden");
    if (!apply) return;
    if (Math.abs(b - a) < 4) {
      // A click, not a drag: on a shaded anomaly, open it.
      const sp = spanAt(b);
      if (sp && o.onAnomaly) o.onAnomaly(sp.a);
      return;
    }
    if (!o.onZoom) return;
    const from = Math.floor(tOf(Math.min(a, b)));
    const to = Math.max(from + 1, Math.ceil(tOf(Math.max(a, b))));
    o.onZoom(from, to);
  };
  overlay.addEventListener("pointerup", (ev) => endDrag(ev, true));
  overlay.addEventListener("pointercancel", (ev) => endDrag(ev, false));
  overlay.addEventListener("pointerleave", () => { if (!drag) hideHover(); });
}
