/* The Alerts page's Maintenance windows tab: times when alert messages are held (once,
 * or repeating by an RRULE or a cron line), and a form to add one.
 */

import { api, ApiError } from "./api.js";
import { $, $$, append, clear, h, newestOnly, show } from "./dom.js";
import { fmtAgo, fmtDuration, isoOf, zoneOffset } from "./format.js";
import { badge, timeEl } from "./badges.js";
import { busy, toast } from "./toast.js";
import { onSubmit, text } from "./forms.js";
import { formErrorIn, fromLocalInput, localInputValue, shownZone, untilText } from "./alerts.js";

/** Bind the tab's form; answers its loader and syncWindowKind (once or repeating). */
export function windowsTab({ canWrite, tabCount }) {
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
  const zone = shownZone();
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
    // The next full hour, and 02:00 tomorrow, in the zone times are shown in.
    const now = Date.now() / 1000;
    const off = zoneOffset(now);
    const start = (Math.floor((now + off) / 3600) + 1) * 3600 - off;
    $("#mw-start").value = localInputValue(new Date(start * 1000));
    $("#mw-end").value = localInputValue(new Date((start + 2 * 3600) * 1000));
    const night = (Math.floor((now + off) / 86400) + 1) * 86400 + 2 * 3600 - off;
    $("#mw-dtstart").value = localInputValue(new Date(night * 1000));
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
      const start = fromLocalInput($("#mw-start").value);
      const end = fromLocalInput($("#mw-end").value);
      if (isNaN(start) || isNaN(end)) return fail("Give the start and the end of the window.");
      body.start = Math.floor(start);
      body.end = Math.floor(end);
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

  return { loadWindows, syncWindowKind };
}
