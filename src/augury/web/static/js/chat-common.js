/* Chatbots: what the use case, test chat and live console pages share: a message as a
 * bubble (its sources and rating buttons under a bot answer), a chat's state as
 * badges, and sending a message with its answer streamed as server-sent events over
 * fetch (EventSource cannot POST nor carry the bearer token).
 */

import { api, ApiError, tokens } from "./api.js";
import { append, clear, h, svg } from "./dom.js";
import { badge, timeEl } from "./badges.js";

export const ucPath = (id) => "/chat/use-cases/" + id;

export function useCaseStatusBadge(uc) {
  return badge(uc.status, uc.status === "open" ? "success" : "muted", "uc-status-" + uc.id);
}

const INDEX_KIND = { ready: "success", indexing: "info", failed: "danger", empty: "muted" };

export function indexBadge(index, testid) {
  const st = (index && index.status) || "empty";
  return badge(st === "ready" ? "indexed" : st, INDEX_KIND[st] || "muted", testid);
}

export function controlBadge(chat) {
  return chat.control === "person" ? badge("person", "violet", "control-" + chat.id) : badge("bot", "info", "control-" + chat.id);
}

const AUTHOR_LABEL = { visitor: "Visitor", bot: "Bot", person: "Person", auto: "Automatic", system: "System" };

/** Split text/event-stream bytes into {event, data} records; data parsed as JSON. */
function sseParser(onEvent) {
  let buffer = "";
  return (chunk) => {
    buffer += chunk.replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const record = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      record.split("\n").forEach((line) => {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (!data.length) continue;
      let value = data.join("\n");
      try { value = JSON.parse(value); } catch (e) { /* plain text data */ }
      onEvent(event, value);
    }
  };
}

/**
 * POST `text` to a chat's messages with Accept: text/event-stream and call
 * `on[event](data)` for question, token, answer and chat events as they arrive.
 * A chat a person controls answers JSON (201) instead: `on.json(body)`.
 */
export async function streamMessage(chatId, text, on) {
  const send = () => fetch("/api/v1/chat/chats/" + chatId + "/messages", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", Authorization: "Bearer " + tokens.access() },
    body: JSON.stringify({ text }),
  });
  let r;
  try {
    r = await send();
    if (r.status === 401) {
      await api("/chat/chats/" + chatId); // renews the login (or goes to /login)
      r = await send();
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "NETWORK_ERROR", "Cannot reach the augury server. Check that it is running.");
  }
  if (!r.ok) {
    let body = {};
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    const err = body.error || {};
    throw new ApiError(r.status, err.code || "ERROR", err.message || "Request failed (HTTP " + r.status + ").", err.details);
  }
  const type = r.headers.get("content-type") || "";
  if (!type.includes("text/event-stream")) {
    const body = await r.json();
    if (on.json) on.json(body);
    return;
  }
  const parse = sseParser((event, data) => { if (on[event]) on[event](data); });
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parse(decoder.decode(value, { stream: true }));
  }
  parse(decoder.decode() + "\n\n");
}

const THUMBS = {
  good: ["M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3", "M7 11l4-9a3 3 0 0 1 3 3v4h5.7a2 2 0 0 1 2 2.3l-1.4 9a2 2 0 0 1-2 1.7H7z"],
  bad: ["M17 2h3a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-3", "M17 13l-4 9a3 3 0 0 1-3-3v-4H4.3a2 2 0 0 1-2-2.3l1.4-9A2 2 0 0 1 5.7 2H17z"],
};

function thumb(kind) {
  return svg("svg", { class: "icon", width: 14, height: 14, viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" },
    ...THUMBS[kind].map((d) => svg("path", { d })));
}

function sourceList(sources, label) {
  if (!sources || !sources.length) return null;
  return h("div", { class: "chat-sources", "data-testid": "chat-sources" },
    h("span", { class: "chat-sources-label" }, "Sources"),
    sources.map((s) => h("span", {
      class: "chat-source", "data-testid": "chat-source", title: s.score !== undefined && s.score !== null ? "score " + Number(s.score).toFixed(3) : "",
    }, (label && label(s)) || s.title || "passage #" + s.passage_id)));
}

/**
 * A message as a bubble: `opts.rate(message, rating)` adds good/bad buttons under a
 * bot answer. Answers the element; `el.update(message)` redraws it (a streamed answer).
 */
export function messageEl(m, opts) {
  const o = opts || {};
  const el = h("div", { class: "chat-msg" });
  function draw(msg) {
    clear(el);
    const mine = msg.role === "user";
    el.className = "chat-msg chat-msg-" + (mine ? "user" : msg.role === "system" ? "system" : "bot") + (msg.author === "person" ? " chat-msg-person" : "");
    el.setAttribute("data-testid", "chat-msg");
    el.dataset.role = msg.role;
    el.dataset.author = msg.author || "";
    if (msg.id) el.dataset.id = msg.id;
    const who = AUTHOR_LABEL[msg.author] || (mine ? "Visitor" : "Bot");
    el.append(h("div", { class: "chat-meta" }, h("span", { class: "strong" }, who),
      msg.created_at ? timeEl(msg.created_at) : null));
    el.append(h("div", { class: "chat-bubble", "data-testid": "chat-text" }, msg.text || (o.pending ? "…" : "")));
    if (msg.role === "assistant" && msg.author !== "person") append(el, sourceList(msg.sources, o.sourceLabel));
    // A bot's answer is rated; the welcome (no engine wrote it) is not.
    if (o.rate && msg.id && msg.role === "assistant" && msg.author === "bot" && msg.engine) {
      const button = (value, label) => h("button", {
        type: "button", class: "chat-rate" + (msg.rating === value ? " chat-rate-on" : ""),
        "data-testid": "rate-" + value, "aria-pressed": String(msg.rating === value), title: label,
        onclick: async () => {
          const next = msg.rating === value ? null : value;
          const out = await o.rate(msg, next);
          if (out !== undefined) draw(Object.assign({}, msg, out || {}, { rating: next }));
        },
      }, thumb(value), value === "good" ? "Good" : "Bad");
      el.append(h("div", { class: "chat-rating" }, button("good", "Good answer"), button("bad", "Bad answer")));
    }
  }
  draw(m);
  el.update = draw;
  return el;
}

/** Messages the list holds already are left alone: each is drawn once, by id. */
export function appendMessages(list, messages, opts) {
  let added = 0;
  messages.forEach((m) => {
    if (m.id && list.querySelector("[data-id='" + m.id + "']")) return;
    list.append(messageEl(m, opts));
    added++;
  });
  if (added) list.scrollTop = list.scrollHeight;
  return added;
}
