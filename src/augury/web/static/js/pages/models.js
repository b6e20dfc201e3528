/* Models (/models): the applications with the organization's subscription to each
 * (subscribe, pause, resume and cancel for admins), and the models, searched by name and
 * filtered by application (?q=&application=&offset= in the URL), each with its current
 * version's headline metric and its latest training, whose progress moves while it runs.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { pager } from "../pager.js";
import { hideFailed, loadInto, showFailed } from "../loading.js";
import { busy, showError, toast } from "../toast.js";
import { canAdmin, startApp } from "../shell.js";
import { APP_TEXT, TRAINING, appBadge, currentBadge, fmtMetric, metricName, modelPath, trainingBar, versionStatusBadge } from "../models-common.js";

const SUB_KIND = { active: "success", paused: "warning", cancelled: "muted" };

function modelsPage(me) {
  const admin = canAdmin(me);
  const state = { q: "", application: "", offset: 0, limit: 25, page: null, timer: null };
  const body = $("#models-body");
  const wrap = $("#models-table").closest(".table-wrap");

  // --- applications and subscriptions ---
  async function loadApps() {
    const apps = await api("/applications");
    const box = clear($("#apps"));
    apps.forEach((a) => box.append(appCard(a)));
    const active = apps.filter((a) => a.subscription && a.subscription.status === "active");
    $("#apps-lede").textContent = (active.length
      ? "Subscribed: " + active.map((a) => a.title).join(", ") + ". "
      : "The organization is subscribed to no application yet" + (admin ? ": subscribe to one to train models. " : "; an admin can subscribe it. "))
      + "Only an active subscription trains new models; paused or cancelled ones keep their models for predictions.";
  }

  function appCard(a) {
    const sub = a.subscription;
    const status = sub ? sub.status : null;
    const button = (label, testid, fn, cls) => {
      const b = h("button", { type: "button", class: "btn btn-small" + (cls ? " " + cls : ""), "data-testid": testid + "-" + a.name }, label);
      b.addEventListener("click", () => busy(b, async () => {
        await fn();
        await loadApps();
      }));
      return b;
    };
    const actions = [];
    if (admin) {
      if (!status || status === "cancelled") {
        actions.push(button("Subscribe", "app-subscribe", async () => {
          await api("/subscriptions", { method: "POST", body: { application: a.name } });
          toast("Subscribed to " + a.title + ".", "success");
        }, "btn-primary"));
      }
      if (status === "active") {
        actions.push(button("Pause", "app-pause", async () => {
          await api("/subscriptions/" + sub.id, { method: "PATCH", body: { status: "paused" } });
          toast(a.title + " is paused: its models still predict, none trains.", "success");
        }));
      }
      if (status === "paused") {
        actions.push(button("Resume", "app-resume", async () => {
          await api("/subscriptions/" + sub.id, { method: "PATCH", body: { status: "active" } });
          toast(a.title + " is active again.", "success");
        }, "btn-primary"));
      }
      if (status === "active" || status === "paused") {
        actions.push(button("Cancel", "app-cancel", async () => {
          if (!confirm("Cancel the subscription to " + a.title + "? Its models stay and still predict; training needs a new subscription.")) return;
          await api("/subscriptions/" + sub.id, { method: "DELETE" });
          toast("Cancelled " + a.title + ".", "success");
        }, "btn-danger-ghost"));
      }
    }
    if (status === "active") {
      actions.push(h("a", { class: "btn btn-small", href: "/models/new?application=" + a.name, "data-testid": "app-train-" + a.name }, "Train"));
    }
    const since = status === "active" ? sub.subscribed_at : status === "paused" ? sub.paused_at : status === "cancelled" ? sub.cancelled_at : null;
    return h("article", { class: "pm-app" + (status === "active" ? " pm-app-on" : ""), "data-testid": "app-" + a.name, "data-status": status || "none" },
      h("div", { class: "pm-app-head" },
        h("h3", {}, a.title || APP_TEXT[a.name] || a.name),
        badge(status || "not subscribed", SUB_KIND[status] || "muted", "app-status-" + a.name)),
      h("p", { class: "muted small pm-app-desc" }, a.description || ""),
      h("div", { class: "pm-app-foot" },
        h("span", { class: "muted small" }, (a.tasks || []).join(" · "), since ? [" · ", status, " ", timeEl(since)] : null),
        actions.length ? h("span", { class: "row-actions" }, actions) : null));
  }

  // --- the models ---
  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.q = p.get("q") || "";
    state.application = p.get("application") || "";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    $("#models-q").value = state.q;
    $("#models-app").value = state.application;
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.application) p.set("application", state.application);
    if (state.offset) p.set("offset", String(state.offset));
    const qs = p.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  /** A model's row; `training` is its newest version when that one trains (for its bar). */
  function row(m, training) {
    const href = modelPath(m.id);
    const head = m.metrics || {};
    const tr = h("tr", { class: "row-link", "data-testid": "model-row-" + m.id, "data-status": m.status || "" },
      h("td", { class: "dataset-cell" },
        h("a", { href, class: "strong", "data-testid": "model-link-" + m.id }, m.name),
        m.description ? h("div", { class: "muted small dataset-desc" }, m.description) : null),
      h("td", {}, appBadge(m.application), m.target ? h("div", { class: "muted small" }, "predicts ", h("code", {}, m.target)) : null),
      h("td", { "data-testid": "model-current-" + m.id }, m.current_version
        ? [h("span", { class: "strong" }, "v" + m.current_version), " ",
          head.primary ? h("span", { class: "muted small" }, metricName(head.primary) + " " + fmtMetric(head.primary, head.value)) : null]
        : h("span", { class: "muted small" }, "none yet")),
      h("td", { class: "model-status-cell" }, m.latest_version
        ? [h("span", { class: "muted small" }, "v" + m.latest_version + " "), versionStatusBadge(m.status, "model-status-" + m.id),
          m.current_version === m.latest_version ? currentBadge() : null,
          training ? trainingBar(training, "model-progress-" + m.id) : null]
        : "–"),
      h("td", { class: "nowrap" }, timeEl(m.updated_at || m.created_at)));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  /** The newest version of each model that trains, for its progress bar. */
  function trainingVersions(models) {
    return Promise.all(models.filter((m) => TRAINING.has(m.status) && m.latest_version)
      .map((m) => api("/models/" + m.id + "/versions/" + m.latest_version).catch(() => null)))
      .then((vs) => new Map(vs.filter(Boolean).map((v) => [v.model_id, v])));
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    let page;
    let training;
    try {
      page = await api("/models", { query: { search: state.q, application: state.application, offset: state.offset, limit: state.limit } });
      training = await trainingVersions(page.items);
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("models-failed", wrap, err, load);
      return;
    }
    hideFailed("models-failed", wrap);
    state.page = page;
    clear(body);
    page.items.forEach((m) => body.append(row(m, training.get(m.id))));
    const filtered = !!state.q || !!state.application;
    show($("#models-empty"), page.total === 0 && !filtered);
    show($("#models-none"), page.total === 0 && filtered);
    show($("#models-table"), page.total > 0);
    pager($("#models-pager"), page, (off) => { state.offset = off; writeUrl(); load(); }, "models");
    schedule();
  }

  /** While a listed model trains, read the list again every 1.5 s. */
  function schedule() {
    clearTimeout(state.timer);
    if (!state.page || !state.page.items.some((m) => TRAINING.has(m.status))) return;
    state.timer = setTimeout(() => load().catch(showError), 1500);
  }

  $("#models-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#models-q").value.trim();
    state.offset = 0;
    writeUrl();
    load();
  });
  let typing = null;
  $("#models-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => $("#models-search").requestSubmit(), 300);
  });
  $("#models-app").addEventListener("change", () => {
    state.application = $("#models-app").value;
    state.offset = 0;
    writeUrl();
    load();
  });
  $("#models-clear").addEventListener("click", () => {
    state.q = "";
    state.application = "";
    state.offset = 0;
    $("#models-q").value = "";
    $("#models-app").value = "";
    writeUrl();
    load();
  });
  if (me.role === "viewer") {
    ["#model-new", "[data-testid=model-new-empty]"].forEach((sel) => {
      const a = $(sel);
      a.classList.add("disabled");
      a.setAttribute("aria-disabled", "true");
      a.title = "Viewers cannot train models";
      a.tabIndex = -1;
    });
  }

  readUrl();
  return Promise.all([loadInto($("#apps"), loadApps), load()]);
}

startApp(modelsPage);
