/* A chatbot (/chat/{id}): its knowledge in order (sentences added, edited, moved and
 * deleted; files uploaded; documents, datasets and text projects attached) and its
 * index; a retrieval preview; its settings, open/close and the widget's snippet; and a
 * test chat whose answers stream in token by token, with their sources and ratings.
 */

import { api, ApiError, tokens } from "../api.js";
import { $, clear, h, show } from "../dom.js";
import { badge } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit } from "../forms.js";
import { startApp } from "../shell.js";
import { fmtCount } from "../format.js";
import { appendMessages, indexBadge, messageEl, streamMessage, ucPath, useCaseStatusBadge } from "../chat-common.js";
import { fillProviders, readUseCase, writeUseCase } from "../chat-form.js";

const KIND_LABEL = { sentence: "sentence", file: "file", document: "document", dataset: "dataset", project: "text project" };
const KIND_BADGE = { sentence: "muted", file: "info", document: "violet", dataset: "success", project: "warning" };

const itemsOf = (out) => (Array.isArray(out) ? out : (out && (out.items || out.passages || out.results)) || []);

/** multipart POST through fetch, with the login's bearer token. */
async function upload(path, file) {
  const body = new FormData();
  body.append("file", file);
  const send = () => fetch("/api/v1" + path, { method: "POST", body, headers: { Accept: "application/json", Authorization: "Bearer " + tokens.access() } });
  let r = await send();
  if (r.status === 401) {
    await api("/users/me");
    r = await send();
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const err = data.error || {};
    throw new ApiError(r.status, err.code || "ERROR", err.message || "Upload failed (HTTP " + r.status + ").", err.details);
  }
  return data;
}

function useCasePage(me) {
  const id = Number($("#uc-page").dataset.useCaseId);
  const canWrite = me.role !== "viewer";
  const base = ucPath(id);
  let uc = null;
  let knowledge = [];

  // --- the use case: header, widget, settings ---------------------------------------

  function fillUseCase(next) {
    uc = next;
    document.title = uc.name + " · augury";
    $("#uc-title").textContent = uc.name;
    $("#uc-lede").textContent = uc.description || "A chatbot answering from its knowledge.";
    clear($("#uc-status")).append(useCaseStatusBadge(uc));
    const open = uc.status === "open";
    $("#uc-toggle-label").textContent = open ? "Close" : "Open";
    $("#uc-toggle").title = open ? "Take no new chats or visitor messages" : "Take chats again";
    $("#uc-toggle").disabled = !canWrite;
    $("#uc-hash").textContent = uc.hash;
    $("#uc-tokens").textContent = fmtCount(uc.tokens);
    $("#uc-snippet").textContent = '<script src="' + location.origin + '/static/widget/chat.js" data-use-case="' + uc.hash + '"></script>';
    $("#uc-widget-link").href = "/chat/widget/" + uc.hash;
    fillIndex(uc.index);
  }

  function fillIndex(index) {
    const box = clear($("#index-status"));
    box.append(indexBadge(index, "index-badge"));
    if (index && index.passages !== undefined) box.append(h("span", { class: "muted small" }, " " + index.passages + " passages"));
    if (index && index.error) box.append(h("span", { class: "muted small", title: index.error }, " · " + index.error.slice(0, 60)));
    box.dataset.status = (index && index.status) || "empty";
  }

  let indexTimer = null;
  /** While the index is being rebuilt, read the use case again each second. */
  function watchIndex() {
    clearTimeout(indexTimer);
    indexTimer = setTimeout(async () => {
      try {
        const next = await api(base);
        fillUseCase(next);
        if (next.index && next.index.status === "indexing") watchIndex();
      } catch (err) {
        showError(err);
      }
    }, 1000);
  }

  async function loadUseCase() {
    const next = await api(base);
    fillUseCase(next);
    writeUseCase($("#settings-form"), next);
    await fillProviders($("#uc-provider"), next.provider_id).catch(() => null);
    if (next.index && next.index.status === "indexing") watchIndex();
  }

  $("#uc-toggle").addEventListener("click", () => busy($("#uc-toggle"), async () => {
    const next = await api(base + (uc.status === "open" ? "/close" : "/open"), { method: "POST" });
    fillUseCase(next && next.id ? next : await api(base));
    toast(uc.status === "open" ? "The chatbot takes chats again." : "The chatbot is closed: it takes no new chats.", "success");
  }));

  onSubmit($("#settings-form"), async () => {
    const next = await api(base, { method: "PATCH", body: readUseCase($("#settings-form")) });
    fillUseCase(next);
    toast("Settings saved.", "success");
  });
  $("#uc-delete").disabled = !canWrite;
  $("#uc-save").disabled = !canWrite;
  $("#uc-delete").addEventListener("click", () => busy($("#uc-delete"), async () => {
    if (!confirm("Delete the chatbot \u201c" + uc.name + "\u201d with its knowledge and chats?")) return;
    await api(base, { method: "DELETE" });
    location.assign("/chat");
  }));

  // --- knowledge ----------------------------------------------------------------------

  const list = $("#kn-list");

  async function loadKnowledge() {
    knowledge = itemsOf(await api(base + "/knowledge"));
    drawKnowledge();
  }

  async function changed(message) {
    await loadKnowledge();
    const next = await api(base);
    fillUseCase(next);
    if (next.index && next.index.status === "indexing") watchIndex();
    if (message) toast(message, "success");
  }

  function iconButton(label, text, testid, onclick, disabled) {
    return h("button", { type: "button", class: "btn btn-small btn-icon", title: label, "aria-label": label, "data-testid": testid, disabled: disabled || !canWrite, onclick }, text);
  }

  function editor(piece, li) {
    const sentence = piece.kind === "sentence";
    const field = sentence
      ? h("textarea", { class: "kn-edit", rows: 3, maxlength: 20000, "data-testid": "kn-edit-text" })
      : h("input", { type: "text", class: "kn-edit", maxlength: 300, "data-testid": "kn-edit-text" });
    field.value = sentence ? piece.text : piece.title || "";
    const form = h("form", { class: "kn-editor" }, field,
      h("div", { class: "kn-editor-actions" },
        h("button", { type: "button", class: "btn btn-small", onclick: () => drawKnowledge() }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary btn-small", "data-testid": "kn-edit-save" }, "Save")));
    onSubmit(form, async () => {
      await api(base + "/knowledge/" + piece.id, { method: "PATCH", body: sentence ? { text: field.value.trim() } : { title: field.value.trim() } });
      await changed("Knowledge saved.");
    });
    clear(li).append(form);
    field.focus();
  }

  function pieceEl(piece, i) {
    const li = h("li", { class: "kn-item", "data-testid": "kn-item", "data-id": piece.id, "data-kind": piece.kind });
    const sentence = piece.kind === "sentence";
    const main = h("div", { class: "kn-main" },
      sentence ? null : h("div", { class: "kn-title" }, badge(KIND_LABEL[piece.kind] || piece.kind, KIND_BADGE[piece.kind] || "muted"), " ", h("span", { class: "strong" }, piece.title || "#" + piece.ref_id)),
      h("div", { class: sentence ? "kn-text" : "kn-text muted small", "data-testid": "kn-text" }, sentence ? piece.text : (piece.text || "").slice(0, 240) + ((piece.text || "").length > 240 ? "…" : "")),
      h("div", { class: "muted small" }, fmtCount(piece.tokens || 0) + " tokens"));
    const last = i === knowledge.length - 1;
    li.append(h("span", { class: "kn-pos" }, String(i + 1)), main,
      h("div", { class: "kn-tools" },
        iconButton("Move up", "↑", "kn-up", () => move(piece, "up"), i === 0),
        iconButton("Move down", "↓", "kn-down", () => move(piece, "down"), last),
        iconButton(sentence ? "Edit" : "Rename", "✎", "kn-edit", () => editor(piece, li)),
        iconButton("Delete", "✕", "kn-delete", (ev) => busy(ev.currentTarget, async () => {
          if (!confirm("Delete this piece of knowledge?")) return;
          await api(base + "/knowledge/" + piece.id, { method: "DELETE" });
          await changed("Knowledge deleted.");
        }))));
    return li;
  }

  function drawKnowledge() {
    clear(list);
    knowledge.forEach((piece, i) => list.append(pieceEl(piece, i)));
    show($("#kn-empty"), knowledge.length === 0);
    list.dataset.count = String(knowledge.length);
  }

  async function move(piece, direction) {
    await busy(null, async () => {
      await api(base + "/knowledge/" + piece.id + "/move", { method: "POST", body: { direction } });
      await changed();
    });
  }

  onSubmit($("#sentence-form"), async (fd) => {
    const lines = String(fd.get("text") || "").split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.length) return;
    const body = lines.length === 1 ? { kind: "sentence", text: lines[0] } : { sentences: lines };
    await api(base + "/knowledge", { method: "POST", body });
    $("#sentence-form").reset();
    await changed(lines.length === 1 ? "Sentence added." : lines.length + " sentences added.");
  });

  $("#kn-file").addEventListener("change", () => {
    const file = $("#kn-file").files[0];
    if (!file) return;
    busy(null, async () => {
      await upload(base + "/knowledge/files", file);
      $("#kn-file").value = "";
      await changed("\u201c" + file.name + "\u201d added.");
    });
  });

  $("#reindex").addEventListener("click", () => busy($("#reindex"), async () => {
    const out = await api(base + "/reindex", { method: "POST" });
    fillIndex((out && out.index) || out);
    watchIndex();
  }));

  // Attach a document, a dataset or a text project.
  const attach = $("#attach-dialog");
  let projects = null;
  async function fillRefs() {
    const kind = $("#attach-kind").value;
    const ref = clear($("#attach-ref"));
    show($("#attach-project-field"), kind === "document");
    show($("#attach-ref-field"), kind !== "project");
    $("#attach-ref-label").textContent = kind === "dataset" ? "Dataset" : "Document";
    if (!projects) projects = (await api("/text/projects", { query: { limit: 100 } })).items;
    const proj = $("#attach-project");
    if (!proj.options.length) projects.forEach((p) => proj.append(h("option", { value: p.id }, p.name)));
    if (kind === "dataset") {
      (await api("/datasets", { query: { limit: 100 } })).items.forEach((d) => ref.append(h("option", { value: d.id }, d.name)));
    } else if (kind === "document" && proj.value) {
      (await api("/text/projects/" + proj.value + "/documents", { query: { limit: 100 } })).items
        .forEach((d) => ref.append(h("option", { value: d.id }, d.title || d.name || (d.text || "").slice(0, 80) || "Document #" + d.id)));
    }
  }
  $("#kn-attach-open").addEventListener("click", () => busy($("#kn-attach-open"), async () => {
    attach.showModal();
    await fillRefs();
  }));
  $("#attach-kind").addEventListener("change", () => busy(null, fillRefs));
  $("#attach-project").addEventListener("change", () => busy(null, fillRefs));
  $("#attach-cancel").addEventListener("click", () => attach.close());
  onSubmit($("#attach-form"), async () => {
    const kind = $("#attach-kind").value;
    const refId = Number(kind === "project" ? $("#attach-project").value : $("#attach-ref").value);
    if (!refId) throw new ApiError(422, "VALIDATION_ERROR", "Choose what to attach.");
    await api(base + "/knowledge", { method: "POST", body: { kind, ref_id: refId } });
    attach.close();
    await changed("Attached.");
  });

  [$("#sentence-add"), $("#kn-attach-open"), $("#reindex"), $("#kn-file")].forEach((el) => { el.disabled = !canWrite; });

  /** A source as its place in the knowledge: "#2 · Returns are accepted…". */
  function sourceLabel(s) {
    const i = knowledge.findIndex((p) => p.id === s.knowledge_id);
    if (i < 0) return s.title || "";
    const p = knowledge[i];
    const what = s.title || p.title || p.text || "";
    return "#" + (i + 1) + " · " + (what.length > 48 ? what.slice(0, 47) + "…" : what);
  }

  function passageTitle(p) {
    const i = knowledge.findIndex((x) => x.id === p.knowledge_id);
    const piece = i < 0 ? null : knowledge[i];
    const kind = piece ? KIND_LABEL[piece.kind] || piece.kind : "passage";
    return (i < 0 ? "Passage #" + p.passage_id : "#" + (i + 1) + " " + kind) + (p.title ? " · " + p.title : "");
  }

  // --- retrieval preview --------------------------------------------------------------

  let typing = null;
  async function retrieve() {
    const q = $("#retrieve-q").value.trim();
    const box = clear($("#retrieve-results"));
    if (!q) return;
    const found = itemsOf(await api(base + "/retrieve", { query: { q, k: 5 } }));
    if (!found.length) box.append(h("li", { class: "muted small" }, "Nothing in the knowledge matches."));
    found.forEach((p) => box.append(h("li", { class: "kn-passage", "data-testid": "retrieve-hit" },
      h("div", { class: "kn-passage-head" }, h("span", { class: "strong" }, passageTitle(p)),
        p.score !== undefined ? badge("score " + Number(p.score).toFixed(3), "info") : null),
      h("div", { class: "small" }, p.text || ""))));
  }
  $("#retrieve-q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => busy(null, retrieve), 300); });
  $("#retrieve-form").addEventListener("submit", (ev) => { ev.preventDefault(); busy(null, retrieve); });

  // --- test chat ----------------------------------------------------------------------

  const log = $("#test-log");
  let chat = null;
  let lastId = 0;
  let pollTimer = null;
  const rate = async (m, rating) => api("/chat/chats/" + chat.id + "/messages/" + m.id, { method: "PATCH", body: { rating } });
  const opts = { rate, sourceLabel };

  function seen(messages) {
    messages.forEach((m) => { if (m.id > lastId) lastId = m.id; });
    appendMessages(log, messages, opts);
  }

  function restart() {
    chat = null;
    lastId = 0;
    clearTimeout(pollTimer);
    clear(log);
    if (uc && uc.welcome) log.append(messageEl({ role: "assistant", author: "bot", text: uc.welcome }));
    log.dataset.chat = "";
  }

  /** While a person answers, their messages arrive by polling. */
  function poll() {
    clearTimeout(pollTimer);
    if (!chat) return;
    pollTimer = setTimeout(async () => {
      try {
        const out = await api("/chat/chats/" + chat.id + "/messages", { query: { after_id: lastId } });
        seen(itemsOf(out));
        const state = await api("/chat/chats/" + chat.id);
        chat = state;
        if (chat.control === "person" && chat.status !== "finished") poll();
      } catch (err) {
        showError(err);
      }
    }, 2000);
  }

  onSubmit($("#test-form"), async () => {
    const input = $("#test-text");
    const text = input.value.trim();
    if (!text) return;
    if (!chat) {
      const out = await api("/chat/chats", { method: "POST", body: { use_case_id: id, visitor: "test · " + (me.name || me.email) } });
      chat = out.chat;
      clear(log);
      seen(out.messages || []);
      log.dataset.chat = String(chat.id);
    }
    input.value = "";
    const mine = messageEl({ role: "user", author: "visitor", text });
    log.append(mine);
    const answer = messageEl({ role: "assistant", author: "bot", text: "" }, Object.assign({ pending: true }, opts));
    answer.classList.add("chat-msg-streaming");
    let streamed = "";
    let answered = false;
    log.append(answer);
    log.scrollTop = log.scrollHeight;
    try {
      await streamMessage(chat.id, text, {
        question: (m) => { mine.update(m); if (m.id > lastId) lastId = m.id; },
        token: (t) => {
          streamed += t.text || "";
          answer.querySelector("[data-testid=chat-text]").textContent = streamed;
          answer.dataset.tokens = String(Number(answer.dataset.tokens || 0) + 1);
          log.scrollTop = log.scrollHeight;
        },
        answer: (m) => { answered = true; answer.classList.remove("chat-msg-streaming"); answer.update(m); if (m.id > lastId) lastId = m.id; answer.dataset.streamedTokens = answer.dataset.tokens || "0"; },
        notice: (m) => { seen([m]); log.append(answer); },
        error: (e) => { throw new ApiError(500, e.code || "INTERNAL_ERROR", e.message || "The answer could not be written."); },
        chat: (c) => { chat = Object.assign({}, chat, c); if (chat.control === "person") poll(); },
        json: (body) => {
          if (body.question) mine.update(body.question);
          if (body.notice) seen([body.notice]);
          if (body.answer) { answered = true; answer.update(body.answer); }
          if (body.chat) chat = body.chat;
          if (chat.control === "person") poll();
        },
      });
    } finally {
      if (!answered) answer.remove();
    }
    input.focus();
  });
  $("#test-restart").addEventListener("click", restart);
  if (!canWrite) {
    // Opening a chat is a member's: a viewer reads the knowledge and the preview.
    [$("#test-text"), $("#test-send"), $("#test-restart")].forEach((el) => { el.disabled = true; });
    $("#test-text").placeholder = "Viewers cannot open test chats";
  }

  return (async () => {
    await loadUseCase();
    restart();
    await loadKnowledge();
  })();
}

startApp(useCasePage);
