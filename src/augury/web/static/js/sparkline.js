/* Small charts without axes: an anomaly's sparkline in a list row, and the
 * samples-a-minute bars of the last hour.
 */

import { clear, h, svg } from "./dom.js";
import { known } from "./format.js";
import { anomalySpan, areaPath, linePath, medianStep, r1, segmentsOf, valueRange } from "./chart.js";

/** Accepted (and refused, stacked) samples a minute over the last hour, as bars. */
export function drawIngest(box, perMinute) {
  clear(box);
  const nowMinute = Math.floor(Date.now() / 60000) * 60;
  const byMinute = new Map((perMinute || []).map((m) => [m.minute, m]));
  const bins = [];
  for (let i = 59; i >= 0; i--) {
    const m = byMinute.get(nowMinute - i * 60) || { accepted: 0, refused: 0 };
    bins.push(m);
  }
  const top = Math.max(1, ...bins.map((m) => m.accepted + m.refused));
  const W = 600;
  const H = 100;
  const bw = W / bins.length;
  const g = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img",
    "aria-label": "Samples a minute over the last hour" });
  g.append(svg("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: "ingest-base" }));
  bins.forEach((m, i) => {
    const ha = (H - 4) * m.accepted / top;
    const hr = (H - 4) * m.refused / top;
    const x = i * bw + bw * 0.15;
    if (m.accepted) g.append(svg("rect", { x, width: bw * 0.7, y: H - ha, height: ha, class: "ingest-accepted" }));
    if (m.refused) g.append(svg("rect", { x, width: bw * 0.7, y: H - ha - hr, height: hr, class: "ingest-refused" }));
  });
  box.append(g, h("div", { class: "ingest-axis" }, h("span", {}, "60 min ago"), h("span", {}, "now")));
}

/** A small chart of one metric around an anomaly: band, line, shaded interval, peak. */
export function drawSparkline(box, s, a, m) {
  clear(box);
  const n = s.timestamps.length;
  if (!n) {
    box.append(h("span", { class: "muted small" }, "no points"));
    return;
  }
  const W = 150;
  const H = 38;
  const P = 4;
  const ts = s.timestamps;
  let [lo, hi] = valueRange(s);
  if (hi <= lo) {
    lo -= 1;
    hi += 1;
  }
  const t0 = ts[0];
  const t1 = ts[n - 1] > t0 ? ts[n - 1] : t0 + 1;
  const x = (t) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
  const y = (v) => P + (H - 2 * P) * (1 - (v - lo) / (hi - lo));
  const px = (i) => x(ts[i]);
  const segments = segmentsOf(ts, s.resolution);
  const root = svg("svg", {
    width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "spark", role: "img",
    "aria-label": m.name + " around the anomaly", "data-testid": "sparkline-" + a.id, "data-points": n,
  });
  const [from, to] = anomalySpan({ start: m.start, end: m.end, timescale: a.timescale }, medianStep(ts));
  let a0 = x(Math.max(from, t0));
  let a1 = x(Math.min(to, t1));
  if (a1 - a0 < 3) {
    a0 = (a0 + a1) / 2 - 1.5;
    a1 = a0 + 3;
  }
  root.append(svg("rect", { x: r1(a0), y: 0, width: r1(a1 - a0), height: H, class: "anomaly-span" }));
  if (s.lower && s.upper) {
    const [d] = areaPath(segments, px, (i) => (known(s.upper[i]) ? y(s.upper[i]) : null),
      (i) => (known(s.lower[i]) ? y(s.lower[i]) : null));
    root.append(svg("path", { d, class: "learned-band" }));
  }
  root.append(svg("path", { d: linePath(segments, px, (i) => y(s.values[i])), class: "spark-line" }));
  if (known(m.peak_ts) && known(m.peak_value) && m.peak_ts >= t0 && m.peak_ts <= t1) {
    root.append(svg("circle", { cx: r1(x(m.peak_ts)), cy: r1(y(m.peak_value)), r: 2.75, class: "peak-dot" }));
  }
  box.append(root);
}
