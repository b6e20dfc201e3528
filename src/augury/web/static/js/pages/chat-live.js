/* Live chats (/chat/live): the chats of the organization's chatbots, read every 2 s,
 * those flagged for attention first; one chat's messages as they arrive (polled after
 * the last one read); taking it over, answering as a person, giving it back and
 * finishing it; and the tokens used per day with the answers' ratings.
 */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit } from "../forms.js";
import { startApp } from "../shell.js";
import { fmtCount } from "../format.js";
import { appendMessages, controlBadge } from "../chat-common.js";
import { drawSpec } from "../vega-lite-render.js";

const POLL_MS = 2000;
const TOKENS_EVERY = 15;
const itemsOf = (out) => (Array.isArray(out) ? out : (out && out.items) || []);

function livePage(me) {
  const canWrite = me.role !== "viewer";
  const params = new URLSearchParams(location.search);
  const state = { useCase: params.get("use_case_id") || "", status: "active", attention: false, chatId: Number(params.get("chat")) || null };
  const names = new Map();
  let chat = null;
  let lastId = 0;

  // --- the list -----------------------------------------------------------------------

  async function loadUseCases() {
    const page = await api("/chat/use-cases", { query: { limit: 100 } });
    const sel = $("#live-use-case");
    page.items.forEach((uc) => {
      names.set(uc.id, uc.name);
      sel.append(h("option", { value: uc.id, selected: String(uc.id) === state.useCase }, uc.name));
    });
  }

  function chatTitle(c) {
    return c.visitor || "Visitor #" + c.id;
  }

  function itemEl(c) {
    const li = h("li", {
      class: "live-item" + (c.attention ? " live-attention" : "") + (c.id === state.chatId ? " live-current" : ""),
      "data-testid": "live-item-" + c.id, "data-attention": String(!!c.attention),
    },
    h("button", { type: "button", class: "live-item-button", "data-testid": "live-open-" + c.id, onclick: () => openChat(c.id) },
      h("div", { class: "live-item-head" }, h("span", { class: "strong" }, chatTitle(c)), timeEl(c.last_message_at || c.started_at, true)),
      h("div", { class: "live-item-sub" },
        h("span", { class: "muted small" }, names.get(c.use_case_id) || "Chatbot #" + c.use_case_id),
        h("span", { class: "nowrap-badges" },
          c.attention ? badge("attention", "danger", "attention-" + c.id) : null,
          controlBadge(c),
          c.status === "finished" ? badge("finished", "muted") : null))));
    if (c.attention && c.attention_reason) li.title = c.attention_reason;
    return li;
  }

  async function loadList() {
    const page = await api("/chat/chats", { query: { use_case_id: state.useCase, status: state.status, attention: state.attention ? "true" : "", limit: 100 } });
    const items = itemsOf(page).slice().sort((a, b) => Number(!!b.attention) - Number(!!a.attention));
    const list = clear($("#live-list"));
    items.forEach((c) => list.append(itemEl(c)));
    show($("#live-empty"), items.length === 0);
    list.dataset.count = String(items.length);
  }

  // --- one chat -----------------------------------------------------------------------

  function fillChat(next) {
    // A turn answers only the chat's state (id, status, control, attention): kept over the rest.
    const c = Object.assign({}, chat && chat.id === next.id ? chat : {}, next);
    chat = c;
    show($("#live-none"), false);
    show($("#live-open"), true);
    $("#live-chat-title").textContent = chatTitle(c);
    clear($("#live-chat-sub")).append((names.get(c.use_case_id) || "Chatbot #" + c.use_case_id) + " · started ", timeEl(c.started_at),
      " · " + fmtCount(c.tokens || 0) + " tokens");
    append(clear($("#live-chat-badges")), [controlBadge(c), c.status === "finished" ? badge("finished", "muted") : null]);
    const person = c.control === "person";
    const mine = person && (c.managed_by_id === null || c.managed_by_id === undefined || c.managed_by_id === me.id);
    const active = c.status !== "finished";
    show($("#live-takeover"), !person && active);
    show($("#live-release"), person && active);
    show($("#live-finish"), active);
    [$("#live-takeover"), $("#live-release"), $("#live-finish")].forEach((b) => { b.disabled = !canWrite; });
    $("#live-text").disabled = !(mine && active && canWrite);
    $("#live-send").disabled = $("#live-text").disabled;
    $("#live-text").placeholder = !active ? "This chat is finished." : mine ? "Answer as a person…" : person ? "Another person is answering this chat." : "Take over the chat to answer as a person";
    const note = $("#live-attention-note");
    show(note, !!c.attention);
    note.textContent = c.attention ? "Needs attention" + (c.attention_reason ? ": " + c.attention_reason : ".") : "";
    $("#live-chat").dataset.control = c.control;
  }

  // Each chatbot's knowledge, read once, names an answer's sources ("#2 · Returns are…").
  const pieces = new Map();
  async function knowledgeOf(useCaseId) {
    if (!pieces.has(useCaseId)) {
      pieces.set(useCaseId, api("/chat/use-cases/" + useCaseId + "/knowledge").then(itemsOf).catch(() => []));
    }
    return pieces.get(useCaseId);
  }

  async function readMessages() {
    if (!chat) return;
    const known = await knowledgeOf(chat.use_case_id);
    const sourceLabel = (src) => {
      const i = known.findIndex((p) => p.id === src.knowledge_id);
      if (i < 0) return src.title || "";
      const what = src.title || known[i].title || known[i].text || "";
      return "#" + (i + 1) + " · " + (what.length > 48 ? what.slice(0, 47) + "…" : what);
    };
    const out = itemsOf(await api("/chat/chats/" + chat.id + "/messages", { query: { after_id: lastId || "" } }));
    out.forEach((m) => { if (m.id > lastId) lastId = m.id; });
    appendMessages($("#live-log"), out, { sourceLabel });
  }

  async function openChat(id) {
    state.chatId = id;
    lastId = 0;
    clear($("#live-log"));
    const url = new URL(location.href);
    url.searchParams.set("chat", id);
    history.replaceState(null, "", url);
    $$live().forEach((li) => li.classList.toggle("live-current", li.dataset.testid === "live-item-" + id));
    await busy(null, async () => {
      fillChat(await api("/chat/chats/" + id));
      await readMessages();
    });
  }
  const $$live = () => Array.from(document.querySelectorAll("#live-list .live-item"));

  const action = (button, path, message) => button.addEventListener("click", () => busy(button, async () => {
    const out = await api("/chat/chats/" + chat.id + path, { method: "POST" });
    fillChat(out && out.id ? out : (out && out.chat) || await api("/chat/chats/" + chat.id));
    await readMessages();
    await loadList();
    toast(message, "success");
    if (path === "/takeover") $("#live-text").focus();
  }));
  action($("#live-takeover"), "/takeover", "You answer this chat now.");
  action($("#live-release"), "/release", "The bot answers this chat again.");
  action($("#live-finish"), "/finish", "Chat finished.");

  onSubmit($("#live-form"), async () => {
    const text = $("#live-text").value.trim();
    if (!text || !chat) return;
    const out = await api("/chat/chats/" + chat.id + "/messages", { method: "POST", body: { text } });
    $("#live-text").value = "";
    if (out && out.chat) fillChat(out.chat);
    await readMessages();
    $("#live-text").focus();
  });

  // --- tokens -------------------------------------------------------------------------

  function stat(label, value, testid, sub) {
    return h("div", { class: "stat stat-plain" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value", "data-testid": testid }, value),
      sub ? h("span", { class: "muted small" }, sub) : null);
  }

  async function loadTokens() {
    const days = Number($("#tokens-days").value);
    const from = new Date(Date.now() - days * 86400000).toISOString();
    const t = await api("/chat/tokens", { query: { from } });
    const ratings = t.ratings;
    const stats = clear($("#tokens-stats"));
    stats.append(stat("Tokens", fmtCount(t.tokens || 0), "tokens-total"),
      stat("In chat messages", fmtCount(t.messages || 0), "tokens-messages"),
      stat("In AI chat calls", fmtCount(t.aichat || 0), "tokens-aichat"),
      stat("Answers rated good", fmtCount(ratings.good), "ratings-good"),
      stat("Answers rated bad", fmtCount(ratings.bad), "ratings-bad"));
    const rows = [];
    (t.days || []).forEach((d) => {
      rows.push({ day: d.day, kind: "chat messages", tokens: d.messages || 0 });
      rows.push({ day: d.day, kind: "AI chat", tokens: d.aichat || 0 });
    });
    const box = $("#tokens-chart");
    if (!rows.length) {
      clear(box).append(h("p", { class: "muted vl-empty" }, "No tokens used in this period."));
      box.dataset.bars = "0";
      return;
    }
    const drawn = drawSpec(box, {
      mark: "bar",
      data: { values: rows },
      encoding: {
        x: { field: "day", type: "ordinal", title: "Day", sort: "ascending" },
        y: { field: "tokens", type: "quantitative", title: "Tokens" },
        color: { field: "kind", type: "nominal", title: "Used by" },
        tooltip: [{ field: "day", title: "Day" }, { field: "kind", title: "Used by" }, { field: "tokens", title: "Tokens" }],
      },
    }, {});
    box.dataset.bars = String(drawn.count);
  }
  $("#tokens-days").addEventListener("change", () => busy(null, loadTokens));

  // --- filters and polling ------------------------------------------------------------

  $("#live-use-case").addEventListener("change", () => { state.useCase = $("#live-use-case").value; busy(null, loadList); });
  $("#live-status").addEventListener("change", () => { state.status = $("#live-status").value; busy(null, loadList); });
  $("#live-attention").addEventListener("change", () => { state.attention = $("#live-attention").checked; busy(null, loadList); });

  let failures = 0;
  let ticks = 0;
  async function tick() {
    try {
      await loadList();
      // The figures move slower than the chats: every 15th poll (30 s).
      if (++ticks % TOKENS_EVERY === 0) await loadTokens();
      if (chat) {
        await readMessages();
        const next = await api("/chat/chats/" + chat.id);
        if (next.control !== chat.control || next.status !== chat.status || next.attention !== chat.attention) fillChat(next);
      }
      failures = 0;
    } catch (err) {
      // One toast, not one every 2 s while the server is away.
      if (++failures === 1) showError(err);
    }
    setTimeout(tick, POLL_MS);
  }

  return (async () => {
    await loadUseCases();
    await loadList();
    if (state.chatId) await openChat(state.chatId);
    setTimeout(tick, POLL_MS);
    await loadTokens().catch(showError);
  })();
}

startApp(livePage);
