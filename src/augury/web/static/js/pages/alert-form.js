/* The alert configuration form (/alerts/new, /alerts/{id}/edit), with a live preview
 * of when the alert would have fired over the last days.
 */

import { api, ApiError } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount, fmtDuration, isoOf, known } from "../format.js";
import { badge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit } from "../forms.js";
import { loadInto } from "../loading.js";
import { startApp } from "../shell.js";
import { bandChart } from "../band-chart.js";
import { scorePill } from "../anomalies.js";
import { CHANNEL_TYPE, configState, formErrorIn, groupChips } from "../alerts.js";

const PREVIEW_DAYS = 7;
const PREVIEW_LISTED = 8;
const PREVIEW_DEBOUNCE_MS = 400;

async function alertFormPage(me) {
  const root = $("#alert-form-root");
  const configId = root.dataset.configId || null;
  const form = $("#alert-form");
  const canWrite = me.role !== "viewer";
  let loaded = null;

  const el = (id) => $("#" + id);
  const num = (id) => {
    const v = el(id).value.trim();
    return v === "" ? null : Number(v);
  };
  const typeOf = () => $("input[name=type]:checked", form).value;

  function syncType() {
    const type = typeOf();
    $$(".cond-fields", form).forEach((box) => show(box, box.dataset.type === type));
    show(el("af-timescale-field"), type === "anomaly");
    el("af-conditions-lede").textContent = {
      anomaly: "Each anomaly of a watched metric must meet all of these.",
      static: "A watched metric alerts while its value is outside these bounds.",
      no_data: "A watched metric alerts when its points stop coming.",
    }[type];
  }

  async function loadChannels() {
    const box = clear(el("af-channels"));
    const page = await api("/channels", { query: { limit: 500 } });
    if (!page.items.length) {
      box.append(h("p", { class: "muted small" }, "No channels yet. ",
        h("a", { href: "/alerts?tab=channels" }, "Add a webhook, Slack, email, PagerDuty or Teams channel"),
        " first; you can also save this alert now and pick channels later."));
      return;
    }
    page.items.forEach((c) => box.append(h("label", { class: "check check-chip channel-check", title: c.enabled ? "" : "This channel is disabled" },
      h("input", { type: "checkbox", name: "channel", value: c.id, "data-testid": "af-channel-" + c.id }),
      h("span", {}, c.name), h("span", { class: "muted small" }, CHANNEL_TYPE[c.type] || c.type),
      c.enabled ? null : badge("disabled", "muted"))));
  }

  function fill(c) {
    el("af-title").value = c.title;
    el("af-description").value = c.description || "";
    $$("input[name=type]", form).forEach((r) => { r.checked = r.value === c.type; });
    el("af-severity").value = c.severity;
    el("af-expression").value = c.expression || "";
    el("af-group-by").value = (c.group_by || []).join(", ");
    el("af-timescale").value = c.timescale || "native";
    const k = c.conditions || {};
    const minutes = (s) => (s === null || s === undefined || s === "" ? "" : String(Math.round((Number(s) / 60) * 1000) / 1000));
    const plain = (v) => (v === null || v === undefined ? "" : String(v));
    el("af-min-metrics").value = plain(k.min_metrics || 1);
    el("af-min-score").value = plain(k.min_score ?? 0);
    el("af-min-duration").value = k.min_duration_s ? minutes(k.min_duration_s) : "";
    el("af-direction").value = k.direction || "both";
    el("af-min-delta-abs").value = plain(k.min_delta_abs);
    el("af-min-delta-pct").value = plain(k.min_delta_pct);
    el("af-above").value = plain(k.above);
    el("af-below").value = plain(k.below);
    el("af-static-duration").value = k.duration_s ? minutes(k.duration_s) : "";
    el("af-no-data").value = k.no_data_s ? minutes(k.no_data_s) : "15";
    $$("input[name=notify_on]", form).forEach((cb) => { cb.checked = (c.notify_on || []).includes(cb.value); });
    el("af-repeat").value = minutes(c.repeat_interval_s);
    const chosen = new Set(c.channel_ids || []);
    $$("input[name=channel]", form).forEach((cb) => { cb.checked = chosen.has(Number(cb.value)); });
    // Channels the list did not show (over its limit) stay chosen.
    loaded.hiddenChannels = [...chosen].filter((id) => !$("input[name=channel][value='" + id + "']", form));
  }

  /** The configuration as the API takes it; throws ApiError for what cannot be sent. */
  function body() {
    const type = typeOf();
    const must = (id, ok, message) => {
      const v = num(id);
      if (v !== null && !(isFinite(v) && ok(v))) throw new ApiError(0, "VALIDATION_ERROR", message, { field: id });
      return v;
    };
    const conditions = {
      min_metrics: Math.max(1, Math.round(must("af-min-metrics", (v) => v >= 1, "At least 1 metric.") || 1)),
    };
    if (type === "anomaly") {
      conditions.min_score = must("af-min-score", (v) => v >= 0 && v <= 100, "The score goes from 0 to 100.") || 0;
      conditions.min_duration_s = (must("af-min-duration", (v) => v >= 0, "The duration cannot be negative.") || 0) * 60;
      conditions.min_delta_abs = must("af-min-delta-abs", (v) => v >= 0, "The delta cannot be negative.");
      conditions.min_delta_pct = must("af-min-delta-pct", (v) => v >= 0, "The delta % cannot be negative.");
      conditions.direction = el("af-direction").value;
      if (loaded && loaded.conditions && loaded.conditions.volume) conditions.volume = loaded.conditions.volume;
    } else if (type === "static") {
      conditions.above = must("af-above", () => true, "Above must be a number.");
      conditions.below = must("af-below", () => true, "Below must be a number.");
      conditions.duration_s = (must("af-static-duration", (v) => v >= 0, "The duration cannot be negative.") || 0) * 60;
      if (conditions.above === null && conditions.below === null) {
        throw new ApiError(0, "INCOMPLETE", "Give a bound above, below or both.", { field: "af-above" });
      }
    } else {
      const quiet = must("af-no-data", (v) => v > 0, "Say for how many minutes a metric must be silent.");
      if (quiet === null) throw new ApiError(0, "INCOMPLETE", "Say for how many minutes a metric must be silent.", { field: "af-no-data" });
      conditions.no_data_s = quiet * 60;
    }
    const repeat = must("af-repeat", (v) => v >= 0 && v <= 43200, "Updates: between 0 and 43,200 minutes (30 days).");
    const out = {
      title: el("af-title").value.trim(),
      description: el("af-description").value.trim(),
      type,
      severity: el("af-severity").value,
      expression: el("af-expression").value.trim(),
      group_by: el("af-group-by").value.split(",").map((v) => v.trim()).filter(Boolean),
      timescale: type === "anomaly" ? el("af-timescale").value : (loaded ? loaded.timescale : "native"),
      conditions,
      notify_on: $$("input[name=notify_on]:checked", form).map((cb) => cb.value),
      repeat_interval_s: repeat === null ? 3600 : Math.round(repeat * 60),
      channel_ids: [...$$("input[name=channel]:checked", form).map((cb) => Number(cb.value)), ...((loaded && loaded.hiddenChannels) || [])],
    };
    if (loaded) {
      // What this form does not show is kept as it was (PUT replaces the whole configuration).
      Object.assign(out, { owner: loaded.owner, labels: loaded.labels, routing_table_id: loaded.routing_table_id, action_ids: loaded.action_ids });
    }
    return out;
  }

  // --- the live preview ---
  const previewCall = newestOnly();
  let timer = null;

  function previewMessage(message, isError) {
    el("preview-fired").textContent = "–";
    el("preview").dataset.fired = "";
    el("preview-count").classList.remove("preview-done", "preview-zero");
    el("preview-text").textContent = isError ? "No preview for this configuration yet." : message;
    el("preview-facts").textContent = "";
    const err = el("preview-error");
    err.textContent = isError ? message : "";
    show(err, !!isError);
    clear(el("preview-list"));
  }

  function renderPreview(p) {
    const n = p.fired;
    el("preview").dataset.fired = String(n);
    el("preview-fired").textContent = fmtCount(n);
    el("preview-count").classList.add("preview-done");
    el("preview-count").classList.toggle("preview-zero", n === 0);
    el("preview-text").textContent = n === 0
      ? "This would not have fired in the last " + PREVIEW_DAYS + " days."
      : "This would have fired " + fmtCount(n) + (n === 1 ? " time" : " times") + " in the last " + PREVIEW_DAYS + " days.";
    const facts = [p.metrics_matched === 0 ? "No metric matches the expression."
      : fmtCount(p.metrics_matched) + (p.metrics_matched === 1 ? " metric matches" : " metrics match")];
    if (typeOf() === "anomaly" && p.metrics_matched) {
      facts.push(fmtCount(p.anomalies_considered) + (p.anomalies_considered === 1 ? " anomaly" : " anomalies") + " of theirs in the period");
    }
    el("preview-facts").textContent = facts.join(" · ") + ".";
    show(el("preview-error"), false);
    const list = clear(el("preview-list"));
    p.triggers.slice(0, PREVIEW_LISTED).forEach((t, i) => list.append(h("li", { "data-testid": "preview-trigger-" + i },
      h("div", { class: "preview-when" },
        known(t.peak_score) ? scorePill(t.peak_score) : null,
        h("span", {}, timeEl(isoOf(t.start))),
        h("span", { class: "muted small" }, "for " + fmtDuration(Math.max(0, t.end - t.start)))),
      h("div", { class: "preview-what muted small" }, t.metrics + (t.metrics === 1 ? " metric" : " metrics"),
        groupChips(t.group) ? [" · ", groupChips(t.group)] : null))));
    if (n > PREVIEW_LISTED) {
      list.append(h("li", { class: "muted small preview-more" }, "and " + fmtCount(n - PREVIEW_LISTED) + " earlier"
        + (n > p.triggers.length ? " (the newest " + p.triggers.length + " are listed by the API)" : "")));
    }
  }

  // The chart under the form: the metric of the newest would-have-fired alert (or the
  // first the expression matches) over the previewed days, with its band and the times
  // this configuration would have fired on it.
  const chartCall = newestOnly();
  let previewChart = null;
  async function drawPreviewChart(p, expression) {
    const stale = chartCall();
    const card = el("preview-chart-card");
    const ids = (t) => t.metric_ids || [];
    let metricId = p.triggers.length && ids(p.triggers[0]).length ? ids(p.triggers[0])[0] : null;
    let name = null;
    if (metricId === null || metricId === undefined) {
      if (!p.metrics_matched) {
        show(card, false);
        return;
      }
      const m = await api("/metrics", { query: { q: expression, sort: "-last_seen", limit: 1 } });
      if (stale()) return;
      if (!m.items.length) {
        show(card, false);
        return;
      }
      metricId = m.items[0].id;
      name = m.items[0].name;
    }
    show(card, true);
    const holder = el("preview-chart-box");
    if (!previewChart || !holder.contains(previewChart.box)) {
      // First time, or after an error panel took its place.
      const existing = el("preview-chart");
      const box = existing && holder.contains(existing) ? existing
        : h("div", { class: "chart chart-medium", id: "preview-chart", "data-testid": "preview-chart" },
          h("div", { class: "chart-tip", hidden: true }), h("div", { class: "skeleton skeleton-chart" }));
      if (box !== existing) append(clear(holder), box);
      previewChart = bandChart(box);
    }
    if (!name) {
      const m = await api("/metrics/" + metricId);
      if (stale()) return;
      name = m.name;
    }
    const mine = p.triggers.filter((t) => ids(t).includes(metricId));
    const fired = mine.map((t) => ({ start: t.start, end: t.end, label: "Would have fired" }));
    await previewChart.draw(metricId, p.start, p.end + 1, fired);
    if (stale()) return;
    el("preview-chart-metric").textContent = name;
    el("preview-chart-caption").textContent = mine.length
      ? "Marked: the " + fmtCount(mine.length) + (mine.length === 1 ? " time" : " times") + " this alert would have fired on this metric"
        + (p.fired > mine.length ? " (" + fmtCount(p.fired - mine.length) + " more on other metrics or groups)" : "") + "."
      : "It would not have fired on this metric in the last " + PREVIEW_DAYS + " days.";
  }

  async function preview() {
    const stale = previewCall();
    let b;
    try {
      b = body();
    } catch (err) {
      show(el("preview-busy"), false);
      previewMessage(err.message, err.code !== "INCOMPLETE");
      return;
    }
    // The preview needs no title, but the API requires one: any will do here.
    b.title = b.title || "Preview";
    b.days = PREVIEW_DAYS;
    show(el("preview-busy"), true);
    el("preview").classList.add("loading");
    try {
      const p = await api("/alerts/preview", { method: "POST", body: b });
      if (stale()) return;
      renderPreview(p);
      loadInto(el("preview-chart-box"), () => drawPreviewChart(p, b.expression),
        () => h("div", { class: "skeleton skeleton-chart" }));
    } catch (err) {
      if (stale()) return;
      if (err.status === 422) previewMessage(err.message, true);
      else throw err;
    } finally {
      if (!stale()) {
        show(el("preview-busy"), false);
        el("preview").classList.remove("loading");
      }
    }
  }

  function schedulePreview() {
    clearTimeout(timer);
    show(el("preview-busy"), true);
    timer = setTimeout(() => preview().catch(showError), PREVIEW_DEBOUNCE_MS);
  }
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", (ev) => {
    if (ev.target.name === "type") syncType();
    schedulePreview();
  });

  // --- save and delete ---
  function formError(err) {
    formErrorIn(form, el("alert-form-error"), err);
    const field = err && err.details && err.details.field;
    if (field && el(field)) {
      el(field).classList.add("invalid");
      el(field).setAttribute("aria-invalid", "true");
    }
  }

  onSubmit(form, async () => {
    let b;
    try {
      b = body();
      if (!b.title) throw new ApiError(0, "VALIDATION_ERROR", "Give the alert a title.", { field: "af-title" });
    } catch (err) {
      formError(err);
      return;
    }
    let out;
    try {
      out = await api(configId ? "/alerts/" + configId : "/alerts", { method: configId ? "PUT" : "POST", body: b });
    } catch (err) {
      if (err.status !== 422) throw err;
      formError(err);
      return;
    }
    formError(null);
    toast("Alert \u201c" + out.title + "\u201d " + (configId ? "saved." : "created."), "success");
    location.assign("/alerts?tab=configs");
  });

  const del = el("alert-delete");
  if (del) {
    del.addEventListener("click", async () => {
      if (!loaded || !confirm("Delete the alert \u201c" + loaded.title + "\u201d with all the alerts it triggered?")) return;
      await busy(del, async () => {
        await api("/alerts/" + configId, { method: "DELETE" });
        location.assign("/alerts?tab=configs");
      });
    });
  }

  if (!canWrite) {
    el("alert-save").disabled = true;
    el("alert-save").title = "Viewers cannot change alerts";
  }

  await loadChannels();
  if (configId) {
    try {
      loaded = await api("/alerts/" + configId);
    } catch (err) {
      if (err.status === 404) {
        el("alert-form-title").textContent = "Alert not found";
        append(clear(form), h("section", { class: "card" }, h("p", { class: "muted" }, "This alert configuration does not exist in this organization. ",
          h("a", { href: "/alerts?tab=configs" }, "Back to the configurations"), ".")));
        show(el("preview"), false);
        show(el("preview-chart-card"), false);
        return;
      }
      throw err;
    }
    document.title = loaded.title + " · augury";
    el("alert-form-title").textContent = loaded.title;
    append(clear(el("alert-form-state")), configState(loaded, true));
    fill(loaded);
    if (del) del.disabled = !canWrite;
  }
  syncType();
  await preview();
}

startApp(alertFormPage);
