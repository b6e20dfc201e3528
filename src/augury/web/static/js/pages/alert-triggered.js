/* One triggered alert (/alerts/triggered/{id}): what it saw, its metrics and their
 * chart, its deliveries, acknowledging and resolving it, and feedback.
 */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtDuration, fmtValue, isoOf, known } from "../format.js";
import { factEl, timeEl } from "../badges.js";
import { busy, toast } from "../toast.js";
import { emptyRow } from "../pager.js";
import { loadInto } from "../loading.js";
import { startApp } from "../shell.js";
import { bandChart } from "../band-chart.js";
import { deltaEl, directionArrow, scoreLevel, scorePill, stateBadge } from "../anomalies.js";
import { feedbackBox } from "../feedback.js";
import { alertTypeBadge, deliveryRows, groupChips, resolveTrigger, setAck, severityBadge, triggerBadges } from "../alerts.js";

async function triggerPage(me) {
  const id = Number($("#trigger-root").dataset.triggerId);
  const canWrite = me.role !== "viewer";
  const ackBtn = $("#trigger-ack");
  const resolveBtn = $("#trigger-resolve");
  let t = null;
  let people = new Map();
  let channels = new Map();
  let configTitle = null;

  const who = (userId) => (userId === null || userId === undefined ? null
    : userId === me.id ? "you" : people.get(userId) || "user #" + userId);

  function render() {
    document.title = t.title + " · augury";
    $("#trigger-title").textContent = t.title;
    append(clear($("#trigger-badges")), [severityBadge(t.severity, "trigger-severity"), triggerBadges(t)]);
    append(clear($("#trigger-summary")), [
      t.status === "open" ? "Open since " : "Was open from ", timeEl(isoOf(t.start)),
      t.status === "open" ? "" : [" to ", timeEl(isoOf(t.end))],
      " (" + fmtDuration(t.duration) + ") on " + t.metric_count + (t.metric_count === 1 ? " metric" : " metrics") + ", raised by ",
      h("a", { href: "/alerts/" + t.config_id + "/edit", "data-testid": "trigger-config-link" },
        configTitle ? "\u201c" + configTitle + "\u201d" : "configuration #" + t.config_id), ".",
    ]);
    const box = $("#trigger-score-box");
    box.classList.remove("score-high", "score-mid", "score-low");
    if (known(t.peak_score)) {
      box.classList.add("score-" + scoreLevel(t.peak_score));
      $("#trigger-score").textContent = String(Math.round(t.peak_score));
    } else {
      $("#trigger-score").textContent = "–";
    }
    append(clear($("#trigger-facts")), [
      factEl("Status", h("span", { class: "badges" }, triggerBadges(t, "fact")), "fact-status"),
      factEl("Severity", severityBadge(t.severity), "fact-severity"),
      factEl("Type", alertTypeBadge(t.type), "fact-type"),
      factEl("Started", timeEl(isoOf(t.start)), "fact-start"),
      factEl(t.status === "open" ? "Last change" : "Ended", timeEl(isoOf(t.status === "open" ? t.updated : t.end)), "fact-end"),
      factEl("Duration", fmtDuration(t.duration), "fact-duration"),
      factEl("Direction", t.direction ? [directionArrow(t.direction), " " + (t.direction === "both" ? "up and down" : t.direction)] : "–", "fact-direction"),
      factEl("Group", groupChips(t.group) || h("span", { class: "muted" }, "–"), "fact-group"),
      factEl("Acknowledged", t.acknowledged_at ? [timeEl(t.acknowledged_at), h("div", { class: "muted small" }, "by " + who(t.acknowledged_by_id))]
        : h("span", { class: "muted" }, "no"), "fact-acknowledged"),
      t.resolved_by_id !== null ? factEl("Resolved by", who(t.resolved_by_id), "fact-resolved") : null,
      t.silenced_by ? factEl("Messages held by", t.silenced_by, "fact-silenced") : null,
    ]);
    const tb = clear($("#trigger-metrics-body"));
    t.metrics.forEach((m) => tb.append(h("tr", { "data-testid": "trigger-metric-" + m.metric_id },
      h("td", { class: "metric-name-cell" },
        h("a", { href: "/metrics/explore/" + m.metric_id, class: "strong", "data-testid": "trigger-metric-link-" + m.metric_id }, m.name)),
      h("td", { class: "num" }, known(m.score) ? scorePill(m.score) : h("span", { class: "muted" }, "–")),
      h("td", {}, stateBadge(m.state)),
      h("td", { class: "nowrap" }, timeEl(isoOf(m.start))),
      h("td", { class: "num" }, fmtDuration(Math.max(0, m.end - m.start))),
      h("td", { class: "num" }, h("span", { class: "strong" }, fmtValue(m.value)),
        known(m.expected) ? h("span", { class: "muted" }, " (" + fmtValue(m.expected) + ")") : null),
      h("td", { class: "num" }, m.direction ? [directionArrow(m.direction), " "] : null, known(m.delta) ? deltaEl(m.delta, m.delta_pct) : "–"),
      h("td", {}, m.anomaly_id
        ? h("a", { href: "/anomalies/" + m.anomaly_id, "data-testid": "trigger-anomaly-link-" + m.metric_id }, "#" + m.anomaly_id)
        : h("span", { class: "muted" }, "–")))));
    if (!t.metrics.length) emptyRow(tb, 8, "No metrics recorded for this alert.");

    const open = t.status === "open";
    ackBtn.textContent = t.acknowledged_at ? "Unacknowledge" : "Acknowledge";
    ackBtn.disabled = !canWrite || !open;
    ackBtn.title = !canWrite ? "Viewers cannot change alerts" : !open ? "The alert is closed"
      : t.acknowledged_at ? "Remove the acknowledgement" : "Someone is on it: no more update messages";
    resolveBtn.disabled = !canWrite || !open;
    resolveBtn.title = !canWrite ? "Viewers cannot change alerts" : !open ? "Already closed" : "Close it now; its close message goes out";
  }

  async function loadDeliveries() {
    const page = await api("/alerts/triggered/" + id + "/deliveries", { query: { limit: 100 } });
    const tb = clear($("#trigger-deliveries-body"));
    if (!page.items.length) {
      emptyRow(tb, 7, t.silenced_by ? "No message yet: they are held by the " + t.silenced_by + "."
        : "No message about this alert: its configuration may have no channel, or not notify on this.");
      return;
    }
    const names = new Map([...channels].map(([cid, c]) => [cid, c.name]));
    append(tb, deliveryRows(page.items, { channels: names, canWrite, reload: loadDeliveries }));
  }

  async function load() {
    t = await api("/alerts/triggered/" + id);
    render();
  }

  // The metric (the strongest first; a menu picks another) around the alert, with its
  // band and the time the alert was open marked.
  let chart = null;
  async function drawTriggerChart() {
    const box = $("#trigger-chart-box");
    if (!chart || !box.contains($("#trigger-chart"))) {
      append(clear(box), h("div", { class: "chart chart-medium", id: "trigger-chart", "data-testid": "trigger-chart" },
        h("div", { class: "chart-tip", hidden: true }), h("div", { class: "skeleton skeleton-chart" })));
      chart = bandChart($("#trigger-chart"));
    }
    const sel = $("#trigger-chart-metric");
    if (!t.metrics.length) {
      chart.message("No metrics recorded for this alert.");
      return;
    }
    if (!sel.options.length) {
      t.metrics.forEach((m) => sel.append(h("option", { value: m.metric_id }, m.name)));
      show(sel, t.metrics.length > 1);
      sel.addEventListener("change", () => loadInto(box, drawTriggerChart));
    }
    const metricId = Number(sel.value || t.metrics[0].metric_id);
    const now = Date.now() / 1000;
    const end = t.end === null || t.end === undefined ? now : t.end;
    const pad = Math.max(6 * 3600, 2 * (end - t.start));
    const fired = [{ start: t.start, end, label: t.status === "open" ? "Alert open since" : "Alert opened" }];
    await chart.draw(metricId, t.start - pad, Math.min(now, end + pad / 2) + 1, fired);
    $("#trigger-chart-caption").textContent = "The metric " + (t.metrics.length > 1 ? "you pick " : "")
      + "with its learned normal band and its anomalies (red); the amber line marks when the alert opened, the amber band how long it "
      + (t.status === "open" ? "has been open." : "stayed open.");
  }

  ackBtn.addEventListener("click", () => busy(ackBtn, async () => {
    t = await setAck(t, !t.acknowledged_at);
    toast(t.acknowledged_at ? "Acknowledged: no more update messages." : "Acknowledgement removed.", "success");
    render();
  }));
  resolveBtn.addEventListener("click", () => busy(resolveBtn, async () => {
    t = await resolveTrigger(t);
    toast("Alert resolved.", "success");
    render();
    await loadDeliveries();
  }));

  try {
    const [members, chans] = await Promise.all([
      api("/members", { query: { limit: 1000 } }).catch(() => ({ items: [] })),
      api("/channels", { query: { limit: 500 } }).catch(() => ({ items: [] })),
    ]);
    people = new Map(members.items.map((m) => [m.user_id, m.name || m.email]));
    channels = new Map(chans.items.map((c) => [c.id, c]));
    await load();
    // The configuration's own title (the alert's may have its placeholders filled in).
    api("/alerts/" + t.config_id).then((c) => {
      configTitle = c.title;
      render();
    }).catch(() => {}); // deleted since: the link says its number
  } catch (err) {
    if (err.status === 404) {
      $("#trigger-summary").textContent = "This triggered alert does not exist in this organization.";
      show($("#trigger-root"), false);
      ackBtn.disabled = true;
      resolveBtn.disabled = true;
      return;
    }
    throw err;
  }
  await Promise.all([loadDeliveries(), feedbackBox({ trigger_id: id }, me), loadInto($("#trigger-chart-box"), drawTriggerChart,
    () => h("div", { class: "skeleton skeleton-chart" }))]);
}

startApp(triggerPage);
