/* augury's chat widget: one self-contained script a website embeds.
 *
 *   <script src="https://augury.example/static/widget/chat.js" data-use-case="HASH"></script>
 *
 * It finds augury's origin from its own src, draws a floating button and a panel in a
 * Shadow DOM (the site's styles and its own stay apart; the styles are a constructed
 * style sheet, which a strict Content-Security-Policy allows), and speaks the public
 * API under /api/v1/chat/widget/HASH: the welcome, a chat opened on the first message
 * (its id and secret token kept in sessionStorage, so a reload continues it), answers
 * streamed as server-sent events over fetch and drawn token by token, ratings on the
 * bot's answers, and a person's messages polled while a person answers. No
 * dependencies, nothing from another host.
 *
 * data-mode="page" (augury's /chat/widget/HASH page) shows the panel open in the element
 * named by data-mount, without the floating button.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-use-case][src*='widget/chat.js']");
  if (!script || script.__auguryChat) return;
  script.__auguryChat = true;
  var hash = script.getAttribute("data-use-case") || "";
  var origin = new URL(script.src, location.href).origin;
  var api = origin + "/api/v1/chat/widget/" + encodeURIComponent(hash);
  var pageMode = script.getAttribute("data-mode") === "page";
  var KEY = "augury.chat." + hash;
  var POLL_BOT_MS = 4000;
  var POLL_PERSON_MS = 2000;

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".root { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b2130; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;",
    "  background: #4f46e5; color: #fff; cursor: pointer; box-shadow: 0 8px 24px rgba(16,24,40,.25); display: flex;",
    "  align-items: center; justify-content: center; z-index: 2147483000; transition: transform .15s; }",
    ".launcher:hover { transform: scale(1.06); }",
    ".launcher:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid rgba(79,70,229,.35); outline-offset: 2px; }",
    ".panel { position: fixed; right: 20px; bottom: 88px; width: min(380px, calc(100vw - 32px)); height: min(560px, calc(100vh - 120px));",
    "  background: #fff; border: 1px solid #e4e7ec; border-radius: 16px; box-shadow: 0 16px 48px rgba(16,24,40,.22);",
    "  display: flex; flex-direction: column; overflow: hidden; z-index: 2147483000; }",
    ".panel[hidden] { display: none; }",
    ".root.page { height: 100%; }",
    ".page .panel { position: static; width: 100%; height: 100%; box-shadow: none; border-radius: 12px; }",
    ".head { display: flex; align-items: center; gap: 10px; padding: 12px 14px; background: #4f46e5; color: #fff; }",
    ".avatar { width: 32px; height: 32px; border-radius: 50%; background: rgba(255,255,255,.2); display: flex; align-items: center; justify-content: center; flex: none; }",
    ".title { font-weight: 650; flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }",
    ".sub { font-size: 12px; opacity: .85; font-weight: 400; }",
    ".icon-btn { border: 0; background: transparent; color: inherit; cursor: pointer; padding: 6px; border-radius: 8px; display: flex; font: inherit; font-size: 12px; }",
    ".icon-btn:hover { background: rgba(255,255,255,.15); }",
    ".notice { padding: 8px 14px; font-size: 13px; background: #f4f3ff; color: #4338ca; border-bottom: 1px solid #e0e7ff; }",
    ".notice.warn { background: #fffaeb; color: #93370d; border-color: #fedf89; }",
    ".notice[hidden] { display: none; }",
    ".log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px; background: #f9fafb; }",
    ".msg { display: flex; flex-direction: column; max-width: 85%; }",
    ".msg.user { align-self: flex-end; align-items: flex-end; }",
    ".msg.bot { align-self: flex-start; align-items: flex-start; }",
    ".msg.system { align-self: center; max-width: 95%; }",
    ".bubble { padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; word-wrap: break-word; }",
    ".user .bubble { background: #4f46e5; color: #fff; border-bottom-right-radius: 4px; }",
    ".bot .bubble { background: #fff; border: 1px solid #e4e7ec; border-bottom-left-radius: 4px; }",
    ".person .bubble { border-color: #c7d2fe; background: #eef2ff; }",
    ".system .bubble { background: transparent; color: #667085; font-size: 12.5px; text-align: center; padding: 2px 8px; }",
    ".who { font-size: 11.5px; color: #667085; margin: 0 4px 2px; }",
    ".sources { font-size: 11.5px; color: #667085; margin: 4px 4px 0; }",
    ".rate { display: flex; gap: 4px; margin: 4px 2px 0; }",
    ".rate button { display: inline-flex; align-items: center; gap: 4px; border: 1px solid #e4e7ec; background: #fff; border-radius: 999px; cursor: pointer; padding: 2px 9px; font: inherit; font-size: 12px; color: #475467; }",
    ".rate button[aria-pressed=true] { background: #eef2ff; border-color: #a5b4fc; color: #4338ca; }",
    ".msg.failed .bubble { opacity: .55; }",
    ".typing .bubble::after { content: '\\2026'; }",
    ".compose { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e4e7ec; background: #fff; }",
    ".compose input { flex: 1; min-width: 0; height: 38px; border: 1px solid #d0d5dd; border-radius: 10px; padding: 0 12px; font: inherit; color: #1b2130; background: #fff; }",
    ".send { height: 38px; padding: 0 14px; border: 0; border-radius: 10px; background: #4f46e5; color: #fff; cursor: pointer; font: inherit; font-weight: 600; }",
    ".send:disabled, .compose input:disabled { opacity: .55; cursor: not-allowed; }",
    "@media (prefers-color-scheme: dark) {",
    "  .root:not(.page) .panel { background: #111827; border-color: #374151; color: #e5e7eb; }",
    "  .root:not(.page) .log { background: #0b1220; }",
    "  .root:not(.page) .bot .bubble { background: #1f2937; border-color: #374151; color: #e5e7eb; }",
    "  .root:not(.page) .compose { background: #111827; border-color: #374151; }",
    "  .root:not(.page) .compose input { background: #0b1220; border-color: #374151; color: #e5e7eb; }",
    "}",
  ].join("\n");

  var ICON_CHAT = "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z";
  var ICON_CLOSE = "M18 6 6 18M6 6l12 12";
  var ICON_UP = "M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3M7 11l4-9a3 3 0 0 1 3 3v4h5.7a2 2 0 0 1 2 2.3l-1.4 9a2 2 0 0 1-2 1.7H7z";
  var ICON_DOWN = "M17 2h3a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-3M17 13l-4 9a3 3 0 0 1-3-3v-4H4.3a2 2 0 0 1-2-2.3l1.4-9A2 2 0 0 1 5.7 2H17z";

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function icon(d, size) {
    var ns = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(ns, "svg");
    ["width", "height"].forEach(function (a) { s.setAttribute(a, String(size)); });
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("fill", "none");
    s.setAttribute("stroke", "currentColor");
    s.setAttribute("stroke-width", "2");
    s.setAttribute("stroke-linecap", "round");
    s.setAttribute("stroke-linejoin", "round");
    s.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    s.appendChild(p);
    return s;
  }

  // --- state kept for the tab's session -------------------------------------------------

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function save(s) {
    try { if (s) sessionStorage.setItem(KEY, JSON.stringify(s)); else sessionStorage.removeItem(KEY); } catch (e) { /* storage refused */ }
  }
  var session = load(); // {chat_id, token}
  var lastId = 0;
  var control = "bot";
  var info = null;
  var pollTimer = null;
  var pollMs = POLL_BOT_MS;
  var sending = false;

  // --- the DOM --------------------------------------------------------------------------

  var host = el("div", { "data-augury-chat": hash });
  var mount = pageMode && script.getAttribute("data-mount") ? document.getElementById(script.getAttribute("data-mount")) : null;
  (mount || document.body).appendChild(host);
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    shadow.appendChild(el("style", { text: CSS }));
  }

  var titleEl = el("div", { text: "Chat" });
  var subEl = el("div", { class: "sub", text: "We usually answer at once" });
  var endBtn = el("button", { type: "button", class: "icon-btn", title: "End this chat", "aria-label": "End this chat", text: "End", "data-testid": "widget-end" });
  var closeBtn = el("button", { type: "button", class: "icon-btn", title: "Close", "aria-label": "Close the chat", "data-testid": "widget-close" }, [icon(ICON_CLOSE, 18)]);
  var notice = el("div", { class: "notice", role: "status", hidden: true, "data-testid": "widget-notice" });
  var log = el("div", { class: "log", "aria-live": "polite", "data-testid": "widget-log" });
  var input = el("input", { type: "text", maxlength: "4000", placeholder: "Type your message…", "aria-label": "Your message", "data-testid": "widget-input", autocomplete: "off" });
  var sendBtn = el("button", { type: "submit", class: "send", text: "Send", "data-testid": "widget-send" });
  var form = el("form", { class: "compose" }, [input, sendBtn]);
  var head = el("div", { class: "head" }, [
    el("div", { class: "avatar" }, [icon(ICON_CHAT, 16)]),
    el("div", { class: "title" }, [titleEl, subEl]),
    endBtn,
    pageMode ? null : closeBtn,
  ]);
  var panel = el("div", { class: "panel", role: "dialog", "aria-label": "Chat", hidden: !pageMode, "data-testid": "widget-panel" }, [head, notice, log, form]);
  var launcher = el("button", { type: "button", class: "launcher", "aria-label": "Open the chat", "aria-expanded": "false", "data-testid": "widget-launcher" }, [icon(ICON_CHAT, 26)]);
  var root = el("div", { class: "root" + (pageMode ? " page" : "") }, pageMode ? [panel] : [panel, launcher]);
  shadow.appendChild(root);
  if (pageMode) host.style.display = "block";
  if (pageMode) host.style.height = "100%";

  function say(text, warn) {
    notice.hidden = !text;
    notice.textContent = text || "";
    notice.className = "notice" + (warn ? " warn" : "");
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function msgEl(m) {
    var kind = m.role === "user" ? "user" : m.role === "system" || m.author === "system" ? "system" : "bot";
    var box = el("div", { class: "msg " + kind + (m.author === "person" ? " person" : ""), "data-testid": "widget-msg", "data-role": m.role || "", "data-author": m.author || "" });
    if (m.id) box.setAttribute("data-id", m.id);
    draw(box, m);
    return box;
  }

  function draw(box, m) {
    while (box.firstChild) box.removeChild(box.firstChild);
    var kind = m.role === "user" ? "user" : m.role === "system" || m.author === "system" ? "system" : "bot";
    if (kind === "bot") box.appendChild(el("div", { class: "who", text: m.author === "person" ? "Person" : m.author === "auto" ? "Automatic message" : (info && info.name) || "Assistant" }));
    box.appendChild(el("div", { class: "bubble", "data-testid": "widget-text", text: m.text || "" }));
    if (kind === "bot" && m.author === "bot" && m.sources && m.sources.length) {
      var names = [];
      m.sources.forEach(function (s) { if (s.title && names.indexOf(s.title) < 0) names.push(s.title); });
      var n = m.sources.length;
      box.appendChild(el("div", { class: "sources", "data-testid": "widget-sources", text: names.length ? "Sources: " + names.join(" · ") : "From " + n + (n === 1 ? " passage" : " passages") + " of our knowledge" }));
    }
    // Answers are rated; the welcome is not.
    if (kind === "bot" && m.author === "bot" && m.id && session && !(info && m.text === info.welcome && !(m.sources && m.sources.length))) {
      var rate = el("div", { class: "rate" });
      [["good", "Helpful", ICON_UP], ["bad", "Not helpful", ICON_DOWN]].forEach(function (r) {
        rate.appendChild(el("button", {
          type: "button", "aria-pressed": String(m.rating === r[0]), "data-testid": "widget-rate-" + r[0], title: r[1],
          onclick: function () {
            var next = m.rating === r[0] ? null : r[0];
            call("PATCH", "/chats/" + session.chat_id + "/messages/" + m.id, { rating: next }).then(function () {
              m.rating = next;
              draw(box, m);
            }, fail);
          },
        }, [icon(r[2], 13), document.createTextNode(r[1])]));
      });
      box.appendChild(rate);
    }
  }

  function add(messages) {
    messages.forEach(function (m) {
      if (m.id && m.id > lastId) lastId = m.id;
      if (m.id && log.querySelector("[data-id='" + m.id + "']")) return;
      if ((m.author === "person" || m.author === "system") && control !== "person") personInControl(true);
      log.appendChild(msgEl(m));
    });
    scroll();
  }

  function personInControl(yes) {
    control = yes ? "person" : "bot";
    subEl.textContent = yes ? "A person is answering" : "We usually answer at once";
    if (yes) say("A person is answering you now.");
    else if (notice.textContent && !notice.classList.contains("warn")) say("");
    pollMs = yes ? POLL_PERSON_MS : POLL_BOT_MS;
    schedulePoll();
  }

  // --- the API ----------------------------------------------------------------------------

  function WidgetError(status, message, retryAfter) {
    this.status = status;
    this.message = message;
    this.retryAfter = retryAfter;
  }

  function headers(extra) {
    var hd = { Accept: "application/json" };
    if (session && session.token) hd["X-Chat-Token"] = session.token;
    Object.keys(extra || {}).forEach(function (k) { hd[k] = extra[k]; });
    return hd;
  }

  function check(r) {
    if (r.ok) return r;
    return r.json().catch(function () { return {}; }).then(function (body) {
      var msg = (body && body.error && body.error.message) || "";
      throw new WidgetError(r.status, msg, Number(r.headers.get("Retry-After")) || 0);
    });
  }

  function call(method, path, body) {
    return fetch(api + path, {
      method: method,
      headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    }).then(check).then(function (r) { return r.status === 204 ? null : r.json(); });
  }

  function fail(err) {
    var status = err && err.status;
    if (status === 429) {
      var wait = (err && err.retryAfter) || 10;
      say("You are sending messages quickly: please wait " + wait + " s and try again.", true);
      pollMs = Math.max(pollMs, wait * 1000);
    } else if (status === 409) {
      // The chatbot closed, or this chat was finished: its public description tells which.
      say("This chat is closed at the moment. Please come back later.", true);
      call("GET", "").then(function (out) {
        info = out;
        if (out.status === "closed") {
          closedUI(true);
        } else {
          save(session = null);
          say("This chat has ended. Send your message again to start a new one.", true);
        }
      }, function () { return null; });
    } else if (status === 404 || status === 401 || status === 403) {
      save(session = null);
      say("This chat is not available. Start again by sending a message.", true);
    } else {
      say("The chat could not reach the server. Please try again in a moment.", true);
      // A refusal without CORS headers reads as a network error: the chatbot may have
      // closed meanwhile (its public description says so).
      if (!status) {
        call("GET", "").then(function (out) {
          info = out;
          if (out.status === "closed") closedUI(true);
        }, function () { return null; });
      }
    }
  }

  function closedUI(closed) {
    input.disabled = closed;
    sendBtn.disabled = closed;
    if (closed) say("This chat is closed at the moment. Please come back later.", true);
  }

  function openChat() {
    return call("POST", "/chats", { visitor: "" }).then(function (out) {
      session = { chat_id: out.chat_id, token: out.token };
      save(session);
      while (log.firstChild) log.removeChild(log.firstChild);
      lastId = 0;
      add(out.messages || []);
      schedulePoll();
    });
  }

  /** POST a message and read its answer as server-sent events, token by token. */
  function stream(text) {
    var mine = msgEl({ role: "user", author: "visitor", text: text });
    log.appendChild(mine);
    var answer = null;
    var streamed = "";
    scroll();
    return fetch(api + "/chats/" + session.chat_id + "/messages", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify({ text: text }),
      credentials: "omit",
      mode: "cors",
    }).then(check).then(function (r) {
      var type = r.headers.get("content-type") || "";
      if (type.indexOf("text/event-stream") < 0) {
        return r.json().then(function (out) {
          if (out.question) { mine.setAttribute("data-id", out.question.id); lastId = Math.max(lastId, out.question.id); }
          if (out.notice) add([out.notice]);
          if (out.answer) add([out.answer]);
          if (out.chat && out.chat.control) personInControl(out.chat.control === "person");
        });
      }
      answer = msgEl({ role: "assistant", author: "bot", text: "" });
      answer.classList.add("typing");
      log.appendChild(answer);
      var bubble = answer.querySelector(".bubble");
      var reader = r.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function onEvent(event, data) {
        if (event === "question" && data && data.id) { mine.setAttribute("data-id", data.id); lastId = Math.max(lastId, data.id); }
        else if (event === "token") {
          answer.classList.remove("typing");
          streamed += (data && data.text) || "";
          bubble.textContent = streamed;
          answer.setAttribute("data-tokens", String(Number(answer.getAttribute("data-tokens") || 0) + 1));
          scroll();
        } else if (event === "answer" && data) {
          answer.classList.remove("typing");
          answer.setAttribute("data-id", data.id);
          answer.setAttribute("data-streamed", answer.getAttribute("data-tokens") || "0");
          lastId = Math.max(lastId, data.id);
          draw(answer, data);
          answer = null;
        } else if (event === "notice" && data) {
          add([data]);
          personInControl(true);
          if (answer) log.appendChild(answer);
        } else if (event === "error") {
          say((data && data.message) || "The answer could not be written. Please try again.", true);
        } else if (event === "chat" && data && data.control) {
          if ((data.control === "person") !== (control === "person")) personInControl(data.control === "person");
        }
      }
      function parse(chunk) {
        buffer += chunk.replace(/\r\n/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          var record = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          var event = "message";
          var data = [];
          record.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) event = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (!data.length) continue;
          var value = data.join("\n");
          try { value = JSON.parse(value); } catch (e) { /* text */ }
          onEvent(event, value);
        }
      }
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) { parse(decoder.decode() + "\n\n"); return; }
          parse(decoder.decode(x.value, { stream: true }));
          return pump();
        });
      }
      return pump();
    }).then(function () {
      if (answer && !answer.getAttribute("data-id") && !streamed) answer.parentNode.removeChild(answer);
    }, function (err) {
      if (answer && answer.parentNode && !streamed) answer.parentNode.removeChild(answer);
      // Not sent: the text goes back into the box, to send again.
      if (!mine.getAttribute("data-id")) {
        if (mine.parentNode) mine.parentNode.removeChild(mine);
        if (!input.value) input.value = text;
      } else {
        mine.classList.add("failed");
      }
      throw err;
    });
  }

  function poll() {
    if (!session) return Promise.resolve();
    return call("GET", "/chats/" + session.chat_id + "/messages?after_id=" + lastId).then(function (out) {
      var items = Array.isArray(out) ? out : (out && out.items) || [];
      // A person's message, or the handover's notice (the manual message), says a
      // person answers now (add() notices them).
      add(items);
      if (out && out.chat && out.chat.control) personInControl(out.chat.control === "person");
    });
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!session || (panel.hidden && !pageMode)) return;
    pollTimer = setTimeout(function () {
      if (sending) { schedulePoll(); return; }
      poll().then(schedulePoll, function (err) { fail(err); if (session) schedulePoll(); });
    }, pollMs);
  }

  // --- events -----------------------------------------------------------------------------

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || sending) return;
    sending = true;
    sendBtn.disabled = true;
    if (notice.classList.contains("warn")) say("");
    (session ? Promise.resolve() : openChat()).then(function () {
      input.value = "";
      return stream(text);
    }).catch(function (err) {
      fail(err);
    }).then(function () {
      sending = false;
      sendBtn.disabled = input.disabled;
      input.focus();
      schedulePoll();
    });
  });

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close the chat" : "Open the chat");
    if (open) { input.focus(); scroll(); schedulePoll(); } else clearTimeout(pollTimer);
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  endBtn.addEventListener("click", function () {
    if (!session) return;
    var s = session;
    call("POST", "/chats/" + s.chat_id + "/finish").catch(function () { return null; }).then(function () {
      save(session = null);
      clearTimeout(pollTimer);
      lastId = 0;
      while (log.firstChild) log.removeChild(log.firstChild);
      personInControl(false);
      welcome();
      say("Chat ended. Send a message to start a new one.");
    });
  });
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape" && !pageMode) { setOpen(false); launcher.focus(); } });

  function welcome() {
    if (info && info.welcome) log.appendChild(msgEl({ role: "assistant", author: "auto-welcome", text: info.welcome }));
  }

  // --- start ------------------------------------------------------------------------------

  call("GET", "").then(function (out) {
    info = out;
    titleEl.textContent = out.name || "Chat";
    panel.setAttribute("aria-label", "Chat with " + (out.name || "us"));
    host.setAttribute("data-ready", "true");
    if (out.status === "closed") { closedUI(true); welcome(); return null; }
    if (session) {
      return call("GET", "/chats/" + session.chat_id + "/messages").then(function (msgs) {
        add(Array.isArray(msgs) ? msgs : (msgs && msgs.items) || []);
        schedulePoll();
      }, function () {
        save(session = null);
        welcome();
      });
    }
    welcome();
    return null;
  }, function (err) {
    host.setAttribute("data-ready", "true");
    if (err && err.status === 409) closedUI(true);
    else if (err && err.status === 404) { closedUI(true); say("This chat is not available.", true); }
    else { say("The chat could not reach the server.", true); }
  });

  window.auguryChat = window.auguryChat || {};
  window.auguryChat[hash] = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
