/* Dashboards (/dashboards?q=&offset=): the organization's dashboards, most recently
 * changed first, searched by name; "New dashboard" creates one and opens it.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { fmtDuration } from "../format.js";

function dashboardsPage(me) {
  const canWrite = me.role !== "viewer";
  const state = { q: new URLSearchParams(location.search).get("q") || "", offset: 0, limit: 25 };
  const body = $("#dashboards-body");
  const wrap = $("#dashboards-table").closest(".table-wrap");
  $("#dashboards-q").value = state.q;

  function row(d) {
    const href = "/dashboards/" + d.id;
    const tr = h("tr", { class: "row-link", "data-testid": "dashboard-row-" + d.id },
      h("td", {}, h("a", { href, class: "strong", "data-testid": "dashboard-link-" + d.id }, d.name),
        d.description ? h("div", { class: "muted small" }, d.description) : null),
      h("td", { class: "num" }, String(d.tile_count)),
      h("td", {}, d.settings.auto_refresh ? badge("every " + fmtDuration(d.settings.refresh_interval), "info") : h("span", { class: "muted" }, "off")),
      h("td", { class: "nowrap" }, timeEl(d.updated_at)));
    tr.addEventListener("click", (ev) => { if (!ev.target.closest("a, button")) location.assign(href); });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    let page;
    try {
      page = await api("/dashboards", { query: { q: state.q, offset: state.offset, limit: state.limit } });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("dashboards-failed", wrap, err, load);
      return;
    }
    hideFailed("dashboards-failed", wrap);
    clear(body);
    page.items.forEach((d) => body.append(row(d)));
    show($("#dashboards-table"), page.total > 0);
    show($("#dashboards-empty"), page.total === 0);
    pager($("#dashboards-pager"), page, (off) => { state.offset = off; load(); }, "dashboards");
  }

  let typing = null;
  $("#dashboards-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = $("#dashboards-q").value.trim(); state.offset = 0; load(); }, 250);
  });
  $("#dashboards-search").addEventListener("submit", (ev) => ev.preventDefault());

  const dialog = $("#new-dialog");
  const open = $("#dashboard-new");
  open.disabled = !canWrite;
  if (!canWrite) open.title = "Viewers cannot create dashboards";
  open.addEventListener("click", () => { $("#new-form").reset(); dialog.showModal(); });
  $("#new-cancel").addEventListener("click", () => dialog.close());
  onSubmit($("#new-form"), async (fd) => {
    const d = await api("/dashboards", { method: "POST", body: { name: text(fd, "name"), description: text(fd, "description") || "" } });
    location.assign("/dashboards/" + d.id);
  });
  return load();
}

startApp(dashboardsPage);
