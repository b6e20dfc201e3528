/* Background jobs: their progress bars, their rows in a list and aborting them
 * (the Jobs pages, and forecast runs, which are jobs).
 */

import { api } from "./api.js";
import { $, clear, h } from "./dom.js";
import { fmtNum } from "./format.js";
import { statusBadge, timeEl } from "./badges.js";
import { busy, toast } from "./toast.js";

export const ACTIVE = new Set(["pending", "running"]);

export function progressBar(job, testid) {
  const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
  const bar = h("div", { class: "progress-bar" });
  bar.style.width = pct + "%";
  return h("div", {
    class: "progress progress-" + job.status, role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
    "aria-valuenow": Math.round(pct * 10) / 10, "data-testid": testid,
  }, bar);
}

export function setProgress(el, job) {
  const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
  el.classList.remove(...[...el.classList].filter((c) => c.startsWith("progress-")));
  el.classList.add("progress-" + job.status);
  el.setAttribute("aria-valuenow", String(Math.round(pct * 10) / 10));
  el.querySelector(".progress-bar").style.width = pct + "%";
}

export async function abortJob(id, button) {
  await busy(button, async () => {
    await api("/jobs/" + id + "/abort", { method: "POST" });
    toast("Abort requested for job #" + id + ".", "success");
  });
}

export function fillJobRow(tr, job) {
  if (!tr.firstChild) {
    tr.dataset.jobId = job.id;
    tr.append(
      h("td", {}, h("a", { href: "/jobs/" + job.id, class: "strong", "data-testid": "job-link-" + job.id }, "#" + job.id),
        " ", h("code", { class: "job-type" }, job.type)),
      h("td", { class: "c-status" }),
      h("td", { class: "col-progress" },
        progressBar(job, "job-progress-" + job.id),
        h("div", { class: "progress-text small" },
          h("span", { class: "pct", "data-testid": "job-pct-" + job.id }), " ",
          h("span", { class: "muted msg", "data-testid": "job-message-" + job.id }))),
      h("td", { class: "c-started nowrap" }),
      h("td", { class: "c-finished nowrap" }),
      h("td", { class: "num c-cpu" }),
      h("td", { class: "num c-mem" }),
      h("td", { class: "num c-disk" }),
      h("td", { class: "c-actions" })
    );
  }
  const pct = Math.round(Number(job.progress) || 0);
  const cell = (cls) => clear($("." + cls, tr));
  cell("c-status").append(statusBadge(job.status, "job-status-" + job.id));
  setProgress($(".progress", tr), job);
  $(".pct", tr).textContent = pct + "%";
  $(".msg", tr).textContent = job.error || job.message || "";
  cell("c-started").append(timeEl(job.started_at));
  cell("c-finished").append(timeEl(job.finished_at));
  $(".c-cpu", tr).textContent = fmtNum(job.cpu_seconds, 2);
  $(".c-mem", tr).textContent = fmtNum(job.peak_memory_mb);
  $(".c-disk", tr).textContent = fmtNum(job.disk_written_mb);
  const actions = cell("c-actions");
  if (ACTIVE.has(job.status) && !job.abort_requested) {
    const btn = h("button", {
      class: "btn btn-small btn-danger-ghost", id: "abort-job-" + job.id, "data-testid": "abort-job-" + job.id,
      onclick: () => abortJob(job.id, btn),
    }, "Abort");
    actions.append(btn);
  } else if (ACTIVE.has(job.status)) {
    actions.append(h("span", { class: "muted small" }, "aborting…"));
  }
}
