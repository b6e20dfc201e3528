/* A grid of a dataset's rows that scrolls through all of them, however many.
 *
 * Only the rows in view (and a few either side) exist in the page: each has a fixed
 * height and is placed at its offset inside a body as tall as every row together, so
 * the scroll bar is the table's. Rows come from the API in pages of PAGE_ROWS, fetched
 * as they come into view and kept in a small cache. A body taller than browsers can
 * lay out (MAX_BODY_PX) is scaled: the scroll position maps to a row proportionally,
 * and the rows in view are placed relative to it.
 */

import { clear, h } from "./dom.js";
import { fmtCount } from "./format.js";
import { cellText, columnTypeBadge, NUMERIC_TYPES } from "./data-common.js";

const ROW_PX = 32;
const PAGE_ROWS = 200;
const OVERSCAN = 6;
const MAX_BODY_PX = 8000000;
const CACHED_PAGES = 60;
const FETCH_DELAY_MS = 40;

const WIDTH = {
  integer: 110, float: 120, decimal: 120, boolean: 90, date: 120, datetime: 190, duration: 120, category: 150, string: 220,
};

function columnWidth(name, type) {
  // The header holds the name and the type's badge.
  return Math.min(380, Math.max(WIDTH[type] || 160, 8 * String(name).length + 7 * String(type).length + 52));
}

/**
 * Fill `box` with the grid. opts: columns and types (the preview's), total (rows),
 * fetchRows(offset, limit) answering the rows as arrays, onRange(first, last, total)
 * as the rows in view change, onError(err) when a page cannot be fetched.
 */
export function virtualGrid(box, opts) {
  const { columns, types, total } = opts;
  const template = ["72px"].concat(columns.map((c, i) => columnWidth(c, types[i]) + "px")).join(" ");
  const width = 72 + columns.reduce((sum, c, i) => sum + columnWidth(c, types[i]), 0);
  const realPx = total * ROW_PX;
  const bodyPx = Math.min(realPx, MAX_BODY_PX);
  const numeric = types.map((t) => NUMERIC_TYPES.has(t));

  const head = h("div", { class: "vgrid-head vgrid-line", role: "row" },
    h("div", { class: "vgrid-cell vgrid-rownum", role: "columnheader" }, "#"),
    columns.map((c, i) => h("div", { class: "vgrid-cell" + (numeric[i] ? " num" : ""), role: "columnheader", title: c + " · " + types[i] },
      h("span", { class: "vgrid-name" }, c), columnTypeBadge(types[i]))));
  const body = h("div", { class: "vgrid-body", role: "rowgroup" });
  const viewport = h("div", { class: "vgrid-viewport", tabindex: 0, "aria-label": "Rows, scrollable" }, head, body);
  const root = h("div", {
    class: "vgrid", role: "grid", "aria-rowcount": total, "aria-colcount": columns.length,
    "data-testid": "preview-grid", "data-total": total,
  }, viewport);
  root.style.setProperty("--vgrid-template", template);
  head.style.minWidth = width + "px";
  body.style.minWidth = width + "px";
  body.style.height = bodyPx + "px";
  clear(box).append(root);

  const pages = new Map(); // page index -> rows, most recently used last
  const loading = new Set();
  const failed = new Map(); // page index -> when it failed
  const shown = new Map(); // row index -> its element
  let wanted = [];
  let fetchTimer = null;
  let frame = 0;
  let destroyed = false;

  /** The row at the top of the view, and how far the view is scrolled past it. */
  function topOf() {
    const view = viewport.clientHeight - ROW_PX;
    const s = viewport.scrollTop;
    if (bodyPx === realPx || bodyPx <= view) return s;
    return (s * (realPx - view)) / (bodyPx - view);
  }

  function rowsOf(index) {
    const p = Math.floor(index / PAGE_ROWS);
    const rows = pages.get(p);
    if (!rows) return null;
    pages.delete(p); // keep it recent
    pages.set(p, rows);
    return rows[index - p * PAGE_ROWS] || null;
  }

  function fillRow(el, index) {
    const values = rowsOf(index);
    const state = values ? "loaded" : "loading";
    if (el.dataset.state === state && el.dataset.row === String(index)) return;
    el.dataset.row = String(index);
    el.dataset.state = state;
    el.setAttribute("aria-rowindex", String(index + 2));
    clear(el).append(h("div", { class: "vgrid-cell vgrid-rownum" }, fmtCount(index + 1)));
    columns.forEach((c, i) => {
      if (!values) {
        el.append(h("div", { class: "vgrid-cell" }, h("span", { class: "skeleton vgrid-skeleton" })));
        return;
      }
      const text = cellText(values[i]);
      el.append(text === null
        ? h("div", { class: "vgrid-cell vgrid-null" + (numeric[i] ? " num" : "") }, "null")
        : h("div", { class: "vgrid-cell" + (numeric[i] ? " num" : ""), title: text.length > 24 ? text : null }, text));
    });
  }

  function render() {
    frame = 0;
    if (destroyed) return;
    const top = topOf();
    const visible = Math.ceil(viewport.clientHeight / ROW_PX);
    const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
    const last = Math.min(total - 1, Math.floor(top / ROW_PX) + visible + OVERSCAN);
    for (const [index, el] of shown) {
      if (index < first || index > last) {
        el.remove();
        shown.delete(index);
      }
    }
    const shift = viewport.scrollTop - top; // 0 unless scaled
    for (let i = first; i <= last; i++) {
      let el = shown.get(i);
      if (!el) {
        el = h("div", { class: "vgrid-row vgrid-line", role: "row", "data-testid": "grid-row" });
        shown.set(i, el);
        body.append(el);
      }
      el.style.transform = "translateY(" + Math.round(i * ROW_PX + shift) + "px)";
      fillRow(el, i);
    }
    const firstSeen = Math.min(total, Math.floor(top / ROW_PX) + 1);
    const lastSeen = Math.min(total, Math.floor((top + viewport.clientHeight - ROW_PX) / ROW_PX));
    if (opts.onRange) opts.onRange(firstSeen, Math.max(firstSeen, lastSeen), total);
    wanted = [];
    for (let p = Math.floor(first / PAGE_ROWS); p <= Math.floor(last / PAGE_ROWS); p++) {
      if (!pages.has(p) && !loading.has(p)) wanted.push(p);
    }
    if (wanted.length) {
      clearTimeout(fetchTimer);
      fetchTimer = setTimeout(fetchWanted, FETCH_DELAY_MS);
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  // While the scroll bar is dragged, the pages passed over are never fetched: only those
  // still in view once it rests FETCH_DELAY_MS.
  function fetchWanted() {
    wanted.forEach((p) => {
      if (pages.has(p) || loading.has(p) || Date.now() - (failed.get(p) || 0) < 3000) return;
      loading.add(p);
      opts.fetchRows(p * PAGE_ROWS, PAGE_ROWS).then((rows) => {
        pages.set(p, rows);
        failed.delete(p);
        while (pages.size > CACHED_PAGES) pages.delete(pages.keys().next().value);
      }, (err) => {
        failed.set(p, Date.now());
        setTimeout(schedule, 3100);
        if (opts.onError) opts.onError(err);
      }).finally(() => {
        loading.delete(p);
        schedule();
      });
    });
  }

  viewport.addEventListener("scroll", schedule, { passive: true });
  const resize = new ResizeObserver(schedule);
  resize.observe(viewport);
  render();

  return {
    viewport,
    destroy() {
      destroyed = true;
      resize.disconnect();
      clearTimeout(fetchTimer);
      box.replaceChildren();
    },
  };
}
