/* Data (/data): the organization's datasets, searched by name and description and
 * filtered by tags (?q=&tag=&offset= in the URL), and the upload dialog.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge, timeEl } from "../badges.js";
import { toast } from "../toast.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { fmtBytes, PROFILING, profileBadge, tagBadges } from "../data-common.js";
import { bindUpload } from "../data-upload.js";

function dataPage(me) {
  const state = { q: "", tags: [], offset: 0, limit: 25, timer: null };
  const known = new Set(); // every tag seen, for the filter chips
  const body = $("#data-body");
  const wrap = $("#data-table").closest(".table-wrap");
  const canWrite = me.role !== "viewer";

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.q = p.get("q") || "";
    state.tags = p.getAll("tag");
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    $("#data-q").value = state.q;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    state.tags.forEach((t) => p.append("tag", t));
    if (state.offset) p.set("offset", String(state.offset));
    const qs = p.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function toggleTag(tag) {
    state.tags = state.tags.includes(tag) ? state.tags.filter((t) => t !== tag) : [...state.tags, tag];
    state.offset = 0;
    writeUrl();
    load();
  }

  function renderTags() {
    const box = clear($("#data-tags"));
    state.tags.forEach((t) => known.add(t));
    const tags = [...known].sort((a, b) => a.localeCompare(b));
    show(box, tags.length > 0);
    if (!tags.length) return;
    box.append(h("span", { class: "tag-filter-label muted small" }, "Tags"));
    tags.forEach((t) => {
      const on = state.tags.includes(t);
      box.append(h("button", {
        type: "button", class: "tag-chip" + (on ? " on" : ""), "aria-pressed": String(on),
        "data-testid": "tag-chip-" + t, onclick: () => toggleTag(t),
      }, t, on ? h("span", { class: "tag-chip-x", "aria-hidden": "true" }, "×") : null));
    });
  }

  function row(d) {
    const v = d.version || {};
    const href = "/data/" + d.id;
    const tr = h("tr", { class: "row-link", "data-testid": "dataset-row-" + d.id, "data-dataset-id": d.id },
      h("td", { class: "dataset-cell" },
        h("a", { href, class: "strong", "data-testid": "dataset-link-" + d.id }, d.name),
        d.description ? h("div", { class: "muted small dataset-desc" }, d.description) : null),
      h("td", {}, tagBadges(d.tags, toggleTag)),
      h("td", { class: "num", "data-testid": "dataset-rows-" + d.id }, fmtCount(v.rows)),
      h("td", { class: "num" }, fmtCount((v.columns || []).length)),
      h("td", {}, v.format ? badge(v.format.toUpperCase(), "muted") : "–"),
      h("td", { class: "num", title: "stored as Parquet: " + fmtBytes(v.stored_bytes) }, fmtBytes(v.source_bytes)),
      h("td", { class: "nowrap" }, timeEl(d.updated_at)),
      h("td", {}, v.profile_status ? profileBadge(v.profile_status, "dataset-profile-" + d.id) : "–"));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    clearTimeout(state.timer);
    const stale = listCall();
    const query = new URLSearchParams();
    if (state.q) query.set("q", state.q);
    state.tags.forEach((t) => query.append("tag", t));
    query.set("offset", String(state.offset));
    query.set("limit", String(state.limit));
    let page;
    try {
      page = await api("/datasets?" + query.toString());
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("data-failed", wrap, err, load);
      return;
    }
    hideFailed("data-failed", wrap);
    page.items.forEach((d) => d.tags.forEach((t) => known.add(t)));
    clear(body);
    page.items.forEach((d) => body.append(row(d)));
    const filtered = !!state.q || state.tags.length > 0;
    show($("#data-empty"), page.total === 0 && !filtered);
    show($("#data-none"), page.total === 0 && filtered);
    show($("#data-table"), page.total > 0);
    renderTags();
    pager($("#data-pager"), page, (off) => { state.offset = off; writeUrl(); load(); }, "data");
    const profiling = page.items.some((d) => d.version && PROFILING.has(d.version.profile_status));
    show($("#data-live"), profiling);
    if (profiling) state.timer = setTimeout(load, 2000);
  }

  $("#data-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#data-q").value.trim();
    state.offset = 0;
    writeUrl();
    load();
  });
  let typing = null;
  $("#data-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => $("#data-search").requestSubmit(), 300);
  });
  $("#data-clear").addEventListener("click", () => {
    state.q = "";
    state.tags = [];
    state.offset = 0;
    $("#data-q").value = "";
    writeUrl();
    load();
  });

  const openUpload = bindUpload(null);
  ["#upload-open", "#upload-open-empty"].forEach((sel) => {
    const btn = $(sel);
    btn.addEventListener("click", openUpload);
    if (!canWrite) {
      btn.disabled = true;
      btn.title = "Viewers cannot upload data";
    }
  });
  // /data?upload=1 (the Overview's and other pages' links) opens the dialog.
  const p = new URLSearchParams(location.search);
  if (p.get("upload")) {
    p.delete("upload");
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
    if (canWrite) openUpload();
    else toast("Viewers cannot upload data: ask a member or an admin.");
  }
  readUrl();
  return load();
}

startApp(dataPage);
