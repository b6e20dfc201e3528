/* The Alerts page's Channels tab: where alert messages go (webhook, Slack, email,
 * PagerDuty, Teams), each with its deliveries, a test message and a form to add one.
 *
 * `channelsById` is the Alerts page's: the Configurations tab names channels from it.
 */

import { api, ApiError } from "./api.js";
import { $, $$, append, clear, h, newestOnly, show } from "./dom.js";
import { fmtCount } from "./format.js";
import { badge } from "./badges.js";
import { busy, showError, toast } from "./toast.js";
import { onSubmit, text } from "./forms.js";
import { hideFailed, showFailed } from "./loading.js";
import { CHANNEL_TYPE, channelDestination, deliveriesTable, DELIVERY_KIND, deliveryBadge, deliveryOutcome, formErrorIn, parseHeaders } from "./alerts.js";

/**
 * Bind the tab's form and buttons; answers its loader and syncChannelType (the form's
 * fields follow the chosen type). `reloadConfigs` runs after a channel is deleted.
 */
export function channelsTab({ canWrite, tabCount, channelsById, reloadConfigs }) {
  const openLogs = new Set();

  function deliveryCounts(c) {
    const counts = c.deliveries || {};
    const keys = Object.keys(counts).filter((k) => counts[k]);
    if (!keys.length) return h("span", { class: "muted small" }, "none yet");
    return h("span", { class: "badges" }, ["sent", "failed", "silenced", "pending", "sending"].filter((k) => counts[k])
      .map((k) => badge(fmtCount(counts[k]) + " " + k, DELIVERY_KIND[k] || "muted")));
  }

  async function loadLog(c, cell) {
    const page = await api("/channels/" + c.id + "/deliveries", { query: { limit: 20 } });
    clear(cell);
    if (!page.items.length) {
      cell.append(h("p", { class: "muted small log-empty" }, "Nothing sent through this channel yet."));
      return;
    }
    append(cell, [deliveriesTable(page.items, { canWrite, showTrigger: true, reload: () => loadLog(c, cell) }),
      page.total > page.items.length
        ? h("p", { class: "muted small log-more" }, "The newest " + page.items.length + " of " + fmtCount(page.total) + " deliveries.") : null]);
  }

  function channelRows(c) {
    const result = h("td", { class: "test-result", "data-testid": "channel-test-result-" + c.id });
    const countsCell = h("td", { "data-testid": "channel-deliveries-" + c.id }, deliveryCounts(c));
    const logCell = h("td", { colspan: 5, class: "log-cell" });
    const logRow = h("tr", { class: "detail-row", "data-testid": "channel-log-" + c.id, hidden: !openLogs.has(c.id) }, logCell);
    const test = h("button", {
      type: "button", class: "btn btn-small", "data-testid": "channel-test-" + c.id, disabled: !canWrite,
      title: canWrite ? "Send a sample alert now" : "Viewers cannot send tests",
    }, "Send test");
    const logBtn = h("button", {
      type: "button", class: "btn btn-small", "data-testid": "channel-log-toggle-" + c.id,
      "aria-expanded": String(openLogs.has(c.id)),
    }, "Delivery log");
    const del = h("button", {
      type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "channel-delete-" + c.id, disabled: !canWrite,
    }, "Delete");

    async function refresh() {
      const fresh = await api("/channels/" + c.id);
      append(clear(countsCell), deliveryCounts(fresh));
      if (!logRow.hidden) await loadLog(c, logCell);
    }

    test.addEventListener("click", () => busy(test, async () => {
      append(clear(result), h("span", { class: "muted small" }, "sending…"));
      let d;
      try {
        d = await api("/channels/" + c.id + "/test", { method: "POST" });
      } catch (err) {
        clear(result);
        throw err;
      }
      const outcome = deliveryOutcome(d);
      append(clear(result), h("div", { class: "test-outcome", "data-status": d.status },
        deliveryBadge(d.status, "channel-test-status-" + c.id),
        outcome ? h("span", { class: "muted small" }, outcome) : null,
        d.error ? h("div", { class: "small run-error", title: d.error, "data-testid": "channel-test-error-" + c.id }, d.error) : null));
      await refresh();
    }));
    logBtn.addEventListener("click", () => busy(logBtn, async () => {
      const open = logRow.hidden;
      logRow.hidden = !open;
      logBtn.setAttribute("aria-expanded", String(open));
      if (open) {
        openLogs.add(c.id);
        append(clear(logCell), h("p", { class: "muted small log-empty" }, "Loading…"));
        await loadLog(c, logCell);
      } else {
        openLogs.delete(c.id);
      }
    }));
    del.addEventListener("click", async () => {
      if (!confirm("Delete the channel \u201c" + c.name + "\u201d with its delivery log? Alerts using it stop sending there.")) return;
      await busy(del, async () => {
        await api("/channels/" + c.id, { method: "DELETE" });
        toast("Channel \u201c" + c.name + "\u201d deleted.", "success");
        await loadChannels();
        await reloadConfigs();
      });
    });

    const tr = h("tr", { "data-testid": "channel-row-" + c.id, "data-channel-id": c.id, class: c.enabled ? "" : "row-dim" },
      h("td", { class: "channel-cell" }, h("div", { class: "strong" }, c.name),
        h("div", { class: "badges" }, badge(CHANNEL_TYPE[c.type] || c.type, "info"), c.enabled ? null : badge("disabled", "muted"))),
      h("td", { class: "destination-cell" }, channelDestination(c)),
      countsCell,
      result,
      h("td", { class: "right c-actions" }, h("div", { class: "row-actions" }, test, logBtn, del)));
    if (!logRow.hidden) loadLog(c, logCell).catch(showError);
    return [tr, logRow];
  }

  const chCall = newestOnly();
  async function loadChannels() {
    const stale = chCall();
    const wrap = $("#channels-table").closest(".table-wrap");
    let page;
    try {
      page = await api("/channels", { query: { limit: 500 } });
    } catch (err) {
      if (stale()) return;
      show($("#channels-empty"), false);
      showFailed("channels-failed", wrap, err, () => loadChannels().catch(showError));
      return;
    }
    if (stale()) return;
    hideFailed("channels-failed", wrap);
    channelsById.clear();
    page.items.forEach((c) => channelsById.set(c.id, c));
    $("#stat-channels").textContent = fmtCount(page.total);
    tabCount("channels", page.total);
    const tb = clear($("#channels-body"));
    show($("#channels-empty"), page.total === 0);
    show($("#channels-table"), page.total > 0);
    page.items.forEach((c) => tb.append(...channelRows(c)));
  }

  const chForm = $("#channel-form");
  const chType = $("#ch-type");
  function syncChannelType() {
    $$(".type-fields", chForm).forEach((el) => show(el, el.dataset.type === chType.value));
  }
  chType.addEventListener("change", syncChannelType);

  function channelConfig(type) {
    const block = $(".type-fields[data-type=" + type + "]", chForm);
    const val = (key) => {
      const el = $("[data-key=" + key + "]", block);
      return el ? el.value.trim() : "";
    };
    const cfg = {};
    if (type === "email") {
      cfg.to = val("to").split(/[\s,;]+/).filter(Boolean);
      return cfg;
    }
    if (type === "pagerduty") {
      cfg.routing_key = val("routing_key");
      if (val("url")) cfg.url = val("url");
      return cfg;
    }
    cfg.url = val("url");
    if (type === "webhook") {
      cfg.format = val("format") || "augury";
      if (val("secret")) cfg.secret = val("secret");
      const headers = parseHeaders(val("headers"));
      if (Object.keys(headers).length) cfg.headers = headers;
    }
    if (type === "slack") {
      if (val("channel")) cfg.channel = val("channel");
      if (val("username")) cfg.username = val("username");
    }
    return cfg;
  }

  onSubmit(chForm, async (fd) => {
    const errBox = $("#channel-form-error");
    const type = chType.value;
    let body;
    try {
      if (!text(fd, "name")) throw new ApiError(0, "VALIDATION_ERROR", "Give the channel a name.");
      body = { name: text(fd, "name"), type, config: channelConfig(type) };
      const needs = { webhook: "url", slack: "url", teams: "url", pagerduty: "routing_key" }[type];
      if (needs && !body.config[needs]) {
        throw new ApiError(0, "VALIDATION_ERROR", needs === "url" ? "Give the URL to send to." : "Give the routing key (the integration key of a PagerDuty service).");
      }
      if (type === "email" && !body.config.to.length) throw new ApiError(0, "VALIDATION_ERROR", "Give at least one address.");
    } catch (err) {
      formErrorIn(chForm, errBox, err);
      return;
    }
    let out;
    try {
      out = await api("/channels", { method: "POST", body });
    } catch (err) {
      if (err.status !== 422) throw err;
      formErrorIn(chForm, errBox, err);
      return;
    }
    formErrorIn(chForm, errBox, null);
    chForm.reset();
    syncChannelType();
    if (out.type === "webhook" && out.config.secret) {
      $("#channel-secret").textContent = out.config.secret;
      show($("#channel-secret-box"), true);
    }
    toast("Channel \u201c" + out.name + "\u201d added. Try it with Send test.", "success");
    await loadChannels();
  });
  $("#channel-secret-dismiss").addEventListener("click", () => {
    $("#channel-secret").textContent = "";
    show($("#channel-secret-box"), false);
  });


  return { loadChannels, syncChannelType };
}
