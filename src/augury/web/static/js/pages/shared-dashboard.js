/* A dashboard through its read-only share link (/share/dashboards/{token}): no login,
 * no app frame (so it fits an iframe), the tiles fetched through the link and
 * refreshed on the dashboard's own interval. A revoked or expired link says so.
 */

import { api } from "../api.js";
import { $, show } from "../dom.js";
import { startPublic } from "../shell.js";
import { dashboardGrid } from "../dashboard-grid.js";

const RANGE_NAMES = { "1h": "last hour", "6h": "last 6 hours", "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "90d": "last 90 days" };

async function sharedPage() {
  const token = encodeURIComponent($("#shared-root").dataset.token);
  const base = "/shared/dashboards/" + token;
  let d;
  try {
    d = await api(base, { auth: false });
  } catch (err) {
    if (err.status !== 404) throw err;
    show($("#shared-gone"), true);
    $("#dash-grid").remove();
    return;
  }
  $("#shared-name").textContent = d.name;
  document.title = d.name + " · augury";
  $("#shared-description").textContent = d.description || "";
  const filters = Object.entries(d.settings.filters || {}).map(([k, v]) => k + "=" + v).join(" ");
  $("#shared-range").textContent = RANGE_NAMES[d.settings.range] + (filters ? " · " + filters : "");
  const grid = dashboardGrid($("#dash-grid"), {
    fetchData: (tile) => api(base + "/tiles/" + encodeURIComponent(tile.id) + "/data", { auth: false }),
  });
  grid.setTiles(d.tiles);
  await grid.refresh();
  if (d.settings.auto_refresh) setInterval(() => { if (!document.hidden) grid.refresh(); }, d.settings.refresh_interval * 1000);
}

startPublic(sharedPage);
