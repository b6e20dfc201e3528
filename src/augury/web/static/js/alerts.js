/* Pieces shared by the alert pages: severity, type and delivery badges, a
 * configuration's state, acknowledging and resolving, channels and deliveries.
 */

import { api, ApiError } from "./api.js";
import { h, show } from "./dom.js";
import { dateFmt, dayFmt, fmtNum, fmtTime, hmFmt, known, timeZone, zoneOffset } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { busy, toast } from "./toast.js";
import { fieldErrors } from "./forms.js";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"];
const SEVERITY_KIND = { critical: "critical", high: "danger", medium: "warning", low: "info", info: "muted" };
const ALERT_TYPE = { anomaly: ["anomaly", "violet"], static: ["threshold", "info"], no_data: ["no data", "warning"] };
export const CHANNEL_TYPE = { webhook: "Webhook", slack: "Slack", email: "Email", pagerduty: "PagerDuty", teams: "Teams" };
export const DELIVERY_KIND = { pending: "muted", sending: "info", sent: "success", failed: "danger", silenced: "warning" };
const DELIVERY_EVENT = { open: "opened", update: "update", close: "closed", test: "test" };

export function severityBadge(severity, testid) {
  return badge(severity, SEVERITY_KIND[severity] || "muted", testid);
}

export function alertTypeBadge(type) {
  const [label, kind] = ALERT_TYPE[type] || [type, "muted"];
  return badge(label, kind);
}

export function deliveryBadge(status, testid) {
  return badge(status, DELIVERY_KIND[status] || "muted", testid);
}

/** Status, acknowledgement and silence of a triggered alert, as badges. */
export function triggerBadges(t, suffix) {
  const sfx = suffix ? "-" + suffix : "";
  return [
    badge(t.status, t.status === "open" ? "danger" : "muted", "trigger-status" + sfx),
    t.acknowledged_at ? h("span", {
      class: "badge badge-info", "data-testid": "trigger-acked" + sfx, title: "Acknowledged " + fmtTime(t.acknowledged_at),
    }, "acknowledged") : null,
    t.silenced_by ? h("span", { class: "badge badge-warning", title: "Messages held: " + t.silenced_by }, "held") : null,
  ];
}

/** Dimension chips of an alert's group ({host: "a"}), or null when not grouped. */
export function groupChips(group) {
  const keys = Object.keys(group || {}).sort();
  if (!keys.length) return null;
  return h("span", { class: "dims" }, keys.map((k) => h("span", { class: "dim" }, h("span", { class: "dim-key" }, k + "="), group[k])));
}

/** An end as people read it: "until 14:05" today, else with the day. */
export function untilText(epoch) {
  const d = new Date(epoch * 1000);
  const today = d.toDateString() === new Date().toDateString();
  return "until " + (today ? "" : dayFmt.format(d) + ", ") + hmFmt.format(d);
}

/** Active, paused or snoozed; `inline`: one badge (a heading), else the end under it. */
export function configState(c, inline) {
  const now = Date.now() / 1000;
  if (c.paused) return badge("paused", "warning", "config-state-" + c.id);
  if (c.snoozed_until && c.snoozed_until > now && inline) {
    return badge("snoozed " + untilText(c.snoozed_until), "info", "config-state-" + c.id);
  }
  if (c.snoozed_until && c.snoozed_until > now) {
    return h("div", { class: "state-cell", title: "Snoozed until " + dateFmt.format(new Date(c.snoozed_until * 1000)) },
      badge("snoozed", "info", "config-state-" + c.id),
      h("div", { class: "muted small nowrap", "data-testid": "config-snoozed-until-" + c.id }, untilText(c.snoozed_until)));
  }
  return badge("active", "success", "config-state-" + c.id);
}

export async function setAck(t, on) {
  return api("/alerts/triggered/" + t.id + "/acknowledge", { method: on ? "POST" : "DELETE" });
}

export async function resolveTrigger(t) {
  return api("/alerts/triggered/" + t.id + "/resolve", { method: "POST" });
}

/** Where a channel sends, in a line: its URL, addresses or (masked) key. */
export function channelDestination(c) {
  const cfg = c.config || {};
  if (c.type === "email") return h("span", { class: "small" }, (cfg.to || []).join(", "));
  if (c.type === "pagerduty") {
    return h("span", { class: "small" }, "routing key ", h("code", {}, cfg.routing_key || "–"));
  }
  const extra = c.type === "slack" && cfg.channel ? " → " + cfg.channel
    : c.type === "webhook" && cfg.format === "alertmanager" ? " (Alertmanager)" : "";
  return h("span", { class: "destination" }, h("code", { class: "url", title: cfg.url || "" }, cfg.url || "–"),
    extra ? h("span", { class: "muted small" }, extra) : null);
}

/** The outcome of a delivery: "HTTP 200 · 12 ms", or its error. */
export function deliveryOutcome(d) {
  const parts = [];
  if (d.status_code) parts.push((d.status_code >= 100 ? "HTTP " : "code ") + d.status_code);
  if (known(d.duration_ms)) parts.push(fmtNum(d.duration_ms, 0) + " ms");
  return parts.join(" · ");
}

/**
 * Rows of deliveries (a channel's log, or an alert's messages): time, channel (with
 * opts.channels, a Map id -> name), message, status, code, attempts, error; a failed
 * one has a Retry button.
 */
export function deliveryRows(items, opts) {
  const o = opts || {};
  return items.map((d) => {
    const retry = d.status === "failed" && o.canWrite ? h("button", {
      type: "button", class: "btn btn-small", "data-testid": "delivery-retry-" + d.id,
      onclick: (ev) => busy(ev.currentTarget, async () => {
        await api("/deliveries/" + d.id + "/retry", { method: "POST" });
        toast("Delivery #" + d.id + " queued again.", "success");
        if (o.reload) await o.reload();
      }),
    }, "Retry") : null;
    return h("tr", { "data-testid": "delivery-row-" + d.id, "data-status": d.status, "data-event": d.event },
      h("td", { class: "nowrap" }, timeEl(d.sent_at || d.created_at)),
      o.channels ? h("td", {}, o.channels.get(d.channel_id) || "#" + d.channel_id) : null,
      h("td", { class: "nowrap" }, DELIVERY_EVENT[d.event] || d.event,
        o.showTrigger && d.trigger_id ? [" ", h("a", { href: "/alerts/triggered/" + d.trigger_id }, "#" + d.trigger_id)] : null),
      h("td", {}, deliveryBadge(d.status, "delivery-status-" + d.id)),
      h("td", { class: "num" }, d.status_code || "–"),
      h("td", { class: "num" }, d.attempts),
      h("td", { class: "delivery-error" }, h("div", { class: "delivery-error-line" },
        d.error ? h("span", { class: "small run-error", title: d.error }, d.error) : h("span", { class: "muted" }, "–"), retry)));
  });
}

export function deliveriesTable(items, opts) {
  const o = opts || {};
  return h("table", { class: "table table-compact" },
    h("thead", {}, h("tr", {},
      h("th", {}, "Time"), o.channels ? h("th", {}, "Channel") : null, h("th", {}, "Message"), h("th", {}, "Status"),
      h("th", { class: "num" }, "Code"), h("th", { class: "num" }, "Attempts"), h("th", {}, "Error"))),
    h("tbody", {}, deliveryRows(items, o)));
}

/** "Name: value" lines as an object of headers; throws on a line without a colon. */
export function parseHeaders(textValue) {
  const out = {};
  textValue.split("\n").map((l) => l.trim()).filter(Boolean).forEach((line) => {
    const i = line.indexOf(":");
    if (i < 1) throw new ApiError(0, "VALIDATION_ERROR", "Write each header as Name: value (\u201c" + line + "\u201d has no name).");
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  });
  return out;
}

/** A <input type=datetime-local> value for a Date, in the zone times are shown in. */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  const t = date.getTime() / 1000;
  const d = new Date((t + zoneOffset(t)) * 1000);
  return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate())
    + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
}

/** Epoch seconds of a <input type=datetime-local> value read in the zone times are
 * shown in; NaN when it is empty or not a time. */
export function fromLocalInput(value) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(value || "");
  if (!m) return NaN;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) / 1000;
  return wall - zoneOffset(wall - zoneOffset(wall));
}

/** The zone times are shown in: the person's preference, else the browser's. */
export function shownZone() {
  try {
    return timeZone() || "UTC";
  } catch (e) {
    return "UTC";
  }
}

/** Show an API error in a form's error box (or hide it), marking the field it names. */
export function formErrorIn(form, box, err) {
  // Fields the API named get their own message; the box then only says to look there.
  const inline = fieldErrors(form, err);
  box.textContent = err ? (inline ? "Check the fields marked in red." : err.message) : "";
  show(box, !!err);
  if (err) box.scrollIntoView({ block: "nearest" });
}
