/* One job (/jobs/{id}): its progress, parameters, result and log, watched until it ends. */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtNum, fmtTime } from "../format.js";
import { statusBadge, timeEl } from "../badges.js";
import { showError } from "../toast.js";
import { startApp } from "../shell.js";
import { abortJob, ACTIVE, setProgress } from "../jobs.js";

function jobPage() {
  const id = $("#job-root").dataset.jobId;
  let timer = null;
  let logCount = 0;

  function fact(label, value) {
    return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));
  }

  async function load() {
    clearTimeout(timer);
    let job;
    try {
      job = await api("/jobs/" + id);
    } catch (err) {
      showError(err);
      if (err.status === 404) {
        $("#job-type-title").textContent = "This job does not exist in this organization.";
        return;
      }
      timer = setTimeout(load, 5000);
      return;
    }
    const st = clear($("#job-status"));
    st.append(statusBadge(job.status, "job-status"));
    $("#job-type-title").textContent = job.type;
    setProgress($("#job-progress"), job);
    // Animate changes from now on, not the first paint.
    requestAnimationFrame(() => $("#job-progress").classList.add("animated"));
    $("#job-progress-pct").textContent = Math.round(job.progress) + "%";
    $("#job-message").textContent = job.message || "";
    const err = $("#job-error");
    err.textContent = job.error || "";
    show(err, !!job.error);
    append(clear($("#job-facts")), [
      fact("Created", timeEl(job.created_at)),
      fact("Started", timeEl(job.started_at)),
      fact("Finished", timeEl(job.finished_at)),
      fact("CPU seconds", fmtNum(job.cpu_seconds, 2)),
      fact("Peak memory", job.peak_memory_mb == null ? "–" : fmtNum(job.peak_memory_mb) + " MB"),
      fact("Disk written", job.disk_written_mb == null ? "–" : fmtNum(job.disk_written_mb) + " MB"),
      fact("Host", job.host ? job.host + (job.pid ? " · pid " + job.pid : "") : "–"),
      fact("Heartbeat", timeEl(job.heartbeat_at, true)),
    ]);
    $("#job-params").textContent = JSON.stringify(job.params, null, 2);
    $("#job-result").textContent = job.result ? JSON.stringify(job.result, null, 2) : "–";
    const abort = $("#job-abort");
    show(abort, ACTIVE.has(job.status) && !job.abort_requested);

    const logs = await api("/jobs/" + id + "/logs", { query: { limit: 1000 } });
    if (logs.total !== logCount || !logs.total) {
      logCount = logs.total;
      const box = clear($("#job-logs"));
      if (!logs.items.length) box.append(h("p", { class: "muted" }, ACTIVE.has(job.status) ? "No log lines yet." : "This job wrote no log lines."));
      logs.items.forEach((l) => box.append(h("div", { class: "log-line log-" + l.level.toLowerCase() },
        h("span", { class: "log-time" }, fmtTime(l.created_at)),
        h("span", { class: "log-level" }, l.level),
        h("span", { class: "log-msg" }, l.message))));
      $("#job-log-count").textContent = logs.total + (logs.total === 1 ? " line" : " lines");
    }
    if (ACTIVE.has(job.status)) timer = setTimeout(load, 1000);
  }

  $("#job-abort").addEventListener("click", async () => {
    await abortJob(id, $("#job-abort"));
    load();
  });
  return load();
}

startApp(jobPage);
