/* Alerts (/alerts): four tabs (triggered alerts, configurations, channels,
 * maintenance windows) whose state lives in the URL (?tab=&status=&severity=...).
 */

import { api } from "../api.js";
import { $, $$, clear, h, newestOnly, show } from "../dom.js";
import { fmtAgo, fmtCount, fmtDuration, isoOf, known } from "../format.js";
import { timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { emptyRow, pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { channelsTab } from "../alert-channels.js";
import { windowsTab } from "../alert-windows.js";
import { scorePill } from "../anomalies.js";
import { alertTypeBadge, configState, groupChips, resolveTrigger, setAck, SEVERITIES, severityBadge, triggerBadges, untilText } from "../alerts.js";

const ALERT_TABS = ["triggered", "configs", "channels", "windows"];

function alertsPage(me) {
  const canWrite = me.role !== "viewer";
  const state = { tab: "triggered", status: "", severity: "", config_id: "", offset: 0, limit: 25, cfgOffset: 0 };
  const channelsById = new Map();

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

  // --- channels (alert-channels.js) ---
  const { loadChannels, syncChannelType } = channelsTab({ canWrite, tabCount, channelsById, reloadConfigs: loadConfigs });

  // --- maintenance windows (alert-windows.js) ---
  const { loadWindows, syncWindowKind } = windowsTab({ canWrite, tabCount });

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
