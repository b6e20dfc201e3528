/* Training a model (/models/new): a name, one of the subscribed applications, a dataset
 * and its version, the column to predict, and the options that matter for the
 * application (the costs of a missed failure and of a false alarm; a forecast's series
 * and horizon), columns left out, the date column and the time budget.
 *
 * Whenever the choice changes, POST /models/plan answers what training would do, with
 * nothing trained: the task it detected, the columns it would use and those it leaves
 * out with why. "Train" sends the same choice to POST /models (or, for ?model=ID, to
 * that model's next version) and opens the model's page, where the training runs live.
 *
 * ?application=, ?dataset= and ?model= prefill the form.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge } from "../badges.js";
import { busy } from "../toast.js";
import { startApp } from "../shell.js";
import { APP_TEXT, appBadge, listEvery, modelPath } from "../models-common.js";

const TASK_TEXT = {
  binary: "Binary classification", multiclass: "Multiclass classification", regression: "Regression", forecast: "Forecast",
};
const CODE_TEXT = {
  identifier: "identifier", constant: "constant", all_null: "empty", leak: "leak", too_many_levels: "too many levels",
  date: "date", user: "left out by you", target: "target",
};

function newModelPage(me) {
  const params = new URLSearchParams(location.search);
  const form = $("#mn-form");
  const state = { apps: [], datasets: [], columns: [], model: null, plan: null, timer: null };
  const planCall = newestOnly();

  function setError(message) {
    $("#mn-error").textContent = message || "";
    show($("#mn-error"), !!message);
  }

  const application = () => (form.elements.application ? form.elements.application.value : "") || "";
  const dataset = () => state.datasets.find((d) => String(d.id) === $("#mn-dataset").value) || null;
  const checked = (box) => $$("input:checked", box).map((el) => el.value);

  /** The body both the plan and the training get from the form. */
  function choice() {
    const body = {
      application: application(),
      dataset_id: Number($("#mn-dataset").value) || null,
      target: $("#mn-target").value,
    };
    if ($("#mn-version").value) body.version = Number($("#mn-version").value);
    const exclude = checked($("#mn-exclude"));
    if (exclude.length) body.exclude = exclude;
    if ($("#mn-date").value) body.date_column = $("#mn-date").value;
    if (body.application === "forecast") {
      const series = checked($("#mn-series"));
      if (series.length) body.series_columns = series;
    }
    return body;
  }

  // --- applications ---
  async function loadApps() {
    state.apps = await api("/applications");
    const wanted = state.model ? state.model.application : params.get("application");
    const usable = (a) => a.subscription && a.subscription.status === "active";
    append(clear($("#mn-apps")), state.apps.map((a) => h("label", { class: "check", "data-testid": "mn-app-" + a.name },
      h("input", {
        type: "radio", name: "application", value: a.name, "data-testid": "mn-app-input-" + a.name,
        disabled: !usable(a) || (state.model && state.model.application !== a.name),
      }),
      h("span", {}, h("span", { class: "strong" }, a.title || APP_TEXT[a.name] || a.name), " ",
        usable(a) ? null : badge(a.subscription ? a.subscription.status : "not subscribed", "muted"),
        h("span", { class: "muted small" }, a.description || "")))));
    const pick = state.apps.find((a) => a.name === wanted && usable(a)) || state.apps.find(usable);
    if (pick) form.querySelector("input[name=application][value='" + pick.name + "']").checked = true;
    const none = !state.apps.some(usable);
    $("#mn-apps-hint").textContent = none
      ? "The organization is subscribed to no application: " + (me.role === "admin" || me.role === "owner" ? "subscribe to one on the Models page first." : "ask an admin to subscribe to one.")
      : "Only applications the organization is subscribed to can train.";
    $("#mn-apps-hint").classList.toggle("field-error", none);
    $("#mn-submit").disabled = none || me.role === "viewer";
    if (me.role === "viewer") $("#mn-submit").title = "Viewers cannot train models";
    appChanged();
  }

  function appChanged() {
    const app = application();
    show($("#mn-failure"), app === "failure");
    show($("#mn-forecast"), app === "forecast");
    schedulePlan();
  }

  // --- datasets, versions and columns ---
  async function loadDatasets(wanted) {
    state.datasets = await listEvery("/datasets");
    const select = $("#mn-dataset");
    select.replaceChildren(h("option", { value: "" }, state.datasets.length ? "Choose a dataset" : "No dataset: upload one under Data"),
      ...state.datasets.map((d) => h("option", { value: d.id }, d.name + " · " + fmtCount(d.version ? d.version.rows : null) + " rows")));
    if (wanted && state.datasets.some((d) => String(d.id) === String(wanted))) select.value = String(wanted);
  }

  async function datasetChanged(keepVersion) {
    const d = dataset();
    const vs = $("#mn-version");
    if (!d) {
      vs.replaceChildren();
      fillColumns([]);
      return;
    }
    const versions = await listEvery("/datasets/" + d.id + "/versions").catch(() => []);
    vs.replaceChildren(h("option", { value: "" }, "latest (v" + d.latest_version + ")"),
      ...versions.filter((v) => v.number !== d.latest_version).map((v) => h("option", { value: v.number }, "v" + v.number + " · " + fmtCount(v.rows) + " rows")));
    if (keepVersion && [...vs.options].some((o) => o.value === String(keepVersion))) vs.value = String(keepVersion);
    await versionChanged();
  }

  async function versionChanged() {
    const d = dataset();
    if (!d) return;
    const schema = await api("/datasets/" + d.id + "/schema", { query: { version: $("#mn-version").value } });
    fillColumns(schema.columns);
  }

  function fillColumns(columns) {
    state.columns = columns;
    const target = $("#mn-target");
    const keep = target.value || (state.prefill && state.prefill.target) || "";
    target.replaceChildren(h("option", { value: "" }, columns.length ? "Choose a column" : "Pick a dataset first"),
      ...columns.map((c) => h("option", { value: c.name }, c.name + " (" + c.type + ")")));
    target.disabled = !columns.length;
    if (columns.some((c) => c.name === keep)) target.value = keep;
    const date = $("#mn-date");
    const keepDate = date.value || (state.prefill && state.prefill.date_column) || "";
    date.replaceChildren(h("option", { value: "" }, "detect"),
      ...columns.filter((c) => c.type === "date" || c.type === "datetime").map((c) => h("option", { value: c.name }, c.name)));
    if ([...date.options].some((o) => o.value === keepDate)) date.value = keepDate;
    fillChips();
  }

  /** Columns to leave out, and a forecast's series columns: every column but the target. */
  function fillChips() {
    const target = $("#mn-target").value;
    const chips = (box, name, keep) => {
      const cols = state.columns.filter((c) => c.name !== target);
      append(clear(box), cols.length
        ? cols.map((c) => h("label", { class: "check check-chip" },
          h("input", { type: "checkbox", name, value: c.name, checked: keep.includes(c.name), "data-testid": name + "-" + c.name }), c.name))
        : h("span", { class: "muted small" }, "Pick a dataset first."));
    };
    const pre = state.prefill || {};
    chips($("#mn-exclude"), "exclude", checked($("#mn-exclude")).concat(pre.exclude || []));
    chips($("#mn-series"), "series_columns", checked($("#mn-series")).concat(pre.series_columns || []));
  }

  // --- the plan ---
  function schedulePlan() {
    clearTimeout(state.timer);
    state.timer = setTimeout(plan, 250);
  }

  async function plan() {
    const body = choice();
    const stale = planCall();
    if (!body.application || !body.dataset_id || !body.target) {
      state.plan = null;
      $("#mn-plan-state").textContent = "";
      append(clear($("#mn-plan-body")), h("p", { class: "muted small" }, "Pick an application, a dataset and the column to predict: the task, the columns used and those left out (with why) show here before anything trains."));
      return;
    }
    $("#mn-plan-state").textContent = "reading the columns…";
    try {
      const p = await api("/models/plan", { method: "POST", body });
      if (stale()) return;
      state.plan = p;
      renderPlan(p);
    } catch (err) {
      if (stale()) return;
      state.plan = null;
      $("#mn-plan-state").textContent = "";
      append(clear($("#mn-plan-body")), h("div", { class: "alert alert-error pm-plan-error", role: "alert", "data-testid": "mn-plan-error" },
        h("div", { class: "strong" }, "This cannot train as it is."), h("div", { class: "small" }, err.message)));
    }
  }

  function renderPlan(p) {
    $("#mn-plan-state").textContent = fmtCount(p.rows) + " rows";
    const excluded = p.excluded || [];
    append(clear($("#mn-plan-body")), [
      h("dl", { class: "pm-plan-facts" },
        h("dt", {}, "Task"), h("dd", { "data-testid": "mn-plan-task", "data-task": p.task }, TASK_TEXT[p.task] || p.task, " ", appBadge(p.application)),
        h("dt", {}, "Target"), h("dd", {}, h("code", {}, p.target),
          p.classes && p.classes.length ? h("span", { class: "muted small" }, " · classes " + p.classes.map(String).join(", ")) : null),
        p.date_column ? [h("dt", {}, "Validation"), h("dd", { "data-testid": "mn-plan-date" }, "time-ordered by ", h("code", {}, p.date_column))]
          : [h("dt", {}, "Validation"), h("dd", {}, p.task === "regression" ? "shuffled folds" : "stratified folds")],
        p.series_columns && p.series_columns.length ? [h("dt", {}, "Series"), h("dd", {}, p.series_columns.join(", "))] : null),
      h("h3", { class: "pm-plan-sub" }, "Uses ", h("span", { "data-testid": "mn-plan-feature-count" }, fmtCount((p.features || []).length)), " columns"),
      h("div", { class: "pm-chips pm-chips-static", "data-testid": "mn-plan-features" },
        (p.features || []).map((f) => h("span", { class: "badge badge-tag" }, f))),
      excluded.length ? [
        h("h3", { class: "pm-plan-sub" }, "Leaves out ", fmtCount(excluded.length)),
        h("ul", { class: "pm-excluded", "data-testid": "mn-plan-excluded" }, excluded.map((e) => h("li", { "data-testid": "mn-excluded-" + e.column, "data-code": e.code },
          h("div", {}, h("code", {}, e.column), " ", badge(CODE_TEXT[e.code] || e.code, e.code === "leak" ? "danger" : e.code === "user" ? "info" : "muted")),
          h("div", { class: "muted small" }, e.reason))))] : null,
      (p.warnings || []).map((w) => h("div", { class: "alert alert-warning small pm-plan-warning" }, w)),
    ]);
  }

  // --- sending it ---
  form.addEventListener("change", (ev) => {
    const name = ev.target.name;
    if (name === "application") appChanged();
    else if (name === "dataset_id") datasetChanged().then(schedulePlan).catch((err) => setError(err.message));
    else if (name === "version") versionChanged().then(schedulePlan).catch((err) => setError(err.message));
    else if (name === "target") { fillChips(); schedulePlan(); }
    else if (["exclude", "date_column", "series_columns"].includes(name)) schedulePlan();
  });
  form.addEventListener("input", () => setError(null));

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const body = choice();
    const name = String(fd.get("name") || "").trim();
    if (!state.model && !name) return setError("Give the model a name.");
    if (!body.application) return setError("Choose an application the organization is subscribed to.");
    if (!body.dataset_id) return setError("Choose the dataset to learn from.");
    if (!body.target) return setError("Choose the column to predict.");
    const num = (k) => (String(fd.get(k) || "").trim() === "" ? null : Number(fd.get(k)));
    const budget = num("time_budget_s");
    if (budget !== null) body.time_budget_s = budget;
    if (body.application === "failure") {
      const missed = num("cost_missed");
      const alarm = num("cost_false_alarm");
      if ((missed === null) !== (alarm === null)) return setError("Give both costs, or neither.");
      if (missed !== null) Object.assign(body, { cost_missed: missed, cost_false_alarm: alarm });
    }
    if (body.application === "forecast" && num("horizon") !== null) body.horizon = num("horizon");
    setError(null);
    busy($("#mn-submit"), async () => {
      try {
        let out;
        if (state.model) {
          delete body.application;
          out = await api("/models/" + state.model.id + "/versions", { method: "POST", body });
        } else {
          const description = String(fd.get("description") || "").trim();
          out = await api("/models", { method: "POST", body: Object.assign({ name }, description ? { description } : {}, body) });
        }
        const model = out.model || state.model;
        location.assign(modelPath(model.id, out.version ? out.version.number : null));
      } catch (err) {
        setError(err.message);
      }
    });
  });

  // --- a new version of a model: its name and application fixed, its last choice prefilled ---
  async function loadModel(id) {
    state.model = await api("/models/" + id);
    const versions = await api("/models/" + id + "/versions", { query: { limit: 1 } });
    const last = versions.items[0];
    if (last) {
      const o = last.options || {};
      state.prefill = {
        target: last.target, exclude: o.exclude || [], date_column: o.date_column || "", series_columns: o.series_columns || [],
      };
      if (o.time_budget_s) $("#mn-budget").value = o.time_budget_s;
      if (o.cost_missed !== null && o.cost_missed !== undefined) $("#mn-cost-missed").value = o.cost_missed;
      if (o.cost_false_alarm !== null && o.cost_false_alarm !== undefined) $("#mn-cost-false-alarm").value = o.cost_false_alarm;
      if (o.horizon) $("#mn-horizon").value = o.horizon;
    }
    $("#mn-title").textContent = "Train a new version of " + state.model.name;
    document.title = "New version of " + state.model.name + " · augury";
    $("#mn-back").href = modelPath(state.model.id);
    $("#mn-cancel").href = modelPath(state.model.id);
    $("#mn-lede").textContent = "Version " + (state.model.latest_version + 1) + " learns from the dataset you pick, with the options below; the current version stays current until you promote another.";
    show($("#mn-name-row"), false);
    return last && last.dataset ? last.dataset : null;
  }

  async function load() {
    const modelId = params.get("model");
    const from = modelId ? await loadModel(modelId) : null;
    await Promise.all([loadApps(), loadDatasets(from ? from.id : params.get("dataset"))]);
    if (dataset()) await datasetChanged(from ? from.version : null);
    schedulePlan();
    (state.model ? $("#mn-dataset") : $("#mn-name")).focus();
  }
  return load();
}

startApp(newModelPage);
