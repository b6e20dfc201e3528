/* One text project (/text/projects/{id}?tab=): its overview, the classes and labels
 * editor, documents, sessions with their progress, models (with Try it), analyses, the
 * review queue, members and their roles, and the export of its labeled data. What a person may change follows their
 * role in the project (the API answers it with the project).
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge, factEl, roleBadge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager, emptyRow } from "../pager.js";
import { loadInto } from "../loading.js";
import { startApp } from "../shell.js";
import { saveFrom } from "../data-common.js";
import { ABSA_KEYS, TYPE_TEXT, digitOf, letterOf, listAll, personName, progressCell, projectPath, projectRoleBadge, projectTypeBadge, sessionPath, sessionStatusBadge, usesClasses, usesLabels } from "../text-common.js";
import { vocabularyEditor } from "../text-vocabulary.js";
import { documentsTab } from "../text-documents.js";
import { reviewTab } from "../text-review.js";
import { modelsTab } from "../text-models.js";
import { analysesTab } from "../text-analyses.js";
import { tryIt } from "../text-tryit.js";

const TABS = ["overview", "classes", "documents", "sessions", "models", "analyses", "review", "members", "export"];
const ROLES = ["MANAGER", "ANNOTATOR", "VIEWER"];
/** The vocabulary tab says what the project type tags with (and the nine tabs fit 1280 pixels). */
const VOCABULARY_TAB = { CLASS: "Classes", LABEL: "Labels", CLASSLABEL: "Classes and labels", ABSA: "Aspects" };
/** Tabs read again at each visit: what they list moves on its own (jobs, other people). */
const FRESH = new Set(["sessions", "models", "analyses", "review"]);

function projectPage(me) {
  const pid = Number($("#tp-root").dataset.projectId);
  const base = projectPath(pid);
  const state = { tab: "overview", project: null, loaded: new Set(), classes: [], labels: [] };
  const canManage = () => !!state.project && state.project.role === "MANAGER";

  // --- tabs (?tab=) ---
  function readUrl() {
    const t = new URLSearchParams(location.search).get("tab");
    state.tab = TABS.includes(t) ? t : "overview";
  }

  function showTab() {
    TABS.forEach((key) => {
      const on = key === state.tab;
      const tab = $("#tab-" + key);
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      show($("#panel-" + key), on);
    });
    const p = new URLSearchParams(location.search);
    if (state.tab === "overview") p.delete("tab");
    else p.set("tab", state.tab);
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
    if (state.project) fillTab();
  }

  function goTab(key) {
    state.tab = key;
    showTab();
  }

  $$("#tp-tabs .tab").forEach((tab) => tab.addEventListener("click", () => goTab(tab.dataset.tab)));
  $("#tp-tabs").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
    const i = TABS.indexOf(state.tab) + (ev.key === "ArrowRight" ? 1 : -1);
    goTab(TABS[(i + TABS.length) % TABS.length]);
    $("#tab-" + state.tab).focus();
  });
  $$("[data-goto]").forEach((b) => b.addEventListener("click", () => goTab(b.dataset.goto)));

  function fillTab() {
    const key = state.tab;
    if (!docs) return;
    if (key === "overview") return;
    if (key === "classes") return vocab.load();
    if (state.loaded.has(key) && !FRESH.has(key)) return;
    state.loaded.add(key);
    if (key === "documents") return docs.load();
    if (key === "sessions") return loadSessions();
    if (key === "models") return models.load();
    if (key === "analyses") return analyses.load();
    if (key === "review") return review.load();
    if (key === "members") return loadInto($("#members-body"), loadMembers);
    if (key === "export") return fillExport().catch(showError);
  }

  // --- the header and overview ---
  function fillHeader() {
    const p = state.project;
    $("#tp-name").textContent = p.name;
    document.title = p.name + " · augury";
    clear($("#tp-type")).append(projectTypeBadge(p.type, "tp-type-badge"));
    const desc = $("#tp-description");
    desc.textContent = p.description || "No description.";
    desc.classList.toggle("muted-more", !p.description);
    clear($("#tp-role")).append(h("span", { class: "muted small" }, "Your role "), projectRoleBadge(p.role, "tp-role-badge"));
    const COUNT = { documents: "document_count", classes: "class_count", labels: "label_count", sessions: "session_count" };
    const figure = (key) => p[COUNT[key]];
    ["documents", "classes", "labels", "sessions"].forEach((k) => { $("#stat-" + k).textContent = fmtCount(figure(k)); });
    $("#tab-classes .tab-label").textContent = VOCABULARY_TAB[p.type] || "Classes and labels";
    show($("[data-testid=stat-classes-card]"), usesClasses(p.type));
    show($("[data-testid=stat-labels-card]"), usesLabels(p.type));
    $("#tab-count-documents").textContent = figure("documents") ? fmtCount(figure("documents")) : "";
    $("#tab-count-sessions").textContent = figure("sessions") ? fmtCount(figure("sessions")) : "";
    clear($("#tp-facts")).append(
      factEl("Type", h("span", {}, p.type, h("span", { class: "muted small fact-sub" }, TYPE_TEXT[p.type] || "")), "tp-fact-type"),
      factEl("Segmentation", p.segmentation, "tp-fact-segmentation"),
      factEl("Language", p.language || "–"),
      factEl("Created", timeEl(p.created_at)),
      factEl("Updated", timeEl(p.updated_at)));
    const next = clear($("#tp-next"));
    if (canManage()) {
      const steps = [];
      if (usesClasses(p.type) && !figure("classes")) steps.push(["classes", "Add the classes people tag with."]);
      if (p.type === "LABEL" && !figure("labels")) steps.push(["classes", "Add the labels people tag with."]);
      if (!figure("documents")) steps.push(["documents", "Add documents: upload a file or paste texts."]);
      if (!figure("sessions")) steps.push(["sessions", "Start a labeling session and label in the annotator view."]);
      steps.forEach(([tab, words]) => next.append(h("li", {}, h("button", { type: "button", class: "link-button link-plain", onclick: () => goTab(tab) }, words))));
    }
    show(next, next.children.length > 0);
    [$("#tp-edit"), $("#session-new"), $("#docs-add")].forEach((b) => show(b, canManage()));
    show($("#tab-members"), p.role !== "ANNOTATOR");
  }

  async function loadProject() {
    try {
      state.project = await api(base);
    } catch (err) {
      if (err.status === 404) {
        $("#tp-name").textContent = "Project not found";
        $("#tp-description").textContent = "This project does not exist in this organization, or it was deleted.";
        show($("#tp-root"), false);
        $$(".page-actions > *").forEach((el) => show(el, false));
        return false;
      }
      throw err;
    }
    fillHeader();
    return true;
  }

  const refreshHeader = () => api(base).then((p) => { state.project = p; fillHeader(); }).catch(showError);

  // --- classes and labels ---
  const vocab = {
    classes: null,
    labels: null,
    load() {
      const p = state.project;
      show($("#classes-card"), usesClasses(p.type));
      show($("#labels-card"), usesLabels(p.type));
      $("#classes-title").textContent = p.type === "ABSA" ? "Aspect categories" : "Classes";
      if (p.type === "ABSA") $("#classes-caption").textContent = "What the text talks about; each tagged with a sentiment. The description and examples are the annotators' guide; the order gives each its key (1–9, 0) in the annotator view.";
      $("#labels-title").textContent = p.type === "ABSA" ? "Sentiments" : "Labels";
      if (p.type === "CLASSLABEL") $("#labels-caption").textContent = "Paired with a class: in the annotator view, a class's key then the label's letter.";
      if (p.type === "LABEL") $("#labels-caption").textContent = "Any number per segment; the order gives each its key (1–9, 0) in the annotator view.";
      if (p.type === "ABSA") $("#labels-caption").textContent = "Each aspect is positive, negative, neutral or conflicting; in the annotator view, an aspect's key then the sentiment's letter.";
      if (!this.classes && usesClasses(p.type)) {
        this.classes = vocabularyEditor($("#classes-editor"), base + "/classes", {
          noun: p.type === "ABSA" ? "aspect" : "class", nouns: p.type === "ABSA" ? "aspects" : "classes",
          canEdit: canManage(), keyOf: (item, i) => digitOf(i),
          onChange: (items) => { state.classes = items; refreshHeader(); },
        });
      }
      if (!this.labels && usesLabels(p.type)) {
        const fixed = p.type === "ABSA" ? "The sentiments of an aspect-based project are fixed: positive (POS), negative (NEG), neutral (NEU) and conflicting (CONFLICT)." : null;
        this.labels = vocabularyEditor($("#labels-editor"), base + "/labels", {
          noun: "label", nouns: "labels", canEdit: canManage(), fixed,
          keyOf: (item, i) => (p.type === "LABEL" ? digitOf(i) : p.type === "ABSA" ? ABSA_KEYS[item.name] || null : letterOf(item, i, p.type)),
          onChange: (items) => { state.labels = items; refreshHeader(); },
        });
      }
      return Promise.all([this.classes && this.classes.load(), this.labels && this.labels.load()]);
    },
  };

  // --- documents (made once the project, and so the caller's role, is known) ---
  let docs = null;
  const makeDocs = () => documentsTab({
    base, canManage: canManage(),
    onCount: (n) => { $("#tab-count-documents").textContent = n ? fmtCount(n) : ""; },
    onChange: refreshHeader,
  });

  // --- sessions ---
  const sessionsState = { offset: 0 };
  function sessionRow(s) {
    const href = sessionPath(pid, s.id);
    const assignees = s.assignees || [];
    return h("tr", { "data-testid": "session-row-" + s.id },
      h("td", { class: "dataset-cell" },
        h("a", { href, class: "strong", "data-testid": "session-link-" + s.id }, s.name),
        assignees.length ? h("div", { class: "muted small" }, assignees.map(personName).join(", ")) : null),
      h("td", {}, badge(String(s.mode || "").toLowerCase(), "muted")),
      h("td", {}, sessionStatusBadge(s.status, "session-status-" + s.id)),
      h("td", { class: "num" }, fmtCount(s.document_count)),
      h("td", { class: "col-progress" }, progressCell(s.progress, "session-progress-" + s.id, "Progress of " + s.name)),
      h("td", { class: "nowrap" }, timeEl(s.created)),
      h("td", { class: "c-actions" }, h("span", { class: "row-actions" },
        s.mode !== "IMPORT" && s.mode !== "REVIEW" && s.status !== "FINISHED"
          ? h("a", { class: "btn btn-small btn-primary", href: href + "/annotate", "data-testid": "session-annotate-" + s.id }, "Label")
          : null,
        h("a", { class: "btn btn-small", href }, "Progress"))));
  }

  async function loadSessions() {
    const wrap = $("#sessions-table").closest(".table-wrap");
    await loadInto($("#sessions-body"), async () => {
      const page = await api(base + "/sessions", { query: { offset: sessionsState.offset, limit: 25 } });
      const body = clear($("#sessions-body"));
      page.items.forEach((s) => body.append(sessionRow(s)));
      show(wrap, page.total > 0);
      show($("#sessions-empty"), page.total === 0);
      $("#sessions-empty-text").textContent = canManage()
        ? "A session picks documents (a random sample, or a group) and the people who label them."
        : "No session is assigned to you in this project yet.";
      pager($("#sessions-pager"), page, (off) => { sessionsState.offset = off; loadSessions(); }, "sessions");
    });
  }

  // The new session dialog: documents by sample or group, classes, labels, annotators.
  const sessionDialog = $("#session-dialog");
  async function openSessionDialog() {
    const p = state.project;
    $("#session-form").reset();
    $("#session-sample").disabled = false;
    $("#session-group").disabled = true;
    if (p.document_count) $("#session-sample").value = String(Math.min(100, p.document_count));
    sessionDialog.showModal();
    $("#session-name").focus();
    const [classes, labels, members, groups] = await Promise.all([
      usesClasses(p.type) ? listAll(base + "/classes") : [],
      usesLabels(p.type) ? listAll(base + "/labels") : [],
      listAll(base + "/members").catch(() => []),
      listAll(base + "/groups").catch(() => []),
    ]);
    const chips = (box, items, name) => append(clear(box), items.map((it) => h("label", { class: "check check-chip" },
      h("input", { type: "checkbox", name, value: it.name }), it.name)));
    chips($("#session-classes"), classes, "classes");
    chips($("#session-labels"), p.type === "ABSA" ? [] : labels, "labels");
    show($("#session-classes-box"), classes.length > 0);
    show($("#session-labels-box"), p.type !== "ABSA" && labels.length > 0);
    const canLabel = members.filter((m) => m.role !== "VIEWER");
    append(clear($("#session-assignees")), canLabel.length ? canLabel.map((m) => h("label", { class: "check check-chip" },
      h("input", { type: "checkbox", name: "assignees", value: m.user_id, checked: m.user_id === me.id, "data-testid": "session-assignee-" + m.user_id }),
      personName(m))) : h("span", { class: "muted small" }, "Only you."));
    const groupSel = clear($("#session-group"));
    groups.forEach((g) => groupSel.append(h("option", { value: g.id }, g.name + " (" + fmtCount(g.document_count) + ")")));
    $("[data-testid=session-pick-group]").disabled = groups.length === 0;
    $("[data-testid=session-pick-group]").closest("label").title = groups.length ? "" : "This project has no groups yet";
  }
  $("#session-form").addEventListener("change", (ev) => {
    if (ev.target.name !== "pick") return;
    $("#session-sample").disabled = ev.target.value !== "sample";
    $("#session-group").disabled = ev.target.value !== "group";
  });
  $("#session-new").addEventListener("click", () => openSessionDialog().catch(showError));
  $("#session-cancel").addEventListener("click", () => sessionDialog.close());
  onSubmit($("#session-form"), async (fd) => {
    const body = { name: text(fd, "name"), mode: "ANNOTATION" };
    if (fd.get("pick") === "group") body.group_id = Number(fd.get("group_id"));
    else body.sample_size = Number(fd.get("sample_size"));
    const classes = fd.getAll("classes").map(String);
    const labels = fd.getAll("labels").map(String);
    if (classes.length) body.classes = classes;
    if (labels.length) body.labels = labels;
    const assignees = fd.getAll("assignees").map(Number);
    body.assignees = assignees.length ? assignees : [me.id];
    const s = await api(base + "/sessions", { method: "POST", body });
    sessionDialog.close();
    toast("Session " + s.name + " created with " + fmtCount(s.document_count) + " documents.", "success");
    refreshHeader();
    loadSessions();
  });

  // --- models (with Try it) and analyses ---
  let models = null;
  let analyses = null;
  let tryit = null;
  function makeModelTabs() {
    const ctx = { base, pid, project: state.project, canManage: canManage() };
    tryit = tryIt(ctx);
    models = modelsTab(Object.assign({}, ctx, { onChange: () => tryit.refresh().catch(showError) }));
    analyses = analysesTab(ctx);
    // The tabs' counts before they are opened: one item of each list says its total.
    ["models", "analyses"].forEach((key) => api(base + "/" + key, { query: { limit: 1 } })
      .then((page) => { $("#tab-count-" + key).textContent = page.total ? fmtCount(page.total) : ""; })
      .catch(() => {}));
  }

  // --- review queue ---
  let review = null;
  const makeReview = () => reviewTab({ base, project: state.project, onCount: (n) => { $("#tab-count-review").textContent = n ? fmtCount(n) : ""; } });

  // --- members ---
  const membersState = { offset: 0 };
  async function loadMembers() {
    const page = await api(base + "/members", { query: { offset: membersState.offset, limit: 50 } });
    const items = Array.isArray(page) ? page : page.items;
    const body = clear($("#members-body"));
    items.forEach((m) => body.append(memberRow(m)));
    if (!items.length) emptyRow(body, 4, "No members.");
    if (!Array.isArray(page)) pager($("#members-pager"), page, (off) => { membersState.offset = off; loadInto($("#members-body"), loadMembers); }, "members");
  }

  function memberRow(m) {
    const uid = m.user_id;
    const role = m.role;
    const explicit = !!m.explicit_role;
    const select = h("select", { class: "select-small", "aria-label": "Project role of " + personName(m), "data-testid": "member-role-" + uid, disabled: !canManage() || uid === me.id },
      ROLES.map((r) => h("option", { value: r, selected: r === role }, r.toLowerCase())));
    select.addEventListener("change", () => busy(select, async () => {
      await api(base + "/members/" + uid, { method: "PUT", body: { role: select.value } });
      toast(personName(m) + " is now " + select.value.toLowerCase() + " in this project.", "success");
      await loadMembers();
    }));
    const reset = explicit && canManage() ? h("button", {
      type: "button", class: "btn btn-small", "data-testid": "member-reset-" + uid,
      title: "Drop the project role: the organization role decides again",
    }, "Use organization role") : null;
    if (reset) reset.addEventListener("click", () => busy(reset, async () => {
      await api(base + "/members/" + uid, { method: "DELETE" });
      toast(personName(m) + " has their organization role's access again.", "success");
      await loadMembers();
    }));
    return h("tr", { "data-testid": "member-row-" + uid },
      h("td", {}, h("div", { class: "strong" }, m.name || m.email || "user #" + uid, uid === me.id ? h("span", { class: "badge badge-muted you" }, "you") : null),
        m.name && m.email ? h("div", { class: "muted small" }, m.email) : null),
      h("td", {}, m.org_role ? roleBadge(m.org_role) : "–"),
      h("td", {}, select, explicit ? null : h("span", { class: "muted small member-implied" }, " from the organization role")),
      h("td", { class: "c-actions" }, reset));
  }

  // --- export ---
  async function fillExport() {
    const sessions = await listAll(base + "/sessions").catch(() => []);
    const select = $("#export-session");
    clear(select).append(h("option", { value: "" }, "every session"));
    sessions.forEach((s) => select.append(h("option", { value: s.id }, s.name + " (" + String(s.mode).toLowerCase() + ")")));
  }
  $("#export-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const format = $("#export-format").value;
    const sessionId = $("#export-session").value;
    const name = state.project.name.replace(/[^\w.-]+/g, "_") + (sessionId ? "-session" + sessionId : "") + "." + format;
    busy($("#export-submit"), () => saveFrom(base + "/export", { query: { format, session_id: sessionId } }, name));
  });

  // --- editing and deleting the project ---
  const editDialog = $("#edit-dialog");
  $("#tp-edit").addEventListener("click", () => {
    $("#edit-name").value = state.project.name;
    $("#edit-description").value = state.project.description || "";
    $("#edit-segmentation").value = state.project.segmentation || "sentence";
    editDialog.showModal();
  });
  $("#edit-cancel").addEventListener("click", () => editDialog.close());
  onSubmit($("#edit-form"), async (fd) => {
    state.project = Object.assign(state.project, await api(base, {
      method: "PATCH", body: { name: text(fd, "name"), description: text(fd, "description"), segmentation: String(fd.get("segmentation")) },
    }));
    fillHeader();
    editDialog.close();
    toast("Saved.", "success");
  });
  $("#tp-delete").addEventListener("click", () => busy($("#tp-delete"), async () => {
    // Without ?confirm=true the API says what would go (a 409 with the counts).
    let what = "";
    try {
      await api(base, { method: "DELETE" });
    } catch (err) {
      if (err.status !== 409) throw err;
      what = err.message;
    }
    if (what && !confirm(what + "\n\nDelete " + state.project.name + " and all of it? This cannot be undone.")) return;
    if (what) await api(base, { method: "DELETE", query: { confirm: "true" } });
    location.assign("/text");
  }));

  readUrl();
  showTab();
  return loadProject().then((ok) => {
    if (!ok) return;
    docs = makeDocs();
    review = makeReview();
    makeModelTabs();
    return fillTab();
  });
}

startApp(projectPage);
