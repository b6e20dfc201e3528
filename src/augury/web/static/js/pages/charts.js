/* Saved charts (/charts?q=&type=&sort=&offset=): the answers saved from Ask, searched by
 * question and title and filtered by chart type; each opens on /ask, run again on its
 * dataset's newest version, and can be renamed or deleted.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { busy, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";

const TYPE_NAMES = { bar: "bar", line: "line", area: "area", arc: "pie", scatter: "scatter", number: "number", table: "table" };
const SORTS = new Set(["updated_at:desc", "created_at:desc", "created_at:asc", "query:asc"]);

function chartsPage(me) {
  const canWrite = me.role !== "viewer";
  const state = { q: "", type: "", sort: "updated_at:desc", offset: 0, limit: 25 };
  const names = new Map(); // dataset id → name, for the Dataset column
  const body = $("#charts-body");
  const wrap = $("#charts-table").closest(".table-wrap");

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.q = p.get("q") || "";
    state.type = TYPE_NAMES[p.get("type")] ? p.get("type") : "";
    state.sort = SORTS.has(p.get("sort")) ? p.get("sort") : "updated_at:desc";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    $("#charts-q").value = state.q;
    $("#charts-type").value = state.type;
    $("#charts-sort").value = state.sort;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.type) p.set("type", state.type);
    if (state.sort !== "updated_at:desc") p.set("sort", state.sort);
    if (state.offset) p.set("offset", String(state.offset));
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
  }

  function row(c) {
    const question = c.question || c.query || "";
    const href = "/ask?chart=" + c.id;
    const rename = h("button", {
      type: "button", class: "btn btn-small", "data-testid": "chart-rename-" + c.id,
      disabled: !canWrite, title: canWrite ? null : "Viewers cannot change saved charts",
    }, "Rename");
    rename.addEventListener("click", () => openRename(c));
    const del = h("button", {
      type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "chart-delete-" + c.id,
      disabled: !canWrite, title: canWrite ? null : "Viewers cannot delete saved charts",
    }, "Delete");
    del.addEventListener("click", () => remove(c, del));
    const tr = h("tr", { class: "row-link", "data-testid": "chart-row-" + c.id },
      h("td", { class: "chart-cell" },
        h("a", { href, class: "strong", "data-testid": "chart-link-" + c.id }, c.title || question),
        c.title && c.title !== question ? h("div", { class: "muted small chart-question" }, question) : null),
      h("td", {}, badge(TYPE_NAMES[c.chart_type] || c.chart_type || "auto", "info", "chart-type-" + c.id)),
      h("td", {}, c.dataset_id ? h("a", { href: "/data/" + c.dataset_id }, c.dataset_name || names.get(c.dataset_id) || "#" + c.dataset_id) : "–"),
      h("td", { class: "nowrap" }, timeEl(c.updated_at || c.created_at)),
      h("td", { class: "c-actions" }, h("span", { class: "row-actions" },
        h("a", { class: "btn btn-small", href, "data-testid": "chart-open-" + c.id }, "Open"), rename, del)));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    const [sortBy, sortOrder] = state.sort.split(":");
    let page;
    try {
      page = await api("/analytics/charts", {
        query: { query: state.q, chart_type: state.type, sort_by: sortBy, sort_order: sortOrder, offset: state.offset, limit: state.limit },
      });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("charts-failed", wrap, err, load);
      return;
    }
    hideFailed("charts-failed", wrap);
    clear(body);
    page.items.forEach((c) => body.append(row(c)));
    const filtered = !!state.q || !!state.type;
    show($("#charts-empty"), page.total === 0 && !filtered);
    show($("#charts-none"), page.total === 0 && filtered);
    show($("#charts-table"), page.total > 0);
    pager($("#charts-pager"), page, (off) => { state.offset = off; writeUrl(); load(); }, "charts");
  }

  async function loadNames() {
    try {
      const page = await api("/datasets", { query: { limit: 200 } });
      page.items.forEach((d) => names.set(d.id, d.name));
    } catch (err) {
      // Names are a nicety: the column falls back to the dataset's number.
    }
  }

  // --- rename and delete ---
  const dialog = $("#rename-dialog");
  let renaming = null;
  function openRename(c) {
    renaming = c;
    $("#rename-title").value = c.title || c.question || c.query || "";
    dialog.showModal();
    $("#rename-title").select();
  }
  $("#rename-cancel").addEventListener("click", () => dialog.close());
  onSubmit($("#rename-form"), async (fd) => {
    const title = text(fd, "title");
    await api("/analytics/chart/" + renaming.id, { method: "PUT", body: { title } });
    dialog.close();
    toast("Renamed to “" + title + "”.", "success");
    await load();
  });

  async function remove(c, button) {
    if (!confirm("Delete the saved chart “" + (c.title || c.question || c.query) + "”? Its dataset stays.")) return;
    await busy(button, async () => {
      await api("/analytics/chart/" + c.id, { method: "DELETE" });
      toast("Chart deleted.", "success");
      await load();
    });
  }

  // --- filters ---
  $("#charts-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#charts-q").value.trim();
    state.type = $("#charts-type").value;
    state.sort = $("#charts-sort").value;
    state.offset = 0;
    writeUrl();
    load();
  });
  let typing = null;
  $("#charts-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => $("#charts-search").requestSubmit(), 300);
  });
  ["#charts-type", "#charts-sort"].forEach((sel) => $(sel).addEventListener("change", () => $("#charts-search").requestSubmit()));
  $("#charts-clear").addEventListener("click", () => {
    $("#charts-q").value = "";
    $("#charts-type").value = "";
    $("#charts-search").requestSubmit();
  });

  readUrl();
  return loadNames().then(load);
}

startApp(chartsPage);
