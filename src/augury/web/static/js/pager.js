/* Paging a list: "1–25 of 80" with Previous and Next, and a table's empty row. */

import { clear, h } from "./dom.js";

export function pager(el, page, go, prefix) {
  if (!el) return;
  clear(el);
  if (!page || page.total <= page.limit && page.offset === 0) return;
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  el.append(
    h("span", { class: "muted small", "data-testid": prefix + "-range" }, first + "–" + last + " of " + page.total),
    h("div", { class: "pager-buttons" },
      h("button", {
        class: "btn btn-small", id: prefix + "-prev", disabled: page.offset === 0,
        onclick: () => go(Math.max(0, page.offset - page.limit)),
      }, "← Previous"),
      h("button", {
        class: "btn btn-small", id: prefix + "-next", disabled: !page.has_more,
        onclick: () => go(page.offset + page.limit),
      }, "Next →"))
  );
}

export function emptyRow(tbody, cols, message) {
  tbody.append(h("tr", { class: "empty-row" }, h("td", { colspan: cols, class: "muted" }, message)));
}
