/* Forecasts (/forecasts): the forecast tasks with their latest runs, and a form to
 * create one.
 */

import { api, ApiError } from "../api.js";
import { $, $$, clear, h, show } from "../dom.js";
import { fmtAgo, fmtDuration } from "../format.js";
import { timeEl } from "../badges.js";
import { toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { RESOLUTION_SECONDS } from "../chart.js";
import { ACTIVE } from "../jobs.js";
import { activeRunJobs, aheadText, fmtEvery, horizonText, jobsEnded, levelBadges, runBadge, runOutcome, runProgress, scheduleText } from "../forecasts.js";

function forecastsPage(me) {
  const state = { offset: 0, limit: 20, timer: null, gen: 0, page: null, jobs: new Map() };
  const canWrite = me.role !== "viewer";
  const body = $("#forecasts-body");

  const activeRuns = () => (state.page ? state.page.items.map((t) => t.runs[0]).filter((r) => r && ACTIVE.has(r.status)) : []);

  function lastRun(t) {
    const run = t.runs[0];
    if (!run) return h("span", { class: "muted" }, "never run");
    const active = ACTIVE.has(run.status);
    return h("div", { class: "last-run" },
      h("div", { class: "last-run-head" },
        runBadge(run.status, "forecast-status-" + t.id),
        h("span", { class: "muted small" }, "#" + run.id + " · " + fmtAgo(run.finished_at || run.created_at))),
      active ? runProgress(run, state.jobs.get(run.id), "forecast-progress-" + t.id)
        : runOutcome(run, "forecast-outcome-" + t.id));
  }

  function row(t) {
    const href = "/forecasts/" + t.id;
    const tr = h("tr", { class: "row-link", "data-testid": "forecast-row-" + t.id, "data-task-id": t.id },
      h("td", { class: "forecast-cell" },
        h("a", { href, class: "strong", "data-testid": "forecast-link-" + t.id }, t.name),
        h("div", {}, h("code", { class: "expr", "data-testid": "forecast-expression-" + t.id }, t.expression))),
      h("td", { class: "nowrap" }, h("span", { "data-testid": "forecast-horizon-" + t.id }, horizonText(t)),
        h("div", { class: "muted small" }, aheadText(t))),
      h("td", {}, levelBadges(t.levels, "forecast-levels-" + t.id)),
      h("td", { class: "nowrap" }, h("span", { "data-testid": "forecast-schedule-" + t.id }, scheduleText(t)),
        t.every_minutes && t.next_run_at ? h("div", { class: "muted small" }, "next " + fmtAgo(t.next_run_at)) : null),
      h("td", { class: "col-progress" }, lastRun(t)),
      h("td", { class: "nowrap" }, timeEl(t.created_at)));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a") && !getSelection().toString()) location.assign(href);
    });
    return tr;
  }

  function render() {
    const page = state.page;
    clear(body);
    page.items.forEach((t) => body.append(row(t)));
    show($("#forecasts-empty"), page.total === 0);
    show($("#forecasts-table"), page.total > 0);
    show($("#forecasts-live"), activeRuns().length > 0);
  }

  async function load() {
    clearTimeout(state.timer);
    const gen = ++state.gen;
    let page;
    let jobs;
    try {
      page = await api("/forecasts", { query: { offset: state.offset, limit: state.limit } });
      jobs = await activeRunJobs(page.items.map((t) => t.runs[0]));
    } catch (err) {
      if (gen !== state.gen) return;
      showFailed("forecasts-failed", $("#forecasts-table").closest(".table-wrap"), err, load);
      state.timer = setTimeout(load, 5000);
      return;
    }
    if (gen !== state.gen) return;
    hideFailed("forecasts-failed", $("#forecasts-table").closest(".table-wrap"));
    state.page = page;
    state.jobs = jobs;
    render();
    pager($("#forecasts-pager"), page, (o) => { state.offset = o; load(); }, "forecasts");
    schedule(gen);
  }

  // Every second while a run goes (its job's progress); now and then otherwise, for the
  // runs that refreshing tasks start by themselves.
  function schedule(gen) {
    state.timer = activeRuns().length ? setTimeout(() => poll(gen), 1000) : setTimeout(load, 15000);
  }

  async function poll(gen) {
    const jobs = await activeRunJobs(activeRuns());
    if (gen !== state.gen) return;
    if (jobsEnded(jobs)) {
      load();
      return;
    }
    state.jobs = jobs;
    render();
    schedule(gen);
  }

  // --- the New forecast form, in a dialog ---
  const dialog = $("#forecast-dialog");
  const form = $("#forecast-form");
  const horizon = $("#fc-horizon");
  const resolution = $("#fc-resolution");

  function hint() {
    const n = parseInt(horizon.value, 10);
    const sec = RESOLUTION_SECONDS[resolution.value];
    const steps = n + (n === 1 ? " step" : " steps");
    $("#fc-horizon-hint").textContent = !(n >= 1 && n <= 2000) ? "How many steps ahead: 1 to 2,000."
      : sec ? steps + " of " + fmtEvery(sec / 60) + ": " + fmtDuration(n * sec) + " ahead."
        : steps + " of each metric's own interval between points.";
  }

  function formError(err) {
    const el = $("#forecast-form-error");
    el.textContent = err ? err.message : "";
    show(el, !!err);
    $$("input", form).forEach((input) => {
      input.classList.remove("invalid");
      input.removeAttribute("aria-invalid");
    });
    const field = err && errorField(err);
    const input = field && form.elements[field];
    if (input && input.classList) {
      input.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
    }
  }

  /** The form field an API error is about, where it says. */
  function errorField(err) {
    const first = ((err.details && err.details.errors) || [])[0];
    if (first && first.loc && first.loc.length > 1) return first.loc[1];
    if ((err.details && "expression" in err.details) || /expression/i.test(err.message)) return "expression";
    return null;
  }

  function openForm(prefill) {
    form.reset();
    formError(null);
    if (prefill.name) $("#fc-name").value = prefill.name;
    if (prefill.expression) $("#fc-expression").value = prefill.expression;
    hint();
    dialog.showModal();
    $("#fc-name").focus();
  }

  onSubmit(form, async (fd) => {
    const number = (name) => (text(fd, name) === "" ? null : Number(text(fd, name)));
    const body = {
      name: text(fd, "name"),
      expression: text(fd, "expression"),
      horizon: number("horizon"),
      resolution: String(fd.get("resolution")),
      levels: fd.getAll("levels").map(Number),
      every_minutes: number("every_minutes"),
    };
    const missing = !body.name ? ["name", "Give the forecast a name."]
      : !body.expression ? ["expression", "Say which metrics to forecast, with an expression."]
        : !body.levels.length ? ["levels", "Choose at least one confidence interval."] : null;
    if (missing) {
      formError(new ApiError(0, "VALIDATION_ERROR", missing[1], { errors: [{ loc: ["body", missing[0]] }] }));
      return;
    }
    let task;
    try {
      task = await api("/forecasts", { method: "POST", body });
    } catch (err) {
      if (err.status !== 422) throw err;
      formError(err); // the API's own message: a bad expression, one that matches nothing ...
      return;
    }
    location.assign("/forecasts/" + task.id);
  });

  horizon.addEventListener("input", hint);
  resolution.addEventListener("change", hint);
  $("#forecast-cancel").addEventListener("click", () => dialog.close());
  ["#new-forecast", "#new-forecast-empty"].forEach((sel) => {
    const btn = $(sel);
    btn.addEventListener("click", () => openForm({}));
    if (!canWrite) {
      btn.disabled = true;
      btn.title = "Viewers cannot create forecasts";
    }
  });
  // /forecasts?new=1&expression=...&name=... (the Forecast button of a metric) opens the form filled in.
  const p = new URLSearchParams(location.search);
  if (p.get("new")) {
    history.replaceState(null, "", location.pathname);
    if (canWrite) openForm({ name: p.get("name") || "", expression: p.get("expression") || "" });
    else toast("Viewers cannot create forecasts: ask a member or an admin.");
  }
  return load();
}

startApp(forecastsPage);
