/* One labeling session (/text/projects/{pid}/sessions/{sid}): its overall progress, each
 * annotator's, and the agreement between annotators who tagged the same segments.
 * Managers can finish the session. The figures refresh while the page is open.
 */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtCount, fmtNum, hmsFmt } from "../format.js";
import { factEl, timeEl } from "../badges.js";
import { busy, toast } from "../toast.js";
import { emptyRow } from "../pager.js";
import { loadInto } from "../loading.js";
import { startApp } from "../shell.js";
import { excerpt, personName, progressCell, projectPath, sessionPath, sessionStatusBadge } from "../text-common.js";

const REFRESH_MS = 15000;

/** Kappa as people read it (Landis and Koch's words). */
function kappaWords(k) {
  if (k === null || k === undefined || !isFinite(k)) return "not enough overlap";
  if (k < 0) return "worse than chance";
  if (k < 0.2) return "slight";
  if (k < 0.4) return "fair";
  if (k < 0.6) return "moderate";
  if (k < 0.8) return "substantial";
  return "almost perfect";
}

const pct = (share) => (share === null || share === undefined ? "–" : fmtNum(100 * share, 0) + " %");

function sessionPage(me) {
  const root = $("#ts-root");
  const pid = Number(root.dataset.projectId);
  const sid = Number(root.dataset.sessionId);
  const base = sessionPath(pid, sid);
  let session = null;
  let project = null;

  function fillHeader() {
    $("#ts-name").textContent = session.name;
    document.title = session.name + " · augury";
    clear($("#ts-status")).append(sessionStatusBadge(session.status, "ts-status-badge"));
    $("#ts-lede").textContent = project.name + " · " + String(session.mode || "").toLowerCase() + " session"
      + (session.description ? " · " + excerpt(session.description, 160) : "");
    const manager = project.role === "MANAGER";
    show($("#ts-finish"), manager && session.status !== "FINISHED");
    const labelable = session.mode === "ANNOTATION" || session.mode === "CORRECTION";
    show($("#ts-annotate"), labelable && session.status !== "FINISHED");
    const names = (list) => (list || []).map((x) => (typeof x === "string" ? x : x.name)).join(", ");
    append(clear($("#ts-facts")), [
      factEl("Documents", fmtCount(session.document_count), "ts-fact-documents"),
      factEl("Classes", names(session.classes) || "all"),
      session.labels && session.labels.length ? factEl("Labels", names(session.labels)) : null,
      factEl("Annotators", (session.assignees || []).map(personName).join(", ") || "–", "ts-fact-assignees"),
      predicted(session),
      factEl("Created", timeEl(session.created))]);
  }

  /** A correction session's projected score of the next model, with its interval. */
  function predicted(s) {
    if (s.predicted_score === null || s.predicted_score === undefined) return null;
    const p = s.prediction || {};
    const range = p.low !== undefined ? " (" + pct(p.low) + "–" + pct(p.high) + ")" : "";
    return factEl("Predicted score of the next model", h("span", { title: p.method || "" }, pct(s.predicted_score) + range,
      p.checked ? h("span", { class: "muted small fact-sub" }, fmtCount(p.correct) + " of " + fmtCount(p.checked) + " corrected segments were right") : null), "ts-fact-predicted");
  }

  async function loadProgress() {
    const p = await api(base + "/progress");
    append(clear($("#ts-overall")), [progressCell(p.progress, "ts-progress", "Progress of the session"),
      h("span", { class: "muted small" }, fmtCount(p.documents_done) + " of " + fmtCount(p.document_count) + " documents done by every annotator")]);
    const body = clear($("#ts-annotators-body"));
    const people = p.annotators;
    people.forEach((a) => body.append(h("tr", { "data-testid": "ts-annotator-" + (a.user_id ?? a.annotator) },
      h("td", { class: "strong" }, personName(a), a.user_id === me.id ? h("span", { class: "muted small" }, " (you)") : null),
      h("td", { class: "num" }, fmtCount(a.documents_done)),
      h("td", { class: "num" }, fmtCount(a.documents_skipped)),
      h("td", { class: "num" }, fmtCount(a.segments_tagged)),
      h("td", { class: "col-progress" }, progressCell(a.progress, "ts-annotator-progress-" + (a.user_id ?? a.annotator), "Progress of " + personName(a))))));
    if (!people.length) emptyRow(body, 5, "Nobody has labeled in this session yet.");
    $("#ts-updated").textContent = "Updated " + hmsFmt.format(new Date());
  }

  const methodName = (m, n) => (/fleiss/i.test(m || "") || (!m && n > 2) ? "Fleiss'" : "Cohen's");

  function figure(a) {
    const k = a.kappa;
    const n = (a.annotators || []).length;
    return h("div", { class: "ts-kappa", "data-testid": "ts-kappa" },
      h("span", { class: "ts-kappa-value", "data-testid": "ts-kappa-value" }, k === null || k === undefined ? "–" : fmtNum(k, 2)),
      h("span", { class: "ts-kappa-label" }, (a.type === "CLASS" ? "" : "mean ") + methodName(a.method, n) + " kappa: " + kappaWords(k)),
      h("span", { class: "muted small" }, pct(a.percent_agreement) + " raw agreement over " + fmtCount(a.items) + " segments tagged by "
        + fmtCount(n) + " annotators"));
  }

  async function loadAgreement() {
    const box = $("#ts-agreement");
    let a;
    try {
      a = await api(base + "/agreement");
    } catch (err) {
      // Fewer than two annotators on the same segments: the API says so (422 or 409).
      if (err.status !== 422 && err.status !== 409) throw err;
      clear(box).append(h("p", { class: "muted", "data-testid": "ts-agreement-none" }, err.message));
      return;
    }
    const parts = a.parts || [];
    if (!a.items) {
      clear(box).append(h("p", { class: "muted", "data-testid": "ts-agreement-none" },
        "No agreement yet: it needs at least two annotators who tagged the same segments."));
      return;
    }
    append(clear(box), [figure(a),
      parts.length > 1 || (parts.length === 1 && parts[0].name !== "class") ? h("div", { class: "table-wrap" }, h("table", { class: "table table-compact", "data-testid": "ts-agreement-table" },
        h("thead", {}, h("tr", {}, h("th", {}, a.type === "ABSA" ? "Aspect" : "Label"), h("th", { class: "num" }, "Kappa"), h("th", {}, "Reading"), h("th", { class: "num" }, "Agreement"), h("th", { class: "num" }, "Segments"))),
        h("tbody", {}, parts.map((r) => h("tr", {},
          h("td", { class: "strong" }, r.name),
          h("td", { class: "num" }, r.kappa === null || r.kappa === undefined ? "–" : fmtNum(r.kappa, 2)),
          h("td", { class: "muted" }, kappaWords(r.kappa)),
          h("td", { class: "num" }, pct(r.percent_agreement)),
          h("td", { class: "num" }, fmtCount(r.items))))))) : null]);
  }

  $("#ts-finish").addEventListener("click", () => {
    if (!confirm("Finish " + session.name + "? Nobody can label in it afterwards.")) return;
    busy($("#ts-finish"), async () => {
      session = await api(base, { method: "PATCH", body: { status: "FINISHED" } });
      fillHeader();
      toast("The session is finished.", "success");
    });
  });

  async function load() {
    try {
      [project, session] = await Promise.all([api(projectPath(pid)), api(base)]);
    } catch (err) {
      if (err.status === 404) {
        $("#ts-name").textContent = "Session not found";
        $("#ts-lede").textContent = "This session does not exist, or it is not assigned to you.";
        show(root, false);
        show($("#ts-annotate"), false);
        return;
      }
      throw err;
    }
    fillHeader();
    await Promise.all([loadInto($("#ts-annotators-body"), loadProgress), loadInto($("#ts-agreement"), loadAgreement)]);
    setInterval(() => {
      if (document.hidden) return;
      loadProgress().catch(() => {});
    }, REFRESH_MS);
  }

  return load();
}

startApp(sessionPage);
