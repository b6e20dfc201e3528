/* Jobs (/jobs): background jobs with their progress and a status filter, the
 * consumptions, and a form to run a demo job; active jobs are watched until they end.
 */

import { api } from "../api.js";
import { $, $$, clear, h, newestOnly, show } from "../dom.js";
import { fmtNum } from "../format.js";
import { showError, toast } from "../toast.js";
import { onSubmit } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { ACTIVE, fillJobRow } from "../jobs.js";

function jobsPage(me) {
  const state = { offset: 0, limit: 20, status: "", timer: null, active: new Set() };
  const body = $("#jobs-body");

  async function loadConsumptions() {
    const rows = await api("/consumptions");
    const tb = clear($("#consumptions-body"));
    show($("#consumptions-empty"), rows.length === 0);
    show($("#consumptions-table"), rows.length > 0);
    rows.forEach((c) => tb.append(h("tr", {},
      h("td", { class: "nowrap" }, c.date),
      h("td", {}, c.user_email || h("span", { class: "muted" }, "system")),
      h("td", {}, h("code", {}, c.job_type)),
      h("td", { class: "num" }, c.jobs),
      h("td", { class: "num" }, c.succeeded),
      h("td", { class: "num" }, c.failed),
      h("td", { class: "num" }, c.aborted),
      h("td", { class: "num" }, fmtNum(c.cpu_seconds, 2)),
      h("td", { class: "num" }, fmtNum(c.peak_memory_mb)),
      h("td", { class: "num" }, fmtNum(c.disk_written_mb)),
      h("td", { class: "num" }, fmtNum(c.wall_seconds)))));
  }

  const jobsCall = newestOnly();
  async function load() {
    clearTimeout(state.timer);
    const stale = jobsCall();
    let page;
    try {
      page = await api("/jobs", { query: { offset: state.offset, limit: state.limit, status: state.status } });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      show($("#jobs-empty"), false);
      showFailed("jobs-failed", $("#jobs-table").closest(".table-wrap"), err, load);
      state.timer = setTimeout(load, 5000);
      return;
    }
    hideFailed("jobs-failed", $("#jobs-table").closest(".table-wrap"));
    const seen = new Set();
    page.items.forEach((job, i) => {
      let tr = body.querySelector('tr[data-job-id="' + job.id + '"]');
      if (!tr) tr = h("tr", { "data-testid": "job-row-" + job.id });
      fillJobRow(tr, job);
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
      seen.add(String(job.id));
    });
    $$("tr", body).forEach((tr) => {
      if (!seen.has(tr.dataset.jobId)) tr.remove();
    });
    show($("#jobs-empty"), page.total === 0);
    show($("#jobs-table"), page.total > 0);
    pager($("#jobs-pager"), page, (off) => { state.offset = off; load(); }, "jobs");

    const active = new Set(page.items.filter((j) => ACTIVE.has(j.status)).map((j) => j.id));
    const finished = [...state.active].some((id) => !active.has(id));
    state.active = active;
    if (finished) loadConsumptions().catch(showError);
    show($("#jobs-live"), active.size > 0);
    // Every second while something moves; a slow look otherwise, for jobs started elsewhere.
    state.timer = setTimeout(load, active.size ? 1000 : 10000);
  }

  $("#jobs-status-filter").addEventListener("change", (ev) => {
    state.status = ev.target.value;
    state.offset = 0;
    load();
  });

  onSubmit($("#demo-form"), async (fd) => {
    const params = {
      steps: Number(fd.get("steps")),
      step_seconds: Number(fd.get("step_seconds")),
      kind: String(fd.get("kind")),
      megabytes: Number(fd.get("megabytes")),
    };
    const job = await api("/jobs", { method: "POST", body: { type: "demo.work", params } });
    toast("Job #" + job.id + " queued.", "success");
    state.offset = 0;
    await load();
  });

  if (me.role === "viewer") {
    $("#run-demo-job").disabled = true;
    $("#run-demo-job").title = "Viewers cannot start jobs";
  }
  return Promise.all([load(), loadConsumptions()]);
}

startApp(jobsPage);
