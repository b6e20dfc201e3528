/* Small labelled pieces shared by the pages: badges, times with their full date as a
 * title, and a page's facts (label and value).
 */

import { h } from "./dom.js";
import { dateFmt, fmtAgo, fmtTime, parseTime } from "./format.js";

export function timeEl(iso, relative) {
  if (!iso) return h("span", { class: "muted" }, relative ? "never" : "–");
  return h("time", { datetime: iso, title: dateFmt.format(parseTime(iso)) }, relative ? fmtAgo(iso) : fmtTime(iso));
}

export function badge(text, kind, testid) {
  return h("span", { class: "badge badge-" + kind, "data-testid": testid }, text);
}

const STATUS_KIND = {
  pending: "muted", running: "info", succeeded: "success", failed: "danger", aborted: "warning",
};
export const ROLE_KIND = { owner: "violet", admin: "info", member: "success", viewer: "muted" };
export const OUTCOME_KIND = { success: "success", failure: "danger", throttled: "warning" };

export function statusBadge(status, testid) {
  return badge(status, STATUS_KIND[status] || "muted", testid);
}

export function roleBadge(role) {
  return badge(role, ROLE_KIND[role] || "muted");
}

export function typeBadge(type) {
  return badge(type, type === "counter" ? "violet" : "info");
}

export function factEl(label, value, testid) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));
}
