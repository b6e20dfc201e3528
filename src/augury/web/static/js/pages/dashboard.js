/* A dashboard (/dashboards/{id}): its tiles on the grid, each fetched and drawn on its
 * own; the time range, dimension filters and auto-refresh every metric tile follows;
 * tiles added, moved, resized and removed (saved at once, with the version read, so a
 * save over someone else's is refused and their version shown); share links; exports
 * and mailed schedules.
 */

import { api } from "../api.js";
import { $, $$, clear, h, show } from "../dom.js";
import { timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { startApp } from "../shell.js";
import { dashboardGrid } from "../dashboard-grid.js";

/** "host=web-1 dc=eu" (or with commas) as {host: "web-1", dc: "eu"}; null when unreadable. */
function parseFilters(value) {
  const out = {};
  const parts = value.split(/[\s,]+/).filter(Boolean);
  for (const part of parts) {
    const m = /^([A-Za-z_][\w.-]*)=(.+)$/.exec(part);
    if (!m) return null;
    out[m[1]] = m[2];
  }
  return out;
}

const filtersText = (filters) => Object.entries(filters || {}).map(([k, v]) => k + "=" + v).join(" ");

async function download(path, query, name) {
  const blob = await api(path, { query, blob: true });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function dashboardPage(me) {
  const id = $("#dashboard-root").dataset.dashboardId;
  const canWrite = me.role !== "viewer";
  let d = null;
  let saving = Promise.resolve();
  let timer = null;

  const grid = dashboardGrid($("#dash-grid"), {
    editable: canWrite,
    linkAnomalies: true,
    fetchData: (tile) => api("/dashboards/" + id + "/tiles/" + encodeURIComponent(tile.id) + "/data"),
    onLayout: (tiles) => save({ tiles }, "Layout saved"),
    onRemove: removeTile,
    onDownload: downloadTile,
  });

  /** A chart or metric tile as a PNG the size it is drawn, its range as shown. */
  async function downloadTile(tile, data, box) {
    const size = { width: Math.max(320, Math.round(box.width)), height: Math.max(200, Math.round(box.height)) };
    const name = (tile.title || tile.type + "-" + tile.id).toLowerCase().replace(/[^a-z0-9]+/g, "-") + ".png";
    const s = data.series;
    try {
      if (tile.type === "chart") await download("/export/chart/" + tile.chart_id, { format: "png", ...size }, name);
      else await download("/export/metric/" + s.metric_id, { format: "png", from: Math.floor(s.start), to: Math.ceil(s.end), resolution: s.resolution, ...size }, name);
    } catch (err) {
      showError(err);
    }
  }

  function fill() {
    $("#dash-name").textContent = d.name;
    document.title = d.name + " · augury";
    $("#dash-description").textContent = d.description || "\u00a0";
    $$("#dash-range .seg").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === d.settings.range)));
    $("#dash-filters-input").value = filtersText(d.settings.filters);
    $("#dash-refresh").value = d.settings.auto_refresh ? String(d.settings.refresh_interval) : "0";
    show($("#dash-empty"), !d.tiles.length);
    show($("#dash-grid"), d.tiles.length > 0);
    schedule(d.settings.auto_refresh ? d.settings.refresh_interval : 0);
  }

  /** Save `changes` with the version read; queued, so two quick drags save in order. */
  function save(changes, said) {
    saving = saving.then(async () => {
      try {
        d = await api("/dashboards/" + id, { method: "PATCH", body: { ...changes, version: d.version } });
        $("#dash-saved").textContent = said + " · version " + d.version;
        fill();
        return grid.setTiles(d.tiles);
      } catch (err) {
        if (err.status !== 409) throw err;
        toast("Someone else changed this dashboard meanwhile: it now shows their version.", "error");
        await load();
        return [];
      }
    }).catch((err) => { showError(err); return []; });
    return saving;
  }

  function schedule(seconds) {
    clearInterval(timer);
    timer = seconds ? setInterval(() => { if (!document.hidden) grid.refresh(); }, seconds * 1000) : null;
  }

  async function load() {
    d = await api("/dashboards/" + id);
    fill();
    grid.setTiles(d.tiles);
    await grid.refresh();
  }

  async function removeTile(tile) {
    if (!confirm("Remove this tile from the dashboard?")) return;
    await save({ tiles: grid.tiles().filter((t) => t.id !== tile.id) }, "Tile removed");
  }

  // --- range, filters, refresh ---
  $$("#dash-range .seg").forEach((b) => {
    b.disabled = !canWrite;
    b.addEventListener("click", async () => {
      await save({ settings: { ...d.settings, range: b.dataset.range } }, "Range " + b.dataset.range);
      await grid.refresh();
    });
  });
  $("#dash-filters-input").disabled = !canWrite;
  $("#dash-filters").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const filters = parseFilters($("#dash-filters-input").value);
    if (!filters) {
      toast("Write filters as dimension=value, separated by spaces: host=web-1 dc=eu", "error");
      return;
    }
    await save({ settings: { ...d.settings, filters } }, "Filters applied");
    await grid.refresh();
  });
  $("#dash-refresh").addEventListener("change", () => {
    const seconds = Number($("#dash-refresh").value);
    if (!canWrite) { schedule(seconds); return; }  // a viewer's own choice, not saved
    const settings = seconds ? { ...d.settings, auto_refresh: true, refresh_interval: seconds } : { ...d.settings, auto_refresh: false };
    save({ settings }, seconds ? "Auto-refresh on" : "Auto-refresh off");
  });
  $("#dash-reload").addEventListener("click", (ev) => busy(ev.currentTarget, () => grid.refresh()));

  // --- adding a tile ---
  const tileDialog = $("#tile-dialog");
  function showFields() {
    const type = $("#tile-type").value;
    $$("#tile-form [data-for]").forEach((el) => show(el, el.dataset.for.split(" ").includes(type)));
  }
  $("#tile-type").addEventListener("change", showFields);
  async function fillChoices() {
    const [charts, forecasts] = await Promise.all([
      api("/analytics/charts", { query: { limit: 200, sort_by: "updated_at" } }),
      api("/forecasts", { query: { limit: 200 } }).catch(() => ({ items: [] })),
    ]);
    clear($("#tile-chart")).append(...charts.items.map((c) => h("option", { value: c.id }, c.title || c.query)));
    show($("#tile-chart-hint"), !charts.items.length);
    const items = forecasts.items || forecasts;
    clear($("#tile-forecast")).append(...items.map((f) => h("option", { value: f.id }, f.name + (f.expression ? " · " + f.expression : ""))));
  }
  $("#dash-add").addEventListener("click", async (ev) => {
    await busy(ev.currentTarget, fillChoices);
    $("#tile-form").reset();
    showFields();
    tileDialog.showModal();
  });
  $("#tile-cancel").addEventListener("click", () => tileDialog.close());
  onSubmit($("#tile-form"), async (fd) => {
    const type = text(fd, "type");
    const tile = { type, w: Number(text(fd, "w")), h: type === "number" ? 2 : type === "markdown" ? 3 : 4 };
    if (text(fd, "title")) tile.title = text(fd, "title");
    if (type === "chart") tile.chart_id = Number(text(fd, "chart_id"));
    if (type === "forecast") tile.forecast_id = Number(text(fd, "forecast_id"));
    if (["metric", "number", "anomalies"].includes(type)) tile.expression = text(fd, "expression");
    if (["metric", "number"].includes(type) && text(fd, "range")) tile.range = text(fd, "range");
    if (type === "metric") tile.resolution = text(fd, "resolution");
    if (type === "number") tile.stat = text(fd, "stat");
    if (type === "markdown") tile.text = fd.get("text") || "";
    const body = { tiles: [...grid.tiles(), tile], version: d.version };
    d = await api("/dashboards/" + id, { method: "PATCH", body });
    tileDialog.close();
    $("#dash-saved").textContent = "Tile added · version " + d.version;
    fill();
    await grid.refresh(grid.setTiles(d.tiles));
  });

  // --- share links ---
  const shareDialog = $("#share-dialog");
  async function loadShares() {
    const page = await api("/dashboards/" + id + "/shares");
    const body = clear($("#share-body"));
    page.items.forEach((s) => {
      const revoke = h("button", { type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "share-revoke-" + s.id, disabled: !canWrite || !!s.revoked_at }, s.revoked_at ? "Revoked" : "Revoke");
      revoke.addEventListener("click", () => busy(revoke, async () => {
        if (!confirm("Revoke this link? Whoever has it can no longer open the dashboard.")) return;
        await api("/dashboards/" + id + "/shares/" + s.id, { method: "DELETE" });
        toast("Link revoked.", "success");
        await loadShares();
      }));
      body.append(h("tr", { "data-testid": "share-row-" + s.id, class: s.revoked_at ? "row-dim" : null },
        h("td", {}, s.label || h("span", { class: "muted" }, "Link #" + s.id)),
        h("td", { class: "nowrap" }, timeEl(s.created_at)),
        h("td", { class: "nowrap" }, s.last_used_at ? timeEl(s.last_used_at) : h("span", { class: "muted" }, "never")),
        h("td", { class: "c-actions" }, revoke)));
    });
    show($("#share-table"), page.items.length > 0);
  }
  $("#dash-share").addEventListener("click", async (ev) => {
    await busy(ev.currentTarget, loadShares);
    show($("#share-new"), false);
    $("#share-form").hidden = !canWrite;
    shareDialog.showModal();
  });
  $("#share-close").addEventListener("click", () => shareDialog.close());
  onSubmit($("#share-form"), async (fd) => {
    const s = await api("/dashboards/" + id + "/shares", { method: "POST", body: { label: text(fd, "label") } });
    const url = location.origin + s.url;
    $("#share-url").textContent = url;
    $("#share-iframe").textContent = '<iframe src="' + url + '" width="100%" height="720" style="border:0"></iframe>';
    show($("#share-new"), true);
    $("#share-form").reset();
    await loadShares();
  });

  // --- export and schedules ---
  const exportDialog = $("#export-dialog");
  $("#export-format").addEventListener("change", () => { $("#export-page-size").disabled = $("#export-format").value !== "pdf"; });
  async function loadSchedules() {
    const page = await api("/dashboards/" + id + "/schedules");
    const list = clear($("#schedule-list"));
    page.items.forEach((s) => {
      const del = h("button", { type: "button", class: "btn btn-small btn-danger-ghost", disabled: !canWrite }, "Delete");
      del.addEventListener("click", () => busy(del, async () => {
        await api("/dashboards/" + id + "/schedules/" + s.id, { method: "DELETE" });
        await loadSchedules();
      }));
      list.append(h("li", { class: "schedule-item", "data-testid": "schedule-item" },
        h("div", {}, h("code", {}, s.cron), " " + s.timezone + " → " + s.recipients.join(", "),
          h("div", { class: "muted small" }, "next ", timeEl(s.next_run_at), s.last_status ? " · last " + s.last_status : "")),
        del));
    });
    if (!page.items.length) list.append(h("li", { class: "muted small" }, "No schedule: the dashboard is mailed only when you set one."));
  }
  $("#dash-export").addEventListener("click", async (ev) => {
    await busy(ev.currentTarget, loadSchedules);
    $("#schedule-form").hidden = !canWrite;
    exportDialog.showModal();
  });
  $("#export-cancel").addEventListener("click", () => exportDialog.close());
  onSubmit($("#export-form"), async (fd) => {
    const format = text(fd, "format");
    const slug = d.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "dashboard";
    await download("/export/dashboard/" + id, { format, page_size: text(fd, "page_size") }, slug + "." + format);
    toast("Exported as " + format.toUpperCase() + ".", "success");
  });
  onSubmit($("#schedule-form"), async (fd) => {
    const recipients = text(fd, "recipients").split(/[\s,;]+/).filter(Boolean);
    await api("/dashboards/" + id + "/schedules", { method: "POST", body: { cron: text(fd, "cron"), timezone: text(fd, "timezone"), recipients } });
    toast("Schedule added.", "success");
    $("#schedule-recipients").value = "";
    await loadSchedules();
  });

  // --- name and description ---
  const editDialog = $("#edit-dialog");
  $("#dash-edit").addEventListener("click", () => {
    $("#edit-name").value = d.name;
    $("#edit-description").value = d.description || "";
    editDialog.showModal();
  });
  $("#edit-cancel").addEventListener("click", () => editDialog.close());
  onSubmit($("#edit-form"), async (fd) => {
    await save({ name: text(fd, "name"), description: text(fd, "description") }, "Details saved");
    editDialog.close();
  });

  // --- writers only ---
  ["#dash-add", "#dash-edit", "#dash-delete"].forEach((sel) => {
    $(sel).disabled = !canWrite;
    if (!canWrite) $(sel).title = "Viewers cannot change dashboards";
  });
  $("#dash-delete").addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
    if (!confirm("Delete the dashboard “" + d.name + "”? Its share links stop working; the charts it shows stay.")) return;
    await api("/dashboards/" + id, { method: "DELETE" });
    location.assign("/dashboards");
  }));

  return load();
}

startApp(dashboardPage);
