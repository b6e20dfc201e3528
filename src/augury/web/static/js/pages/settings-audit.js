/* Settings › Audit log: who did what, filtered by action and outcome. */

import { api } from "../api.js";
import { $, $$, clear, h, newestOnly, show } from "../dom.js";
import { badge, OUTCOME_KIND, timeEl } from "../badges.js";
import { showError } from "../toast.js";
import { pager } from "../pager.js";
import { canAdmin, startApp } from "../shell.js";
import { needsAdmin } from "../settings.js";

function auditPage(me) {
  let offset = 0;
  if (!canAdmin(me)) {
    needsAdmin("Only admins and owners can read the audit log.");
    show($("#settings-body"), false);
    return Promise.resolve();
  }

  function details(ev) {
    const d = Object.entries(ev.details || {});
    if (!d.length) return h("span", { class: "muted" }, "–");
    return h("span", { class: "details small" }, d.map(([k, v]) =>
      h("span", { class: "kv" }, h("span", { class: "muted" }, k + " "), typeof v === "object" ? JSON.stringify(v) : String(v))));
  }

  const auditCall = newestOnly();
  async function load() {
    const stale = auditCall();
    const page = await api("/audit", {
      query: { offset, limit: 25, action: $("#audit-action").value, outcome: $("#audit-outcome").value },
    });
    if (stale()) return;
    const tb = clear($("#audit-body"));
    show($("#audit-empty"), page.total === 0);
    show($("#audit-table"), page.total > 0);
    page.items.forEach((ev) => tb.append(h("tr", { "data-testid": "audit-row", "data-action": ev.action },
      h("td", { class: "nowrap" }, timeEl(ev.created_at)),
      h("td", {}, h("code", {}, ev.action)),
      h("td", {}, badge(ev.outcome, OUTCOME_KIND[ev.outcome] || "muted")),
      h("td", {}, ev.actor_email || (ev.actor_key_id ? "API key #" + ev.actor_key_id : h("span", { class: "muted" }, "–"))),
      h("td", {}, ev.target_type ? ev.target_type + (ev.target_id ? " #" + ev.target_id : "") : h("span", { class: "muted" }, "–")),
      h("td", { class: "nowrap" }, ev.ip || "–"),
      h("td", {}, details(ev)))));
    pager($("#audit-pager"), page, (o) => { offset = o; load().catch(showError); }, "audit");
  }

  $$("#audit-filters select").forEach((s) => s.addEventListener("change", () => { offset = 0; load().catch(showError); }));
  return load();
}

startApp(auditPage);
