/* One dataset (/data/{id}?version=&tab=): its header, download menu and versions; the
 * profile job's progress, live, then the quality panel and a card per column; every row
 * in a virtual grid; the query builder; and the versions with their changes.
 */

import { api } from "../api.js";
import { $, $$, clear, h, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge, factEl, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { loadInto } from "../loading.js";
import { startApp } from "../shell.js";
import { ACTIVE, setProgress } from "../jobs.js";
import { fmtBytes, PROFILING, profileBadge, saveFrom, splitTags, tagBadges } from "../data-common.js";
import { renderColumns, renderPendingColumns, renderQuality, showColumn } from "../data-profile.js";
import { virtualGrid } from "../data-grid.js";
import { queryBuilder } from "../data-query.js";
import { bindUpload } from "../data-upload.js";

const TABS = ["columns", "preview", "query", "versions"];

function datasetPage(me) {
  const id = $("#ds-root").dataset.datasetId;
  const base = "/datasets/" + id;
  const canWrite = me.role !== "viewer";
  const state = {
    tab: "columns", version: null, dataset: null, current: null, profile: null,
    job: null, jobTimer: null, grid: null, gridFor: null, queryFor: null, querySignature: null, versionsOffset: 0,
  };

  // --- the URL: ?version=&tab= ---
  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.tab = TABS.includes(p.get("tab")) ? p.get("tab") : "columns";
    const v = parseInt(p.get("version"), 10);
    state.version = v > 0 ? v : null;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.version && state.dataset && state.version !== state.dataset.latest_version) p.set("version", String(state.version));
    if (state.tab !== "columns") p.set("tab", state.tab);
    const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  const versionQuery = () => (state.current ? { version: state.current.number } : {});
  const isLatest = () => !!state.current && state.current.number === state.dataset.latest_version;

  // --- tabs ---
  function showTab() {
    TABS.forEach((key) => {
      const on = key === state.tab;
      const tab = $("#tab-" + key);
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      show($("#panel-" + key), on);
    });
    fillTab();
  }

  function fillTab() {
    if (!state.current) return;
    if (state.tab === "preview") openGrid();
    if (state.tab === "query") openQuery();
    if (state.tab === "versions") loadInto($("#versions-body"), loadVersions);
  }

  $$("#ds-tabs .tab").forEach((tab) => tab.addEventListener("click", () => {
    state.tab = tab.dataset.tab;
    writeUrl();
    showTab();
  }));
  $("#ds-tabs").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
    const i = TABS.indexOf(state.tab) + (ev.key === "ArrowRight" ? 1 : -1);
    state.tab = TABS[(i + TABS.length) % TABS.length];
    writeUrl();
    showTab();
    $("#tab-" + state.tab).focus();
  });

  // --- the header ---
  function fillHeader() {
    const d = state.dataset;
    const v = state.current;
    $("#ds-name").textContent = d.name;
    document.title = d.name + " · augury";
    const desc = $("#ds-description");
    desc.textContent = d.description || "No description.";
    desc.classList.toggle("muted-more", !d.description);
    clear($("#ds-status")).append(profileBadge(v.profile_status, "ds-profile-status"));
    const info = v.read_info || {};
    const read = [info.encoding, info.delimiter ? "delimiter " + JSON.stringify(info.delimiter) : null, info.sheet ? "sheet " + info.sheet : null]
      .filter(Boolean).join(" · ");
    clear($("#ds-facts")).append(
      factEl("Rows × columns", fmtCount(v.rows) + " × " + fmtCount(v.columns.length), "ds-shape"),
      factEl("Size", h("span", { title: "stored as Parquet: " + fmtBytes(v.stored_bytes) }, fmtBytes(v.source_bytes)), "ds-size"),
      factEl("Format", h("span", {}, v.format.toUpperCase(), read ? h("span", { class: "muted small fact-sub" }, read) : null)),
      factEl("File", v.file_name || (v.source === "records" ? "JSON records" : "–")),
      factEl("Version", h("span", {}, "#" + v.number, isLatest() ? badge("latest", "success") : badge("older", "warning")), "ds-version-number"),
      factEl("Uploaded", timeEl(v.created_at)));
    const tags = clear($("#ds-tags"));
    if (d.tags.length) tags.append(tagBadges(d.tags, (t) => location.assign("/data?tag=" + encodeURIComponent(t))));
    else tags.append(h("span", { class: "muted small" }, "No tags."));
    (info.warnings || []).forEach((w) => tags.append(badge(String(w), "warning")));
    $("#tab-count-columns").textContent = fmtCount(v.columns.length);
    $("#tab-count-versions").textContent = d.latest_version > 1 ? fmtCount(d.latest_version) : "";
  }

  async function fillVersionPicker() {
    const page = await api(base + "/versions", { query: { limit: 100 } });
    const select = clear($("#ds-version"));
    page.items.forEach((v) => select.append(h("option", { value: v.number, selected: v.number === state.current.number },
      "#" + v.number + (v.number === state.dataset.latest_version ? " (latest)" : "") + " · " + fmtCount(v.rows) + " rows")));
    select.disabled = page.items.length < 2;
  }

  $("#ds-version").addEventListener("change", (ev) => {
    state.version = Number(ev.target.value);
    writeUrl();
    load().catch(showError);
  });

  // --- the profile: its job's progress while it runs, then the figures ---
  function watchJob(jobId) {
    clearTimeout(state.jobTimer);
    state.job = jobId;
    show($("#profile-run"), true);
    show($("#profile-failed"), false);
    $("#profile-run-job").href = "/jobs/" + jobId;
    $("#profile-run-job").textContent = "job #" + jobId;
    pollJob(jobId);
  }

  // Every second, as the job pages do, until the job ends; then the profile, without a reload.
  async function pollJob(jobId) {
    if (state.job !== jobId) return;
    let job;
    try {
      job = await api("/jobs/" + jobId);
    } catch (err) {
      if (err.status !== 404) {
        state.jobTimer = setTimeout(() => pollJob(jobId), 3000);
        return;
      }
      job = { status: "succeeded", progress: 100 };
    }
    if (state.job !== jobId) return;
    const bar = $("#profile-progress");
    setProgress(bar, job);
    requestAnimationFrame(() => bar.classList.add("animated"));
    $("#profile-pct").textContent = Math.round(job.progress || 0) + "%";
    $("#profile-message").textContent = job.message || (job.status === "pending" ? "Waiting for a worker…" : "");
    $("#profile-run-title").textContent = job.status === "pending" ? "Profile queued" : "Profiling the columns";
    if (ACTIVE.has(job.status)) {
      state.jobTimer = setTimeout(() => pollJob(jobId), 1000);
      return;
    }
    await refreshProfile(jobId);
  }

  async function refreshProfile(jobId) {
    const p = await api(base + "/profile", { query: versionQuery() });
    if (state.job !== jobId) return;
    if (PROFILING.has(p.profile_status) && p.profile_job_id === jobId) {
      state.jobTimer = setTimeout(() => refreshProfile(jobId), 1000); // the job's last write is on its way
      return;
    }
    state.job = null;
    state.current.profile_status = p.profile_status;
    state.current.profile_error = p.profile_error;
    if (p.profile_job_id !== jobId && PROFILING.has(p.profile_status)) {
      watchJob(p.profile_job_id); // profiled again meanwhile (a type changed)
      return;
    }
    show($("#profile-run"), false);
    clear($("#ds-status")).append(profileBadge(p.profile_status, "ds-profile-status"));
    showProfile(p);
    resetViews();
    fillTab();
  }

  function showProfile(p) {
    state.profile = p.profile;
    const failed = $("#profile-failed");
    failed.textContent = p.profile_status === "failed" ? "The profile failed: " + (p.profile_error || "unknown error.") : "";
    show(failed, p.profile_status === "failed");
    if (p.profile) {
      renderQuality($("#quality-body"), p.profile.quality, p.profile.rows, (name) => showColumn($("#column-cards"), name));
      renderColumns($("#column-cards"), p.profile, { canWrite: canWrite && isLatest(), onType: changeType });
      $$(".type-select", $("#column-cards")).forEach((s) => {
        if (canWrite && !isLatest()) s.title = "Types change on the latest version: switch to it";
      });
    } else {
      clear($("#quality-body")).append(h("p", { class: "muted" },
        p.profile_status === "failed" ? "No quality score: the profile failed." : "The quality score appears once the columns are profiled."));
      renderPendingColumns($("#column-cards"), state.current.columns);
    }
  }

  async function changeType(column, type, select) {
    await busy(select, async () => {
      const d = await api(base, { method: "PATCH", body: { column_types: { [column]: type } } });
      state.dataset = d;
      state.current = d.version;
      toast(type ? column + " is now read as " + type + "; profiling again." : column + " is back to its inferred type; profiling again.", "success");
      fillHeader();
      if (PROFILING.has(d.version.profile_status) && d.version.profile_job_id) watchJob(d.version.profile_job_id);
    });
  }

  // --- the rows ---
  // The rows and the query form are built again only when what they show changed: a
  // profile that ends without changing a type leaves the reader where they were.
  function resetViews() {
    state.gridFor = null;
    state.queryFor = null;
  }

  async function openGrid() {
    const key = state.current.number + ":" + state.current.profile_status;
    if (state.gridFor === key) return;
    state.gridFor = key;
    const box = $("#preview-grid");
    if (!state.grid) clear(box).append(h("div", { class: "skeleton-lines" }, Array.from({ length: 8 }, () => h("span", { class: "skeleton" }))));
    await loadInto(box, async () => {
      const version = state.current.number;
      const first = await api(base + "/preview", { query: { offset: 0, limit: 200, version } });
      const signature = JSON.stringify([version, first.columns, first.types, first.total]);
      const old = state.grid;
      if (old && old.signature === signature) return;
      const scrollTop = old && old.version === version ? old.viewport.scrollTop : 0;
      if (old) old.destroy();
      state.grid = null;
      if (!first.total) {
        clear(box).append(h("p", { class: "muted" }, "This version has no rows."));
        return;
      }
      const seed = first.rows;
      let warned = false;
      const grid = virtualGrid(box, {
        columns: first.columns,
        types: first.types,
        total: first.total,
        fetchRows: (offset, limit) => (offset === 0 ? Promise.resolve(seed)
          : api(base + "/preview", { query: { version, offset, limit } }).then((r) => r.rows)),
        onRange: (a, b, total) => { $("#grid-range").textContent = "Rows " + fmtCount(a) + "–" + fmtCount(b) + " of " + fmtCount(total); },
        onError: (err) => { if (!warned) showError(err); warned = true; },
      });
      grid.viewport.scrollTop = scrollTop;
      state.grid = Object.assign(grid, { signature, version });
    }, () => h("div", { class: "skeleton-lines" }, Array.from({ length: 8 }, () => h("span", { class: "skeleton" }))));
  }

  // --- the query builder ---
  async function openQuery() {
    const key = state.current.number + ":" + state.current.profile_status;
    if (state.queryFor === key) return;
    state.queryFor = key;
    const version = state.current.number;
    const schema = await api(base + "/schema", { query: { version } });
    const signature = JSON.stringify([version, schema.columns.map((c) => [c.name, c.type])]);
    if (state.querySignature === signature) return;
    state.querySignature = signature;
    show($("#query-result-card"), false);
    const fileName = state.dataset.name.replace(/[^\w.-]+/g, "_") + "-query.csv";
    queryBuilder($("#query-form"), schema.columns,
      (q) => api(base + "/query", { method: "POST", body: Object.assign({ version }, q) }),
      (q) => saveFrom(base + "/query", { method: "POST", query: { format: "csv" }, body: Object.assign({ version }, q) }, fileName));
  }

  // --- versions ---
  async function loadVersions() {
    const page = await api(base + "/versions", { query: { offset: state.versionsOffset, limit: 20 } });
    const body = clear($("#versions-body"));
    page.items.forEach((v) => body.append(versionRow(v, page.total)));
    pager($("#versions-pager"), page, (off) => { state.versionsOffset = off; loadInto($("#versions-body"), loadVersions); }, "versions");
  }

  function changes(c) {
    if (!c) return h("span", { class: "muted small" }, "first version");
    const parts = [];
    (c.added || []).forEach((n) => parts.push(h("span", { class: "change change-added", title: "column added" }, "+ " + n)));
    (c.removed || []).forEach((n) => parts.push(h("span", { class: "change change-removed", title: "column removed" }, "− " + n)));
    (c.retyped || []).forEach((r) => parts.push(h("span", { class: "change change-retyped", title: "type changed" }, r.column + ": " + r.from + " → " + r.to)));
    if (c.rows) parts.push(h("span", { class: "muted small" }, (c.rows > 0 ? "+" : "−") + fmtCount(Math.abs(c.rows)) + " rows"));
    return parts.length ? h("div", { class: "changes" }, parts) : h("span", { class: "muted small" }, "same columns");
  }

  function versionRow(v, count) {
    const viewing = state.current && v.number === state.current.number;
    const del = h("button", {
      type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "version-delete-" + v.number,
      disabled: !canWrite || count < 2, title: count < 2 ? "The only version: delete the dataset instead" : null,
    }, "Delete");
    del.addEventListener("click", () => deleteVersion(v.number, del));
    return h("tr", { class: viewing ? "row-chosen" : null, "data-testid": "version-row-" + v.number },
      h("td", { class: "nowrap" }, h("button", { type: "button", class: "link-button link-plain strong", onclick: () => pickVersion(v.number) }, "#" + v.number),
        v.number === state.dataset.latest_version ? h("span", {}, " ", badge("latest", "success")) : null),
      h("td", { class: "nowrap" }, timeEl(v.created_at)),
      h("td", { class: "num" }, fmtCount(v.rows)),
      h("td", {}, h("div", {}, v.file_name || (v.source === "records" ? "JSON records" : "–")),
        h("div", { class: "muted small" }, v.format.toUpperCase() + " · " + fmtBytes(v.source_bytes) + " · " + fmtCount(v.columns.length) + " columns")),
      h("td", {}, changes(v.changes)),
      h("td", {}, profileBadge(v.profile_status)),
      h("td", { class: "c-actions" }, h("span", { class: "row-actions" },
        viewing ? h("span", { class: "muted small" }, "viewing") : h("button", { type: "button", class: "btn btn-small", onclick: () => pickVersion(v.number) }, "View"),
        del)));
  }

  function pickVersion(n) {
    state.version = n;
    writeUrl();
    load().catch(showError);
  }

  async function deleteVersion(n, button) {
    if (!confirm("Delete version #" + n + " of " + state.dataset.name + " and its file? This cannot be undone.")) return;
    await busy(button, async () => {
      await api(base + "/versions/" + n, { method: "DELETE" });
      toast("Version #" + n + " deleted.", "success");
      if (state.current.number === n) state.version = null;
      writeUrl();
      await load();
    });
  }

  // --- downloads ---
  const dlButton = $("#download-button");
  const dlPanel = $("#download-panel");
  const setMenu = (open) => {
    dlPanel.hidden = !open;
    dlButton.setAttribute("aria-expanded", String(open));
  };
  dlButton.addEventListener("click", (ev) => {
    ev.stopPropagation();
    setMenu(dlPanel.hidden);
  });
  document.addEventListener("click", (ev) => { if (!ev.target.closest("#download-menu")) setMenu(false); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") setMenu(false); });
  $$("[data-format]", dlPanel).forEach((item) => item.addEventListener("click", () => {
    setMenu(false);
    const fmt = item.dataset.format;
    const name = state.dataset.name.replace(/[^\w.-]+/g, "_") + "-v" + state.current.number + "." + fmt;
    busy(dlButton, () => saveFrom(base + "/download", { query: Object.assign({ format: fmt }, versionQuery()) }, name));
  }));

  // --- description, tags, deletion ---
  const editDialog = $("#edit-dialog");
  $("#ds-edit").addEventListener("click", () => {
    $("#edit-description").value = state.dataset.description || "";
    $("#edit-tags").value = state.dataset.tags.join(", ");
    editDialog.showModal();
  });
  $("#edit-cancel").addEventListener("click", () => editDialog.close());
  onSubmit($("#edit-form"), async (fd) => {
    const d = await api(base, { method: "PATCH", body: { description: text(fd, "description"), tags: splitTags(text(fd, "tags")) } });
    state.dataset = Object.assign(state.dataset, { description: d.description, tags: d.tags });
    fillHeader();
    editDialog.close();
    toast("Saved.", "success");
  });
  $("#ds-delete").addEventListener("click", () => {
    if (!confirm("Delete " + state.dataset.name + ", every version and their files? This cannot be undone.")) return;
    busy($("#ds-delete"), async () => {
      await api(base, { method: "DELETE" });
      location.assign("/data");
    });
  });

  // --- loading ---
  async function load() {
    clearTimeout(state.jobTimer);
    state.job = null;
    let d;
    try {
      d = await api(base);
    } catch (err) {
      if (err.status === 404) {
        $("#ds-name").textContent = "Dataset not found";
        $("#ds-description").textContent = "This dataset does not exist in this organization, or it was deleted.";
        show($("#ds-root"), false);
        $$(".page-actions > *").forEach((el) => show(el, false));
        return;
      }
      throw err;
    }
    state.dataset = d;
    state.current = state.version && state.version !== d.latest_version
      ? await api(base + "/versions/" + state.version).catch((err) => {
        if (err.status !== 404) throw err;
        toast("Version #" + state.version + " does not exist; showing the latest.");
        return d.version;
      })
      : d.version;
    state.version = state.current.number;
    writeUrl();
    fillHeader();
    await fillVersionPicker();
    const p = await api(base + "/profile", { query: versionQuery() });
    // The profile may have ended between the two reads: its status is the newer one.
    state.current.profile_status = p.profile_status;
    state.current.profile_error = p.profile_error;
    clear($("#ds-status")).append(profileBadge(p.profile_status, "ds-profile-status"));
    showProfile(p);
    if (PROFILING.has(p.profile_status) && p.profile_job_id) watchJob(p.profile_job_id);
    else show($("#profile-run"), false);
    resetViews();
    showTab();
  }

  const newVersion = $("#ds-new-version");
  [newVersion, $("#ds-edit")].forEach((b) => {
    if (!canWrite) {
      b.disabled = true;
      b.title = "Viewers cannot change datasets";
    }
  });
  readUrl();
  showTab();
  return load().then(() => {
    if (state.dataset) newVersion.addEventListener("click", bindUpload(state.dataset));
  });
}

startApp(datasetPage);
