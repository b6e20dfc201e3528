/* A dashboard's grid: tiles on 12 columns of rows ROW pixels high, each drawn from its
 * data (a saved chart with the Vega-Lite renderer, a metric with its band and
 * anomalies, a number, anomalies, a forecast, a note).
 *
 * Where the dashboard may be changed, a tile moves by its header and resizes by its
 * corner (pointer events, so mouse, pen and touch alike), or with the arrow keys (and
 * Shift) while its header has the focus. While it moves, the tiles in
 * its way step down below it, as they will be when it is dropped; on drop the page gets
 * the new layout to save. Nothing here calls the API: the page hands in how to fetch a
 * tile's data (its own route, or a share link's).
 */

import { $, append, clear, h } from "./dom.js";
import { drawSpec } from "./vega-lite-render.js";
import { drawSeries } from "./chart.js";
import { fmtTime, fmtValue, isoOf } from "./format.js";
import { markdown } from "./markdown.js";

const COLUMNS = 12;
const ROW = 76;
const GAP = 14;
const MAX_H = 24;
const PLACE = new Set(["x", "y", "w", "h"]);
const TYPE_NAMES = {
  chart: "Saved chart", metric: "Metric chart", anomalies: "Anomalies", forecast: "Forecast",
  number: "Number", markdown: "Note",
};

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Move every tile that overlaps `moved` down below it, then whatever those now overlap,
 * so that `moved` keeps its place and no two tiles share a cell.
 */
function settle(tiles, moved) {
  const queue = [moved];
  while (queue.length) {
    const t = queue.shift();
    tiles.forEach((o) => {
      if (o === t || o === moved || !overlaps(o, t)) return;
      o.y = t.y + t.h;
      while (overlaps(o, moved)) o.y = moved.y + moved.h;
      queue.push(o);
    });
  }
}

/** The title a tile shows: its own, else what its data names. */
function tileTitle(tile, data) {
  if (tile.title) return tile.title;
  if (data && data.title) return data.title;
  if (tile.type === "forecast" && data && data.name) return data.name;
  if (data && data.series && data.series.name) return data.series.name;
  if (tile.expression) return tile.expression;
  return TYPE_NAMES[tile.type] || tile.type;
}

/**
 * The grid in `root`. Options: editable (move, resize, remove), fetchData(tile) (a
 * promise of the tile's data), onLayout(tiles) (after a move or resize, to save),
 * onRemove(tile), onDownload(tile, data, box) (a chart or metric tile as a file),
 * linkAnomalies (open an anomaly on click).
 */
export function dashboardGrid(root, options) {
  const o = options || {};
  const cells = new Map();
  let tiles = [];

  const colWidth = () => (root.clientWidth + GAP) / COLUMNS;

  function place(el, t) {
    const c = colWidth();
    el.style.left = t.x * c + "px";
    el.style.top = t.y * ROW + "px";
    el.style.width = t.w * c - GAP + "px";
    el.style.height = t.h * ROW - GAP + "px";
  }

  function layout(except) {
    tiles.forEach((t) => { if (t !== except) place(cells.get(t.id).el, t); });
    const rows = tiles.reduce((m, t) => Math.max(m, t.y + t.h), 0);
    root.style.height = Math.max(rows, 3) * ROW + "px";
  }

  function message(body, text, testid) {
    clear(body).append(h("div", { class: "tile-empty", "data-testid": testid || null }, text));
  }

  function drawChart(body, data) {
    const answer = data.chart_data || {};
    const box = h("div", { class: "vl-chart tile-vl" });
    body.append(box);
    const drawn = drawSpec(box, answer.chart || {}, { chartType: answer.chart_type, width: body.clientWidth });
    if (drawn.kind === "table") {
      clear(box).append(h("div", { class: "table-wrap tile-table" }, h("table", { class: "table table-compact" },
        h("thead", {}, h("tr", {}, (answer.columns || []).map((c) => h("th", {}, c)))),
        h("tbody", {}, (answer.rows || []).slice(0, 200).map((r) => h("tr", {}, r.map((v) => h("td", {}, v === null ? "–" : String(v)))))))));
    }
    if (answer.error) body.append(h("p", { class: "tile-note" }, "Shown as saved: " + answer.error.message));
  }

  function drawLine(body, series, opts) {
    if (!series || !series.timestamps || !series.timestamps.length) {
      message(body, "No points in this range.", "tile-no-data");
      return;
    }
    const box = h("div", { class: "chart tile-series", "data-testid": "tile-series" }, h("div", { class: "chart-tip", hidden: true }));
    body.append(box);
    drawSeries(box, series, opts);
  }

  function draw(cell) {
    const { tile, body, data } = cell;
    clear(body);
    $(".tile-title", cell.el).textContent = tileTitle(tile, data);
    if (cell.error) { message(body, cell.error, "tile-error"); return; }
    if (!data) return;
    if (tile.type === "chart") drawChart(body, data);
    else if (tile.type === "metric") {
      if (!data.series) message(body, "No metric matches " + (data.expression || "this expression") + ".", "tile-no-data");
      else {
        const onAnomaly = o.linkAnomalies ? (a) => location.assign("/anomalies/" + a.anomaly_id) : null;
        drawLine(body, data.series, { anomalies: data.series.anomalies, onAnomaly });
        if (data.matched > 1) body.append(h("p", { class: "tile-note" }, "1 of " + data.matched + " matching metrics"));
      }
    } else if (tile.type === "forecast") {
      if (!data.forecast) message(body, "This forecast has no result yet.", "tile-no-data");
      else drawLine(body, data.series, { forecast: data.forecast });
    } else if (tile.type === "number") {
      body.append(h("div", { class: "tile-number" },
        h("div", { class: "tile-number-value", "data-testid": "tile-number" }, data.value === null || data.value === undefined ? "–" : fmtValue(data.value)),
        h("div", { class: "tile-number-label" }, data.name ? data.stat + " of " + data.name : "No metric matches")));
    } else if (tile.type === "anomalies") {
      const items = data.anomalies || [];
      if (!items.length) message(body, "No anomalies in this range.", "tile-no-data");
      else {
        body.append(h("ul", { class: "tile-list" }, items.map((a) => h("li", {},
          o.linkAnomalies ? h("a", { href: "/anomalies/" + a.anomaly_id, class: "strong" }, a.what) : h("span", { class: "strong" }, a.what),
          h("span", { class: "muted small" }, fmtTime(isoOf(a.start)) + " · score " + Math.round(a.peak_score))))));
      }
    } else {
      append(body, h("div", { class: "tile-markdown", "data-testid": "tile-markdown" }, markdown(data.text || "")));
    }
  }

  async function load(cell) {
    cell.el.classList.add("loading");
    try {
      cell.data = await o.fetchData(cell.tile);
      cell.error = null;
    } catch (err) {
      cell.error = err.message;
    }
    cell.el.classList.remove("loading");
    draw(cell);
  }

  function cellFor(tile) {
    const title = h("span", { class: "tile-title" }, tileTitle(tile, null));
    const head = h("div", { class: "tile-head" }, title);
    if (o.onDownload && (tile.type === "chart" || tile.type === "metric")) {
      const get = h("button", { type: "button", class: "tile-tool", "aria-label": "Download PNG", title: "Download PNG", "data-testid": "tile-download" }, "PNG");
      get.addEventListener("click", async () => {
        const cell = cells.get(tile.id);
        if (!cell.data || (tile.type === "metric" && !cell.data.series)) return;
        get.disabled = true;
        try {
          await o.onDownload(tile, cell.data, cell.body.getBoundingClientRect());
        } finally {
          get.disabled = false;
        }
      });
      head.append(get);
    }
    if (o.editable) {
      head.classList.add("tile-grab");
      const remove = h("button", { type: "button", class: "tile-remove", "aria-label": "Remove tile", title: "Remove tile", "data-testid": "tile-remove" }, "×");
      remove.addEventListener("click", () => o.onRemove && o.onRemove(tile));
      head.append(remove);
    }
    const body = h("div", { class: "tile-body" });
    const el = h("section", { class: "dash-tile tile-" + tile.type, "data-testid": "tile", "data-tile-id": tile.id, "data-type": tile.type }, head, body);
    if (o.editable) {
      const grip = h("div", { class: "tile-resize", title: "Drag to resize", "data-testid": "tile-resize" });
      el.append(grip);
      head.tabIndex = 0;
      head.title = "Drag, or press the arrow keys, to move; Shift and the arrows resize";
      head.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight ArrowUp ArrowDown Shift+ArrowRight Shift+ArrowDown");
      bindMove(head, tile);
      bindResize(grip, tile);
      bindKeys(head, tile);
    }
    return { tile, el, body, data: null, error: null };
  }

  // --- moving and resizing --------------------------------------------------------------

  let ghost = null;
  function startGesture(ev, tile, kind) {
    if (ev.button !== 0 || ev.target.closest("button")) return null;
    ev.preventDefault();
    const el = cells.get(tile.id).el;
    // Captured by the handle: its own listeners get every move until the button is up.
    ev.currentTarget.setPointerCapture(ev.pointerId);
    el.classList.add(kind === "move" ? "dragging" : "resizing");
    root.classList.add("arranging");
    ghost = h("div", { class: "tile-ghost" });
    root.append(ghost);
    place(ghost, tile);
    return {
      el, x0: ev.clientX, y0: ev.clientY, start: tiles.map((t) => ({ ...t })),
      left: parseFloat(el.style.left), top: parseFloat(el.style.top),
      width: parseFloat(el.style.width), height: parseFloat(el.style.height),
    };
  }

  /** Tiles back where they were when the gesture began, `tile` at `pos`, the rest settled. */
  function preview(g, tile, pos) {
    g.start.forEach((s, i) => { Object.assign(tiles[i], { x: s.x, y: s.y, w: s.w, h: s.h }); });
    Object.assign(tile, pos);
    settle(tiles, tile);
    place(ghost, tile);
    layout(tile);
  }

  function endGesture(g, tile) {
    g.el.classList.remove("dragging", "resizing");
    root.classList.remove("arranging");
    ghost.remove();
    ghost = null;
    layout();
    arranged(g.start);
  }

  /** After a move or resize: redraw the tiles whose size changed, hand the layout on. */
  function arranged(start) {
    const changed = start.some((s, i) => ["x", "y", "w", "h"].some((k) => s[k] !== tiles[i][k]));
    if (!changed) return;
    redraw(tiles.filter((t, i) => start[i].w !== t.w || start[i].h !== t.h));
    if (o.onLayout) o.onLayout(tiles.map((t) => ({ ...t })));
  }

  const STEPS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  /** The keyboard's way: arrows move the focused tile a cell, Shift+arrows resize it. */
  function bindKeys(handle, tile) {
    handle.addEventListener("keydown", (ev) => {
      const step = STEPS[ev.key];
      if (!step || ev.target !== handle) return;
      ev.preventDefault();
      const start = tiles.map((t) => ({ ...t }));
      if (ev.shiftKey) {
        tile.w = clamp(tile.w + step[0], 1, COLUMNS - tile.x);
        tile.h = clamp(tile.h + step[1], 1, MAX_H);
      } else {
        tile.x = clamp(tile.x + step[0], 0, COLUMNS - tile.w);
        tile.y = Math.max(0, tile.y + step[1]);
      }
      settle(tiles, tile);
      layout();
      arranged(start);
    });
  }

  function bindMove(handle, tile) {
    let g = null;
    handle.addEventListener("pointerdown", (ev) => { g = startGesture(ev, tile, "move"); });
    handle.addEventListener("pointermove", (ev) => {
      if (!g) return;
      const dx = ev.clientX - g.x0;
      const dy = ev.clientY - g.y0;
      g.el.style.left = g.left + dx + "px";
      g.el.style.top = g.top + dy + "px";
      const c = colWidth();
      const x = Math.min(COLUMNS - tile.w, Math.max(0, Math.round((g.left + dx) / c)));
      const y = Math.max(0, Math.round((g.top + dy) / ROW));
      if (x !== tile.x || y !== tile.y) preview(g, tile, { x, y });
    });
    const end = () => { if (g) { endGesture(g, tile); g = null; } };
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  function bindResize(grip, tile) {
    let g = null;
    grip.addEventListener("pointerdown", (ev) => { g = startGesture(ev, tile, "resize"); });
    grip.addEventListener("pointermove", (ev) => {
      if (!g) return;
      const width = Math.max(40, g.width + ev.clientX - g.x0);
      const height = Math.max(40, g.height + ev.clientY - g.y0);
      g.el.style.width = width + "px";
      g.el.style.height = height + "px";
      const c = colWidth();
      const w = Math.min(COLUMNS - tile.x, Math.max(1, Math.round((width + GAP) / c)));
      const hh = Math.min(MAX_H, Math.max(1, Math.round((height + GAP) / ROW)));
      if (w !== tile.w || hh !== tile.h) preview(g, tile, { w, h: hh });
    });
    const end = () => { if (g) { endGesture(g, tile); g = null; } };
    grip.addEventListener("pointerup", end);
    grip.addEventListener("pointercancel", end);
  }

  function redraw(which) {
    which.forEach((t) => { const cell = cells.get(t.id); if (cell && (cell.data || cell.error)) draw(cell); });
  }

  let width = root.clientWidth;
  new ResizeObserver(() => {
    if (root.clientWidth === width) return;
    width = root.clientWidth;
    layout();
    redraw(tiles);
  }).observe(root);

  /** Show `next` (the dashboard's tiles). A tile shown already, unchanged but for its
   * place, keeps its cell, its drawing and its tile object (the gestures hold it). */
  function setTiles(next) {
    // What a tile shows, whatever order its fields came in (its place aside).
    const content = (t) => JSON.stringify(Object.keys(t).sort().filter((k) => !PLACE.has(k)).map((k) => [k, t[k]]));
    const fresh = [];
    tiles = next.map((t) => {
      const old = cells.get(t.id);
      if (old && content(old.tile) === content(t)) return Object.assign(old.tile, t);
      if (old) old.el.remove();
      const cell = cellFor({ ...t });
      cells.set(t.id, cell);
      root.append(cell.el);
      fresh.push(cell);
      return cell.tile;
    });
    const keep = new Set(tiles.map((t) => t.id));
    Array.from(cells.keys()).forEach((id) => {
      if (!keep.has(id)) { cells.get(id).el.remove(); cells.delete(id); }
    });
    layout();
    return fresh.map((cell) => cell.tile);
  }

  /** Fetch and draw the data of `which` tiles again (default: all of them). */
  function refresh(which) {
    return Promise.all((which || tiles).map((t) => load(cells.get(t.id))));
  }

  return { setTiles, refresh, tiles: () => tiles.map((t) => ({ ...t })) };
}
