/* Text projects (/text): the organization's projects, searched by name and filtered by
 * type (?q=&type=&offset= in the URL), and the "New project" dialog.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { timeEl } from "../badges.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { excerpt, projectPath, projectRoleBadge, projectTypeBadge } from "../text-common.js";

function projectsPage(me) {
  const state = { q: "", type: "", offset: 0, limit: 25 };
  const body = $("#projects-body");
  const wrap = $("#projects-table").closest(".table-wrap");
  const canCreate = me.role !== "viewer";

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.q = p.get("q") || "";
    state.type = p.get("type") || "";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    $("#projects-q").value = state.q;
    $("#projects-type").value = state.type;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.type) p.set("type", state.type);
    if (state.offset) p.set("offset", String(state.offset));
    const qs = p.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function row(p) {
    const href = "/text/projects/" + p.id;
    const tr = h("tr", { class: "row-link", "data-testid": "project-row-" + p.id },
      h("td", { class: "dataset-cell" },
        h("a", { href, class: "strong", "data-testid": "project-link-" + p.id }, p.name),
        p.description ? h("div", { class: "muted small dataset-desc" }, excerpt(p.description, 140)) : null),
      h("td", {}, projectTypeBadge(p.type)),
      h("td", { class: "num", "data-testid": "project-documents-" + p.id }, fmtCount(p.document_count)),
      h("td", {}, p.segmentation || "–"),
      h("td", {}, p.role ? projectRoleBadge(p.role) : "–"),
      h("td", { class: "nowrap" }, timeEl(p.created_at)));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    let page;
    try {
      page = await api("/text/projects", { query: { q: state.q, type: state.type, offset: state.offset, limit: state.limit } });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("projects-failed", wrap, err, load);
      return;
    }
    hideFailed("projects-failed", wrap);
    clear(body);
    page.items.forEach((p) => body.append(row(p)));
    const filtered = !!state.q || !!state.type;
    show($("#projects-empty"), page.total === 0 && !filtered);
    show($("#projects-none"), page.total === 0 && filtered);
    show($("#projects-table"), page.total > 0);
    pager($("#projects-pager"), page, (off) => { state.offset = off; writeUrl(); load(); }, "projects");
  }

  $("#projects-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#projects-q").value.trim();
    state.offset = 0;
    writeUrl();
    load();
  });
  let typing = null;
  $("#projects-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => $("#projects-search").requestSubmit(), 300);
  });
  $("#projects-type").addEventListener("change", () => {
    state.type = $("#projects-type").value;
    state.offset = 0;
    writeUrl();
    load();
  });
  $("#projects-clear").addEventListener("click", () => {
    state.q = "";
    state.type = "";
    state.offset = 0;
    $("#projects-q").value = "";
    $("#projects-type").value = "";
    writeUrl();
    load();
  });

  // --- a new project ---
  const dialog = $("#project-dialog");
  const open = () => {
    $("#project-form").reset();
    dialog.showModal();
    $("#project-name").focus();
  };
  ["#project-new", "#project-new-empty"].forEach((sel) => {
    const btn = $(sel);
    btn.addEventListener("click", open);
    if (!canCreate) {
      btn.disabled = true;
      btn.title = "Viewers cannot create projects";
    }
  });
  $("#project-cancel").addEventListener("click", () => dialog.close());
  onSubmit($("#project-form"), async (fd) => {
    const project = await api("/text/projects", {
      method: "POST",
      body: {
        name: text(fd, "name"),
        type: String(fd.get("type") || "CLASS"),
        description: text(fd, "description"),
        segmentation: String(fd.get("segmentation") || "sentence"),
        language: text(fd, "language") || "en",
      },
    });
    location.assign(projectPath(project.id) + "?tab=classes");
  });

  if (new URLSearchParams(location.search).get("new") && canCreate) open();
  readUrl();
  return load();
}

startApp(projectsPage);
