/* Alerts (/alerts): four tabs (triggered alerts, configurations, channels,
 * maintenance windows) whose state lives in the URL (?tab=&status=&severity=...).
 */

import { api, ApiError } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtAgo, fmtCount, fmtDuration, isoOf, known } from "../format.js";
import { badge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { emptyRow, pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { scorePill } from "../anomalies.js";
import { alertTypeBadge, browserZone, CHANNEL_TYPE, channelDestination, configState, deliveriesTable, DELIVERY_KIND, deliveryBadge, deliveryOutcome, formErrorIn, groupChips, localInputValue, parseHeaders, resolveTrigger, setAck, SEVERITIES, severityBadge, triggerBadges, untilText } from "../alerts.js";

const ALERT_TABS = ["triggered", "configs", "channels", "windows"];

function alertsPage(me) {
  const canWrite = me.role !== "viewer";
  const state = { tab: "triggered", status: "", severity: "", config_id: "", offset: 0, limit: 25, cfgOffset: 0 };
  const channelsById = new Map();
  const openLogs = new Set();

  // --- tabs and the URL (?tab=&status=&severity=&config_id=&offset=) ---
  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.tab = ALERT_TABS.includes(p.get("tab")) ? p.get("tab") : "triggered";
    state.status = ["open", "closed"].includes(p.get("status")) ? p.get("status") : "";
    state.severity = SEVERITIES.includes(p.get("severity")) ? p.get("severity") : "";
    state.config_id = /^\d+$/.test(p.get("config_id") || "") ? p.get("config_id") : "";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    $("#triggered-status").value = state.status;
    $("#triggered-severity").value = state.severity;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.tab !== "triggered") p.set("tab", state.tab);
    if (state.status) p.set("status", state.status);
    if (state.severity) p.set("severity", state.severity);
    if (state.config_id) p.set("config_id", state.config_id);
    if (state.offset) p.set("offset", String(state.offset));
    const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
  }

  function showTab() {
    ALERT_TABS.forEach((key) => {
      const on = key === state.tab;
      const tab = $("#tab-" + key);
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      show($("#panel-" + key), on);
    });
  }

  $$("#alerts-tabs .tab").forEach((tab) => tab.addEventListener("click", () => {
    state.tab = tab.dataset.tab;
    writeUrl();
    showTab();
  }));
  $("#alerts-tabs").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
    const i = ALERT_TABS.indexOf(state.tab) + (ev.key === "ArrowRight" ? 1 : -1);
    state.tab = ALERT_TABS[(i + ALERT_TABS.length) % ALERT_TABS.length];
    writeUrl();
    showTab();
    $("#tab-" + state.tab).focus();
  });

  function tabCount(key, n, alert) {
    const el = $("#tab-count-" + key);
    el.textContent = n ? fmtCount(n) : "";
    el.classList.toggle("tab-count-alert", !!alert && n > 0);
  }

  // --- triggered alerts ---
  const countsCall = newestOnly();
  async function loadCounts() {
    const stale = countsCall();
    const c = await api("/alerts/triggered/count");
    if (stale()) return; // a newer look (after an action, or the poll) answers instead
    $("#stat-open-alerts").textContent = fmtCount(c.open);
    $("#stat-closed-alerts").textContent = fmtCount(c.closed);
    $("#stat-open-alerts").closest(".stat").classList.toggle("stat-alert", c.open > 0);
    tabCount("triggered", c.open, true);
  }

  function triggerRow(t) {
    const href = "/alerts/triggered/" + t.id;
    const actions = h("td", { class: "right c-actions" });
    if (t.status === "open") {
      const ack = h("button", {
        type: "button", class: "btn btn-small", "data-testid": (t.acknowledged_at ? "unack-" : "ack-") + t.id,
        disabled: !canWrite, title: canWrite ? "" : "Viewers cannot change alerts",
      }, t.acknowledged_at ? "Unacknowledge" : "Acknowledge");
      ack.addEventListener("click", () => busy(ack, async () => {
        await setAck(t, !t.acknowledged_at);
        toast(t.acknowledged_at ? "Acknowledgement removed." : "Acknowledged: no more update messages.", "success");
        await Promise.all([loadTriggered(), loadCounts()]);
      }));
      const resolve = h("button", {
        type: "button", class: "btn btn-small", "data-testid": "resolve-" + t.id,
        disabled: !canWrite, title: canWrite ? "Close it now; its close message goes out" : "Viewers cannot change alerts",
      }, "Resolve");
      resolve.addEventListener("click", () => busy(resolve, async () => {
        await resolveTrigger(t);
        toast("Alert resolved.", "success");
        await Promise.all([loadTriggered(), loadCounts(), loadConfigs()]);
      }));
      actions.append(h("div", { class: "row-actions" }, ack, resolve));
    }
    const first = t.metrics[0];
    const tr = h("tr", {
      class: "row-link" + (t.status === "closed" ? " row-closed" : ""), "data-testid": "trigger-row-" + t.id,
      "data-trigger-id": t.id, "data-status": t.status,
    },
    h("td", {}, severityBadge(t.severity, "trigger-severity-" + t.id)),
    h("td", { class: "trigger-cell" },
      h("a", { href, class: "strong", "data-testid": "trigger-link-" + t.id }, t.title),
      h("div", { class: "trigger-sub" }, groupChips(t.group)
        || (first ? h("span", { class: "muted small metric-name" }, first.name
          + (t.metric_count > 1 ? " and " + (t.metric_count - 1) + " more" : "")) : null))),
    h("td", {}, h("div", { class: "badges" }, triggerBadges(t, t.id))),
    h("td", { class: "nowrap" }, timeEl(isoOf(t.start)), h("div", { class: "muted small" }, fmtAgo(isoOf(t.start)))),
    h("td", { class: "num", "data-testid": "trigger-duration-" + t.id }, fmtDuration(t.duration)),
    h("td", { class: "num" }, fmtCount(t.metric_count)),
    h("td", { class: "num" }, known(t.peak_score) ? scorePill(t.peak_score, "trigger-score-" + t.id) : h("span", { class: "muted" }, "–")),
    actions);
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  const trigCall = newestOnly();
  let shownTriggers = "";
  /** The list; `quiet` (a poll): redraw only when something changed. */
  async function loadTriggered(quiet) {
    const stale = trigCall();
    const wrap = $("#triggered-table").closest(".table-wrap");
    let page;
    try {
      page = await api("/alerts/triggered", {
        query: {
          status: state.status, severity: state.severity, config_id: state.config_id,
          offset: state.offset, limit: state.limit,
        },
      });
    } catch (err) {
      if (stale()) return;
      if (quiet) throw err; // a poll: what shows stays
      show($("#triggered-empty"), false);
      shownTriggers = "";
      showFailed("triggered-failed", wrap, err, () => loadTriggered().catch(showError));
      return;
    }
    if (stale()) return;
    hideFailed("triggered-failed", wrap);
    const seen = JSON.stringify(page);
    if (quiet && seen === shownTriggers) return;
    shownTriggers = seen;
    const tb = clear($("#triggered-body"));
    const filtered = !!(state.status || state.severity || state.config_id);
    const none = page.total === 0 && !filtered;
    show($("#triggered-empty"), none);
    show($("#triggered-table"), !none);
    if (page.total === 0 && !none) emptyRow(tb, 8, "No triggered alert matches these filters.");
    page.items.forEach((t) => tb.append(triggerRow(t)));
    pager($("#triggered-pager"), page, (o) => {
      state.offset = o;
      writeUrl();
      loadTriggered().catch(showError);
    }, "triggered");
  }

  async function showConfigFilter() {
    show($("#triggered-config-chip"), !!state.config_id);
    if (!state.config_id) return;
    $("#triggered-config-name").textContent = "Configuration #" + state.config_id;
    try {
      const c = await api("/alerts/" + state.config_id);
      $("#triggered-config-name").textContent = c.title;
    } catch (err) {
      if (err.status !== 404) throw err;
    }
  }

  function filterTriggered() {
    state.status = $("#triggered-status").value;
    state.severity = $("#triggered-severity").value;
    state.offset = 0;
    writeUrl();
    return loadTriggered();
  }
  $("#triggered-status").addEventListener("change", () => filterTriggered().catch(showError));
  $("#triggered-severity").addEventListener("change", () => filterTriggered().catch(showError));
  $("#triggered-config-clear").addEventListener("click", () => {
    state.config_id = "";
    showConfigFilter().catch(showError);
    filterTriggered().catch(showError);
  });

  // --- configurations ---
  function snoozeControl(c) {
    const now = Date.now() / 1000;
    if (c.snoozed_until && c.snoozed_until > now) {
      const b = h("button", { type: "button", class: "btn btn-small", "data-testid": "unsnooze-" + c.id, disabled: !canWrite }, "Unsnooze");
      b.addEventListener("click", () => busy(b, async () => {
        await api("/alerts/" + c.id + "/snooze", { method: "DELETE" });
        toast("\u201c" + c.title + "\u201d is no longer snoozed.", "success");
        await loadConfigs();
      }));
      return b;
    }
    const sel = h("select", { class: "select-small", "data-testid": "snooze-" + c.id, "aria-label": "Snooze " + c.title, disabled: !canWrite || c.paused },
      h("option", { value: "" }, "Snooze…"),
      [[3600, "1 hour"], [4 * 3600, "4 hours"], [86400, "1 day"], [7 * 86400, "1 week"]].map(([v, label]) => h("option", { value: v }, label)));
    sel.addEventListener("change", () => {
      if (!sel.value) return;
      busy(sel, async () => {
        const out = await api("/alerts/" + c.id + "/snooze", { method: "POST", body: { duration_s: Number(sel.value) } });
        toast("\u201c" + c.title + "\u201d snoozed " + untilText(out.snoozed_until) + ".", "success");
        await loadConfigs();
      });
    });
    return sel;
  }

  function configRow(c) {
    const edit = "/alerts/" + c.id + "/edit";
    const pause = h("button", {
      type: "button", class: "btn btn-small", "data-testid": (c.paused ? "resume-" : "pause-") + c.id,
      disabled: !canWrite, title: canWrite ? (c.paused ? "Evaluate it again" : "Stop evaluating it") : "Viewers cannot change alerts",
    }, c.paused ? "Resume" : "Pause");
    pause.addEventListener("click", () => busy(pause, async () => {
      await api("/alerts/" + c.id + (c.paused ? "/resume" : "/pause"), { method: "POST" });
      toast("\u201c" + c.title + "\u201d " + (c.paused ? "resumed." : "paused."), "success");
      await loadConfigs();
    }));
    const names = c.channel_ids.map((id) => channelsById.get(id)).filter(Boolean);
    const open = c.open_triggers
      ? h("button", {
        type: "button", class: "link-button link-plain strong open-count", "data-testid": "config-open-" + c.id,
        title: "Show the open alerts of this configuration",
        onclick: () => {
          state.config_id = String(c.id);
          state.status = "open";
          state.offset = 0;
          state.tab = "triggered";
          $("#triggered-status").value = "open";
          writeUrl();
          showTab();
          showConfigFilter().catch(showError);
          loadTriggered().catch(showError);
        },
      }, fmtCount(c.open_triggers))
      : h("span", { class: "muted", "data-testid": "config-open-" + c.id }, "0");
    const tr = h("tr", { class: "row-link" + (c.paused ? " row-dim" : ""), "data-testid": "config-row-" + c.id, "data-config-id": c.id },
      h("td", { class: "config-cell" },
        h("a", { href: edit, class: "strong", "data-testid": "config-link-" + c.id }, c.title),
        h("div", {}, c.expression ? h("code", { class: "expr" }, c.expression) : h("span", { class: "muted small" }, "every metric"),
          c.group_by.length ? h("span", { class: "muted small" }, " · by " + c.group_by.join(", ")) : null)),
      h("td", {}, alertTypeBadge(c.type)),
      h("td", {}, severityBadge(c.severity)),
      h("td", {}, names.length
        ? h("span", { class: "channel-names small" }, names.map((n) => n.name).join(", "))
        : h("span", { class: "muted small" }, c.channel_ids.length ? c.channel_ids.length + " channels" : "none")),
      h("td", { class: "num" }, open),
      h("td", {}, configState(c)),
      h("td", { class: "right c-actions" }, h("div", { class: "row-actions" },
        pause, snoozeControl(c),
        h("a", { class: "btn btn-small", href: edit, "data-testid": "edit-" + c.id }, "Edit"))));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button, select") && !getSelection().toString()) location.assign(edit);
    });
    return tr;
  }

  const cfgCall = newestOnly();
  async function loadConfigs() {
    const stale = cfgCall();
    const wrap = $("#configs-table").closest(".table-wrap");
    let page;
    try {
      page = await api("/alerts", { query: { offset: state.cfgOffset, limit: 50 } });
    } catch (err) {
      if (stale()) return;
      show($("#configs-empty"), false);
      showFailed("configs-failed", wrap, err, () => loadConfigs().catch(showError));
      return;
    }
    if (stale()) return;
    hideFailed("configs-failed", wrap);
    $("#stat-configs").textContent = fmtCount(page.total);
    tabCount("configs", page.total);
    const tb = clear($("#configs-body"));
    show($("#configs-empty"), page.total === 0);
    show($("#configs-table"), page.total > 0);
    page.items.forEach((c) => tb.append(configRow(c)));
    pager($("#configs-pager"), page, (o) => { state.cfgOffset = o; loadConfigs().catch(showError); }, "configs");
  }

  // --- channels ---
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
        await loadConfigs();
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

  // --- maintenance windows ---
  function windowSchedule(w) {
    if (w.start !== null && w.start !== undefined) {
      return h("span", { class: "nowrap" }, timeEl(isoOf(w.start)), " – ", timeEl(isoOf(w.end)));
    }
    const rule = w.rrule ? ["RRULE", w.rrule] : ["cron", w.cron];
    return h("div", {},
      h("div", {}, h("span", { class: "muted small" }, rule[0] + " "), h("code", { class: "expr" }, rule[1])),
      h("div", { class: "muted small" }, "lasts " + fmtDuration(w.duration_s) + " · " + w.timezone
        + (w.dtstart ? " · from " + w.dtstart.replace("T", " ") : "")));
  }

  function windowRow(w) {
    const upcoming = (w.next || []).filter((o) => !(w.active && o[0] <= Date.now() / 1000));
    const nxt = upcoming[0];
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "window-delete-" + w.id, disabled: !canWrite }, "Delete");
    del.addEventListener("click", async () => {
      if (!confirm("Delete the maintenance window \u201c" + w.name + "\u201d?")) return;
      await busy(del, async () => {
        await api("/maintenance-windows/" + w.id, { method: "DELETE" });
        toast("Maintenance window deleted.", "success");
        await loadWindows();
      });
    });
    return h("tr", { "data-testid": "window-row-" + w.id, "data-window-id": w.id },
      h("td", { class: "strong" }, w.name),
      h("td", {}, w.expression ? h("code", { class: "expr" }, w.expression) : h("span", { class: "muted small" }, "every metric"),
        w.config_ids.length ? h("div", { class: "muted small" }, w.config_ids.length + (w.config_ids.length === 1 ? " configuration" : " configurations")) : null),
      h("td", {}, windowSchedule(w)),
      h("td", { "data-testid": "window-active-" + w.id }, w.active
        ? [badge("active", "warning"), h("div", { class: "muted small" }, untilText(w.active_until))]
        : badge("inactive", "muted")),
      h("td", { class: "nowrap", "data-testid": "window-next-" + w.id }, nxt
        ? [timeEl(isoOf(nxt[0])), h("div", { class: "muted small" }, fmtAgo(isoOf(nxt[0])) + " · for " + fmtDuration(nxt[1] - nxt[0]))]
        : h("span", { class: "muted" }, w.start !== null && w.start !== undefined && !w.active ? "over" : "–")),
      h("td", { class: "right" }, del));
  }

  const winCall = newestOnly();
  async function loadWindows() {
    const stale = winCall();
    const page = await api("/maintenance-windows", { query: { limit: 500 } });
    if (stale()) return;
    const active = page.items.filter((w) => w.active).length;
    tabCount("windows", page.total);
    $("#tab-count-windows").title = active ? active + " active now" : "";
    const tb = clear($("#windows-body"));
    show($("#windows-empty"), page.total === 0);
    show($("#windows-table"), page.total > 0);
    page.items.forEach((w) => tb.append(windowRow(w)));
  }

  const wForm = $("#window-form");
  const zone = browserZone();
  $$(".browser-tz", wForm).forEach((el) => { el.textContent = zone; });
  const tzInput = $("#mw-timezone");
  tzInput.value = zone;
  try {
    const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
    append($("#mw-timezones"), ["UTC", ...zones].map((z) => h("option", { value: z })));
  } catch (e) {
    // An old browser: the field still takes any IANA name.
  }
  function defaultTimes() {
    const start = new Date();
    start.setMinutes(0, 0, 0);
    start.setHours(start.getHours() + 1);
    $("#mw-start").value = localInputValue(start);
    $("#mw-end").value = localInputValue(new Date(start.getTime() + 2 * 3600 * 1000));
    const night = new Date();
    night.setDate(night.getDate() + 1);
    night.setHours(2, 0, 0, 0);
    $("#mw-dtstart").value = localInputValue(night);
  }
  defaultTimes();
  function syncWindowKind() {
    const kind = $("input[name=kind]:checked", wForm).value;
    $$(".window-fields", wForm).forEach((el) => show(el, el.dataset.kind === kind));
  }
  function syncRuleKind() {
    const cron = $("#mw-rule-kind").value === "cron";
    $("#mw-rule").placeholder = cron ? "0 2 * * 0" : "FREQ=WEEKLY;BYDAY=SU";
    $("#mw-rule-hint").textContent = cron
      ? "Five fields: minute hour day-of-month month day-of-week, e.g. 0 2 * * 0 (Sundays at 02:00)."
      : "e.g. FREQ=DAILY, FREQ=WEEKLY;BYDAY=SA,SU, FREQ=MONTHLY;BYMONTHDAY=1";
    $("#mw-dtstart-hint").textContent = cron ? "Optional for cron: when it starts to apply." : "Local time in the zone on the right.";
  }
  $$("input[name=kind]", wForm).forEach((r) => r.addEventListener("change", syncWindowKind));
  $("#mw-rule-kind").addEventListener("change", syncRuleKind);
  syncRuleKind();

  onSubmit(wForm, async (fd) => {
    const errBox = $("#window-form-error");
    const fail = (message) => formErrorIn(wForm, errBox, new ApiError(0, "VALIDATION_ERROR", message));
    const body = { name: text(fd, "name"), expression: text(fd, "expression") };
    if (!body.name) return fail("Give the window a name.");
    if (fd.get("kind") === "once") {
      const start = new Date($("#mw-start").value);
      const end = new Date($("#mw-end").value);
      if (isNaN(start) || isNaN(end)) return fail("Give the start and the end of the window.");
      body.start = Math.floor(start.getTime() / 1000);
      body.end = Math.floor(end.getTime() / 1000);
    } else {
      const rule = $("#mw-rule").value.trim();
      const duration = Number($("#mw-duration").value) * Number($("#mw-duration-unit").value);
      if (!rule) return fail("Say when it repeats: an RRULE or a cron line.");
      if (!(duration > 0)) return fail("Say how long each occurrence lasts.");
      body[$("#mw-rule-kind").value] = rule;
      if ($("#mw-dtstart").value) body.dtstart = $("#mw-dtstart").value;
      body.duration_s = duration;
      body.timezone = tzInput.value.trim() || "UTC";
    }
    let out;
    try {
      out = await api("/maintenance-windows", { method: "POST", body });
    } catch (err) {
      if (err.status !== 422) throw err;
      formErrorIn(wForm, errBox, err);
      return;
    }
    formErrorIn(wForm, errBox, null);
    wForm.reset();
    tzInput.value = zone;
    defaultTimes();
    syncWindowKind();
    syncRuleKind();
    toast("Maintenance window \u201c" + out.name + "\u201d added" + (out.active ? ": active now." : "."), "success");
    await loadWindows();
  });

  if (!canWrite) {
    $$("#channel-form input, #channel-form select, #channel-form textarea, #channel-form button, #window-form input, #window-form select, #window-form button")
      .forEach((el) => { el.disabled = true; });
    ["#new-alert", "[data-testid=new-alert-configs]"].forEach((sel) => {
      const a = $(sel);
      a.classList.add("disabled");
      a.setAttribute("aria-disabled", "true");
      a.removeAttribute("href");
      a.title = "Viewers cannot create alerts";
    });
  }

  window.addEventListener("popstate", () => {
    readUrl();
    showTab();
    showConfigFilter().catch(showError);
    loadTriggered().catch(showError);
  });

  // Alerts open and close by themselves: look again now and then while the list shows.
  const POLL_MS = 30000;
  (function poll() {
    setTimeout(async () => {
      if (!document.hidden && state.tab === "triggered") {
        try {
          await Promise.all([loadCounts(), loadTriggered(true)]);
        } catch (err) {
          console.error(err); // the next look may work; the page keeps what it shows
        }
      }
      poll();
    }, POLL_MS);
  })();

  readUrl();
  showTab();
  syncChannelType();
  syncWindowKind();
  return Promise.all([
    loadCounts(), loadTriggered(), showConfigFilter(), loadChannels().then(loadConfigs), loadWindows(),
  ]);
}

startApp(alertsPage);
