/* Settings › Webhooks: URLs subscribed to the organization's events (admins), each with
 * an active switch, its last delivery, a test, its delivery log, edit and delete. A
 * webhook's signing secret shows whole once: when it is made or rotated here.
 */

import { api, ApiError, inPool } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { deliveryBadge, deliveryOutcome, formErrorIn, parseHeaders } from "../alerts.js";
import { needsAdmin } from "../settings.js";
import { canAdmin, startApp } from "../shell.js";

const ALL = "*";
const STATUSES = ["sent", "failed", "pending", "sending"];
const LOG_LIMIT = 20;

/** A random signing secret, as augury would make one: 32 bytes, URL-safe base64. */
function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function eventBadges(events) {
  if (events.includes(ALL)) return badge("all events", "violet");
  return h("div", { class: "badges" }, events.map((e) => badge(e, "info")));
}

/** The outcome in a line: "HTTP 200 · 12 ms", the error, or both. */
function outcomeText(d) {
  if (d.error && d.status_code && d.error.startsWith("HTTP " + d.status_code)) return d.error; // says the code itself
  return [deliveryOutcome(d), d.error].filter(Boolean).join(" — ");
}

function webhooksPage(me) {
  if (!canAdmin(me)) {
    needsAdmin("Only the organization's admins manage webhooks: they send the organization's events to a URL outside augury.");
    return;
  }
  show($("#webhooks-body"), true);
  let offset = 0;
  let catalog = [];
  const openLogs = new Map(); // webhook id -> the status its log is filtered by ("" for all)

  // --- the create / edit dialog ------------------------------------------------------

  const dialog = $("#webhook-dialog");
  const form = $("#webhook-form");
  const errBox = $("#webhook-form-error");
  let editing = null; // the webhook being edited, or null for a new one

  function renderCatalog() {
    const groups = new Map();
    catalog.forEach((e) => {
      const prefix = e.type.split(".")[0];
      if (!groups.has(prefix)) groups.set(prefix, []);
      groups.get(prefix).push(e);
    });
    const box = clear($("#wh-event-groups"));
    groups.forEach((events, prefix) => {
      box.append(h("fieldset", { class: "field", "data-testid": "wh-group-" + prefix },
        h("legend", { class: "hint" }, prefix),
        events.map((e) => h("label", { class: "check check-chip", title: e.type + ": " + e.description },
          h("input", { type: "checkbox", name: "events", value: e.type, "data-testid": "wh-event-" + e.type }),
          " " + e.type.slice(prefix.length + 1)))));
    });
  }

  function syncAll() {
    const all = $("#wh-all").checked;
    $$("input[name=events]", form).forEach((cb) => { cb.disabled = all; });
  }
  $("#wh-all").addEventListener("change", syncAll);

  function openDialog(hook) {
    editing = hook || null;
    form.reset();
    formErrorIn(form, errBox, null);
    $("#webhook-dialog-title").textContent = hook ? "Edit webhook" : "New webhook";
    $("#webhook-submit").textContent = hook ? "Save" : "Create webhook";
    const events = hook ? hook.events : [];
    $("#wh-all").checked = events.includes(ALL);
    $$("input[name=events]", form).forEach((cb) => { cb.checked = events.includes(cb.value); });
    syncAll();
    $("#wh-name").value = hook ? hook.name : "";
    $("#wh-url").value = hook ? hook.url : "";
    $("#wh-secret").value = "";
    $("#wh-secret").placeholder = hook ? "empty: keep " + hook.secret : "empty: augury makes one";
    $("#wh-secret-label").firstChild.textContent = hook ? "New signing secret " : "Signing secret ";
    show($("#wh-secret-generate"), !!hook);
    $("#wh-headers").value = hook ? Object.entries(hook.headers || {}).map(([k, v]) => k + ": " + v).join("\n") : "";
    $("#wh-active").checked = hook ? hook.active : true;
    dialog.showModal();
  }

  $("#webhook-new").addEventListener("click", () => openDialog(null));
  $("#webhook-cancel").addEventListener("click", () => dialog.close());
  $("#wh-secret-generate").addEventListener("click", () => { $("#wh-secret").value = randomSecret(); });

  function showSecret(name, secret) {
    $("#webhook-secret-name").textContent = name;
    $("#webhook-secret").textContent = secret;
    show($("#webhook-secret-box"), true);
  }
  $("#webhook-secret-dismiss").addEventListener("click", () => {
    $("#webhook-secret").textContent = "";
    show($("#webhook-secret-box"), false);
  });

  onSubmit(form, async (fd) => {
    let body;
    try {
      const events = $("#wh-all").checked ? [ALL] : fd.getAll("events").map(String);
      if (!text(fd, "name")) throw new ApiError(0, "VALIDATION_ERROR", "Give the webhook a name.");
      if (!text(fd, "url")) throw new ApiError(0, "VALIDATION_ERROR", "Give the URL to send to.");
      if (!events.length) throw new ApiError(0, "VALIDATION_ERROR", "Choose at least one event, or all events.");
      body = { name: text(fd, "name"), url: text(fd, "url"), events, active: $("#wh-active").checked };
      body.headers = parseHeaders($("#wh-headers").value);
      if (!editing && !Object.keys(body.headers).length) delete body.headers;
      if (text(fd, "secret")) body.secret = text(fd, "secret");
    } catch (err) {
      formErrorIn(form, errBox, err);
      return;
    }
    let out;
    try {
      out = editing
        ? await api("/webhooks/" + editing.id, { method: "PATCH", body })
        : await api("/webhooks", { method: "POST", body });
    } catch (err) {
      if (err.status !== 422) throw err;
      formErrorIn(form, errBox, err);
      return;
    }
    dialog.close();
    if (!editing) {
      showSecret(out.name, out.secret);
      toast("Webhook \u201c" + out.name + "\u201d created. Try it with Send test.", "success");
    } else {
      if (body.secret) showSecret(out.name, body.secret);
      toast("Webhook \u201c" + out.name + "\u201d saved.", "success");
    }
    await load();
  });

  // --- the list ----------------------------------------------------------------------

  async function lastDelivery(hook, cell) {
    const page = await api("/webhooks/" + hook.id + "/deliveries", { query: { limit: 1 } });
    const d = page.items[0];
    clear(cell);
    if (!d) {
      cell.append(h("span", { class: "muted small" }, "none yet"));
      return;
    }
    append(cell, h("div", { class: "test-outcome", "data-status": d.status },
      deliveryBadge(d.status, "webhook-last-status-" + hook.id),
      h("span", { class: "muted small", title: d.event_type }, deliveryOutcome(d) || d.error || ""),
      h("span", { class: "muted small" }, timeEl(d.sent_at || d.created_at, true))));
  }

  async function loadLog(hook, cell) {
    const status = openLogs.get(hook.id) || "";
    const filter = h("select", { class: "select-small", "aria-label": "Status", "data-testid": "webhook-log-status-" + hook.id },
      h("option", { value: "" }, "All statuses"),
      STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)));
    filter.addEventListener("change", () => {
      openLogs.set(hook.id, filter.value);
      loadLog(hook, cell).catch(showError);
    });
    const page = await api("/webhooks/" + hook.id + "/deliveries", { query: { limit: LOG_LIMIT, status: status || undefined } });
    const head = h("div", { class: "card-head" },
      h("div", {}, h("strong", {}, "Delivery log"), h("span", { class: "muted small" }, " newest first")), filter);
    let body;
    if (!page.items.length) {
      body = h("p", { class: "muted small log-empty", "data-testid": "webhook-log-empty-" + hook.id },
        status ? "No " + status + " deliveries." : "Nothing sent to this webhook yet.");
    } else {
      body = [h("table", { class: "table table-compact", "data-testid": "webhook-log-table-" + hook.id },
        h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Event"), h("th", {}, "Status"),
          h("th", { class: "num" }, "Attempts"), h("th", { class: "num" }, "Code"), h("th", {}, "Error"))),
        h("tbody", {}, page.items.map((d) => h("tr", { "data-testid": "webhook-delivery-" + d.id, "data-status": d.status },
          h("td", { class: "nowrap" }, timeEl(d.sent_at || d.created_at)),
          h("td", { class: "nowrap" }, h("code", {}, d.event_type)),
          h("td", {}, deliveryBadge(d.status, "webhook-delivery-status-" + d.id)),
          h("td", { class: "num" }, d.attempts),
          h("td", { class: "num", "data-testid": "webhook-delivery-code-" + d.id }, d.status_code || "–"),
          h("td", { class: "delivery-error" }, d.error
            ? h("span", { class: "small run-error", title: d.error }, d.error) : h("span", { class: "muted" }, "–")))))),
      page.total > page.items.length
        ? h("p", { class: "muted small log-more" }, "The newest " + page.items.length + " of " + page.total + " deliveries.") : null];
    }
    append(clear(cell), [head, body]);
  }

  function hookRows(hook) {
    const lastCell = h("td", { "data-testid": "webhook-last-" + hook.id }, h("span", { class: "muted small" }, "…"));
    const logCell = h("td", { colspan: 5, class: "log-cell" });
    const logRow = h("tr", { class: "detail-row", "data-testid": "webhook-log-" + hook.id, hidden: !openLogs.has(hook.id) }, logCell);
    const active = h("input", { type: "checkbox", checked: hook.active, "data-testid": "webhook-active-" + hook.id });
    const test = h("button", { type: "button", class: "btn btn-small", "data-testid": "webhook-test-" + hook.id,
      title: "Send a sample event (webhook.test) now" }, "Send test");
    const logBtn = h("button", { type: "button", class: "btn btn-small", "data-testid": "webhook-log-toggle-" + hook.id,
      "aria-expanded": String(openLogs.has(hook.id)) }, "Delivery log");
    const edit = h("button", { type: "button", class: "btn btn-small", "data-testid": "webhook-edit-" + hook.id }, "Edit");
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "webhook-delete-" + hook.id }, "Delete");
    const tr = h("tr", { "data-testid": "webhook-row-" + hook.id, class: hook.active ? "" : "row-dim" },
      h("td", { class: "channel-cell" }, h("div", { class: "strong" }, hook.name),
        h("span", { class: "destination" }, h("code", { class: "url", title: hook.url }, hook.url))),
      h("td", {}, eventBadges(hook.events)),
      h("td", {}, h("label", { class: "check check-inline" }, active, h("span", { "data-testid": "webhook-active-label-" + hook.id }, hook.active ? "active" : "paused"))),
      lastCell,
      h("td", { class: "right c-actions" }, h("div", { class: "row-actions" }, test, logBtn, edit, del)));

    async function refresh() {
      await lastDelivery(hook, lastCell);
      if (!logRow.hidden) await loadLog(hook, logCell);
    }

    active.addEventListener("change", () => busy(active, async () => {
      const on = active.checked;
      try {
        const out = await api("/webhooks/" + hook.id, { method: "PATCH", body: { active: on } });
        Object.assign(hook, out);
      } catch (err) {
        active.checked = !on;
        throw err;
      }
      tr.classList.toggle("row-dim", !hook.active);
      $("[data-testid=webhook-active-label-" + hook.id + "]", tr).textContent = hook.active ? "active" : "paused";
      toast("Webhook \u201c" + hook.name + "\u201d " + (hook.active ? "active: events are sent again." : "paused: no events are sent."), "success");
    }));
    test.addEventListener("click", () => busy(test, async () => {
      const d = await api("/webhooks/" + hook.id + "/test", { method: "POST" });
      const what = outcomeText(d);
      if (d.status === "sent") toast("Test sent to \u201c" + hook.name + "\u201d: " + what + ".", "success");
      else toast("Test to \u201c" + hook.name + "\u201d " + d.status + (what ? ": " + what : "") + ".", "error");
      await refresh();
    }));
    logBtn.addEventListener("click", () => busy(logBtn, async () => {
      const open = logRow.hidden;
      logRow.hidden = !open;
      logBtn.setAttribute("aria-expanded", String(open));
      if (open) {
        openLogs.set(hook.id, "");
        append(clear(logCell), h("p", { class: "muted small log-empty" }, "Loading…"));
        await loadLog(hook, logCell);
      } else {
        openLogs.delete(hook.id);
      }
    }));
    edit.addEventListener("click", () => openDialog(hook));
    del.addEventListener("click", async () => {
      if (!confirm("Delete the webhook \u201c" + hook.name + "\u201d with its delivery log? Events not sent yet are dropped.")) return;
      await busy(del, async () => {
        await api("/webhooks/" + hook.id, { method: "DELETE" });
        openLogs.delete(hook.id);
        toast("Webhook \u201c" + hook.name + "\u201d deleted.", "success");
        await load();
      });
    });
    if (!logRow.hidden) loadLog(hook, logCell).catch(showError);
    return { rows: [tr, logRow], refresh: () => lastDelivery(hook, lastCell) };
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    const page = await api("/webhooks", { query: { offset, limit: 50 } });
    if (stale()) return;
    const tb = clear($("#webhooks-body-rows"));
    show($("#webhooks-empty"), page.total === 0);
    show($("#webhooks-table"), page.total > 0);
    const made = page.items.map(hookRows);
    made.forEach((m) => tb.append(...m.rows));
    pager($("#webhooks-pager"), page, (o) => { offset = o; load().catch(showError); }, "webhooks");
    await inPool(made.map((m) => m.refresh), 4);
  }

  return (async () => {
    catalog = await api("/webhooks/events");
    renderCatalog();
    await load();
  })();
}

startApp(webhooksPage);
