/* The search box in the header: GET /search as you type, results in a list under it.
 *
 * Titles and snippets come HTML-escaped from the server with the matched words in
 * <mark>, so they are set as markup; everything else is text. Keys: "/" focuses the
 * box, arrows move through the results, Enter opens one, Escape closes the list.
 */

import { api } from "./api.js";
import { $, clear, h, newestOnly } from "./dom.js";

const TYPE_NAMES = {
  chart: "Chart", dashboard: "Dashboard", dataset: "Dataset", metric: "Metric",
  alert: "Alert", anomaly: "Anomaly", forecast: "Forecast", member: "Member", use_case: "Chatbot",
  data_source: "Data source", data_stream: "Data stream",
};
const DELAY_MS = 150;
const SHOWN = 8;

function marked(tag, cls, html) {
  const el = h(tag, { class: cls });
  el.innerHTML = html; // escaped by the server, <mark> only
  return el;
}

export function bindSearchBox() {
  const input = $("#global-search-input");
  const panel = $("#global-search-results");
  if (!input || !panel) return;
  const newest = newestOnly();
  let items = [];
  let active = -1;
  let timer = null;

  const setOpen = (open) => {
    panel.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  };
  const highlight = (i) => {
    active = i;
    items.forEach((li, k) => li.setAttribute("aria-selected", String(k === i)));
    if (items[i]) input.setAttribute("aria-activedescendant", items[i].id);
    else input.removeAttribute("aria-activedescendant");
  };
  const render = (answer) => {
    clear(panel);
    items = answer.items.map((r, i) => {
      const li = h("li", { id: "search-hit-" + i, role: "option", class: "search-hit", "aria-selected": "false",
        "data-testid": "search-hit-" + r.type + "-" + r.id },
        h("a", { href: r.link, tabindex: "-1" },
          h("span", { class: "search-type badge badge-muted" }, TYPE_NAMES[r.type] || r.type),
          h("span", { class: "search-text" },
            marked("span", "search-title", r.title_html),
            r.snippet_html ? marked("span", "search-snippet muted small", r.snippet_html) : null)));
      li.addEventListener("mousemove", () => highlight(i));
      return li;
    });
    if (!items.length) panel.append(h("li", { class: "search-empty muted", "data-testid": "search-empty" }, "Nothing matches “" + answer.query + "”"));
    else panel.append(...items);
    if (answer.total > items.length) {
      panel.append(h("li", { class: "search-more muted small" }, `${answer.total - items.length} more: add words to narrow it down`));
    }
    highlight(items.length ? 0 : -1);
    setOpen(true);
  };
  const run = async () => {
    const q = input.value.trim();
    const stale = newest();
    if (!q) { setOpen(false); return; }
    try {
      const answer = await api("/search?" + new URLSearchParams({ q, limit: String(SHOWN) }));
      if (!stale()) render(answer);
    } catch (err) {
      if (stale()) return;
      clear(panel);
      panel.append(h("li", { class: "search-empty muted" }, err.message || "Search failed"));
      setOpen(true);
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DELAY_MS);
  });
  input.addEventListener("focus", () => { if (input.value.trim() && panel.childElementCount) setOpen(true); });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!items.length) return;
      const step = ev.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + items.length) % items.length);
    } else if (ev.key === "Enter") {
      const link = items[active] && items[active].querySelector("a");
      if (link) { ev.preventDefault(); location.assign(link.getAttribute("href")); }
    } else if (ev.key === "Escape") {
      setOpen(false);
      input.blur();
    }
  });
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("#global-search")) setOpen(false);
  });
  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest && ev.target.closest("input, textarea, select, [contenteditable]");
    if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      input.focus();
      input.select();
    }
  });
}
