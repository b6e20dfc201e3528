/* augury web UI: one small script, no framework, no network beyond augury itself.
 *
 * - `api()` calls /api/v1 with the access token from localStorage. Tokens live 15
 *   minutes: an expiring token is refreshed before a call, and a 401 triggers one
 *   refresh (shared by concurrent calls) and one retry. When the login cannot be
 *   renewed, the tokens are dropped and the browser goes to /login.
 * - Every page sets <body data-page="...">; `PAGES[page]` fills it from the API.
 * - Errors show as toasts carrying the API's own message.
 */
(function () {
  "use strict";

  const API = "/api/v1";
  const K_ACCESS = "augury.access_token";
  const K_REFRESH = "augury.refresh_token";
  const ROLES = ["viewer", "member", "admin", "owner"];
  const ACTIVE = new Set(["pending", "running"]);
  const KEY_START = "aug_"; // keys read aug_<prefix>_<secret>: show what people will recognise

  // --- tokens ------------------------------------------------------------------------

  const tokens = {
    access: () => localStorage.getItem(K_ACCESS),
    refresh: () => localStorage.getItem(K_REFRESH),
    save(body) {
      localStorage.setItem(K_ACCESS, body.access_token);
      localStorage.setItem(K_REFRESH, body.refresh_token);
    },
    clear() {
      localStorage.removeItem(K_ACCESS);
      localStorage.removeItem(K_REFRESH);
    },
  };

  function tokenExpiresAt(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).exp * 1000;
    } catch (e) {
      return 0;
    }
  }

  let refreshing = null;

  /** Exchange the refresh token for new tokens; one exchange at a time. */
  function refreshTokens() {
    if (!refreshing) {
      refreshing = (async () => {
        const used = tokens.refresh();
        if (!used) return false;
        let r;
        try {
          r = await fetch(API + "/auth/refresh", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({ refresh_token: used }),
          });
        } catch (e) {
          return false;
        }
        if (r.ok) {
          tokens.save(await r.json());
          return true;
        }
        // Another tab may have renewed the login with this very token meanwhile.
        return tokens.refresh() !== used && !!tokens.refresh();
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  class ApiError extends Error {
    constructor(status, code, message, details, silent) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || {};
      this.silent = !!silent;
    }
  }

  function goLogin() {
    const here = location.pathname + location.search;
    location.assign("/login" + (here && here !== "/" ? "?next=" + encodeURIComponent(here) : ""));
  }

  /**
   * Call the API. Options: method, body (JSON), query (object), auth (default true),
   * retry (refresh + retry once on 401, default true), base (default "/api/v1"; the
   * Anodot-compatible routes live under "/api/v2"), blob (answer the body as a Blob,
   * for images).
   */
  async function api(path, opts) {
    const o = opts || {};
    const method = o.method || "GET";
    const auth = o.auth !== false;
    let url = (o.base || API) + path;
    if (o.query) {
      const qs = new URLSearchParams();
      Object.entries(o.query).forEach(([k, v]) => {
        if (v !== undefined && v !== null && v !== "") qs.append(k, v);
      });
      if (qs.toString()) url += "?" + qs.toString();
    }
    if (auth && tokens.access() && tokenExpiresAt(tokens.access()) - Date.now() < 30000) {
      await refreshTokens();
    }
    const send = () => {
      const headers = { Accept: "application/json" };
      if (o.body !== undefined) headers["Content-Type"] = "application/json";
      if (auth && tokens.access()) headers.Authorization = "Bearer " + tokens.access();
      return fetch(url, {
        method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
      });
    };
    let r;
    try {
      r = await send();
      if (r.status === 401 && auth && o.retry !== false) {
        if (await refreshTokens()) {
          r = await send();
        } else {
          tokens.clear();
          goLogin();
          throw new ApiError(401, "AUTHENTICATION_FAILED", "Your login has ended; please log in again.", {}, true);
        }
      }
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(0, "NETWORK_ERROR", "Cannot reach the augury server. Check that it is running.");
    }
    if (r.ok && o.blob) return r.blob();
    if (r.status === 204) return null;
    const text = await r.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!r.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(
        r.status,
        err.code || "ERROR",
        err.message || "Request failed (HTTP " + r.status + ").",
        err.details
      );
    }
    return data;
  }

  // --- DOM helpers --------------------------------------------------------------------

  // Answers can arrive out of order (a filter changed twice quickly): a loader asks
  // `stale()` after each await and renders only if no newer call has started since.
  function newestOnly() {
    let latest = 0;
    return () => { const mine = ++latest; return () => mine !== latest; };
  }

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  /** h("a", {href: "/x", class: "btn", onclick: fn}, "text", child, ...) */
  function h(tag, attrs) {
    const el = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === undefined || v === null || v === false) return;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    });
    for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach((c) => append(el, c));
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function show(el, visible) {
    if (el) el.hidden = !visible;
  }

  // --- formatting ---------------------------------------------------------------------

  const dateFmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const shortFmt = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });

  function parseTime(iso) {
    if (!iso) return null;
    // The API answers RFC 3339 UTC; a naive timestamp is UTC too.
    const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
    return isNaN(d) ? null : d;
  }

  function fmtTime(iso) {
    const d = parseTime(iso);
    if (!d) return "–";
    return (d.getFullYear() === new Date().getFullYear() ? shortFmt : dateFmt).format(d);
  }

  function fmtAgo(iso) {
    const d = parseTime(iso);
    if (!d) return "never";
    const s = (Date.now() - d.getTime()) / 1000;
    if (s < -60) return "in " + fmtSpan(-s);
    if (s < 45) return "just now";
    return fmtSpan(s) + " ago";
  }

  function fmtSpan(s) {
    if (s < 90) return Math.round(s) + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 129600) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function timeEl(iso, relative) {
    if (!iso) return h("span", { class: "muted" }, relative ? "never" : "–");
    return h("time", { datetime: iso, title: dateFmt.format(parseTime(iso)) }, relative ? fmtAgo(iso) : fmtTime(iso));
  }

  function fmtNum(x, digits) {
    if (x === null || x === undefined) return "–";
    return Number(x).toLocaleString(undefined, {
      minimumFractionDigits: digits === undefined ? 1 : digits,
      maximumFractionDigits: digits === undefined ? 1 : digits,
    });
  }

  function badge(text, kind, testid) {
    return h("span", { class: "badge badge-" + kind, "data-testid": testid }, text);
  }

  const STATUS_KIND = {
    pending: "muted", running: "info", succeeded: "success", failed: "danger", aborted: "warning",
  };
  const ROLE_KIND = { owner: "violet", admin: "info", member: "success", viewer: "muted" };
  const OUTCOME_KIND = { success: "success", failure: "danger", throttled: "warning" };

  function statusBadge(status, testid) {
    return badge(status, STATUS_KIND[status] || "muted", testid);
  }

  function roleBadge(role) {
    return badge(role, ROLE_KIND[role] || "muted");
  }

  function initials(text) {
    const parts = String(text || "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
    return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[1][0] : "")).toUpperCase();
  }

  // --- toasts -------------------------------------------------------------------------

  function toast(message, kind) {
    const box = $("#toasts");
    if (!box) return;
    const el = h(
      "div",
      { class: "toast toast-" + (kind || "error"), role: kind === "success" ? "status" : "alert", "data-testid": "toast" },
      h("span", { class: "toast-text" }, message),
      h("button", { class: "toast-close", "aria-label": "Dismiss", onclick: () => el.remove() }, "×")
    );
    box.append(el);
    raiseToasts(box);
    setTimeout(() => el.classList.add("leaving"), kind === "success" ? 3500 : 7000);
    setTimeout(() => el.remove(), kind === "success" ? 4000 : 7500);
  }

  /** Toasts live in a popover, so they show above an open <dialog> and its backdrop. */
  function raiseToasts(box) {
    if (!box.showPopover) return;
    if (box.matches(":popover-open")) box.hidePopover();
    box.showPopover();
  }

  function showError(err) {
    if (err && err.silent) return;
    console.error(err);
    toast((err && err.message) || "Something went wrong.", "error");
  }

  /** Run fn with the button disabled and errors shown as toasts; resolves to fn's value. */
  async function busy(button, fn) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } catch (err) {
      showError(err);
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  }

  function onSubmit(form, fn) {
    if (!form) return;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      clearFieldErrors(form);
      Promise.resolve()
        .then(() => fn(new FormData(form)))
        .catch((err) => {
          // A 422 that names its fields is said next to them, not in a toast.
          if (!fieldErrors(form, err)) showError(err);
        })
        .finally(() => { if (button) button.disabled = false; });
    });
    form.addEventListener("input", (ev) => clearFieldError(ev.target));
  }

  // --- inline field errors: the API's 422 details name the fields ---------------------

  /** What a validation message means to a person ("String should have at least 1 character"). */
  function humanFieldMessage(e) {
    const msg = String(e.msg || "").replace(/^Value error, /, "");
    const type = e.type || "";
    if (type === "service") return msg;
    let m;
    if (type === "missing" || /^Field required/.test(msg)) return "This field is required.";
    if ((m = /^String should have at least (\d+) characters?/.exec(msg))) {
      return m[1] === "1" ? "This field is required." : "Use at least " + m[1] + " characters.";
    }
    if ((m = /^String should have at most (\d+) characters?/.exec(msg))) return "Use at most " + m[1] + " characters.";
    if ((m = /^List should have at least (\d+) items?/.exec(msg))) return m[1] === "1" ? "Choose at least one." : "Choose at least " + m[1] + ".";
    if (/valid email address/.test(msg)) return "Enter an email address such as name@example.com.";
    if (/^Input should be a valid (number|integer)/.test(msg)) return "Enter a number.";
    if ((m = /^Input should be (.*)$/.exec(msg))) return "Must be " + m[1].replace(/\.$/, "") + ".";
    if ((m = /^Extra inputs are not permitted/.exec(msg))) return "Not expected here.";
    return msg ? msg.charAt(0).toUpperCase() + msg.slice(1) + (/[.!?]$/.test(msg) ? "" : ".") : "Not valid.";
  }

  /** The control of `form` that an error's location names: ["body", "conditions", "min_score"]. */
  function fieldFor(form, loc) {
    const path = (loc || []).map(String).filter((p) => p !== "body" && p !== "query" && !/^\d+$/.test(p));
    for (let i = 0; i < path.length; i++) {
      const name = path.slice(i).join(".");
      const el = form.querySelector("[name='" + CSS.escape(name) + "']") || form.querySelector("[data-field='" + CSS.escape(name) + "']");
      if (el) return el;
    }
    return null;
  }

  function clearFieldError(el) {
    if (!el || !el.classList || !el.classList.contains("invalid")) return;
    el.classList.remove("invalid");
    el.removeAttribute("aria-invalid");
    const note = el.closest("label, .field, fieldset");
    const msg = note && $(".field-error", note);
    if (msg) msg.remove();
  }

  function clearFieldErrors(form) {
    if (!form) return;
    $$(".field-error", form).forEach((el) => el.remove());
    $$(".invalid", form).forEach((el) => {
      el.classList.remove("invalid");
      el.removeAttribute("aria-invalid");
    });
  }

  /** Show each error of a 422 next to its field; true if all were shown there. */
  function fieldErrors(form, err) {
    clearFieldErrors(form);
    const d = (err && err.details) || {};
    // Pydantic's list of errors, or one field that the service named with its message.
    const list = Array.isArray(d.errors) ? d.errors
      : typeof d.field === "string" && err.status === 422 ? [{ loc: [d.field], msg: err.message, type: "service" }] : [];
    let first = null;
    let missed = 0;
    list.forEach((e) => {
      const el = fieldFor(form, e.loc);
      if (!el) missed++;
      if (!el || el.classList.contains("invalid")) return;
      const holder = el.closest("label.field, .field, fieldset") || el.parentElement;
      const input = el.type === "checkbox" || el.type === "radio" ? null : el;
      if (input) {
        input.classList.add("invalid");
        input.setAttribute("aria-invalid", "true");
      }
      const name = el.getAttribute("name") || el.id || "field";
      const note = h("span", { class: "field-error", role: "alert", "data-testid": "field-error-" + name }, humanFieldMessage(e));
      if (holder) holder.append(note);
      else el.after(note);
      first = first || input || el;
    });
    if (first && first.focus) first.focus();
    // True when every error is said next to its field (else the caller says the rest).
    return !!first && !missed;
  }

  function text(fd, name) {
    const v = fd.get(name);
    return v === null ? "" : String(v).trim();
  }

  async function copyText(value) {
    try {
      await navigator.clipboard.writeText(value);
    } catch (e) {
      // Not a secure context (plain http on another host): fall back to a selection.
      const ta = h("textarea", { class: "offscreen" });
      ta.value = value;
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    toast("Copied to the clipboard.", "success");
  }

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-copy-target]");
    if (btn) copyText($("#" + btn.dataset.copyTarget).textContent);
  });

  // --- pagination ---------------------------------------------------------------------

  function pager(el, page, go, prefix) {
    if (!el) return;
    clear(el);
    if (!page || page.total <= page.limit && page.offset === 0) return;
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    el.append(
      h("span", { class: "muted small", "data-testid": prefix + "-range" }, first + "–" + last + " of " + page.total),
      h("div", { class: "pager-buttons" },
        h("button", {
          class: "btn btn-small", id: prefix + "-prev", disabled: page.offset === 0,
          onclick: () => go(Math.max(0, page.offset - page.limit)),
        }, "← Previous"),
        h("button", {
          class: "btn btn-small", id: prefix + "-next", disabled: !page.has_more,
          onclick: () => go(page.offset + page.limit),
        }, "Next →"))
    );
  }

  function emptyRow(tbody, cols, message) {
    tbody.append(h("tr", { class: "empty-row" }, h("td", { colspan: cols, class: "muted" }, message)));
  }

  // --- pages for people not logged in --------------------------------------------------

  function nextPath() {
    const next = new URLSearchParams(location.search).get("next");
    return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  }

  function queryToken() {
    return new URLSearchParams(location.search).get("token") || "";
  }

  const PUBLIC = {
    "not-found"() {},
    login() {
      onSubmit($("#login-form"), async (fd) => {
        const body = await api("/auth/login", {
          method: "POST", auth: false,
          body: { email: text(fd, "email"), password: String(fd.get("password") || "") },
        });
        tokens.save(body);
        location.assign(nextPath());
      });
    },

    signup() {
      onSubmit($("#signup-form"), async (fd) => {
        const body = { email: text(fd, "email"), password: String(fd.get("password") || "") };
        if (text(fd, "name")) body.name = text(fd, "name");
        if (text(fd, "organization_name")) body.organization_name = text(fd, "organization_name");
        const out = await api("/auth/signup", { method: "POST", auth: false, body });
        tokens.save(out);
        location.assign("/");
      });
    },

    "forgot-password"() {
      onSubmit($("#forgot-form"), async (fd) => {
        const out = await api("/auth/password/forgot", {
          method: "POST", auth: false, body: { email: text(fd, "email") },
        });
        const done = $("#forgot-done");
        done.textContent = out.message;
        show(done, true);
        show($("#forgot-form"), false);
      });
    },

    "reset-password"() {
      const token = queryToken();
      if (!token) {
        toast("This page needs the link from the reset mail (it carries a token).");
        $("#reset-submit").disabled = true;
      }
      onSubmit($("#reset-form"), async (fd) => {
        const pw = String(fd.get("new_password") || "");
        if (pw !== String(fd.get("confirm") || "")) throw new ApiError(0, "VALIDATION_ERROR", "The two passwords differ.");
        await api("/auth/password/reset", { method: "POST", auth: false, body: { token, new_password: pw } });
        tokens.clear();
        show($("#reset-done"), true);
        show($("#reset-form"), false);
      });
    },

    "accept-invitation"() {
      const token = queryToken();
      if (!token) {
        toast("This page needs the link from the invitation mail (it carries a token).");
        $("#accept-submit").disabled = true;
      }
      onSubmit($("#accept-form"), async (fd) => {
        const body = { token, password: String(fd.get("password") || "") };
        if (text(fd, "name")) body.name = text(fd, "name");
        const out = await api("/invitations/accept", { method: "POST", auth: false, body });
        tokens.save(out);
        location.assign("/");
      });
    },
  };

  // --- the app shell ------------------------------------------------------------------

  function canAdmin(me) {
    return me.role === "admin" || me.role === "owner";
  }

  async function switchOrg(orgId) {
    const out = await api("/auth/switch", { method: "POST", body: { organization_id: Number(orgId) } });
    tokens.save(out);
    location.reload();
  }

  async function logout() {
    try {
      await api("/auth/logout", { method: "POST", retry: false });
    } catch (e) {
      // The login may already have ended: forgetting the tokens is what matters.
    }
    tokens.clear();
    location.assign("/login");
  }

  function fillShell(me) {
    const sel = $("#org-switcher");
    clear(sel);
    me.organizations.forEach((o) => {
      sel.append(h("option", { value: o.id, selected: o.id === me.organization.id, title: "your role: " + o.role }, o.name));
    });
    sel.disabled = me.organizations.length < 2;
    sel.title = sel.disabled ? "Create or join another organization to switch" : "Switch organization";
    sel.addEventListener("change", () => busy(sel, () => switchOrg(sel.value)));
    $("#org-avatar").textContent = initials(me.organization.name);
    const role = $("#my-role");
    role.textContent = me.role;
    role.className = "badge badge-" + (ROLE_KIND[me.role] || "muted");
    $("#user-avatar").textContent = initials(me.name || me.email);
    $("#user-name").textContent = me.name || me.email;
    $("#menu-user-name").textContent = me.name || "";
    $("#menu-user-email").textContent = me.email;

    const button = $("#user-menu-button");
    const panel = $("#user-menu-panel");
    const setOpen = (open) => {
      panel.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", (ev) => {
      ev.stopPropagation();
      setOpen(panel.hidden);
    });
    document.addEventListener("click", (ev) => {
      if (!ev.target.closest("#user-menu")) setOpen(false);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") setOpen(false);
    });
    $("#logout-button").addEventListener("click", () => busy($("#logout-button"), logout));

    const dialog = $("#password-dialog");
    $("#change-password-open").addEventListener("click", () => {
      setOpen(false);
      $("#password-form").reset();
      dialog.showModal();
    });
    $("#password-cancel").addEventListener("click", () => dialog.close());
    onSubmit($("#password-form"), async (fd) => {
      // A wrong current password answers 422; no refresh-and-retry is needed here.
      await api("/auth/password/change", {
        method: "POST", retry: false,
        body: { current_password: String(fd.get("current_password") || ""), new_password: String(fd.get("new_password") || "") },
      });
      dialog.close();
      toast("Password changed. Your other logins have ended.", "success");
    });
  }

  // --- loading and errors: skeletons while a part loads, a panel with Retry when it fails ---

  function skeletonLines(n) {
    return h("div", { class: "skeleton-lines", "aria-hidden": "true" },
      Array.from({ length: n || 3 }, () => h("span", { class: "skeleton" })));
  }

  /** What failed and a Retry button; `retry` runs again what failed. */
  function errorPanel(err, retry) {
    const offline = err && err.status === 0;
    const panel = h("div", { class: "error-panel", role: "alert", "data-testid": "error-panel" },
      h("div", { class: "error-panel-text" },
        h("div", { class: "strong" }, offline ? "The server did not answer." : "This part could not be loaded."),
        h("div", { class: "muted small", "data-testid": "error-panel-message" }, (err && err.message) || "Something went wrong.")),
      h("button", { type: "button", class: "btn btn-small", "data-testid": "retry", onclick: () => retry() }, "Retry"));
    return panel;
  }

  /**
   * Fill `box` with `fn()`: a skeleton until it answers, an error panel with Retry if it
   * fails (instead of a blank part and a toast). `placeholder` is what shows while loading.
   */
  async function loadInto(box, fn, placeholder, stats) {
    try {
      await fn();
    } catch (err) {
      if (err && err.silent) return;
      console.error(err);
      // Figures the part would have filled say they are unknown, not shimmer on.
      (stats || []).forEach((id) => { $("#" + id).textContent = "–"; });
      append(clear(box), errorPanel(err, () => {
        append(clear(box), placeholder ? placeholder() : skeletonLines(3));
        (stats || []).forEach((id) => append(clear($("#" + id)), h("span", { class: "skeleton skeleton-num" })));
        loadInto(box, fn, placeholder, stats);
      }));
    }
  }

  /** A list that failed to load: an error panel with Retry in place of `anchor` (its table). */
  function showFailed(id, anchor, err, retry) {
    if (err && err.silent) return;
    console.error(err);
    let slot = document.getElementById(id);
    if (!slot) {
      slot = h("div", { id, class: "failed-slot" });
      anchor.before(slot);
    }
    append(clear(slot), errorPanel(err, () => {
      hideFailed(id, anchor);
      retry();
    }));
    show(slot, true);
    show(anchor, false);
  }

  function hideFailed(id, anchor) {
    const slot = document.getElementById(id);
    if (slot) show(clear(slot), false);
    show(anchor, true);
  }

  // --- overview -----------------------------------------------------------------------

  const HOME_LISTED = 5;

  /** The newest anomalies' strongest metric around the anomaly, with its band. */
  async function loadAnomalySpark(a, box) {
    const m = a.metrics[0];
    if (!m) return;
    const step = anomalyInterval(a, m);
    try {
      const s = await api("/metrics/" + m.metric_id + "/timeseries", {
        query: { from: Math.floor(m.start - 30 * step), to: Math.ceil(m.end + 30 * step) + 1, resolution: a.timescale },
      });
      drawSparkline(box, s, a, m);
    } catch (err) {
      append(clear(box), h("span", { class: "muted small", title: err.message }, "no chart"));
    }
  }

  function homeAlertRow(t) {
    return h("li", { class: "home-row", "data-testid": "home-alert-" + t.id },
      severityBadge(t.severity),
      h("div", { class: "home-row-main" },
        h("a", { href: "/alerts/triggered/" + t.id, class: "strong", "data-testid": "home-alert-link-" + t.id }, t.title),
        h("div", { class: "muted small" }, t.metric_count + (t.metric_count === 1 ? " metric" : " metrics")
          + (known(t.peak_score) ? " · score " + Math.round(t.peak_score) : "")
          + (t.acknowledged_at ? " · acknowledged" : ""))),
      h("div", { class: "home-row-when" }, h("span", { class: "small nowrap" }, (t.status === "open" ? "since " : "") + fmtAgo(isoOf(t.start))),
        t.status === "open" ? null : badge("closed", "muted")));
  }

  function homeAnomalyRow(a) {
    const spark = h("div", { class: "spark-box", "data-testid": "home-spark-" + a.id }, h("span", { class: "skeleton skeleton-spark" }));
    const li = h("li", { class: "home-row home-anomaly", "data-testid": "home-anomaly-" + a.id },
      scorePill(a.score),
      h("div", { class: "home-row-main" },
        h("div", {}, h("a", { href: "/anomalies/" + a.id, class: "strong", "data-testid": "home-anomaly-link-" + a.id }, a.what),
          " ", directionArrow(a.direction)),
        metricsSummary(a)),
      spark,
      h("div", { class: "home-row-when" }, h("span", { class: "small nowrap" }, fmtAgo(isoOf(a.start))),
        h("div", {}, stateBadge(a.state))));
    return [li, () => loadAnomalySpark(a, spark)];
  }

  function homeForecastRow(t) {
    const run = t.runs[0];
    return h("li", { class: "home-row", "data-testid": "home-forecast-" + t.id },
      h("span", { class: "home-row-icon" }, "↗"),
      h("div", { class: "home-row-main" },
        h("a", { href: "/forecasts/" + t.id, class: "strong", "data-testid": "home-forecast-link-" + t.id }, t.name),
        h("div", { class: "muted small" }, horizonText(t) + " · " + scheduleText(t))),
      run ? h("div", { class: "home-row-when" }, runBadge(run.status),
        h("div", { class: "muted small nowrap" }, fmtAgo(run.finished_at || run.created_at)))
        : h("span", { class: "muted small" }, "never run"));
  }

  function fmtLag(s) {
    if (!s || s < 1) return "none";
    return fmtSpan(s);
  }

  async function homePage(me) {
    $("#greeting").textContent = "Welcome" + (me.name ? ", " + me.name.split(" ")[0] : "");
    $$("#checklist .origin").forEach((el) => { el.textContent = location.origin; });
    let overview = null; // shared by ingestion health and the checklist

    async function alerts() {
      const page = await api("/alerts/triggered", { query: { status: "open", sort: "start", order: "desc", limit: HOME_LISTED } });
      $("#stat-open-alerts").textContent = fmtCount(page.total);
      $("#stat-open-alerts-card").classList.toggle("stat-alert", page.total > 0);
      if (!page.items.length) {
        // Nothing open: say so, and show what closed last.
        const closed = await api("/alerts/triggered", { query: { status: "closed", sort: "start", order: "desc", limit: 3 } });
        const box = clear($("#home-alerts"));
        box.append(h("div", { class: "home-empty", "data-testid": "home-no-open-alert" }, h("span", { class: "ok-dot" }), "No open alert right now."));
        if (closed.items.length) {
          box.append(h("div", { class: "home-sub" }, "Recently closed"), h("ul", { class: "home-list" }, closed.items.map(homeAlertRow)));
        } else {
          box.append(h("p", { class: "muted small" }, h("a", { href: "/alerts/new" }, "Create an alert"), " to be told when a metric leaves its band."));
        }
        return;
      }
      const box = clear($("#home-alerts"));
      box.append(h("ul", { class: "home-list" }, page.items.map(homeAlertRow)));
      if (page.total > page.items.length) {
        box.append(h("p", { class: "muted small home-more" }, h("a", { href: "/alerts" }, "and " + fmtCount(page.total - page.items.length) + " more open")));
      }
    }

    async function anomalies() {
      const [page, count] = await Promise.all([
        api("/anomalies", { query: { sort: "-start", limit: HOME_LISTED } }),
        api("/anomalies/count", { query: { from: Math.floor(Date.now() / 1000) - 86400 } }),
      ]);
      $("#stat-anomalies").textContent = fmtCount(count.total);
      const box = clear($("#home-anomalies"));
      if (!page.items.length) {
        box.append(h("div", { class: "home-empty" }, "No anomaly yet. Detection scores every point as it arrives and learns each metric's normal band."));
        return;
      }
      const rows = page.items.map(homeAnomalyRow);
      box.append(h("ul", { class: "home-list" }, rows.map(([li]) => li)));
      await inPool(rows.map(([, load]) => load), 3);
    }

    async function ingestion() {
      overview = overview || await api("/metrics/overview");
      const o = overview;
      $("#stat-eps").textContent = fmtRate(o.eps);
      $("#stat-refused").textContent = fmtCount(o.refused_last_hour);
      $("#stat-refused-card").classList.toggle("stat-alert", o.refused_last_hour > 0);
      const box = clear($("#home-ingest"));
      const lagging = o.detection_lag_s >= 60;
      box.append(
        h("dl", { class: "health" },
          h("div", { class: "health-item" }, h("dt", {}, "Samples/s"), h("dd", { "data-testid": "health-eps" }, fmtRate(o.eps))),
          h("div", { class: "health-item" }, h("dt", {}, "In 1 h"), h("dd", { "data-testid": "health-accepted" }, fmtCount(o.accepted_last_hour))),
          h("div", { class: "health-item" + (o.refused_last_hour ? " health-bad" : "") }, h("dt", {}, "Refused in 1 h"),
            h("dd", { "data-testid": "health-refused" }, fmtCount(o.refused_last_hour))),
          h("div", { class: "health-item" + (lagging ? " health-bad" : ""), title: "How long the oldest points not yet through anomaly detection have waited" },
            h("dt", {}, "Detection lag"), h("dd", { "data-testid": "health-lag" }, fmtLag(o.detection_lag_s)))),
        h("div", { class: "ingest-chart home-ingest-chart", "data-testid": "home-ingest-chart" }));
      drawIngest($(".home-ingest-chart", box), o.ingest_per_minute);
      if (!o.metrics) {
        box.append(h("p", { class: "muted small" }, "No metric yet: follow the steps above to send one."));
      }
    }

    async function forecasts() {
      const page = await api("/forecasts", { query: { limit: HOME_LISTED } });
      const box = clear($("#home-forecasts"));
      if (!page.items.length) {
        box.append(h("div", { class: "home-empty" }, "No forecast yet. ",
          h("a", { href: "/forecasts?new=1" }, "Forecast a metric"), " with confidence bands, once or on a schedule."));
        return;
      }
      box.append(h("ul", { class: "home-list" }, page.items.map(homeForecastRow)));
    }

    /** First steps for a new organization: shown until it has metrics and an alert. */
    async function checklist() {
      const [keys, configs, o] = await Promise.all([
        api("/api-keys", { query: { limit: 1 } }),
        api("/alerts", { query: { limit: 1 } }),
        overview ? Promise.resolve(overview) : api("/metrics/overview"),
      ]);
      overview = o;
      if (o.metrics > 0 && configs.total > 0) return;
      let banded = false;
      let newest = null;
      if (o.metrics > 0) {
        newest = (await api("/metrics", { query: { sort: "-last_seen", limit: 1 } })).items[0] || null;
        if (newest && newest.last_ts !== null) {
          const s = await api("/metrics/" + newest.id + "/timeseries", {
            query: { from: Math.floor(newest.last_ts) - 86400, to: Math.floor(newest.last_ts) + 1, resolution: "native" },
          });
          banded = !!(s.lower && s.lower.some(known));
        }
      }
      if (newest) {
        $("#step-band-link").href = "/metrics/explore/" + newest.id;
        $("#cmd-band-id").textContent = String(newest.id);
      }
      const steps = [
        ["step-key", keys.total > 0, keys.total + (keys.total === 1 ? " key" : " keys")],
        ["step-metric", o.metrics > 0, fmtCount(o.metrics) + (o.metrics === 1 ? " metric" : " metrics")],
        ["step-band", banded, newest ? (banded ? "learned" : "learning: a few more points") : ""],
        ["step-alert", configs.total > 0, configs.total + (configs.total === 1 ? " alert" : " alerts")],
      ];
      let done = 0;
      steps.forEach(([id, ok, what]) => {
        const li = $("#" + id);
        li.classList.toggle("done", ok);
        li.dataset.done = String(ok);
        $(".step-state", li).textContent = ok ? "· done (" + what + ")" : what ? "· " + what : "";
        if (ok) done++;
      });
      const next = steps.find(([, ok]) => !ok);
      $$(".step", $("#checklist")).forEach((li) => li.classList.toggle("current", !!next && li.id === next[0]));
      $("#checklist-progress").textContent = done + " of " + steps.length + " done";
      show($("#checklist"), true);
    }

    await Promise.all([
      loadInto($("#home-alerts"), alerts, null, ["stat-open-alerts"]),
      loadInto($("#home-ingest"), ingestion, () => h("div", { class: "skeleton skeleton-chart" }), ["stat-eps", "stat-refused"]),
      loadInto($("#home-anomalies"), anomalies, null, ["stat-anomalies"]),
      loadInto($("#home-forecasts"), forecasts, () => skeletonLines(2)),
      checklist().catch((err) => console.error(err)), // a help, not data: no panel when it fails
    ]);
  }

  // --- jobs ---------------------------------------------------------------------------

  function progressBar(job, testid) {
    const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
    const bar = h("div", { class: "progress-bar" });
    bar.style.width = pct + "%";
    return h("div", {
      class: "progress progress-" + job.status, role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
      "aria-valuenow": Math.round(pct * 10) / 10, "data-testid": testid,
    }, bar);
  }

  function setProgress(el, job) {
    const pct = Math.max(0, Math.min(100, Number(job.progress) || 0));
    el.classList.remove(...[...el.classList].filter((c) => c.startsWith("progress-")));
    el.classList.add("progress-" + job.status);
    el.setAttribute("aria-valuenow", String(Math.round(pct * 10) / 10));
    el.querySelector(".progress-bar").style.width = pct + "%";
  }

  async function abortJob(id, button) {
    await busy(button, async () => {
      await api("/jobs/" + id + "/abort", { method: "POST" });
      toast("Abort requested for job #" + id + ".", "success");
    });
  }

  function fillJobRow(tr, job) {
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

  // --- metrics ------------------------------------------------------------------------

  const SVG_NS = "http://www.w3.org/2000/svg";

  /** svg("path", {d: "M0 0"}, child, ...): h() for SVG elements. */
  function svg(tag, attrs) {
    const el = document.createElementNS(SVG_NS, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
    });
    for (let i = 2; i < arguments.length; i++) {
      const c = arguments[i];
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Epoch seconds (as the metrics API answers them) as RFC 3339, for timeEl(). */
  function isoOf(epoch) {
    return epoch === null || epoch === undefined ? null : new Date(epoch * 1000).toISOString();
  }

  function fmtCount(x) {
    return x === null || x === undefined ? "–" : Number(x).toLocaleString();
  }

  /** A rate: 2 decimals under 10, 1 under 100, none above. */
  function fmtRate(x) {
    const v = Number(x) || 0;
    return fmtNum(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
  }

  const compactFmt = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });

  /** A value of a series, exact enough to read off a tooltip. */
  function fmtValue(v) {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    if (a >= 1e6) return compactFmt.format(v);
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: a >= 100 ? 2 : a >= 1 ? 3 : 6 });
  }

  function typeBadge(type) {
    return badge(type, type === "counter" ? "violet" : "info");
  }

  function dimensionChips(dims) {
    const keys = Object.keys(dims || {}).sort();
    if (!keys.length) return h("span", { class: "muted" }, "none");
    return h("span", { class: "dims" }, keys.map((k) =>
      h("span", { class: "dim" }, h("span", { class: "dim-key" }, k + "="), dims[k])));
  }

  /** The list page's state lives in the URL (?q=&sort=&offset=), so it can be linked. */
  const METRIC_SORTS = new Set(["name", "-name", "last_seen", "-last_seen", "created", "-created"]);

  function metricsPage() {
    const state = { q: "", sort: "name", offset: 0, limit: 25 };
    const input = $("#metrics-q");
    const sortSel = $("#metrics-sort");

    function readUrl() {
      const p = new URLSearchParams(location.search);
      state.q = (p.get("q") || "").trim();
      state.sort = METRIC_SORTS.has(p.get("sort")) ? p.get("sort") : "name";
      state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
      input.value = state.q;
      sortSel.value = state.sort;
      show($("#metrics-search-clear"), !!state.q);
    }

    function writeUrl() {
      const p = new URLSearchParams();
      if (state.q) p.set("q", state.q);
      if (state.sort !== "name") p.set("sort", state.sort);
      if (state.offset) p.set("offset", String(state.offset));
      const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
      if (url !== location.pathname + location.search) history.pushState(null, "", url);
      show($("#metrics-search-clear"), !!state.q);
    }

    function queryError(message) {
      const el = $("#metrics-q-error");
      el.textContent = message || "";
      show(el, !!message);
      input.classList.toggle("invalid", !!message);
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }

    const listCall = newestOnly();
    async function loadList() {
      const stale = listCall();
      let page;
      try {
        page = await api("/metrics", {
          query: { q: state.q, sort: state.sort, offset: state.offset, limit: state.limit },
        });
      } catch (err) {
        if (stale()) return;
        if (err.status === 422 && state.q) {
          // A bad expression: say what is wrong where it was typed, and list nothing.
          queryError(err.message);
          const tb = clear($("#metrics-body"));
          emptyRow(tb, 5, "Fix the expression to see the metrics it matches.");
          show($("#metrics-table"), true);
          show($("#metrics-empty"), false);
          pager($("#metrics-pager"), null);
          return;
        }
        show($("#metrics-empty"), false);
        pager($("#metrics-pager"), null);
        showFailed("metrics-failed", $("#metrics-table").closest(".table-wrap"), err, () => loadList().catch(showError));
        return;
      }
      if (stale()) return;
      hideFailed("metrics-failed", $("#metrics-table").closest(".table-wrap"));
      queryError(null);
      const tb = clear($("#metrics-body"));
      const none = page.total === 0 && !state.q;
      show($("#metrics-empty"), none);
      show($("#metrics-table"), !none);
      if (page.total === 0 && state.q) emptyRow(tb, 5, "No metric matches this expression.");
      page.items.forEach((m) => {
        const href = "/metrics/explore/" + m.id;
        const tr = h("tr", { class: "row-link", "data-testid": "metric-row-" + m.id, "data-metric-id": m.id },
          h("td", { class: "metric-name-cell" },
            h("a", { href, class: "strong", "data-testid": "metric-link-" + m.id }, m.name)),
          h("td", {}, h("code", {}, m.what)),
          h("td", {}, dimensionChips(m.dimensions)),
          h("td", {}, typeBadge(m.target_type)),
          h("td", { class: "nowrap" }, timeEl(isoOf(m.last_ts)),
            m.last_ts ? h("div", { class: "muted small" }, fmtAgo(isoOf(m.last_ts))) : null));
        tr.addEventListener("click", (ev) => {
          if (!ev.target.closest("a") && !getSelection().toString()) location.assign(href);
        });
        tb.append(tr);
      });
      pager($("#metrics-pager"), page, (o) => {
        state.offset = o;
        writeUrl();
        loadList().catch(showError);
      }, "metrics");
    }

    async function loadOverview() {
      const o = await api("/metrics/overview");
      $("#stat-metrics").textContent = fmtCount(o.metrics);
      $("#stat-active-metrics").textContent = fmtCount(o.active_metrics);
      $("#stat-measures").textContent = fmtCount(o.measures);
      $("#stat-eps").textContent = fmtRate(o.eps);
      $("#stat-refused").textContent = fmtCount(o.refused_last_hour);
      $("#stat-refused").closest(".stat").classList.toggle("stat-alert", o.refused_last_hour > 0);
      $("#ingest-accepted").textContent = fmtCount(o.accepted_last_hour);
      $("#ingest-refused").textContent = fmtCount(o.refused_last_hour);
      drawIngest($("#ingest-chart"), o.ingest_per_minute);
    }

    async function loadCardinality() {
      const box = $("#cardinality");
      // The last 24 h of data: ending at the organization's newest point, not at now, so
      // that history sent as a backfill shows too.
      const newest = await api("/metrics", { query: { sort: "-last_seen", active_since: 0, limit: 1 } });
      const top = newest.items[0];
      if (!top) {
        append(clear(box), h("p", { class: "muted" }, "No points yet, so no dimensions."));
        return;
      }
      const end = Math.floor(top.last_ts) + 1;
      const start = end - 86400;
      const c = await api("/metrics/cardinality", {
        base: "/api/v2", query: { startTime: start, endTime: end, size: 25 },
      });
      $("#cardinality-caption").textContent = "Distinct values per dimension among the " + fmtCount(c.totalMetrics)
        + (c.totalMetrics === 1 ? " metric" : " metrics") + " with points from " + fmtTime(isoOf(start))
        + " to " + fmtTime(isoOf(end)) + " (the last 24 h of data).";
      const entries = Object.entries(c.metricsCardinality)
        .sort((a, b) => b[1].cardinality - a[1].cardinality || a[0].localeCompare(b[0]));
      clear(box);
      if (!entries.length) {
        box.append(h("p", { class: "muted" }, "These metrics have no dimensions besides what."));
        return;
      }
      const most = entries[0][1].cardinality || 1;
      box.append(h("ul", { class: "card-list" }, entries.map(([dim, e]) => {
        const bar = h("span", { class: "bar-fill" });
        bar.style.width = Math.max(2, (100 * e.cardinality) / most) + "%";
        const whats = e.what.slice(0, 4).join(", ") + (e.what.length > 4 ? " and " + (e.what.length - 4) + " more" : "");
        return h("li", { "data-testid": "cardinality-" + dim, "data-dimension": dim },
          h("button", {
            type: "button", class: "link-button strong", title: "List the metrics that have " + dim,
            onclick: () => search(dim + "=*"),
          }, dim),
          h("span", { class: "bar" }, bar),
          h("span", { class: "num strong", "data-testid": "cardinality-value-" + dim }, fmtCount(e.cardinality)),
          h("span", { class: "muted small card-list-sub" }, "with " + whats));
      })));
    }

    function search(q) {
      input.value = q;
      state.q = q.trim();
      state.offset = 0;
      writeUrl();
      loadList().catch(showError);
    }

    // Enter in the box submits the form, as does the button.
    $("#metrics-search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      search(input.value);
    });
    $("#metrics-search-clear").addEventListener("click", () => {
      search("");
      input.focus();
    });
    sortSel.addEventListener("change", () => {
      state.sort = sortSel.value;
      state.offset = 0;
      writeUrl();
      loadList().catch(showError);
    });
    window.addEventListener("popstate", () => {
      readUrl();
      loadList().catch(showError);
    });
    $$("#metrics-curl .origin").forEach((el) => { el.textContent = location.origin; });

    readUrl();
    return Promise.all([loadOverview(), loadList(), loadCardinality()]);
  }

  /** Accepted (and refused, stacked) samples a minute over the last hour, as bars. */
  function drawIngest(box, perMinute) {
    clear(box);
    const nowMinute = Math.floor(Date.now() / 60000) * 60;
    const byMinute = new Map((perMinute || []).map((m) => [m.minute, m]));
    const bins = [];
    for (let i = 59; i >= 0; i--) {
      const m = byMinute.get(nowMinute - i * 60) || { accepted: 0, refused: 0 };
      bins.push(m);
    }
    const top = Math.max(1, ...bins.map((m) => m.accepted + m.refused));
    const W = 600;
    const H = 100;
    const bw = W / bins.length;
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img",
      "aria-label": "Samples a minute over the last hour" });
    g.append(svg("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: "ingest-base" }));
    bins.forEach((m, i) => {
      const ha = (H - 4) * m.accepted / top;
      const hr = (H - 4) * m.refused / top;
      const x = i * bw + bw * 0.15;
      if (m.accepted) g.append(svg("rect", { x, width: bw * 0.7, y: H - ha, height: ha, class: "ingest-accepted" }));
      if (m.refused) g.append(svg("rect", { x, width: bw * 0.7, y: H - ha - hr, height: hr, class: "ingest-refused" }));
    });
    box.append(g, h("div", { class: "ingest-axis" }, h("span", {}, "60 min ago"), h("span", {}, "now")));
  }

  // --- one metric: a chart drawn here, in SVG ------------------------------------------

  const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
  const DEFAULT_RANGE = "24h";
  const SERIES_RESOLUTIONS = ["auto", "native", "1m", "5m", "1h", "1d"];
  const RESOLUTION_SECONDS = { "1m": 60, "5m": 300, "1h": 3600, "1d": 86400 };
  const MAX_SERIES_POINTS = 10000; // the API's limit on one answer

  const hmFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const hmsFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  const monthFmt = new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" });

  /** 1, 2 or 5 times a power of ten, near span / count. */
  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  function valueTicks(lo, hi, count) {
    if (hi <= lo) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
    const step = niceStep(hi - lo, count);
    const first = Math.floor(lo / step) * step;
    const last = Math.ceil(hi / step) * step;
    const ticks = [];
    for (let v = first; v <= last + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
    const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
    const fmt = (v) => (Math.abs(v) >= 1e4 ? compactFmt.format(v)
      : v.toLocaleString(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }));
    return { lo: first, hi: last, ticks, fmt };
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400];

  /** Ticks on [t0, t1] (epoch s) at round local times, about one per 110 pixels of `width`. */
  function timeTicks(t0, t1, width) {
    const want = Math.max(2, Math.floor(width / 110));
    const span = t1 - t0;
    const step = TIME_STEPS.find((s) => span / s <= want);
    const ticks = [];
    if (step && step < 86400) {
      // Round in local time: 00:00, 06:00 ... where the viewer is.
      const off = -new Date(t0 * 1000).getTimezoneOffset() * 60;
      for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1; t += step) ticks.push(t);
      return { ticks, step, label: (t, prev) => {
        const d = new Date(t * 1000);
        const time = (step < 60 ? hmsFmt : hmFmt).format(d);
        const newDay = prev === null || new Date(prev * 1000).toDateString() !== d.toDateString();
        return [time, newDay ? dayFmt.format(d) : null];
      } };
    }
    // Days or weeks from a local midnight; months from the first of a month.
    const d = new Date(t0 * 1000);
    d.setHours(0, 0, 0, 0);
    if (step) {
      const days = step / 86400;
      while (d.getTime() / 1000 < t0) d.setDate(d.getDate() + 1);
      for (; d.getTime() / 1000 <= t1; d.setDate(d.getDate() + days)) ticks.push(d.getTime() / 1000);
      return { ticks, step, label: (t) => [dayFmt.format(new Date(t * 1000)), null] };
    }
    const months = Math.max(1, Math.ceil(span / (30 * 86400) / want));
    d.setDate(1);
    while (d.getTime() / 1000 < t0) d.setMonth(d.getMonth() + 1);
    for (; d.getTime() / 1000 <= t1; d.setMonth(d.getMonth() + months)) ticks.push(d.getTime() / 1000);
    return { ticks, step: months * 30 * 86400, label: (t) => [monthFmt.format(new Date(t * 1000)), null] };
  }

  const TIMESCALE_SECONDS = { native: 0, "1h": 3600, "1d": 86400 };
  let chartSeq = 0;

  /** Median spacing of ascending timestamps (Infinity for fewer than two). */
  function medianStep(ts) {
    const diffs = [];
    for (let i = 1; i < ts.length; i++) diffs.push(ts[i] - ts[i - 1]);
    diffs.sort((a, b) => a - b);
    return diffs.length ? diffs[Math.floor(diffs.length / 2)] : Infinity;
  }

  /**
   * Runs of point indexes to draw as one line: it breaks where a rollup misses a
   * bucket, or where native points are much further apart than usual.
   */
  function segmentsOf(ts, resolution) {
    const res = RESOLUTION_SECONDS[resolution];
    const gap = res ? res * 1.5 : Math.max(medianStep(ts) * 3, 1);
    const segments = [];
    for (let i = 0; i < ts.length; i++) {
      if (!i || ts[i] - ts[i - 1] > gap) segments.push([]);
      segments[segments.length - 1].push(i);
    }
    return segments;
  }

  const r1 = (v) => Math.round(v * 10) / 10;
  const known = (v) => v !== null && v !== undefined && isFinite(v);

  /** "M x y L x y ..." through the points of each segment; one M or L per point. */
  function linePath(segments, px, py) {
    return segments.map((seg) => seg.map((i, k) => (k ? "L" : "M") + r1(px(i)) + " " + r1(py(i))).join("")).join("");
  }

  /**
   * A closed area between `top(i)` and `bottom(i)` along each segment; points where
   * either is missing (null) break the area. Answers [path, points in the area].
   */
  function areaPath(segments, px, top, bottom) {
    let d = "";
    let points = 0;
    const close = (run) => {
      if (!run.length) return;
      d += run.map((i, k) => (k ? "L" : "M") + r1(px(i)) + " " + r1(top(i))).join("");
      d += run.slice().reverse().map((i) => "L" + r1(px(i)) + " " + r1(bottom(i))).join("") + "Z";
      points += run.length;
    };
    segments.forEach((seg) => {
      let run = [];
      seg.forEach((i) => {
        if (known(top(i)) && known(bottom(i))) {
          run.push(i);
        } else {
          close(run);
          run = [];
        }
      });
      close(run);
    });
    return [d, points];
  }

  /**
   * The time an anomaly covers on a chart, in epoch s: its points, widened by half the
   * spacing of native points (so a one-point anomaly shows), or its rollup buckets.
   */
  function anomalySpan(a, nativeStep) {
    const bucket = TIMESCALE_SECONDS[a.timescale];
    if (bucket) return [a.start, a.end + bucket];
    const half = isFinite(nativeStep) ? nativeStep / 2 : 0;
    return [a.start - half, a.end + half];
  }

  /** The lowest and highest value a chart must show: values, min–max, learned band. */
  function valueRange(s) {
    const n = s.timestamps.length;
    const lows = s.min || s.values;
    const highs = s.max || s.values;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, lows[i]);
      hi = Math.max(hi, highs[i]);
    }
    if (s.lower && s.upper && n) {
      // The band widens the value axis, but by half the values' range at most: a band
      // still wide from learning must not flatten the line.
      const pad = Math.max(hi - lo, Math.abs(hi) * 0.02, 1e-9) * 0.5;
      let blo = Infinity;
      let bhi = -Infinity;
      for (let i = 0; i < n; i++) {
        if (known(s.lower[i])) blo = Math.min(blo, s.lower[i]);
        if (known(s.upper[i])) bhi = Math.max(bhi, s.upper[i]);
      }
      if (isFinite(blo)) lo = Math.min(lo, Math.max(blo, lo - pad));
      if (isFinite(bhi)) hi = Math.max(hi, Math.min(bhi, hi + pad));
    }
    return [lo, hi];
  }

  /** Index of the timestamp in ascending `arr` nearest to `t` (arr not empty). */
  function nearestIndex(arr, t) {
    let a = 0;
    let b = arr.length - 1;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (arr[m] < t) a = m;
      else b = m;
    }
    return Math.abs(arr[a] - t) <= Math.abs(arr[b] - t) ? a : b;
  }

  /** [lo, hi] widened to hold a forecast's line and every interval. */
  function forecastRange(fc, range) {
    let [lo, hi] = range;
    const take = (arr) => (arr || []).forEach((v) => {
      if (known(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    });
    take(fc.mean);
    fc.levels.forEach((b) => { take(b.lower); take(b.upper); });
    return [lo, hi];
  }

  /** Opacity of each band, widest first: together they darken towards the centre. */
  function bandOpacities(count) {
    return Array.from({ length: count }, (_, k) => (count > 1 ? Math.round(100 * (0.1 + (0.14 * k) / (count - 1))) / 100 : 0.16));
  }

  /** How opaque the k-th band (widest first) looks where it lies over the wider ones. */
  function bandLook(count, k) {
    return 1 - bandOpacities(count).slice(0, k + 1).reduce((left, a) => left * (1 - a), 1);
  }

  function fmtLevel(level) {
    return fmtNum(level, Number(level) % 1 ? 1 : 0) + "\u00a0%"; // "95 %", never broken
  }

  function drawForecastBands(plot, fc, bands, x, y) {
    const fts = fc.timestamps;
    const seg = [fts.map((_, i) => i)];
    const alphas = bandOpacities(bands.length);
    bands.forEach((b, k) => {
      const top = (i) => (known(b.upper[i]) ? y(b.upper[i]) : null);
      const bottom = (i) => (known(b.lower[i]) ? y(b.lower[i]) : null);
      const attrs = { class: "forecast-band", "data-testid": "chart-forecast-band", "data-level": b.key, "fill-opacity": alphas[k] };
      if (fts.length === 1) {
        // One step ahead: an error bar rather than an area without width.
        const ok = top(0) !== null && bottom(0) !== null;
        plot.append(svg("rect", { ...attrs, x: r1(x(fts[0]) - 5), width: 10, y: ok ? r1(top(0)) : 0,
          height: ok ? r1(Math.max(0, bottom(0) - top(0))) : 0, "data-points": ok ? 1 : 0 }));
        return;
      }
      const [d, points] = areaPath(seg, (i) => x(fts[i]), top, bottom);
      plot.append(svg("path", { ...attrs, d, "data-points": points }));
    });
  }

  /** The forecast's line (one point per step), joined to the last point of history before it. */
  function drawForecastLine(plot, fc, x, y, dots, hist) {
    const fts = fc.timestamps;
    if (hist && known(fc.origin)) {
      let j = -1;
      for (let k = 0; k < hist.ts.length && hist.ts[k] <= fc.origin; k++) j = k;
      if (j >= 0 && fc.origin - hist.ts[j] <= Math.max(fts[0] - fc.origin, 0) * 1.5) {
        plot.append(svg("path", {
          d: "M" + r1(x(hist.ts[j])) + " " + r1(y(hist.vs[j])) + "L" + r1(x(fts[0])) + " " + r1(y(fc.mean[0])),
          class: "forecast-link",
        }));
      }
    }
    plot.append(svg("path", {
      d: linePath([fts.map((_, i) => i)], (i) => x(fts[i]), (i) => y(fc.mean[i])), class: "forecast-line",
      "data-testid": "chart-forecast-line", "data-points": fts.length,
    }));
    if (dots || fts.length === 1) {
      plot.append(svg("g", { class: "forecast-dots" },
        ...fts.map((t, i) => svg("circle", { cx: r1(x(t)), cy: r1(y(fc.mean[i])), r: 2.5 }))));
    }
  }

  const EVENT_TYPE_TEXT = { display: "event", influence: "influencing event", suppress: "suppress event" };

  /** What a marker's <title> says about an event: title, kind, time, and what it holds. */
  function eventText(e) {
    const when = known(e.end) && e.end > e.start
      ? dateFmt.format(new Date(e.start * 1000)) + " – " + dateFmt.format(new Date(e.end * 1000))
      : dateFmt.format(new Date(e.start * 1000)) + (e.type === "suppress" && !known(e.end) ? " – (ongoing)" : "");
    const props = Object.entries(e.properties || {}).map(([k, v]) => k + "=" + v).join(", ");
    return [
      e.title,
      (EVENT_TYPE_TEXT[e.type] || e.type) + " · " + e.category + " · " + e.source,
      when,
      e.type === "suppress" ? "Alert messages held" + (props ? " for " + props : "") : props,
      e.description || "",
    ].filter(Boolean).join("\n");
  }

  /**
   * Draw a timeseries answer into `box` as an SVG chart: value axis, time axis, the line,
   * the min–max band of rollups, the learned normal band (lower–upper) where the answer
   * has one, shaded anomaly intervals and a tooltip on hover. Options:
   * - onZoom(from, to): drag across the chart to zoom (epoch s);
   * - anomalies: [{start, end, timescale, anomaly_id, peak_score, direction}] to shade;
   * - onAnomaly(a): a click on a shaded interval;
   * - peak: {ts, value} to mark;
   * - forecast: {origin, step, timestamps, mean, levels: [{key, level, lower, upper}]}, drawn
   *   after the series: a dashed line, a band per confidence level (the wider, the lighter)
   *   and a mark where it starts;
   * - events: user events [{id, title, category, source, type, start, end}] (GET /events): a
   *   dashed line with a flag at its start (its title shows on hover), and a shaded band
   *   over its span when it has one; suppress events are hatched.
   * - fired: [{start, end, label}] when an alert fired (or would have): a bell-coloured line
   *   with a marker at its start and a light band to its end.
   */
  function drawSeries(box, s, opts) {
    const o = opts || {};
    $$("svg", box).forEach((el) => el.remove());
    const tip = $(".chart-tip", box);
    show(tip, false);
    const W = Math.max(320, box.clientWidth);
    const H = Math.max(160, box.clientHeight);
    const evs = o.events || [];
    // Events put their flags above the plot: room for them there.
    const M = { l: 64, r: 18, t: evs.length ? 26 : 14, b: 40 };
    const pw = W - M.l - M.r;
    const ph = H - M.t - M.b;
    const ts = s.timestamps;
    const vs = s.values;
    const band = !!(s.min && s.max);
    const learned = !!(s.lower && s.upper);
    const n = ts.length;
    // Native points: an anomaly widens by half their spacing (rollups: see anomalySpan).
    const nativeStep = RESOLUTION_SECONDS[s.resolution] ? Infinity : medianStep(ts);
    const fc = o.forecast && o.forecast.timestamps && o.forecast.timestamps.length ? o.forecast : null;
    const fts = fc ? fc.timestamps : [];
    const fn = fts.length;
    // Widest level first: each band is drawn over the wider ones.
    const fbands = fc ? fc.levels.slice().sort((a, b) => b.level - a.level) : [];

    const t0 = Math.min(s.start, n ? ts[0] : s.start);
    const t1 = Math.max(s.end, fn ? fts[fn - 1] : s.end);
    const [lo, hi] = fc ? forecastRange(fc, valueRange(s)) : valueRange(s);
    const yv = valueTicks(lo, hi, Math.max(3, Math.floor(ph / 56)));
    const x = (t) => M.l + ((t - t0) / (t1 - t0)) * pw;
    const y = (v) => M.t + ph - ((v - yv.lo) / (yv.hi - yv.lo)) * ph;
    const tOf = (px) => t0 + ((Math.min(Math.max(px, M.l), M.l + pw) - M.l) / pw) * (t1 - t0);
    const px = (i) => x(ts[i]);
    const segments = segmentsOf(ts, s.resolution);

    // Anomalies as pixel intervals, at least 6 px wide so that a one-point one shows.
    const spans = (o.anomalies || []).map((a) => {
      const [from, to] = anomalySpan(a, nativeStep);
      let a0 = x(from);
      let a1 = x(to);
      if (a1 - a0 < 6) {
        const mid = (a0 + a1) / 2;
        a0 = mid - 3;
        a1 = mid + 3;
      }
      return { a, from, to, x0: Math.max(M.l, a0), x1: Math.min(M.l + pw, a1) };
    }).filter((sp) => sp.x1 > sp.x0);

    // Events as pixels: a line at the start, a band to the end (an open suppress event
    // lasts to the right edge). Those wholly outside the range are not drawn.
    const eventMarks = evs.map((e) => {
      const ranged = known(e.end) ? e.end > e.start : e.type === "suppress";
      const end = known(e.end) ? e.end : ranged ? t1 : e.start;
      if (end < t0 || e.start > t1) return null;
      return { e, ranged, xs: x(Math.max(e.start, t0)), xe: x(Math.min(end, t1)), atStart: e.start >= t0 };
    }).filter(Boolean);

    // Alert times as pixels: a line at the start, a band to the end, within the range.
    const firedMarks = (o.fired || []).map((f) => {
      const end = known(f.end) ? Math.max(f.end, f.start) : f.start;
      if (end < t0 || f.start > t1) return null;
      return { f, xs: x(Math.max(f.start, t0)), xe: x(Math.min(end, t1)), atStart: f.start >= t0 };
    }).filter(Boolean);

    const root = svg("svg", {
      width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "chart-svg", role: "img",
      "aria-label": s.name + ": " + n + " points at resolution " + s.resolution,
      "data-testid": "chart-svg", "data-points": n, "data-resolution": s.resolution, "data-band": String(band),
      "data-learned": String(learned), "data-anomalies": spans.length,
      "data-forecast-points": fc ? fn : null, "data-forecast-levels": fc ? fbands.map((b) => b.key).join(",") : null,
      "data-events": eventMarks.length, "data-fired": firedMarks.length,
    });
    if (fc) root.setAttribute("aria-label", root.getAttribute("aria-label") + ", then " + fn + " forecast points");
    const clipId = "plot-clip-" + ++chartSeq;
    root.append(svg("defs", {}, svg("clipPath", { id: clipId },
      svg("rect", { x: M.l, y: M.t - 2, width: pw, height: ph + 4 }))));

    const shading = svg("g", { class: "anomaly-spans" });
    spans.forEach((sp) => {
      const attrs = {
        "data-anomaly-id": sp.a.anomaly_id, "data-start": sp.a.start, "data-end": sp.a.end,
      };
      shading.append(
        svg("rect", { x: r1(sp.x0), y: M.t, width: r1(sp.x1 - sp.x0), height: ph, class: "anomaly-span",
          "data-testid": "chart-anomaly", ...attrs }),
        svg("rect", { x: r1(sp.x0), y: M.t, width: r1(sp.x1 - sp.x0), height: 3, class: "anomaly-mark" }));
    });
    root.append(shading);
    if (firedMarks.length) {
      const bands = svg("g", { class: "fired-bands" });
      firedMarks.forEach((m) => bands.append(svg("rect", {
        x: r1(m.xs), y: M.t, width: r1(Math.max(1, m.xe - m.xs)), height: ph, class: "fired-band",
      })));
      root.append(bands);
    }
    if (eventMarks.length) {
      const bands = svg("g", { class: "event-bands" });
      eventMarks.filter((m) => m.ranged).forEach((m) => bands.append(svg("rect", {
        x: r1(m.xs), y: M.t, width: r1(Math.max(1, m.xe - m.xs)), height: ph,
        class: "event-band event-" + m.e.type, "data-testid": "chart-event-band", "data-event-id": m.e.id,
      })));
      if (eventMarks.some((m) => m.ranged && m.e.type === "suppress")) {
        root.querySelector("defs").append(svg("pattern", {
          id: clipId + "-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)",
        }, svg("rect", { width: 6, height: 6, class: "hatch-bg" }), svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" })));
        $$(".event-suppress", bands).forEach((r) => { r.style.fill = "url(#" + clipId + "-hatch)"; });
      }
      root.append(bands);
    }

    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis" });
    yv.ticks.forEach((v) => {
      const yy = r1(y(v)) + 0.5;
      grid.append(svg("line", { x1: M.l, x2: M.l + pw, y1: yy, y2: yy }));
      axis.append(svg("text", { x: M.l - 8, y: yy + 4, "text-anchor": "end" }, yv.fmt(v)));
    });
    const tt = timeTicks(t0, t1, pw);
    let prev = null;
    tt.ticks.forEach((t) => {
      const xx = r1(x(t)) + 0.5;
      if (xx < M.l - 0.5 || xx > M.l + pw + 0.5) return;
      grid.append(svg("line", { x1: xx, x2: xx, y1: M.t, y2: M.t + ph, class: "grid-v" }));
      const [line1, line2] = tt.label(t, prev);
      prev = t;
      const label = svg("text", { x: xx, y: M.t + ph + 16, "text-anchor": "middle" }, line1);
      axis.append(label);
      if (line2) axis.append(svg("text", { x: xx, y: M.t + ph + 31, "text-anchor": "middle", class: "axis-day" }, line2));
    });
    axis.append(svg("line", { x1: M.l, x2: M.l + pw, y1: M.t + ph + 0.5, y2: M.t + ph + 0.5, class: "axis-line" }));
    root.append(grid, axis);

    const plot = svg("g", { "clip-path": "url(#" + clipId + ")" });
    if (learned) {
      const [d, points] = areaPath(segments, px, (i) => (known(s.upper[i]) ? y(s.upper[i]) : null),
        (i) => (known(s.lower[i]) ? y(s.lower[i]) : null));
      plot.append(svg("path", { d, class: "learned-band", "data-testid": "chart-learned-band", "data-points": points }));
      if (s.expected) {
        const runs = [];
        segments.forEach((seg) => {
          let run = [];
          seg.forEach((i) => {
            if (known(s.expected[i])) run.push(i);
            else if (run.length) { runs.push(run); run = []; }
          });
          if (run.length) runs.push(run);
        });
        plot.append(svg("path", {
          d: linePath(runs, px, (i) => y(s.expected[i])), class: "learned-expected", "data-testid": "chart-expected",
        }));
      }
    }
    if (band) {
      const [d] = areaPath(segments, px, (i) => y(s.max[i]), (i) => y(s.min[i]));
      plot.append(svg("path", { d, class: "series-band", "data-testid": "chart-band" }));
    }
    if (fc) drawForecastBands(plot, fc, fbands, x, y);
    // The metric's newest bucket while it fills holds part of its period (a counter's
    // hour reads low): drawn dashed and hollow, apart from the complete ones.
    const partial = !!s.partial && n > 0;
    const whole = partial
      ? segments.map((seg) => seg.filter((i) => i !== n - 1)).filter((seg) => seg.length)
      : segments;
    plot.append(svg("path", { d: linePath(whole, px, (i) => y(vs[i])), class: "series-line", "data-testid": "chart-line" }));
    if (partial) {
      const last = segments.find((seg) => seg.includes(n - 1));
      const mark = svg("g", { class: "series-partial", "data-testid": "chart-partial", "data-ts": ts[n - 1] });
      if (last && last.length > 1) {
        mark.append(svg("path", { d: linePath([[n - 2, n - 1]], px, (i) => y(vs[i])), class: "partial-line" }));
      }
      mark.append(svg("circle", { cx: r1(px(n - 1)), cy: r1(y(vs[n - 1])), r: 3.5, class: "partial-dot" },
        svg("title", {}, "Still filling: part of its " + s.resolution)));
      plot.append(mark);
    }
    // Dots on the forecast too when it has only a few points.
    if (fc) drawForecastLine(plot, fc, x, y, fn <= 12 && fn <= pw / 8, n ? { ts, vs } : null);
    // Points stand out when there are few; a lone point has no line to show it.
    const dots = svg("g", { class: "series-dots" });
    segments.forEach((seg) => {
      if (seg.length === 1 || n <= pw / 8) {
        seg.forEach((i) => dots.append(svg("circle", { cx: r1(px(i)), cy: r1(y(vs[i])), r: 2.5 })));
      }
    });
    plot.append(dots);
    // The points inside an anomaly, in the anomaly colour.
    const hot = svg("g", { class: "anomaly-dots" });
    let hotCount = 0;
    spans.forEach((sp) => {
      for (let i = 0; i < n && hotCount < 500; i++) {
        if (ts[i] >= sp.a.start && ts[i] <= sp.a.end) {
          hot.append(svg("circle", { cx: r1(px(i)), cy: r1(y(vs[i])), r: 3 }));
          hotCount++;
        }
      }
    });
    plot.append(hot);
    if (o.peak && known(o.peak.ts) && known(o.peak.value)) {
      plot.append(svg("circle", {
        cx: r1(x(o.peak.ts)), cy: r1(y(o.peak.value)), r: 5.5, class: "peak-dot", "data-testid": "chart-peak",
        "data-ts": o.peak.ts,
      }));
    }
    root.append(plot);
    if (firedMarks.length) {
      const marks = svg("g", { class: "fired-marks" });
      firedMarks.forEach((m) => {
        const fx = r1(m.xs) + 0.5;
        const g = svg("g", {
          class: "fired-marker", "data-testid": "chart-fired", "data-start": m.f.start, "data-end": known(m.f.end) ? m.f.end : null,
        }, svg("title", {}, (m.f.label || "Fired") + "\n" + dateFmt.format(new Date(m.f.start * 1000))));
        if (m.atStart) {
          g.append(
            svg("line", { x1: fx, x2: fx, y1: M.t, y2: M.t + ph, class: "fired-line" }),
            svg("path", { d: "M" + (fx - 5) + " " + M.t + "h10l-5 7z", class: "fired-head" }));
        }
        marks.append(g);
      });
      root.append(marks);
    }
    if (fc && known(fc.origin) && fc.origin >= t0) {
      const ox = r1(x(fc.origin)) + 0.5;
      root.append(svg("g", { class: "forecast-origin", "data-testid": "chart-forecast-origin", "data-ts": fc.origin },
        svg("line", { x1: ox, x2: ox, y1: M.t, y2: M.t + ph }),
        svg("text", { x: ox + 6, y: M.t + 11 }, "forecast")));
    }

    const hover = svg("g", { class: "hover", visibility: "hidden" },
      svg("line", { y1: M.t, y2: M.t + ph, class: "hover-line" }),
      svg("circle", { r: 4, class: "hover-dot" }));
    const selection = svg("rect", { y: M.t, height: ph, class: "selection", visibility: "hidden", "data-testid": "chart-selection" });
    const overlay = svg("rect", {
      x: M.l, y: M.t, width: pw, height: ph, class: "overlay" + (o.onZoom ? " zoomable" : ""), "data-testid": "chart-overlay",
    });
    root.append(hover, selection, overlay);
    // Event markers over the overlay, so that hovering one shows its title (SVG <title>).
    if (eventMarks.length) {
      const marks = svg("g", { class: "event-marks" });
      const flag = (ex) => "M" + ex + " " + (M.t - 14) + "h11l-3 4.5 3 4.5h-11z";
      eventMarks.forEach((m) => {
        const ex = r1(m.xs) + 0.5;
        const g = svg("g", {
          class: "event-marker event-" + m.e.type, "data-testid": "chart-event", "data-event-id": m.e.id,
          "data-type": m.e.type, "data-start": m.e.start,
        }, svg("title", {}, eventText(m.e)));
        if (m.atStart) {
          g.append(
            svg("line", { x1: ex, x2: ex, y1: M.t - 14, y2: M.t + ph, class: "event-line" }),
            svg("line", { x1: ex, x2: ex, y1: M.t - 14, y2: M.t + ph, class: "event-hit" }),
            svg("path", { d: flag(ex), class: "event-flag" }));
        } else {
          // Started before the range: a flag at the left edge only.
          g.append(svg("path", { d: flag(ex), class: "event-flag" }));
        }
        marks.append(g);
      });
      root.append(marks);
    }
    box.append(root);

    const localX = (ev) => ev.clientX - root.getBoundingClientRect().left;
    const clampX = (p) => Math.min(Math.max(p, M.l), M.l + pw);
    const spanAt = (p) => spans.find((sp) => p >= sp.x0 && p <= sp.x1) || null;
    // The events under the pointer: within a band, or a few pixels from a line.
    const eventsAt = (p) => eventMarks.filter((m) => (m.ranged ? p >= m.xs - 3 && p <= m.xe + 3 : Math.abs(p - m.xs) <= 6));

    // Half the forecast's step: a point of the series this close to a forecast point is its actual.
    const fTol = fc ? (known(fc.step) ? fc.step : fn > 1 ? fts[1] - fts[0] : 0) / 2 : 0;

    function showHover(p) {
      if (!n && !fn) return;
      const t = tOf(p);
      let i = n ? nearestIndex(ts, t) : -1;
      let f = fn ? nearestIndex(fts, t) : -1;
      // The nearer of the two, and the other if it falls at the same time.
      if (f >= 0 && (i < 0 || Math.abs(fts[f] - t) < Math.abs(ts[i] - t))) {
        if (i >= 0 && Math.abs(ts[i] - fts[f]) > fTol) i = -1;
      } else if (f >= 0 && Math.abs(fts[f] - ts[i]) > fTol) {
        f = -1;
      }
      const hx = r1(x(i >= 0 ? ts[i] : fts[f]));
      const hy = r1(i >= 0 ? y(vs[i]) : y(fc.mean[f]));
      const sp = spanAt(p);
      overlay.classList.toggle("on-anomaly", !!(sp && o.onAnomaly));
      hover.setAttribute("visibility", "visible");
      hover.firstChild.setAttribute("x1", hx);
      hover.firstChild.setAttribute("x2", hx);
      hover.lastChild.setAttribute("cx", hx);
      hover.lastChild.setAttribute("cy", hy);
      const normal = i >= 0 && learned && known(s.lower[i]) && known(s.upper[i]);
      append(clear(tip), [
        h("div", { class: "tip-time" }, dateFmt.format(new Date((i >= 0 ? ts[i] : fts[f]) * 1000))),
        i >= 0 ? h("div", { class: "tip-value" }, fmtValue(vs[i])) : null,
        i >= 0 && band ? h("div", { class: "tip-extra" }, "min " + fmtValue(s.min[i]) + " · max " + fmtValue(s.max[i])
          + (s.count ? " · " + fmtCount(s.count[i]) + (s.count[i] === 1 ? " point" : " points") : "")) : null,
        f >= 0 ? h("div", { class: "tip-forecast" }, "forecast " + fmtValue(fc.mean[f])) : null,
        f >= 0 ? fbands.slice().reverse().map((b) => h("div", { class: "tip-extra" },
          fmtLevel(b.level) + ": " + fmtValue(b.lower[f]) + " – " + fmtValue(b.upper[f]))) : null,
        normal ? h("div", { class: "tip-extra" }, "normal " + fmtValue(s.lower[i]) + " – " + fmtValue(s.upper[i])
          + (s.scores && known(s.scores[i]) ? " · score " + Math.round(s.scores[i]) : "")) : null,
        sp ? h("div", { class: "tip-anomaly" }, "Anomaly" + (sp.a.anomaly_id ? " #" + sp.a.anomaly_id : "")
          + (known(sp.a.peak_score) ? " · score " + Math.round(sp.a.peak_score) : "")
          + (o.onAnomaly ? " · click to open" : "")) : null,
        firedMarks.filter((m) => p >= m.xs - 4 && p <= Math.max(m.xe, m.xs) + 4).slice(0, 1).map((m) => h("div", { class: "tip-fired" },
          (m.f.label || "Fired") + " " + fmtTime(isoOf(m.f.start)))),
        eventsAt(p).map((m) => h("div", { class: "tip-event" },
          (m.e.type === "suppress" ? "Suppressed: " : "Event: ") + m.e.title)),
      ]);
      show(tip, true);
      const left = hx + 12 + tip.offsetWidth > W ? hx - 12 - tip.offsetWidth : hx + 12;
      tip.style.left = left + "px";
      tip.style.top = Math.max(0, Math.min(hy - tip.offsetHeight - 10, H - tip.offsetHeight)) + "px";
    }

    function hideHover() {
      hover.setAttribute("visibility", "hidden");
      show(tip, false);
    }

    let drag = null;
    overlay.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      ev.preventDefault();
      drag = { from: clampX(localX(ev)) };
      overlay.setPointerCapture(ev.pointerId);
      if (o.onZoom) hideHover();
    });
    overlay.addEventListener("pointermove", (ev) => {
      const p = clampX(localX(ev));
      if (!drag || !o.onZoom) {
        showHover(p);
        return;
      }
      selection.setAttribute("visibility", "visible");
      selection.setAttribute("x", Math.min(drag.from, p));
      selection.setAttribute("width", Math.abs(p - drag.from));
    });
    const endDrag = (ev, apply) => {
      if (!drag) return;
      const a = drag.from;
      const b = clampX(localX(ev));
      drag = null;
      selection.setAttribute("visibility", "hidden");
      if (!apply) return;
      if (Math.abs(b - a) < 4) {
        // A click, not a drag: on a shaded anomaly, open it.
        const sp = spanAt(b);
        if (sp && o.onAnomaly) o.onAnomaly(sp.a);
        return;
      }
      if (!o.onZoom) return;
      const from = Math.floor(tOf(Math.min(a, b)));
      const to = Math.max(from + 1, Math.ceil(tOf(Math.max(a, b))));
      o.onZoom(from, to);
    };
    overlay.addEventListener("pointerup", (ev) => endDrag(ev, true));
    overlay.addEventListener("pointercancel", (ev) => endDrag(ev, false));
    overlay.addEventListener("pointerleave", () => { if (!drag) hideHover(); });
  }

  function metricPage() {
    const id = $("#metric-root").dataset.metricId;
    const chart = $("#chart");
    // What is shown lives in the URL: ?range= (a preset ending at the newest point),
    // ?from=&to= (a zoom; wins over the preset) and ?resolution=.
    const view = { range: DEFAULT_RANGE, from: null, to: null, resolution: "auto" };
    let metric = null;
    let series = null;
    let events = [];
    let pngUrl = null;

    function readUrl() {
      const p = new URLSearchParams(location.search);
      view.range = RANGES[p.get("range")] ? p.get("range") : DEFAULT_RANGE;
      const from = Number(p.get("from"));
      const to = Number(p.get("to"));
      const zoomed = p.has("from") && p.has("to") && isFinite(from) && isFinite(to) && from >= 0 && to > from;
      view.from = zoomed ? from : null;
      view.to = zoomed ? to : null;
      view.resolution = SERIES_RESOLUTIONS.includes(p.get("resolution")) ? p.get("resolution") : "auto";
    }

    function writeUrl() {
      const p = new URLSearchParams();
      if (view.range !== DEFAULT_RANGE) p.set("range", view.range);
      if (view.from !== null) {
        p.set("from", String(view.from));
        p.set("to", String(view.to));
      }
      if (view.resolution !== "auto") p.set("resolution", view.resolution);
      const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
      if (url !== location.pathname + location.search) history.pushState(null, "", url);
    }

    /** [from, to] in epoch seconds: the zoom, or the preset ending at the newest point. */
    function span() {
      if (view.from !== null) return [view.from, view.to];
      const end = Math.floor(metric.last_ts) + 1;
      return [end - RANGES[view.range], end];
    }

    function syncControls() {
      const zoomed = view.from !== null;
      $$("#range-presets .seg").forEach((b) => b.setAttribute("aria-pressed", String(!zoomed && b.dataset.range === view.range)));
      $$("#resolutions .seg").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.resolution === view.resolution)));
      show($("#zoom-reset"), zoomed);
    }

    function fact(label, value, testid) {
      return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));
    }

    function fillHeader(m) {
      $("#metric-what").textContent = m.what;
      append(clear($("#metric-type")), typeBadge(m.target_type));
      $("#metric-name").textContent = m.name;
      document.title = m.what + " · augury";
      const dims = Object.keys(m.dimensions).sort();
      append(clear($("#metric-dimensions")), dims.length
        ? dims.map((k) => fact(k, m.dimensions[k], "dimension-" + k))
        : h("p", { class: "muted" }, "This metric has no dimensions besides what."));
      if (m.tags && Object.keys(m.tags).length) {
        Object.entries(m.tags).forEach(([k, v]) => $("#metric-dimensions").append(fact("tag " + k, v.join(", "))));
      }
      append(clear($("#metric-facts")), [
        fact("Type", m.target_type === "counter" ? "counter (rollups sum)" : "gauge (rollups average)"),
        fact("Source", m.source),
        fact("First point", timeEl(isoOf(m.first_ts))),
        fact("Last point", timeEl(isoOf(m.last_ts))),
        fact("Created", timeEl(m.created_at)),
        fact("Metric id", "#" + m.id),
      ]);
      $("#metric-png").disabled = m.last_ts === null;
      $("#metric-forecast").href = "/forecasts?" + new URLSearchParams({
        new: "1", expression: metricExpression(m), name: forecastName(m),
      }).toString();
    }

    function setInfo(s) {
      show($("#series-info"), !!s);
      const res = $("#series-resolution");
      res.textContent = s ? s.resolution : "–";
      res.title = s && view.resolution === "auto" ? "chosen by auto for this range" : "";
      const count = s ? s.timestamps.length : null;
      $("#series-count").textContent = s ? fmtCount(count) : "–";
      let label = count === 1 ? "point" : "points";
      if (s && s.count) {
        const samples = s.count.reduce((a, b) => a + b, 0);
        label += " (" + fmtCount(samples) + (samples === 1 ? " sample)" : " samples)");
      }
      $("#series-count-label").textContent = label;
      $("#series-range").textContent = s ? fmtTime(isoOf(s.start)) + " – " + fmtTime(isoOf(s.end)) : "";
      const drawn = !!(s && s.timestamps.length);
      const minmax = drawn && !!s.min;
      const learned = drawn && !!(s.lower && s.upper);
      const anomalies = drawn && !!(s.anomalies && s.anomalies.length);
      const marked = drawn && events.length > 0;
      const suppressed = drawn && events.some((e) => e.type === "suppress");
      show($("#chart-legend"), minmax || learned || anomalies || marked);
      show($("#legend-minmax"), minmax);
      show($("#legend-learned"), learned);
      show($("#legend-anomaly"), anomalies);
      show($("#legend-events"), marked);
      show($("#legend-suppress"), suppressed);
      $("#legend-agg").textContent = metric && metric.target_type === "counter" ? "sum" : "average";
      listAnomalies(drawn ? s.anomalies : null);
    }

    /** The anomalies in range, under the chart (the strongest, if many): each opens its Anomaly. */
    function listAnomalies(items) {
      const list = clear($("#metric-anomalies-list"));
      const all = items || [];
      show($("#metric-anomalies"), all.length > 0);
      if (metric) $("#metric-anomalies-all").href = "/anomalies?q=" + encodeURIComponent(metricExpression(metric));
      const shown = all.length <= MAX_LISTED ? all
        : all.slice().sort((p, q) => q.peak_score - p.peak_score).slice(0, MAX_LISTED).sort((p, q) => p.start - q.start);
      if (all.length > shown.length) {
        list.append(h("li", { class: "muted small" }, "The " + shown.length + " strongest of " + all.length + ":"));
      }
      shown.forEach((a) => list.append(h("li", {},
        h("a", {
          href: "/anomalies/" + a.anomaly_id, class: "anomaly-chip", "data-testid": "metric-anomaly-" + a.anomaly_id,
        },
        scorePill(a.peak_score),
        directionArrow(a.direction),
        h("span", {}, fmtTime(isoOf(a.start)) + (a.end > a.start ? " – " + fmtTime(isoOf(a.end)) : "")),
        badge(a.timescale, "muted"),
        stateBadge(a.state)))));
    }

    const MAX_LISTED = 12;

    function openAnomaly(a) {
      location.assign("/anomalies/" + a.anomaly_id);
    }

    function draw(s) {
      drawSeries(chart, s, { onZoom: zoomTo, anomalies: s.anomalies, onAnomaly: openAnomaly, events });
    }

    /** The events overlapping the range (deploys, campaigns, suppressions): marks on the chart. */
    async function loadEvents(from, to) {
      try {
        const page = await api("/events", { query: { from, to, limit: 500 } });
        return page.items;
      } catch (err) {
        console.error(err); // the chart is still worth showing without them
        return [];
      }
    }

    function chartMessage(message, actions) {
      $$("svg", chart).forEach((el) => el.remove());
      show($("#chart-tip"), false);
      const box = clear($("#chart-empty"));
      box.append(h("div", { class: "empty-icon" }, "∅"), h("p", {}, message));
      if (actions && actions.length) box.append(h("div", { class: "chart-actions" }, actions));
      show(box, !!message);
    }

    function pick(resolution) {
      view.resolution = resolution;
      writeUrl();
      return load();
    }

    function errorActions(err) {
      // Too many points: suggest the resolutions that fit the range.
      const [from, to] = span();
      const coarser = Object.keys(RESOLUTION_SECONDS)
        .filter((r) => r !== view.resolution && (to - from) / RESOLUTION_SECONDS[r] <= MAX_SERIES_POINTS);
      if (view.resolution !== "auto") coarser.unshift("auto");
      const buttons = coarser.map((r) => h("button", {
        type: "button", class: "btn btn-small", "data-testid": "suggest-" + r, onclick: () => pick(r),
      }, "Use " + r));
      return { buttons, hint: err.details && err.details.max_points && buttons.length
        ? " Pick one of the coarser resolutions below, or zoom in." : "" };
    }

    const seriesCall = newestOnly();
    async function load() {
      const stale = seriesCall();
      syncControls();
      chart.classList.add("loading");
      let s;
      try {
        const m = await api("/metrics/" + id);
        if (stale()) return;
        metric = m;
        fillHeader(m);
        if (m.last_ts === null) {
          series = null;
          setInfo(null);
          chartMessage("This metric has no points yet.");
          return;
        }
        const [from, to] = span();
        let evs;
        [s, evs] = await Promise.all([
          api("/metrics/" + id + "/timeseries", { query: { from, to, resolution: view.resolution } }),
          loadEvents(from, to),
        ]);
        if (stale()) return;
        events = evs;
      } catch (err) {
        if (stale()) return;
        series = null;
        setInfo(null);
        if (err.status === 404) {
          $("#metric-what").textContent = "Metric #" + id;
          $("#metric-name").textContent = "This metric does not exist in this organization.";
          chartMessage("Nothing to draw.");
          $$(".chart-toolbar button").forEach((b) => { b.disabled = true; });
          return;
        }
        if (err.status === 422) {
          const { buttons, hint } = errorActions(err);
          const el = $("#chart-error");
          el.textContent = err.message + hint;
          show(el, true);
          chartMessage("No chart for this range at this resolution.", buttons);
          return;
        }
        throw err;
      } finally {
        if (!stale()) chart.classList.remove("loading");
      }
      if (stale()) return;
      series = s;
      show($("#chart-error"), false);
      setInfo(s);
      if (!s.timestamps.length) {
        const native = view.resolution !== "native" && s.resolution !== "native";
        chartMessage("No points between " + fmtTime(isoOf(s.start)) + " and " + fmtTime(isoOf(s.end)) + "."
          + (native ? " Rollups follow new points within seconds; native shows the points themselves." : ""),
          [
            view.from !== null ? h("button", { type: "button", class: "btn btn-small", onclick: resetZoom }, "Reset zoom") : null,
            native ? h("button", { type: "button", class: "btn btn-small", onclick: () => pick("native") }, "Use native") : null,
          ].filter(Boolean));
        return;
      }
      show($("#chart-empty"), false);
      draw(s);
    }

    function zoomTo(from, to) {
      view.from = from;
      view.to = to;
      writeUrl();
      load().catch(showError);
    }

    function resetZoom() {
      view.from = null;
      view.to = null;
      writeUrl();
      load().catch(showError);
    }

    $$("#range-presets .seg").forEach((b) => b.addEventListener("click", () => {
      view.range = b.dataset.range;
      view.from = null;
      view.to = null;
      writeUrl();
      load().catch(showError);
    }));
    $$("#resolutions .seg").forEach((b) => b.addEventListener("click", () => pick(b.dataset.resolution).catch(showError)));
    $("#zoom-reset").addEventListener("click", resetZoom);
    window.addEventListener("popstate", () => {
      readUrl();
      load().catch(showError);
    });
    let lastWidth = chart.clientWidth;
    new ResizeObserver(() => {
      if (chart.clientWidth === lastWidth) return;
      lastWidth = chart.clientWidth;
      if (series && series.timestamps.length) draw(series);
    }).observe(chart);

    // The PNG the server draws needs the bearer token: fetch it, show it from a blob URL.
    const dialog = $("#png-dialog");
    $("#metric-png").addEventListener("click", () => busy($("#metric-png"), async () => {
      const [from, to] = span();
      const blob = await api("/metrics/" + id + "/graph.png", {
        blob: true, query: { from, to, resolution: view.resolution, width: 1200, height: 400 },
      });
      if (pngUrl) URL.revokeObjectURL(pngUrl);
      pngUrl = URL.createObjectURL(blob);
      $("#png-image").src = pngUrl;
      $("#png-download").href = pngUrl;
      $("#png-download").download = (metric ? metric.what : "metric") + "-" + id + ".png";
      dialog.showModal();
    }));
    $("#png-close").addEventListener("click", () => dialog.close());

    readUrl();
    return load();
  }

  // --- anomalies ----------------------------------------------------------------------

  const TYPE_LABEL = { transient: "transient", pattern_change: "pattern change" };
  const ARROW = { up: "↑", down: "↓", both: "↕" };

  function scoreLevel(score) {
    return score >= 80 ? "high" : score >= 60 ? "mid" : "low";
  }

  /** The score 0-100 as a coloured pill, rounded (the exact value in its title). */
  function scorePill(score, testid) {
    const v = Number(score) || 0;
    return h("span", {
      class: "score score-" + scoreLevel(v), "data-testid": testid, "data-score": v,
      title: "Score " + fmtNum(v, 1) + " of 100",
    }, String(Math.round(v)));
  }

  function directionArrow(direction, testid) {
    return h("span", {
      class: "dir dir-" + direction, title: direction === "both" ? "up and down" : direction,
      "aria-label": direction, "data-testid": testid,
    }, ARROW[direction] || "·");
  }

  function stateBadge(state, testid) {
    return badge(state, state === "open" ? "danger" : "muted", testid);
  }

  function kindBadge(type) {
    return badge(TYPE_LABEL[type] || type, type === "pattern_change" ? "violet" : "info");
  }

  /** A duration as people say it: "45 s", "5 min", "2 h", "3 d". */
  function fmtDuration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return Math.round(s) + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function fmtSigned(v) {
    if (v === null || v === undefined) return "–";
    return (v > 0 ? "+" : v < 0 ? "−" : "") + fmtValue(Math.abs(v));
  }

  function fmtPct(p) {
    if (p === null || p === undefined) return null;
    const a = Math.abs(p);
    return (p > 0 ? "+" : p < 0 ? "−" : "") + fmtNum(a, a >= 100 ? 0 : 1) + " %";
  }

  /** Delta as value and percent of the expected: "+12.1 (+24.3 %)". */
  function deltaEl(delta, pct, testid) {
    const p = fmtPct(pct);
    return h("span", { class: "delta", "data-testid": testid },
      h("span", { class: "strong" }, fmtSigned(delta)), p ? h("span", { class: "muted" }, " (" + p + ")") : null);
  }

  /** Anodot-style kinds of an anomaly: the types of its metrics. */
  function anomalyTypes(a) {
    return [...new Set(a.metrics.map((m) => m.type))];
  }

  /** A small chart of one metric around an anomaly: band, line, shaded interval, peak. */
  function drawSparkline(box, s, a, m) {
    clear(box);
    const n = s.timestamps.length;
    if (!n) {
      box.append(h("span", { class: "muted small" }, "no points"));
      return;
    }
    const W = 150;
    const H = 38;
    const P = 4;
    const ts = s.timestamps;
    let [lo, hi] = valueRange(s);
    if (hi <= lo) {
      lo -= 1;
      hi += 1;
    }
    const t0 = ts[0];
    const t1 = ts[n - 1] > t0 ? ts[n - 1] : t0 + 1;
    const x = (t) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
    const y = (v) => P + (H - 2 * P) * (1 - (v - lo) / (hi - lo));
    const px = (i) => x(ts[i]);
    const segments = segmentsOf(ts, s.resolution);
    const root = svg("svg", {
      width: W, height: H, viewBox: "0 0 " + W + " " + H, class: "spark", role: "img",
      "aria-label": m.name + " around the anomaly", "data-testid": "sparkline-" + a.id, "data-points": n,
    });
    const [from, to] = anomalySpan({ start: m.start, end: m.end, timescale: a.timescale }, medianStep(ts));
    let a0 = x(Math.max(from, t0));
    let a1 = x(Math.min(to, t1));
    if (a1 - a0 < 3) {
      a0 = (a0 + a1) / 2 - 1.5;
      a1 = a0 + 3;
    }
    root.append(svg("rect", { x: r1(a0), y: 0, width: r1(a1 - a0), height: H, class: "anomaly-span" }));
    if (s.lower && s.upper) {
      const [d] = areaPath(segments, px, (i) => (known(s.upper[i]) ? y(s.upper[i]) : null),
        (i) => (known(s.lower[i]) ? y(s.lower[i]) : null));
      root.append(svg("path", { d, class: "learned-band" }));
    }
    root.append(svg("path", { d: linePath(segments, px, (i) => y(s.values[i])), class: "spark-line" }));
    if (known(m.peak_ts) && known(m.peak_value) && m.peak_ts >= t0 && m.peak_ts <= t1) {
      root.append(svg("circle", { cx: r1(x(m.peak_ts)), cy: r1(y(m.peak_value)), r: 2.75, class: "peak-dot" }));
    }
    box.append(root);
  }

  /** Run `tasks` (functions answering promises), at most `width` at a time. */
  async function inPool(tasks, width) {
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++];
        await task();
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  }

  /** The seconds between points of a metric's anomaly (its buckets, for rollup scales). */
  function anomalyInterval(a, m) {
    return TIMESCALE_SECONDS[a.timescale] || Math.max(1, m.duration - (m.end - m.start)) || 60;
  }

  /** An expression that matches exactly this metric: what="cpu" AND host="web-1". */
  function metricExpression(m) {
    const quote = (v) => '"' + String(v).replace(/[\\"]/g, (c) => "\\" + c) + '"';
    const dims = Object.keys(m.dimensions || {}).sort();
    return ["what=" + quote(m.what), ...dims.map((k) => k + "=" + quote(m.dimensions[k]))].join(" AND ");
  }

  function metricsSummary(a) {
    const chip = (m) => {
      const dims = Object.keys(m.dimensions || {}).sort();
      return h("span", { class: "dim", title: m.name },
        dims.length ? dims.map((k, j) => [j ? ", " : "", h("span", { class: "dim-key" }, k + "="), m.dimensions[k]]) : m.name);
    };
    const shown = a.metrics.length <= 3 ? a.metrics : a.metrics.slice(0, 2);
    const rest = a.metric_count - shown.length;
    return h("div", { class: "anomaly-metrics", "data-testid": "anomaly-metrics-" + a.id },
      h("span", { class: "muted small metric-count" }, a.metric_count + (a.metric_count === 1 ? " metric" : " metrics")),
      h("span", { class: "dims" }, shown.map(chip), rest > 0 ? h("span", { class: "muted small" }, "and " + rest + " more") : null));
  }

  const ANOMALY_SORTS = new Set(["-start", "start", "-score", "score", "-duration"]);
  const ANOMALY_RANGES = { "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
  const ANOMALY_RANGE_TEXT = { "24h": "the last 24 hours", "7d": "the last 7 days", "30d": "the last 30 days" };
  // Filters as the API names them, and how they read from the URL.
  const ANOMALY_FILTERS = {
    q: (v) => v.trim(),
    min_score: (v) => (v !== "" && Number(v) >= 0 && Number(v) <= 100 ? String(Number(v)) : ""),
    min_duration: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
    min_delta: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
    min_delta_pct: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
    direction: (v) => (["up", "down"].includes(v) ? v : ""),
    state: (v) => (["open", "closed"].includes(v) ? v : ""),
    timescale: (v) => (v in TIMESCALE_SECONDS ? v : ""),
  };
  const FILTER_LABEL = {
    min_score: (v) => "≥ " + v,
    min_duration: (v) => "≥ " + fmtDuration(Number(v)),
    min_delta_pct: (v) => "≥ " + v + " %",
  };

  function anomaliesPage() {
    const state = { range: "all", from: null, to: null, sort: "-start", offset: 0, limit: 20, f: {} };
    const control = {
      q: $("#anomalies-q"),
      min_score: $("#filter-min-score"),
      min_duration: $("#filter-min-duration"),
      min_delta: $("#filter-min-delta"),
      min_delta_pct: $("#filter-min-delta-pct"),
      direction: $("#filter-direction"),
      state: $("#filter-state"),
      timescale: $("#filter-timescale"),
    };
    const sortSel = $("#anomalies-sort");

    /** A value from a link that no option offers gets an option of its own. */
    function setControl(name, value) {
      const el = control[name];
      if (el.tagName === "SELECT" && value && !$$("option", el).some((op) => op.value === value)) {
        el.append(h("option", { value }, FILTER_LABEL[name] ? FILTER_LABEL[name](value) : value));
      }
      el.value = value;
    }

    function readUrl() {
      const p = new URLSearchParams(location.search);
      state.range = ANOMALY_RANGES[p.get("range")] ? p.get("range") : "all";
      const from = Number(p.get("from"));
      const to = Number(p.get("to"));
      const custom = p.has("from") && p.has("to") && isFinite(from) && isFinite(to) && from >= 0 && to > from;
      state.from = custom ? from : null;
      state.to = custom ? to : null;
      state.sort = ANOMALY_SORTS.has(p.get("sort")) ? p.get("sort") : "-start";
      state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
      state.f = {};
      Object.entries(ANOMALY_FILTERS).forEach(([k, parse]) => {
        const v = parse(p.get(k) || "");
        if (v) state.f[k] = v;
        setControl(k, v);
      });
      sortSel.value = state.sort;
      syncControls();
    }

    function writeUrl() {
      const p = new URLSearchParams();
      if (state.from !== null) {
        p.set("from", String(state.from));
        p.set("to", String(state.to));
      } else if (state.range !== "all") {
        p.set("range", state.range);
      }
      Object.keys(ANOMALY_FILTERS).forEach((k) => { if (state.f[k]) p.set(k, state.f[k]); });
      if (state.sort !== "-start") p.set("sort", state.sort);
      if (state.offset) p.set("offset", String(state.offset));
      const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
      if (url !== location.pathname + location.search) history.pushState(null, "", url);
      syncControls();
    }

    function filtered() {
      return state.from !== null || state.range !== "all" || Object.keys(state.f).length > 0;
    }

    function syncControls() {
      const custom = state.from !== null;
      $$("#anomaly-ranges .seg[data-range]").forEach((b) =>
        b.setAttribute("aria-pressed", String(!custom && b.dataset.range === state.range)));
      show($("#range-custom"), custom);
      $("#range-custom").setAttribute("aria-pressed", String(custom));
      show($("#anomalies-reset"), filtered());
    }

    /** [from, to] in epoch s for the API: a preset ends now. */
    function span() {
      if (state.from !== null) return [state.from, state.to];
      if (state.range === "all") return [null, null];
      return [Math.floor(Date.now() / 1000) - ANOMALY_RANGES[state.range], null];
    }

    function apiFilters() {
      const [from, to] = span();
      return { from, to, ...state.f };
    }

    function caption() {
      let when = "At any time";
      if (state.from !== null) when = "Between " + fmtTime(isoOf(state.from)) + " and " + fmtTime(isoOf(state.to));
      else if (state.range !== "all") when = "In " + ANOMALY_RANGE_TEXT[state.range];
      const n = Object.keys(state.f).length;
      return when + (n ? ", " + n + (n === 1 ? " filter" : " filters") : "") + ". The counts above follow the filters too.";
    }

    function queryError(message) {
      const el = $("#anomalies-q-error");
      el.textContent = message || "";
      show(el, !!message);
      control.q.classList.toggle("invalid", !!message);
      if (message) control.q.setAttribute("aria-invalid", "true");
      else control.q.removeAttribute("aria-invalid");
    }

    function setCounts(c) {
      $("#stat-anomalies").textContent = c ? fmtCount(c.total) : "–";
      $("#stat-open").textContent = c ? fmtCount(c.open) : "–";
      $("#stat-closed").textContent = c ? fmtCount(c.closed) : "–";
      $("#stat-open").closest(".stat").classList.toggle("stat-alert", !!(c && c.open));
    }

    function row(a) {
      const href = "/anomalies/" + a.id;
      const spark = h("div", { class: "spark-box", "data-testid": "spark-box-" + a.id });
      const tr = h("tr", { class: "row-link", "data-testid": "anomaly-row-" + a.id, "data-anomaly-id": a.id },
        h("td", { class: "col-score" }, scorePill(a.score, "anomaly-score-" + a.id)),
        h("td", { class: "anomaly-cell" },
          h("div", { class: "anomaly-title" },
            h("a", { href, class: "strong", "data-testid": "anomaly-link-" + a.id }, a.what), " ",
            directionArrow(a.direction, "anomaly-direction-" + a.id)),
          metricsSummary(a)),
        h("td", { class: "col-spark" }, spark),
        h("td", { class: "nowrap" }, timeEl(isoOf(a.start)), h("div", { class: "muted small" }, fmtAgo(isoOf(a.start)))),
        h("td", { class: "num", "data-testid": "anomaly-duration-" + a.id }, fmtDuration(a.duration)),
        h("td", { class: "num" }, deltaEl(a.delta, a.delta_pct, "anomaly-delta-" + a.id)),
        h("td", { class: "col-kind" }, h("div", { class: "badges" },
          stateBadge(a.state, "anomaly-state-" + a.id),
          badge(a.timescale, "muted", "anomaly-timescale-" + a.id),
          anomalyTypes(a).map((t) => kindBadge(t)))));
      tr.addEventListener("click", (ev) => {
        if (!ev.target.closest("a") && !getSelection().toString()) location.assign(href);
      });
      return [tr, spark];
    }

    /** The strongest metric around the anomaly, with its band: one request per row. */
    async function loadSpark(a, box, stale) {
      const m = a.metrics[0];
      if (!m) return;
      const step = anomalyInterval(a, m);
      try {
        const s = await api("/metrics/" + m.metric_id + "/timeseries", {
          query: {
            from: Math.floor(m.start - 30 * step), to: Math.ceil(m.end + 30 * step) + 1, resolution: a.timescale,
          },
        });
        if (!stale()) drawSparkline(box, s, a, m);
      } catch (err) {
        if (!stale()) box.append(h("span", { class: "muted small", title: err.message }, "–"));
      }
    }

    const listCall = newestOnly();
    async function load() {
      const stale = listCall();
      const filters = apiFilters();
      let page;
      let count;
      try {
        [page, count] = await Promise.all([
          api("/anomalies", { query: { ...filters, sort: state.sort, offset: state.offset, limit: state.limit } }),
          api("/anomalies/count", { query: filters }),
        ]);
      } catch (err) {
        if (stale()) return;
        if (err.status === 422 && state.f.q) {
          queryError(err.message);
          setCounts(null);
          const tb = clear($("#anomalies-body"));
          emptyRow(tb, 7, "Fix the expression to see the anomalies of the metrics it matches.");
          show($("#anomalies-table"), true);
          show($("#anomalies-empty"), false);
          pager($("#anomalies-pager"), null);
          return;
        }
        show($("#anomalies-empty"), false);
        pager($("#anomalies-pager"), null);
        showFailed("anomalies-failed", $("#anomalies-table").closest(".table-wrap"), err, () => load().catch(showError));
        return;
      }
      if (stale()) return;
      hideFailed("anomalies-failed", $("#anomalies-table").closest(".table-wrap"));
      queryError(null);
      setCounts(count);
      $("#anomalies-caption").textContent = caption();
      const tb = clear($("#anomalies-body"));
      const none = page.total === 0 && !filtered();
      show($("#anomalies-empty"), none);
      show($("#anomalies-table"), !none);
      if (page.total === 0 && !none) emptyRow(tb, 7, "No anomaly matches these filters.");
      const sparks = page.items.map((a) => {
        const [tr, box] = row(a);
        tb.append(tr);
        return () => loadSpark(a, box, stale);
      });
      pager($("#anomalies-pager"), page, (o) => {
        state.offset = o;
        writeUrl();
        load().catch(showError);
      }, "anomalies");
      await inPool(sparks, 4);
    }

    function apply() {
      Object.entries(ANOMALY_FILTERS).forEach(([k, parse]) => {
        const v = parse(control[k].value || "");
        if (v) state.f[k] = v;
        else delete state.f[k];
      });
      state.offset = 0;
      writeUrl();
      return load();
    }

    $("#anomalies-filters").addEventListener("submit", (ev) => {
      ev.preventDefault();
      apply().catch(showError);
    });
    // Choices apply at once; the expression and the delta when submitted (Enter or Apply).
    $$("#anomalies-filters select").forEach((sel) => sel.addEventListener("change", () => apply().catch(showError)));
    $$("#anomaly-ranges .seg[data-range]").forEach((b) => b.addEventListener("click", () => {
      state.range = b.dataset.range;
      state.from = null;
      state.to = null;
      state.offset = 0;
      writeUrl();
      load().catch(showError);
    }));
    $("#range-custom").addEventListener("click", () => {
      state.from = null;
      state.to = null;
      state.offset = 0;
      writeUrl();
      load().catch(showError);
    });
    $("#anomalies-reset").addEventListener("click", () => {
      Object.keys(ANOMALY_FILTERS).forEach((k) => setControl(k, ""));
      state.f = {};
      state.range = "all";
      state.from = null;
      state.to = null;
      state.offset = 0;
      writeUrl();
      load().catch(showError);
    });
    sortSel.addEventListener("change", () => {
      state.sort = sortSel.value;
      state.offset = 0;
      writeUrl();
      load().catch(showError);
    });
    window.addEventListener("popstate", () => {
      readUrl();
      load().catch(showError);
    });

    readUrl();
    return load();
  }

  function factEl(label, value, testid) {
    return h("div", { class: "fact" }, h("dt", {}, label), h("dd", { "data-testid": testid }, value));
  }

  async function anomalyPage(me) {
    const id = $("#anomaly-root").dataset.anomalyId;
    let a;
    try {
      a = await api("/anomalies/" + id, { query: { context_points: 60 } });
    } catch (err) {
      if (err.status === 404) {
        $("#anomaly-summary").textContent = "This anomaly does not exist in this organization.";
        show($("#anomaly-root"), false);
        return;
      }
      throw err;
    }
    document.title = a.what + " anomaly · augury";
    $("#anomaly-what").textContent = a.what;
    append(clear($("#anomaly-state")), stateBadge(a.state, "anomaly-state"));
    append(clear($("#anomaly-summary")), [
      a.metric_count + (a.metric_count === 1 ? " metric" : " metrics") + " of ",
      h("code", {}, a.what), " went " + (a.direction === "both" ? "up and down" : a.direction) + " at time scale "
        + a.timescale + ", from ", timeEl(isoOf(a.start)), " for " + fmtDuration(a.duration) + ".",
    ]);
    const box = $("#anomaly-score-box");
    box.classList.add("score-" + scoreLevel(a.score));
    $("#anomaly-score").textContent = String(Math.round(a.score));
    box.title = "Score " + fmtNum(a.score, 1) + " of 100";
    append(clear($("#anomaly-facts")), [
      factEl("Direction", [directionArrow(a.direction), " " + (a.direction === "both" ? "up and down" : a.direction)], "fact-direction"),
      factEl("Delta", deltaEl(a.delta, a.delta_pct), "fact-delta"),
      factEl("Start", timeEl(isoOf(a.start)), "fact-start"),
      factEl("End", timeEl(isoOf(a.end)), "fact-end"),
      factEl("Duration", fmtDuration(a.duration), "fact-duration"),
      factEl("Time scale", a.timescale, "fact-timescale"),
      factEl("Type", h("span", { class: "badges" }, anomalyTypes(a).map((t) => kindBadge(t))), "fact-type"),
      factEl("Metrics", fmtCount(a.metric_count), "fact-metrics"),
      factEl("Detected", timeEl(a.created_at), "fact-created"),
      factEl("Updated", timeEl(a.updated_at), "fact-updated"),
    ]);

    const tb = clear($("#anomaly-metrics-body"));
    a.metrics.forEach((m) => tb.append(h("tr", { "data-testid": "anomaly-metric-" + m.metric_id },
      h("td", { class: "metric-name-cell" },
        h("a", { href: "/metrics/explore/" + m.metric_id, class: "strong", "data-testid": "anomaly-metric-link-" + m.metric_id }, m.name)),
      h("td", { class: "num" }, scorePill(m.peak_score)),
      h("td", { class: "nowrap" }, timeEl(isoOf(m.start))),
      h("td", { class: "num" }, fmtDuration(m.duration)),
      h("td", { class: "num" }, h("span", { class: "strong" }, fmtValue(m.peak_value)),
        h("span", { class: "muted" }, " (" + fmtValue(m.expected) + ")")),
      h("td", { class: "num" }, directionArrow(m.direction), " ", deltaEl(m.delta, m.delta_pct)),
      h("td", {}, h("div", { class: "badges nowrap-badges" }, kindBadge(m.type), stateBadge(m.state))))));

    const charts = clear($("#anomaly-charts"));
    const parts = new Map(a.metrics.map((m) => [m.metric_id, m]));
    const drawn = [];
    a.series.forEach((s) => {
      const m = parts.get(s.metric_id);
      const ts = s.timestamps;
      const n = ts.length;
      const step = TIMESCALE_SECONDS[a.timescale] || (m ? anomalyInterval(a, m) : medianStep(ts));
      const series = { ...s, start: n ? ts[0] : 0, end: n ? ts[n - 1] + (isFinite(step) ? step : 60) : 1 };
      const learned = !!(s.lower && s.upper);
      const explore = "/metrics/explore/" + s.metric_id + (n
        ? "?from=" + Math.floor(ts[0]) + "&to=" + Math.ceil(series.end) + "&resolution=" + s.resolution : "");
      const chart = h("div", { class: "chart chart-small", "data-testid": "anomaly-chart-box-" + s.metric_id },
        h("div", { class: "chart-tip", hidden: true }));
      const card = h("section", { class: "card", "data-testid": "anomaly-chart-" + s.metric_id, "data-metric-id": s.metric_id },
        h("div", { class: "card-head" },
          h("div", {},
            h("h2", { class: "metric-name" }, h("a", { href: "/metrics/explore/" + s.metric_id }, s.name)),
            m ? h("p", { class: "muted small" },
              "Peak ", h("span", { class: "strong" }, fmtValue(m.peak_value)), " at ", timeEl(isoOf(m.peak_ts)),
              " where ", fmtValue(m.expected), " was expected: ", deltaEl(m.delta, m.delta_pct),
              ", score " + Math.round(m.peak_score) + ".") : null),
          h("div", { class: "head-tools" },
            h("a", { class: "btn btn-small", href: explore, "data-testid": "explore-" + s.metric_id }, "Open in explorer"))),
        chart,
        h("div", { class: "chart-legend small muted" },
          h("span", {}, h("span", { class: "key key-line" }), "value (" + s.resolution + ")"),
          learned ? h("span", {}, h("span", { class: "key key-learned" }), "learned normal band") : null,
          h("span", {}, h("span", { class: "key key-anomaly" }), "anomaly"),
          h("span", {}, h("span", { class: "key key-peak" }), "peak")));
      charts.append(card);
      const draw = () => {
        if (!n) {
          append(chart, h("div", { class: "chart-empty" }, h("p", {}, "No points of this metric around the anomaly.")));
          return;
        }
        drawSeries(chart, series, {
          anomalies: m ? [{ start: m.start, end: m.end, timescale: a.timescale, peak_score: m.peak_score }] : [],
          peak: m ? { ts: m.peak_ts, value: m.peak_value } : null,
        });
      };
      drawn.push([chart, draw]);
    });
    if (a.series.length < a.metric_count) {
      charts.append(h("p", { class: "muted small" }, "Charts of the " + a.series.length + " strongest of its "
        + a.metric_count + " metrics."));
    }
    drawn.forEach(([chart, draw]) => {
      draw();
      let lastWidth = chart.clientWidth;
      new ResizeObserver(() => {
        if (chart.clientWidth === lastWidth) return;
        lastWidth = chart.clientWidth;
        draw();
      }).observe(chart);
    });
    await feedbackBox({ anomaly_id: a.id }, me);
  }

  // --- forecasts ----------------------------------------------------------------------

  const RUN_KIND = { pending: "muted", running: "info", complete: "success", failed: "danger", aborted: "warning" };
  const RESULT_TEXT = {
    ok: "ok", no_data: "no data", too_short: "too short", resolution_mismatch: "resolution mismatch", failed: "failed",
  };
  const ERROR_METRIC = { smape: "sMAPE", mase: "MASE" };
  const HISTORY_HORIZONS = 3; // the history drawn before a forecast: three times its horizon

  function runBadge(status, testid) {
    return badge(status, RUN_KIND[status] || "muted", testid);
  }

  /** A name for the forecast of one metric: "cpu on dc=east, host=a". */
  function forecastName(m) {
    const dims = Object.keys(m.dimensions || {}).sort();
    return m.what + (dims.length ? " on " + dims.map((k) => k + "=" + m.dimensions[k]).join(", ") : "");
  }

  function horizonText(t) {
    return t.horizon + " × " + t.resolution;
  }

  function aheadText(t) {
    const sec = RESOLUTION_SECONDS[t.resolution];
    return sec ? fmtDuration(t.horizon * sec) + " ahead" : "at each metric's own interval";
  }

  function fmtEvery(minutes) {
    if (minutes % 1440 === 0) return minutes / 1440 + " d";
    if (minutes % 60 === 0) return minutes / 60 + " h";
    return minutes + " min";
  }

  function scheduleText(t) {
    return t.every_minutes ? "every " + fmtEvery(t.every_minutes) : "once";
  }

  function levelBadges(levels, testid) {
    return h("span", { class: "badges", "data-testid": testid },
      levels.slice().sort((a, b) => a - b).map((l) => badge(fmtLevel(l), "warning")));
  }

  /** "80 % and 95 %" */
  function levelsText(levels) {
    const parts = levels.slice().sort((a, b) => a - b).map(fmtLevel);
    return parts.length > 1 ? parts.slice(0, -1).join(", ") + " and " + parts[parts.length - 1] : parts.join("");
  }

  /** The jobs of the runs still going: run id -> job (null where it could not be read). */
  async function activeRunJobs(runs) {
    const active = runs.filter((r) => r && ACTIVE.has(r.status) && r.job_id);
    const jobs = await Promise.all(active.map((r) => api("/jobs/" + r.job_id).catch(() => null)));
    return new Map(active.map((r, i) => [r.id, jobs[i]]));
  }

  /** Whether a poll saw a run's job end (or lost it): time to read the runs again. */
  function jobsEnded(jobs) {
    return !jobs.size || [...jobs.values()].some((j) => !j || !ACTIVE.has(j.status));
  }

  /** The progress of a run still going, from its job. */
  function runProgress(run, job, testid) {
    const j = job || { status: run.status, progress: 0, message: "" };
    return h("div", { class: "run-progress" },
      progressBar(j, testid),
      h("div", { class: "progress-text small" },
        h("span", { class: "pct" }, Math.round(Number(j.progress) || 0) + "%"), " ",
        h("span", { class: "muted msg" }, j.status === "pending" ? "waiting for a runner" : j.message || "")));
  }

  function runMetrics(run) {
    return run.metrics + (run.metrics === 1 ? " metric" : " metrics")
      + (run.failed_metrics ? ", " + run.failed_metrics + " not forecast" : "");
  }

  /** What a finished run did: its metrics, or why it ended. */
  function runOutcome(run, testid) {
    if (run.status === "complete") return h("span", { class: "muted small", "data-testid": testid }, runMetrics(run));
    return h("span", { class: "small run-error", title: run.error || "", "data-testid": testid }, run.error || run.status);
  }

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

  function forecastPage(me) {
    const id = $("#forecast-root").dataset.taskId;
    const canWrite = me.role !== "viewer";
    const runBtn = $("#forecast-run");
    const delBtn = $("#forecast-delete");
    const st = { task: null, jobs: new Map(), results: null, timer: null, gen: 0, shown: undefined, starting: false };
    let observers = [];

    const activeRun = () => st.task.runs.find((r) => ACTIVE.has(r.status)) || null;

    function fillHeader(t) {
      document.title = t.name + " · augury";
      $("#forecast-name").textContent = t.name;
      append(clear($("#forecast-status")), t.runs[0] ? runBadge(t.runs[0].status, "forecast-status") : null);
      const sec = RESOLUTION_SECONDS[t.resolution];
      append(clear($("#forecast-summary")), [
        "Forecasts ", h("code", {}, t.expression), " ",
        sec ? aheadText(t) + ", at " + t.resolution + " resolution," : t.horizon + " steps ahead at each metric's own interval,",
        " with " + levelsText(t.levels) + " intervals" + (t.every_minutes ? "; runs every " + fmtEvery(t.every_minutes) : "") + ".",
      ]);
      append(clear($("#forecast-facts")), [
        factEl("Metrics", h("code", { class: "expr" }, t.expression), "fact-expression"),
        factEl("Horizon", [horizonText(t), h("div", { class: "muted small" }, aheadText(t))], "fact-horizon"),
        factEl("Intervals", levelBadges(t.levels), "fact-levels"),
        factEl("Schedule", scheduleText(t), "fact-schedule"),
        t.every_minutes ? factEl("Next run", t.next_run_at ? timeEl(t.next_run_at) : "–", "fact-next-run") : null,
        factEl("Created", timeEl(t.created_at), "fact-created"),
      ]);
    }

    function renderRuns() {
      const runs = st.task.runs;
      const tb = clear($("#runs-body"));
      if (!runs.length) emptyRow(tb, 7, "This task has not run yet.");
      runs.forEach((r) => tb.append(h("tr", { "data-testid": "run-row-" + r.id, "data-run-id": r.id, "data-status": r.status },
        h("td", { class: "strong nowrap" }, "#" + r.id),
        h("td", {}, runBadge(r.status, "run-status-" + r.id)),
        h("td", { class: "col-progress" }, ACTIVE.has(r.status) ? runProgress(r, st.jobs.get(r.id), "run-progress-" + r.id)
          : r.status === "complete" ? h("span", { class: "muted small" }, "done") : runOutcome(r, "run-error-" + r.id)),
        h("td", { class: "num" }, r.status === "complete" ? h("span", { title: runMetrics(r) }, fmtCount(r.metrics),
          r.failed_metrics ? h("span", { class: "muted" }, " (" + r.failed_metrics + " not forecast)") : null) : "–"),
        h("td", { class: "nowrap" }, timeEl(r.created_at)),
        h("td", { class: "nowrap" }, timeEl(r.finished_at)),
        h("td", {}, r.job_id ? h("a", { href: "/jobs/" + r.job_id, "data-testid": "run-job-" + r.id }, "#" + r.job_id) : "–"))));
      show($("#runs-live"), !!activeRun());
    }

    function syncButtons() {
      const active = !!activeRun();
      runBtn.disabled = !canWrite || active || st.starting;
      runBtn.title = !canWrite ? "Viewers cannot run forecasts"
        : active ? "A run is queued or running: wait for it to finish." : "Forecast every metric again from its newest points";
      delBtn.disabled = !canWrite;
      delBtn.title = canWrite ? "Delete the task with its runs and results" : "Viewers cannot delete forecasts";
    }

    function gone() {
      $("#forecast-summary").textContent = "This forecast does not exist in this organization.";
      show($("#forecast-root"), false);
      runBtn.disabled = true;
      delBtn.disabled = true;
    }

    async function load() {
      clearTimeout(st.timer);
      const gen = ++st.gen;
      let task;
      let jobs;
      try {
        task = await api("/forecasts/" + id);
        jobs = await activeRunJobs(task.runs);
      } catch (err) {
        if (gen !== st.gen) return;
        if (err.status === 404) {
          gone();
          return;
        }
        showError(err);
        st.timer = setTimeout(() => load().catch(showError), 5000);
        return;
      }
      if (gen !== st.gen) return;
      st.task = task;
      st.jobs = jobs;
      fillHeader(task);
      renderRuns();
      syncButtons();
      // Results change only when a newer run completes.
      const newest = task.runs.find((r) => r.status === "complete");
      if ((newest ? newest.id : null) !== st.shown) {
        st.shown = newest ? newest.id : null;
        await loadResults();
        if (gen !== st.gen) return;
      } else {
        caption();
      }
      schedule(gen);
    }

    // Every second while a run goes; now and then for a refreshing task; else not at all.
    function schedule(gen) {
      if (activeRun()) st.timer = setTimeout(() => poll(gen), 1000);
      else if (st.task.every_minutes) st.timer = setTimeout(() => load().catch(showError), 15000);
    }

    async function poll(gen) {
      const jobs = await activeRunJobs(st.task.runs);
      if (gen !== st.gen) return;
      if (jobsEnded(jobs)) {
        load().catch(showError);
        return;
      }
      st.jobs = jobs;
      renderRuns();
      schedule(gen);
    }

    function caption() {
      const el = clear($("#results-caption"));
      const res = st.results;
      if (!res || !res.run) return;
      const run = res.run;
      const active = activeRun();
      append(el, [
        "From run #" + run.id + ", finished ", timeEl(run.finished_at, true), ": " + runMetrics(run) + ".",
        active && active.id > run.id ? " Run #" + active.id + " is " + (active.status === "pending" ? "queued" : "running")
          + "; its forecasts replace these when it completes." : "",
      ]);
    }

    async function loadResults() {
      const [res, acc] = await Promise.all([
        api("/forecasts/" + id + "/results"),
        api("/forecasts/" + id + "/accuracy"),
      ]);
      st.results = res;
      caption();
      observers.forEach((o) => o.disconnect());
      observers = [];
      const box = clear($("#forecast-results"));
      if (!res.run) {
        box.append(noResults());
        return;
      }
      const accuracy = new Map(acc.map((a) => [a.metric_id, a]));
      const draws = res.results.map((r) => resultCard(box, r, accuracy.get(r.metric_id)));
      if (!res.results.length) box.append(h("p", { class: "muted" }, "The expression matched no metric at the time of this run."));
      await inPool(draws.filter(Boolean), 4);
    }

    function noResults() {
      const last = st.task.runs[0];
      const message = !last ? "This task has not run yet."
        : ACTIVE.has(last.status) ? "The first run is on its way: each metric's forecast shows here once it completes."
          : "No run has completed yet" + (last.error ? "; the last one ended with: " + last.error : ".")
            + " Start another with Run now.";
      return h("section", { class: "card" },
        h("div", { class: "empty-state small-empty", "data-testid": "results-empty" }, h("p", { class: "muted" }, message)));
    }

    function resultCard(box, r, acc) {
      const title = h("h2", { class: "metric-name" },
        h("a", { href: "/metrics/explore/" + r.metric_id, "data-testid": "forecast-metric-" + r.metric_id }, r.name));
      const card = h("section", {
        class: "card forecast-card", "data-testid": "forecast-result-" + r.metric_id, "data-metric-id": r.metric_id,
        "data-status": r.status,
      });
      box.append(card);
      if (r.status !== "ok") {
        append(card, [
          h("div", { class: "card-head" }, h("div", {}, title),
            badge(RESULT_TEXT[r.status] || r.status, r.status === "failed" ? "danger" : "warning", "result-status-" + r.metric_id)),
          h("div", { class: "alert alert-warning result-message", "data-testid": "result-message-" + r.metric_id },
            r.message || "No forecast for this metric."),
        ]);
        return null;
      }
      const t = st.task;
      const n = r.timestamps.length;
      const step = r.step || (n > 1 ? r.timestamps[1] - r.timestamps[0] : 60);
      const levels = Object.keys(r.lower || {}).map((key) => ({
        key, level: Number(key), lower: r.lower[key], upper: (r.upper || {})[key] || [],
      }));
      // The history: the last few horizons up to the forecast's origin, and the points that
      // arrived since, where it can be checked.
      const from = Math.max(0, Math.floor(r.origin - (HISTORY_HORIZONS * n - 1) * step));
      const to = Math.floor(r.timestamps[n - 1]) + 1;
      const chart = h("div", { class: "chart chart-small", "data-testid": "forecast-chart-" + r.metric_id },
        h("div", { class: "chart-tip", hidden: true }));
      const facts = [
        r.periods && r.periods.length ? "seasonality " + r.periods.join(", ") + (r.periods.length === 1 && r.periods[0] === 1 ? " step" : " steps") : "no seasonality",
        "learned from " + fmtCount(r.history_points) + " points",
      ];
      append(card, [
        h("div", { class: "card-head" },
          h("div", {}, title,
            h("p", { class: "small model-line" }, h("span", { class: "muted" }, "Model "),
              h("code", { class: "model-name", "data-testid": "forecast-model-" + r.metric_id }, modelName(r.model)),
              h("span", { class: "muted" }, " · " + facts.join(" · "))),
            h("p", { class: "muted small", "data-testid": "forecast-reason-" + r.metric_id }, "Why: " + r.reason + ".")),
          h("div", { class: "head-tools" }, h("a", {
            class: "btn btn-small", href: "/metrics/explore/" + r.metric_id + "?from=" + from + "&to=" + to + "&resolution=" + t.resolution,
          }, "Open in explorer"))),
        chart,
        forecastLegend(t.resolution, levels),
        h("div", { class: "forecast-details" }, candidatesEl(r), accuracyEl(r, acc)),
      ]);
      return async () => {
        let s = null;
        try {
          s = await api("/metrics/" + r.metric_id + "/timeseries", { query: { from, to, resolution: t.resolution } });
        } catch (err) {
          chart.after(h("p", { class: "muted small" }, "The history is not shown: " + err.message));
        }
        // The line alone: the forecast's bands are the ones to read here.
        const series = {
          name: r.name, resolution: s ? s.resolution : t.resolution,
          timestamps: s ? s.timestamps : [], values: s ? s.values : [],
          start: from - step / 2, end: r.timestamps[n - 1] + step / 2,
        };
        const forecast = { origin: r.origin, step, timestamps: r.timestamps, mean: r.mean, levels };
        const draw = () => drawSeries(chart, series, { forecast });
        draw();
        let lastWidth = chart.clientWidth;
        const ro = new ResizeObserver(() => {
          if (chart.clientWidth === lastWidth) return;
          lastWidth = chart.clientWidth;
          draw();
        });
        ro.observe(chart);
        observers.push(ro);
      };
    }

    function forecastLegend(resolution, levels) {
      const widest = levels.slice().sort((a, b) => b.level - a.level);
      return h("div", { class: "chart-legend small muted" },
        h("span", {}, h("span", { class: "key key-line" }), "actual (" + resolution + ")"),
        h("span", {}, h("span", { class: "key key-forecast" }), "forecast"),
        widest.slice().reverse().map((b) => {
          const key = h("span", { class: "key key-interval" });
          key.style.opacity = bandLook(widest.length, widest.indexOf(b)).toFixed(3);
          return h("span", {}, key, fmtLevel(b.level) + " interval");
        }));
    }

    /** A model's name, that may break after each "+" of a combination. */
    function modelName(name) {
      return String(name || "").split("+").map((part, i) => (i ? [h("wbr"), "+" + part] : part));
    }

    function fmtError(v, metric) {
      return metric === "smape" ? fmtNum(v, 2) + " %" : fmtNum(v, 3);
    }

    function candidatesEl(r) {
      const entries = Object.entries(r.candidates || {}).sort((a, b) => {
        if (a[1] === null || b[1] === null) return (a[1] === null) - (b[1] === null) || a[0].localeCompare(b[0]);
        return a[1] - b[1] || a[0].localeCompare(b[0]);
      });
      const combo = /^combination\((.*)\)$/.exec(r.model || "");
      const members = combo ? combo[1].split("+") : [];
      const label = ERROR_METRIC[r.error_metric] || r.error_metric || "error";
      return h("div", { class: "forecast-candidates" },
        h("h3", { class: "small-head" }, "Candidates"),
        h("table", { class: "table table-compact", "data-testid": "candidates-" + r.metric_id },
          h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", { class: "num", title: "Lower is better" }, "Backtest " + label))),
          h("tbody", {}, entries.map(([name, err]) => {
            const chosen = name === r.model;
            return h("tr", {
              class: chosen ? "row-chosen" : "", "data-testid": "candidate-" + r.metric_id, "data-name": name,
              "data-chosen": String(chosen),
            },
            h("td", {}, h("code", {}, modelName(name)), " ",
              chosen ? badge("chosen", "success") : members.includes(name) ? badge("averaged", "muted") : null),
            h("td", { class: "num" }, err === null ? h("span", { class: "muted" }, "failed") : fmtError(err, r.error_metric)));
          }))),
        h("p", { class: "muted small" }, "Each model forecast the metric's own past from several points in it; "
          + label + " is how far off it was, on average."));
    }

    function accuracyEl(r, acc) {
      const box = h("div", { class: "forecast-accuracy", "data-testid": "accuracy-" + r.metric_id },
        h("h3", { class: "small-head" }, "Accuracy of past forecasts"));
      if (!acc || !acc.points) {
        box.append(h("p", { class: "muted small", "data-testid": "accuracy-none-" + r.metric_id },
          "No past forecast to check yet: once points arrive for the times a run forecast, this says how close it came."));
        return box;
      }
      const m = r.metric_id;
      const levels = Object.keys(acc.coverage || {}).sort((a, b) => Number(a) - Number(b));
      box.append(
        h("dl", { class: "facts facts-flat accuracy-facts" },
          factEl("sMAPE", acc.smape === null ? "–" : fmtNum(acc.smape, 2) + " %", "accuracy-smape-" + m),
          factEl("MASE", acc.mase === null ? "–" : fmtNum(acc.mase, 3), "accuracy-mase-" + m),
          levels.map((k) => factEl("Coverage " + fmtLevel(Number(k)), fmtNum(acc.coverage[k], 1) + " %",
            "accuracy-coverage-" + m + "-" + k)),
          factEl("Checked", fmtCount(acc.points) + " points, " + acc.runs_evaluated + (acc.runs_evaluated === 1 ? " run" : " runs"),
            "accuracy-points-" + m)),
        h("p", { class: "muted small" }, "Past runs' forecasts against the points that came since. MASE under 1 beats "
          + "repeating the last season; each interval should hold about its level's share of the points."));
      return box;
    }

    runBtn.addEventListener("click", async () => {
      st.starting = true;
      syncButtons();
      try {
        const run = await api("/forecasts/" + id + "/run", { method: "POST" });
        toast("Run #" + run.id + " queued.", "success");
      } catch (err) {
        showError(err); // 409: the API's "already queued or running"
      } finally {
        st.starting = false;
        await load().catch(showError);
      }
    });

    delBtn.addEventListener("click", async () => {
      if (!st.task || !confirm("Delete the forecast \u201c" + st.task.name + "\u201d with all its runs and results?")) return;
      await busy(delBtn, async () => {
        await api("/forecasts/" + id, { method: "DELETE" });
        clearTimeout(st.timer);
        st.gen++;
        location.assign("/forecasts");
      });
    });

    return load();
  }

  // --- feedback: good catch / not interesting -----------------------------------------

  const FEEDBACK_TEXT = {
    good_catch: "Marked as a good catch: deviations like this keep alerting.",
    not_interesting: "Marked as not interesting: deviations like this on these metrics stop alerting.",
  };

  /**
   * The feedback card (templates/feedback.html) for `target`, {anomaly_id} or
   * {trigger_id}: shows the feedback already given here, gives or changes it, undoes it.
   */
  async function feedbackBox(target, me) {
    const box = $("#feedback");
    if (!box) return;
    const buttons = $$("button[data-type]", box);
    const comment = $("#feedback-comment");
    let current = null;

    function render() {
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(!!current && current.type === b.dataset.type)));
      show($("#feedback-done"), !!current);
      if (current) {
        $("#feedback-done-text").textContent = FEEDBACK_TEXT[current.type]
          + (current.comment ? " Your comment: \u201c" + current.comment + "\u201d" : "");
      }
    }

    async function give(type, button) {
      if (current && current.type === type && !comment.value.trim()) return;
      await busy(button, async () => {
        // One opinion per person and thing: a change replaces what was given before.
        if (current) await api("/feedback/" + current.id, { method: "DELETE" });
        current = null;
        current = await api("/feedback", {
          method: "POST", body: { type, comment: comment.value.trim(), origin: "ui", ...target },
        });
        comment.value = "";
        toast("Thank you: feedback saved.", "success");
      });
      render();
    }

    buttons.forEach((b) => b.addEventListener("click", () => give(b.dataset.type, b)));
    $("#feedback-undo").addEventListener("click", () => busy($("#feedback-undo"), async () => {
      if (!current) return;
      await api("/feedback/" + current.id, { method: "DELETE" });
      current = null;
      render();
      toast("Feedback withdrawn.", "success");
    }));
    if (me.role === "viewer") {
      [...buttons, comment, $("#feedback-undo")].forEach((el) => {
        el.disabled = true;
        el.title = "Viewers cannot give feedback";
      });
    }
    // The API lists feedback newest first, not by target: look among the recent ones.
    try {
      const page = await api("/feedback", { query: { limit: 500 } });
      current = page.items.find((f) => (target.trigger_id
        ? f.trigger_id === target.trigger_id
        : f.trigger_id === null && f.anomaly_id === target.anomaly_id)) || null;
    } catch (err) {
      showError(err);
    }
    render();
  }

  // --- alerts: shared pieces ----------------------------------------------------------

  const SEVERITIES = ["critical", "high", "medium", "low", "info"];
  const SEVERITY_KIND = { critical: "critical", high: "danger", medium: "warning", low: "info", info: "muted" };
  const ALERT_TYPE = { anomaly: ["anomaly", "violet"], static: ["threshold", "info"], no_data: ["no data", "warning"] };
  const CHANNEL_TYPE = { webhook: "Webhook", slack: "Slack", email: "Email", pagerduty: "PagerDuty", teams: "Teams" };
  const DELIVERY_KIND = { pending: "muted", sending: "info", sent: "success", failed: "danger", silenced: "warning" };
  const DELIVERY_EVENT = { open: "opened", update: "update", close: "closed", test: "test" };

  function severityBadge(severity, testid) {
    return badge(severity, SEVERITY_KIND[severity] || "muted", testid);
  }

  function alertTypeBadge(type) {
    const [label, kind] = ALERT_TYPE[type] || [type, "muted"];
    return badge(label, kind);
  }

  function deliveryBadge(status, testid) {
    return badge(status, DELIVERY_KIND[status] || "muted", testid);
  }

  /** Status, acknowledgement and silence of a triggered alert, as badges. */
  function triggerBadges(t, suffix) {
    const sfx = suffix ? "-" + suffix : "";
    return [
      badge(t.status, t.status === "open" ? "danger" : "muted", "trigger-status" + sfx),
      t.acknowledged_at ? h("span", {
        class: "badge badge-info", "data-testid": "trigger-acked" + sfx, title: "Acknowledged " + fmtTime(t.acknowledged_at),
      }, "acknowledged") : null,
      t.silenced_by ? h("span", { class: "badge badge-warning", title: "Messages held: " + t.silenced_by }, "held") : null,
    ];
  }

  /** Dimension chips of an alert's group ({host: "a"}), or null when not grouped. */
  function groupChips(group) {
    const keys = Object.keys(group || {}).sort();
    if (!keys.length) return null;
    return h("span", { class: "dims" }, keys.map((k) => h("span", { class: "dim" }, h("span", { class: "dim-key" }, k + "="), group[k])));
  }

  /** An end as people read it: "until 14:05" today, else with the day. */
  function untilText(epoch) {
    const d = new Date(epoch * 1000);
    const today = d.toDateString() === new Date().toDateString();
    return "until " + (today ? "" : dayFmt.format(d) + ", ") + hmFmt.format(d);
  }

  /** Active, paused or snoozed; `inline`: one badge (a heading), else the end under it. */
  function configState(c, inline) {
    const now = Date.now() / 1000;
    if (c.paused) return badge("paused", "warning", "config-state-" + c.id);
    if (c.snoozed_until && c.snoozed_until > now && inline) {
      return badge("snoozed " + untilText(c.snoozed_until), "info", "config-state-" + c.id);
    }
    if (c.snoozed_until && c.snoozed_until > now) {
      return h("div", { class: "state-cell", title: "Snoozed until " + dateFmt.format(new Date(c.snoozed_until * 1000)) },
        badge("snoozed", "info", "config-state-" + c.id),
        h("div", { class: "muted small nowrap", "data-testid": "config-snoozed-until-" + c.id }, untilText(c.snoozed_until)));
    }
    return badge("active", "success", "config-state-" + c.id);
  }

  async function setAck(t, on) {
    return api("/alerts/triggered/" + t.id + "/acknowledge", { method: on ? "POST" : "DELETE" });
  }

  async function resolveTrigger(t) {
    return api("/alerts/triggered/" + t.id + "/resolve", { method: "POST" });
  }

  /** Where a channel sends, in a line: its URL, addresses or (masked) key. */
  function channelDestination(c) {
    const cfg = c.config || {};
    if (c.type === "email") return h("span", { class: "small" }, (cfg.to || []).join(", "));
    if (c.type === "pagerduty") {
      return h("span", { class: "small" }, "routing key ", h("code", {}, cfg.routing_key || "–"));
    }
    const extra = c.type === "slack" && cfg.channel ? " → " + cfg.channel
      : c.type === "webhook" && cfg.format === "alertmanager" ? " (Alertmanager)" : "";
    return h("span", { class: "destination" }, h("code", { class: "url", title: cfg.url || "" }, cfg.url || "–"),
      extra ? h("span", { class: "muted small" }, extra) : null);
  }

  /** The outcome of a delivery: "HTTP 200 · 12 ms", or its error. */
  function deliveryOutcome(d) {
    const parts = [];
    if (d.status_code) parts.push((d.status_code >= 100 ? "HTTP " : "code ") + d.status_code);
    if (known(d.duration_ms)) parts.push(fmtNum(d.duration_ms, 0) + " ms");
    return parts.join(" · ");
  }

  /**
   * Rows of deliveries (a channel's log, or an alert's messages): time, channel (with
   * opts.channels, a Map id -> name), message, status, code, attempts, error; a failed
   * one has a Retry button.
   */
  function deliveryRows(items, opts) {
    const o = opts || {};
    return items.map((d) => {
      const retry = d.status === "failed" && o.canWrite ? h("button", {
        type: "button", class: "btn btn-small", "data-testid": "delivery-retry-" + d.id,
        onclick: (ev) => busy(ev.currentTarget, async () => {
          await api("/deliveries/" + d.id + "/retry", { method: "POST" });
          toast("Delivery #" + d.id + " queued again.", "success");
          if (o.reload) await o.reload();
        }),
      }, "Retry") : null;
      return h("tr", { "data-testid": "delivery-row-" + d.id, "data-status": d.status, "data-event": d.event },
        h("td", { class: "nowrap" }, timeEl(d.sent_at || d.created_at)),
        o.channels ? h("td", {}, o.channels.get(d.channel_id) || "#" + d.channel_id) : null,
        h("td", { class: "nowrap" }, DELIVERY_EVENT[d.event] || d.event,
          o.showTrigger && d.trigger_id ? [" ", h("a", { href: "/alerts/triggered/" + d.trigger_id }, "#" + d.trigger_id)] : null),
        h("td", {}, deliveryBadge(d.status, "delivery-status-" + d.id)),
        h("td", { class: "num" }, d.status_code || "–"),
        h("td", { class: "num" }, d.attempts),
        h("td", { class: "delivery-error" }, h("div", { class: "delivery-error-line" },
          d.error ? h("span", { class: "small run-error", title: d.error }, d.error) : h("span", { class: "muted" }, "–"), retry)));
    });
  }

  function deliveriesTable(items, opts) {
    const o = opts || {};
    return h("table", { class: "table table-compact" },
      h("thead", {}, h("tr", {},
        h("th", {}, "Time"), o.channels ? h("th", {}, "Channel") : null, h("th", {}, "Message"), h("th", {}, "Status"),
        h("th", { class: "num" }, "Code"), h("th", { class: "num" }, "Attempts"), h("th", {}, "Error"))),
      h("tbody", {}, deliveryRows(items, o)));
  }

  /** "Name: value" lines as an object of headers; throws on a line without a colon. */
  function parseHeaders(textValue) {
    const out = {};
    textValue.split("\n").map((l) => l.trim()).filter(Boolean).forEach((line) => {
      const i = line.indexOf(":");
      if (i < 1) throw new ApiError(0, "VALIDATION_ERROR", "Write each header as Name: value (\u201c" + line + "\u201d has no name).");
      out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    });
    return out;
  }

  /** A <input type=datetime-local> value for an epoch, in the browser's zone. */
  function localInputValue(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate())
      + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    } catch (e) {
      return "UTC";
    }
  }

  /** Show an API error in a form's error box (or hide it), marking the field it names. */
  function formErrorIn(form, box, err) {
    // Fields the API named get their own message; the box then only says to look there.
    const inline = fieldErrors(form, err);
    box.textContent = err ? (inline ? "Check the fields marked in red." : err.message) : "";
    show(box, !!err);
    if (err) box.scrollIntoView({ block: "nearest" });
  }

  // --- alerts: the section page -------------------------------------------------------

  const ALERT_TABS = ["triggered", "configs", "channels", "windows"];

  function alertsPage(me) {
    const canWrite = me.role !== "viewer";
    const state = { tab: "triggered", status: "", severity: "", config_id: "", offset: 0, limit: 25, cfgOffset: 0 };
    const channelsById = new Map();
    const openLogs = new Set();

    // --- tabs and the URL (?tab=&status=&severity=&config_id=&offset=) ---
    function readUrl() {
      const p = new URLSearchParams(location.search);
      state.tab = ALERT_TABS.includes(p.get("tab")) ? p.get("tab") : "triggered";
      state.status = ["open", "closed"].includes(p.get("status")) ? p.get("status") : "";
      state.severity = SEVERITIES.includes(p.get("severity")) ? p.get("severity") : "";
      state.config_id = /^\d+$/.test(p.get("config_id") || "") ? p.get("config_id") : "";
      state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
      $("#triggered-status").value = state.status;
      $("#triggered-severity").value = state.severity;
    }

    function writeUrl() {
      const p = new URLSearchParams();
      if (state.tab !== "triggered") p.set("tab", state.tab);
      if (state.status) p.set("status", state.status);
      if (state.severity) p.set("severity", state.severity);
      if (state.config_id) p.set("config_id", state.config_id);
      if (state.offset) p.set("offset", String(state.offset));
      const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
      if (url !== location.pathname + location.search) history.pushState(null, "", url);
    }

    function showTab() {
      ALERT_TABS.forEach((key) => {
        const on = key === state.tab;
        const tab = $("#tab-" + key);
        tab.classList.toggle("active", on);
        tab.setAttribute("aria-selected", String(on));
        tab.tabIndex = on ? 0 : -1;
        show($("#panel-" + key), on);
      });
    }

    $$("#alerts-tabs .tab").forEach((tab) => tab.addEventListener("click", () => {
      state.tab = tab.dataset.tab;
      writeUrl();
      showTab();
    }));
    $("#alerts-tabs").addEventListener("keydown", (ev) => {
      if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
      const i = ALERT_TABS.indexOf(state.tab) + (ev.key === "ArrowRight" ? 1 : -1);
      state.tab = ALERT_TABS[(i + ALERT_TABS.length) % ALERT_TABS.length];
      writeUrl();
      showTab();
      $("#tab-" + state.tab).focus();
    });

    function tabCount(key, n, alert) {
      const el = $("#tab-count-" + key);
      el.textContent = n ? fmtCount(n) : "";
      el.classList.toggle("tab-count-alert", !!alert && n > 0);
    }

    // --- triggered alerts ---
    const countsCall = newestOnly();
    async function loadCounts() {
      const stale = countsCall();
      const c = await api("/alerts/triggered/count");
      if (stale()) return; // a newer look (after an action, or the poll) answers instead
      $("#stat-open-alerts").textContent = fmtCount(c.open);
      $("#stat-closed-alerts").textContent = fmtCount(c.closed);
      $("#stat-open-alerts").closest(".stat").classList.toggle("stat-alert", c.open > 0);
      tabCount("triggered", c.open, true);
    }

    function triggerRow(t) {
      const href = "/alerts/triggered/" + t.id;
      const actions = h("td", { class: "right c-actions" });
      if (t.status === "open") {
        const ack = h("button", {
          type: "button", class: "btn btn-small", "data-testid": (t.acknowledged_at ? "unack-" : "ack-") + t.id,
          disabled: !canWrite, title: canWrite ? "" : "Viewers cannot change alerts",
        }, t.acknowledged_at ? "Unacknowledge" : "Acknowledge");
        ack.addEventListener("click", () => busy(ack, async () => {
          await setAck(t, !t.acknowledged_at);
          toast(t.acknowledged_at ? "Acknowledgement removed." : "Acknowledged: no more update messages.", "success");
          await Promise.all([loadTriggered(), loadCounts()]);
        }));
        const resolve = h("button", {
          type: "button", class: "btn btn-small", "data-testid": "resolve-" + t.id,
          disabled: !canWrite, title: canWrite ? "Close it now; its close message goes out" : "Viewers cannot change alerts",
        }, "Resolve");
        resolve.addEventListener("click", () => busy(resolve, async () => {
          await resolveTrigger(t);
          toast("Alert resolved.", "success");
          await Promise.all([loadTriggered(), loadCounts(), loadConfigs()]);
        }));
        actions.append(h("div", { class: "row-actions" }, ack, resolve));
      }
      const first = t.metrics[0];
      const tr = h("tr", {
        class: "row-link" + (t.status === "closed" ? " row-closed" : ""), "data-testid": "trigger-row-" + t.id,
        "data-trigger-id": t.id, "data-status": t.status,
      },
      h("td", {}, severityBadge(t.severity, "trigger-severity-" + t.id)),
      h("td", { class: "trigger-cell" },
        h("a", { href, class: "strong", "data-testid": "trigger-link-" + t.id }, t.title),
        h("div", { class: "trigger-sub" }, groupChips(t.group)
          || (first ? h("span", { class: "muted small metric-name" }, first.name
            + (t.metric_count > 1 ? " and " + (t.metric_count - 1) + " more" : "")) : null))),
      h("td", {}, h("div", { class: "badges" }, triggerBadges(t, t.id))),
      h("td", { class: "nowrap" }, timeEl(isoOf(t.start)), h("div", { class: "muted small" }, fmtAgo(isoOf(t.start)))),
      h("td", { class: "num", "data-testid": "trigger-duration-" + t.id }, fmtDuration(t.duration)),
      h("td", { class: "num" }, fmtCount(t.metric_count)),
      h("td", { class: "num" }, known(t.peak_score) ? scorePill(t.peak_score, "trigger-score-" + t.id) : h("span", { class: "muted" }, "–")),
      actions);
      tr.addEventListener("click", (ev) => {
        if (!ev.target.closest("a, button") && !getSelection().toString()) location.assign(href);
      });
      return tr;
    }

    const trigCall = newestOnly();
    let shownTriggers = "";
    /** The list; `quiet` (a poll): redraw only when something changed. */
    async function loadTriggered(quiet) {
      const stale = trigCall();
      const wrap = $("#triggered-table").closest(".table-wrap");
      let page;
      try {
        page = await api("/alerts/triggered", {
          query: {
            status: state.status, severity: state.severity, config_id: state.config_id,
            offset: state.offset, limit: state.limit,
          },
        });
      } catch (err) {
        if (stale()) return;
        if (quiet) throw err; // a poll: what shows stays
        show($("#triggered-empty"), false);
        shownTriggers = "";
        showFailed("triggered-failed", wrap, err, () => loadTriggered().catch(showError));
        return;
      }
      if (stale()) return;
      hideFailed("triggered-failed", wrap);
      const seen = JSON.stringify(page);
      if (quiet && seen === shownTriggers) return;
      shownTriggers = seen;
      const tb = clear($("#triggered-body"));
      const filtered = !!(state.status || state.severity || state.config_id);
      const none = page.total === 0 && !filtered;
      show($("#triggered-empty"), none);
      show($("#triggered-table"), !none);
      if (page.total === 0 && !none) emptyRow(tb, 8, "No triggered alert matches these filters.");
      page.items.forEach((t) => tb.append(triggerRow(t)));
      pager($("#triggered-pager"), page, (o) => {
        state.offset = o;
        writeUrl();
        loadTriggered().catch(showError);
      }, "triggered");
    }

    async function showConfigFilter() {
      show($("#triggered-config-chip"), !!state.config_id);
      if (!state.config_id) return;
      $("#triggered-config-name").textContent = "Configuration #" + state.config_id;
      try {
        const c = await api("/alerts/" + state.config_id);
        $("#triggered-config-name").textContent = c.title;
      } catch (err) {
        if (err.status !== 404) throw err;
      }
    }

    function filterTriggered() {
      state.status = $("#triggered-status").value;
      state.severity = $("#triggered-severity").value;
      state.offset = 0;
      writeUrl();
      return loadTriggered();
    }
    $("#triggered-status").addEventListener("change", () => filterTriggered().catch(showError));
    $("#triggered-severity").addEventListener("change", () => filterTriggered().catch(showError));
    $("#triggered-config-clear").addEventListener("click", () => {
      state.config_id = "";
      showConfigFilter().catch(showError);
      filterTriggered().catch(showError);
    });

    // --- configurations ---
    function snoozeControl(c) {
      const now = Date.now() / 1000;
      if (c.snoozed_until && c.snoozed_until > now) {
        const b = h("button", { type: "button", class: "btn btn-small", "data-testid": "unsnooze-" + c.id, disabled: !canWrite }, "Unsnooze");
        b.addEventListener("click", () => busy(b, async () => {
          await api("/alerts/" + c.id + "/snooze", { method: "DELETE" });
          toast("\u201c" + c.title + "\u201d is no longer snoozed.", "success");
          await loadConfigs();
        }));
        return b;
      }
      const sel = h("select", { class: "select-small", "data-testid": "snooze-" + c.id, "aria-label": "Snooze " + c.title, disabled: !canWrite || c.paused },
        h("option", { value: "" }, "Snooze…"),
        [[3600, "1 hour"], [4 * 3600, "4 hours"], [86400, "1 day"], [7 * 86400, "1 week"]].map(([v, label]) => h("option", { value: v }, label)));
      sel.addEventListener("change", () => {
        if (!sel.value) return;
        busy(sel, async () => {
          const out = await api("/alerts/" + c.id + "/snooze", { method: "POST", body: { duration_s: Number(sel.value) } });
          toast("\u201c" + c.title + "\u201d snoozed " + untilText(out.snoozed_until) + ".", "success");
          await loadConfigs();
        });
      });
      return sel;
    }

    function configRow(c) {
      const edit = "/alerts/" + c.id + "/edit";
      const pause = h("button", {
        type: "button", class: "btn btn-small", "data-testid": (c.paused ? "resume-" : "pause-") + c.id,
        disabled: !canWrite, title: canWrite ? (c.paused ? "Evaluate it again" : "Stop evaluating it") : "Viewers cannot change alerts",
      }, c.paused ? "Resume" : "Pause");
      pause.addEventListener("click", () => busy(pause, async () => {
        await api("/alerts/" + c.id + (c.paused ? "/resume" : "/pause"), { method: "POST" });
        toast("\u201c" + c.title + "\u201d " + (c.paused ? "resumed." : "paused."), "success");
        await loadConfigs();
      }));
      const names = c.channel_ids.map((id) => channelsById.get(id)).filter(Boolean);
      const open = c.open_triggers
        ? h("button", {
          type: "button", class: "link-button link-plain strong open-count", "data-testid": "config-open-" + c.id,
          title: "Show the open alerts of this configuration",
          onclick: () => {
            state.config_id = String(c.id);
            state.status = "open";
            state.offset = 0;
            state.tab = "triggered";
            $("#triggered-status").value = "open";
            writeUrl();
            showTab();
            showConfigFilter().catch(showError);
            loadTriggered().catch(showError);
          },
        }, fmtCount(c.open_triggers))
        : h("span", { class: "muted", "data-testid": "config-open-" + c.id }, "0");
      const tr = h("tr", { class: "row-link" + (c.paused ? " row-dim" : ""), "data-testid": "config-row-" + c.id, "data-config-id": c.id },
        h("td", { class: "config-cell" },
          h("a", { href: edit, class: "strong", "data-testid": "config-link-" + c.id }, c.title),
          h("div", {}, c.expression ? h("code", { class: "expr" }, c.expression) : h("span", { class: "muted small" }, "every metric"),
            c.group_by.length ? h("span", { class: "muted small" }, " · by " + c.group_by.join(", ")) : null)),
        h("td", {}, alertTypeBadge(c.type)),
        h("td", {}, severityBadge(c.severity)),
        h("td", {}, names.length
          ? h("span", { class: "channel-names small" }, names.map((n) => n.name).join(", "))
          : h("span", { class: "muted small" }, c.channel_ids.length ? c.channel_ids.length + " channels" : "none")),
        h("td", { class: "num" }, open),
        h("td", {}, configState(c)),
        h("td", { class: "right c-actions" }, h("div", { class: "row-actions" },
          pause, snoozeControl(c),
          h("a", { class: "btn btn-small", href: edit, "data-testid": "edit-" + c.id }, "Edit"))));
      tr.addEventListener("click", (ev) => {
        if (!ev.target.closest("a, button, select") && !getSelection().toString()) location.assign(edit);
      });
      return tr;
    }

    const cfgCall = newestOnly();
    async function loadConfigs() {
      const stale = cfgCall();
      const wrap = $("#configs-table").closest(".table-wrap");
      let page;
      try {
        page = await api("/alerts", { query: { offset: state.cfgOffset, limit: 50 } });
      } catch (err) {
        if (stale()) return;
        show($("#configs-empty"), false);
        showFailed("configs-failed", wrap, err, () => loadConfigs().catch(showError));
        return;
      }
      if (stale()) return;
      hideFailed("configs-failed", wrap);
      $("#stat-configs").textContent = fmtCount(page.total);
      tabCount("configs", page.total);
      const tb = clear($("#configs-body"));
      show($("#configs-empty"), page.total === 0);
      show($("#configs-table"), page.total > 0);
      page.items.forEach((c) => tb.append(configRow(c)));
      pager($("#configs-pager"), page, (o) => { state.cfgOffset = o; loadConfigs().catch(showError); }, "configs");
    }

    // --- channels ---
    function deliveryCounts(c) {
      const counts = c.deliveries || {};
      const keys = Object.keys(counts).filter((k) => counts[k]);
      if (!keys.length) return h("span", { class: "muted small" }, "none yet");
      return h("span", { class: "badges" }, ["sent", "failed", "silenced", "pending", "sending"].filter((k) => counts[k])
        .map((k) => badge(fmtCount(counts[k]) + " " + k, DELIVERY_KIND[k] || "muted")));
    }

    async function loadLog(c, cell) {
      const page = await api("/channels/" + c.id + "/deliveries", { query: { limit: 20 } });
      clear(cell);
      if (!page.items.length) {
        cell.append(h("p", { class: "muted small log-empty" }, "Nothing sent through this channel yet."));
        return;
      }
      append(cell, [deliveriesTable(page.items, { canWrite, showTrigger: true, reload: () => loadLog(c, cell) }),
        page.total > page.items.length
          ? h("p", { class: "muted small log-more" }, "The newest " + page.items.length + " of " + fmtCount(page.total) + " deliveries.") : null]);
    }

    function channelRows(c) {
      const result = h("td", { class: "test-result", "data-testid": "channel-test-result-" + c.id });
      const countsCell = h("td", { "data-testid": "channel-deliveries-" + c.id }, deliveryCounts(c));
      const logCell = h("td", { colspan: 5, class: "log-cell" });
      const logRow = h("tr", { class: "detail-row", "data-testid": "channel-log-" + c.id, hidden: !openLogs.has(c.id) }, logCell);
      const test = h("button", {
        type: "button", class: "btn btn-small", "data-testid": "channel-test-" + c.id, disabled: !canWrite,
        title: canWrite ? "Send a sample alert now" : "Viewers cannot send tests",
      }, "Send test");
      const logBtn = h("button", {
        type: "button", class: "btn btn-small", "data-testid": "channel-log-toggle-" + c.id,
        "aria-expanded": String(openLogs.has(c.id)),
      }, "Delivery log");
      const del = h("button", {
        type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "channel-delete-" + c.id, disabled: !canWrite,
      }, "Delete");

      async function refresh() {
        const fresh = await api("/channels/" + c.id);
        append(clear(countsCell), deliveryCounts(fresh));
        if (!logRow.hidden) await loadLog(c, logCell);
      }

      test.addEventListener("click", () => busy(test, async () => {
        append(clear(result), h("span", { class: "muted small" }, "sending…"));
        let d;
        try {
          d = await api("/channels/" + c.id + "/test", { method: "POST" });
        } catch (err) {
          clear(result);
          throw err;
        }
        const outcome = deliveryOutcome(d);
        append(clear(result), h("div", { class: "test-outcome", "data-status": d.status },
          deliveryBadge(d.status, "channel-test-status-" + c.id),
          outcome ? h("span", { class: "muted small" }, outcome) : null,
          d.error ? h("div", { class: "small run-error", title: d.error, "data-testid": "channel-test-error-" + c.id }, d.error) : null));
        await refresh();
      }));
      logBtn.addEventListener("click", () => busy(logBtn, async () => {
        const open = logRow.hidden;
        logRow.hidden = !open;
        logBtn.setAttribute("aria-expanded", String(open));
        if (open) {
          openLogs.add(c.id);
          append(clear(logCell), h("p", { class: "muted small log-empty" }, "Loading…"));
          await loadLog(c, logCell);
        } else {
          openLogs.delete(c.id);
        }
      }));
      del.addEventListener("click", async () => {
        if (!confirm("Delete the channel \u201c" + c.name + "\u201d with its delivery log? Alerts using it stop sending there.")) return;
        await busy(del, async () => {
          await api("/channels/" + c.id, { method: "DELETE" });
          toast("Channel \u201c" + c.name + "\u201d deleted.", "success");
          await loadChannels();
          await loadConfigs();
        });
      });

      const tr = h("tr", { "data-testid": "channel-row-" + c.id, "data-channel-id": c.id, class: c.enabled ? "" : "row-dim" },
        h("td", { class: "channel-cell" }, h("div", { class: "strong" }, c.name),
          h("div", { class: "badges" }, badge(CHANNEL_TYPE[c.type] || c.type, "info"), c.enabled ? null : badge("disabled", "muted"))),
        h("td", { class: "destination-cell" }, channelDestination(c)),
        countsCell,
        result,
        h("td", { class: "right c-actions" }, h("div", { class: "row-actions" }, test, logBtn, del)));
      if (!logRow.hidden) loadLog(c, logCell).catch(showError);
      return [tr, logRow];
    }

    const chCall = newestOnly();
    async function loadChannels() {
      const stale = chCall();
      const wrap = $("#channels-table").closest(".table-wrap");
      let page;
      try {
        page = await api("/channels", { query: { limit: 500 } });
      } catch (err) {
        if (stale()) return;
        show($("#channels-empty"), false);
        showFailed("channels-failed", wrap, err, () => loadChannels().catch(showError));
        return;
      }
      if (stale()) return;
      hideFailed("channels-failed", wrap);
      channelsById.clear();
      page.items.forEach((c) => channelsById.set(c.id, c));
      $("#stat-channels").textContent = fmtCount(page.total);
      tabCount("channels", page.total);
      const tb = clear($("#channels-body"));
      show($("#channels-empty"), page.total === 0);
      show($("#channels-table"), page.total > 0);
      page.items.forEach((c) => tb.append(...channelRows(c)));
    }

    const chForm = $("#channel-form");
    const chType = $("#ch-type");
    function syncChannelType() {
      $$(".type-fields", chForm).forEach((el) => show(el, el.dataset.type === chType.value));
    }
    chType.addEventListener("change", syncChannelType);

    function channelConfig(type) {
      const block = $(".type-fields[data-type=" + type + "]", chForm);
      const val = (key) => {
        const el = $("[data-key=" + key + "]", block);
        return el ? el.value.trim() : "";
      };
      const cfg = {};
      if (type === "email") {
        cfg.to = val("to").split(/[\s,;]+/).filter(Boolean);
        return cfg;
      }
      if (type === "pagerduty") {
        cfg.routing_key = val("routing_key");
        if (val("url")) cfg.url = val("url");
        return cfg;
      }
      cfg.url = val("url");
      if (type === "webhook") {
        cfg.format = val("format") || "augury";
        if (val("secret")) cfg.secret = val("secret");
        const headers = parseHeaders(val("headers"));
        if (Object.keys(headers).length) cfg.headers = headers;
      }
      if (type === "slack") {
        if (val("channel")) cfg.channel = val("channel");
        if (val("username")) cfg.username = val("username");
      }
      return cfg;
    }

    onSubmit(chForm, async (fd) => {
      const errBox = $("#channel-form-error");
      const type = chType.value;
      let body;
      try {
        if (!text(fd, "name")) throw new ApiError(0, "VALIDATION_ERROR", "Give the channel a name.");
        body = { name: text(fd, "name"), type, config: channelConfig(type) };
        const needs = { webhook: "url", slack: "url", teams: "url", pagerduty: "routing_key" }[type];
        if (needs && !body.config[needs]) {
          throw new ApiError(0, "VALIDATION_ERROR", needs === "url" ? "Give the URL to send to." : "Give the routing key (the integration key of a PagerDuty service).");
        }
        if (type === "email" && !body.config.to.length) throw new ApiError(0, "VALIDATION_ERROR", "Give at least one address.");
      } catch (err) {
        formErrorIn(chForm, errBox, err);
        return;
      }
      let out;
      try {
        out = await api("/channels", { method: "POST", body });
      } catch (err) {
        if (err.status !== 422) throw err;
        formErrorIn(chForm, errBox, err);
        return;
      }
      formErrorIn(chForm, errBox, null);
      chForm.reset();
      syncChannelType();
      if (out.type === "webhook" && out.config.secret) {
        $("#channel-secret").textContent = out.config.secret;
        show($("#channel-secret-box"), true);
      }
      toast("Channel \u201c" + out.name + "\u201d added. Try it with Send test.", "success");
      await loadChannels();
    });
    $("#channel-secret-dismiss").addEventListener("click", () => {
      $("#channel-secret").textContent = "";
      show($("#channel-secret-box"), false);
    });

    // --- maintenance windows ---
    function windowSchedule(w) {
      if (w.start !== null && w.start !== undefined) {
        return h("span", { class: "nowrap" }, timeEl(isoOf(w.start)), " – ", timeEl(isoOf(w.end)));
      }
      const rule = w.rrule ? ["RRULE", w.rrule] : ["cron", w.cron];
      return h("div", {},
        h("div", {}, h("span", { class: "muted small" }, rule[0] + " "), h("code", { class: "expr" }, rule[1])),
        h("div", { class: "muted small" }, "lasts " + fmtDuration(w.duration_s) + " · " + w.timezone
          + (w.dtstart ? " · from " + w.dtstart.replace("T", " ") : "")));
    }

    function windowRow(w) {
      const upcoming = (w.next || []).filter((o) => !(w.active && o[0] <= Date.now() / 1000));
      const nxt = upcoming[0];
      const del = h("button", { type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "window-delete-" + w.id, disabled: !canWrite }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm("Delete the maintenance window \u201c" + w.name + "\u201d?")) return;
        await busy(del, async () => {
          await api("/maintenance-windows/" + w.id, { method: "DELETE" });
          toast("Maintenance window deleted.", "success");
          await loadWindows();
        });
      });
      return h("tr", { "data-testid": "window-row-" + w.id, "data-window-id": w.id },
        h("td", { class: "strong" }, w.name),
        h("td", {}, w.expression ? h("code", { class: "expr" }, w.expression) : h("span", { class: "muted small" }, "every metric"),
          w.config_ids.length ? h("div", { class: "muted small" }, w.config_ids.length + (w.config_ids.length === 1 ? " configuration" : " configurations")) : null),
        h("td", {}, windowSchedule(w)),
        h("td", { "data-testid": "window-active-" + w.id }, w.active
          ? [badge("active", "warning"), h("div", { class: "muted small" }, untilText(w.active_until))]
          : badge("inactive", "muted")),
        h("td", { class: "nowrap", "data-testid": "window-next-" + w.id }, nxt
          ? [timeEl(isoOf(nxt[0])), h("div", { class: "muted small" }, fmtAgo(isoOf(nxt[0])) + " · for " + fmtDuration(nxt[1] - nxt[0]))]
          : h("span", { class: "muted" }, w.start !== null && w.start !== undefined && !w.active ? "over" : "–")),
        h("td", { class: "right" }, del));
    }

    const winCall = newestOnly();
    async function loadWindows() {
      const stale = winCall();
      const page = await api("/maintenance-windows", { query: { limit: 500 } });
      if (stale()) return;
      const active = page.items.filter((w) => w.active).length;
      tabCount("windows", page.total);
      $("#tab-count-windows").title = active ? active + " active now" : "";
      const tb = clear($("#windows-body"));
      show($("#windows-empty"), page.total === 0);
      show($("#windows-table"), page.total > 0);
      page.items.forEach((w) => tb.append(windowRow(w)));
    }

    const wForm = $("#window-form");
    const zone = browserZone();
    $$(".browser-tz", wForm).forEach((el) => { el.textContent = zone; });
    const tzInput = $("#mw-timezone");
    tzInput.value = zone;
    try {
      const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
      append($("#mw-timezones"), ["UTC", ...zones].map((z) => h("option", { value: z })));
    } catch (e) {
      // An old browser: the field still takes any IANA name.
    }
    function defaultTimes() {
      const start = new Date();
      start.setMinutes(0, 0, 0);
      start.setHours(start.getHours() + 1);
      $("#mw-start").value = localInputValue(start);
      $("#mw-end").value = localInputValue(new Date(start.getTime() + 2 * 3600 * 1000));
      const night = new Date();
      night.setDate(night.getDate() + 1);
      night.setHours(2, 0, 0, 0);
      $("#mw-dtstart").value = localInputValue(night);
    }
    defaultTimes();
    function syncWindowKind() {
      const kind = $("input[name=kind]:checked", wForm).value;
      $$(".window-fields", wForm).forEach((el) => show(el, el.dataset.kind === kind));
    }
    function syncRuleKind() {
      const cron = $("#mw-rule-kind").value === "cron";
      $("#mw-rule").placeholder = cron ? "0 2 * * 0" : "FREQ=WEEKLY;BYDAY=SU";
      $("#mw-rule-hint").textContent = cron
        ? "Five fields: minute hour day-of-month month day-of-week, e.g. 0 2 * * 0 (Sundays at 02:00)."
        : "e.g. FREQ=DAILY, FREQ=WEEKLY;BYDAY=SA,SU, FREQ=MONTHLY;BYMONTHDAY=1";
      $("#mw-dtstart-hint").textContent = cron ? "Optional for cron: when it starts to apply." : "Local time in the zone on the right.";
    }
    $$("input[name=kind]", wForm).forEach((r) => r.addEventListener("change", syncWindowKind));
    $("#mw-rule-kind").addEventListener("change", syncRuleKind);
    syncRuleKind();

    onSubmit(wForm, async (fd) => {
      const errBox = $("#window-form-error");
      const fail = (message) => formErrorIn(wForm, errBox, new ApiError(0, "VALIDATION_ERROR", message));
      const body = { name: text(fd, "name"), expression: text(fd, "expression") };
      if (!body.name) return fail("Give the window a name.");
      if (fd.get("kind") === "once") {
        const start = new Date($("#mw-start").value);
        const end = new Date($("#mw-end").value);
        if (isNaN(start) || isNaN(end)) return fail("Give the start and the end of the window.");
        body.start = Math.floor(start.getTime() / 1000);
        body.end = Math.floor(end.getTime() / 1000);
      } else {
        const rule = $("#mw-rule").value.trim();
        const duration = Number($("#mw-duration").value) * Number($("#mw-duration-unit").value);
        if (!rule) return fail("Say when it repeats: an RRULE or a cron line.");
        if (!(duration > 0)) return fail("Say how long each occurrence lasts.");
        body[$("#mw-rule-kind").value] = rule;
        if ($("#mw-dtstart").value) body.dtstart = $("#mw-dtstart").value;
        body.duration_s = duration;
        body.timezone = tzInput.value.trim() || "UTC";
      }
      let out;
      try {
        out = await api("/maintenance-windows", { method: "POST", body });
      } catch (err) {
        if (err.status !== 422) throw err;
        formErrorIn(wForm, errBox, err);
        return;
      }
      formErrorIn(wForm, errBox, null);
      wForm.reset();
      tzInput.value = zone;
      defaultTimes();
      syncWindowKind();
      syncRuleKind();
      toast("Maintenance window \u201c" + out.name + "\u201d added" + (out.active ? ": active now." : "."), "success");
      await loadWindows();
    });

    if (!canWrite) {
      $$("#channel-form input, #channel-form select, #channel-form textarea, #channel-form button, #window-form input, #window-form select, #window-form button")
        .forEach((el) => { el.disabled = true; });
      ["#new-alert", "[data-testid=new-alert-configs]"].forEach((sel) => {
        const a = $(sel);
        a.classList.add("disabled");
        a.setAttribute("aria-disabled", "true");
        a.removeAttribute("href");
        a.title = "Viewers cannot create alerts";
      });
    }

    window.addEventListener("popstate", () => {
      readUrl();
      showTab();
      showConfigFilter().catch(showError);
      loadTriggered().catch(showError);
    });

    // Alerts open and close by themselves: look again now and then while the list shows.
    const POLL_MS = 30000;
    (function poll() {
      setTimeout(async () => {
        if (!document.hidden && state.tab === "triggered") {
          try {
            await Promise.all([loadCounts(), loadTriggered(true)]);
          } catch (err) {
            console.error(err); // the next look may work; the page keeps what it shows
          }
        }
        poll();
      }, POLL_MS);
    })();

    readUrl();
    showTab();
    syncChannelType();
    syncWindowKind();
    return Promise.all([
      loadCounts(), loadTriggered(), showConfigFilter(), loadChannels().then(loadConfigs), loadWindows(),
    ]);
  }

  // --- alerts: the configuration form, with its live preview ---------------------------

  const PREVIEW_DAYS = 7;
  const PREVIEW_LISTED = 8;
  const PREVIEW_DEBOUNCE_MS = 400;

  async function alertFormPage(me) {
    const root = $("#alert-form-root");
    const configId = root.dataset.configId || null;
    const form = $("#alert-form");
    const canWrite = me.role !== "viewer";
    let loaded = null;

    const el = (id) => $("#" + id);
    const num = (id) => {
      const v = el(id).value.trim();
      return v === "" ? null : Number(v);
    };
    const typeOf = () => $("input[name=type]:checked", form).value;

    function syncType() {
      const type = typeOf();
      $$(".cond-fields", form).forEach((box) => show(box, box.dataset.type === type));
      show(el("af-timescale-field"), type === "anomaly");
      el("af-conditions-lede").textContent = {
        anomaly: "Each anomaly of a watched metric must meet all of these.",
        static: "A watched metric alerts while its value is outside these bounds.",
        no_data: "A watched metric alerts when its points stop coming.",
      }[type];
    }

    async function loadChannels() {
      const box = clear(el("af-channels"));
      const page = await api("/channels", { query: { limit: 500 } });
      if (!page.items.length) {
        box.append(h("p", { class: "muted small" }, "No channels yet. ",
          h("a", { href: "/alerts?tab=channels" }, "Add a webhook, Slack, email, PagerDuty or Teams channel"),
          " first; you can also save this alert now and pick channels later."));
        return;
      }
      page.items.forEach((c) => box.append(h("label", { class: "check check-chip channel-check", title: c.enabled ? "" : "This channel is disabled" },
        h("input", { type: "checkbox", name: "channel", value: c.id, "data-testid": "af-channel-" + c.id }),
        h("span", {}, c.name), h("span", { class: "muted small" }, CHANNEL_TYPE[c.type] || c.type),
        c.enabled ? null : badge("disabled", "muted"))));
    }

    function fill(c) {
      el("af-title").value = c.title;
      el("af-description").value = c.description || "";
      $$("input[name=type]", form).forEach((r) => { r.checked = r.value === c.type; });
      el("af-severity").value = c.severity;
      el("af-expression").value = c.expression || "";
      el("af-group-by").value = (c.group_by || []).join(", ");
      el("af-timescale").value = c.timescale || "native";
      const k = c.conditions || {};
      const minutes = (s) => (s === null || s === undefined || s === "" ? "" : String(Math.round((Number(s) / 60) * 1000) / 1000));
      const plain = (v) => (v === null || v === undefined ? "" : String(v));
      el("af-min-metrics").value = plain(k.min_metrics || 1);
      el("af-min-score").value = plain(k.min_score ?? 0);
      el("af-min-duration").value = k.min_duration_s ? minutes(k.min_duration_s) : "";
      el("af-direction").value = k.direction || "both";
      el("af-min-delta-abs").value = plain(k.min_delta_abs);
      el("af-min-delta-pct").value = plain(k.min_delta_pct);
      el("af-above").value = plain(k.above);
      el("af-below").value = plain(k.below);
      el("af-static-duration").value = k.duration_s ? minutes(k.duration_s) : "";
      el("af-no-data").value = k.no_data_s ? minutes(k.no_data_s) : "15";
      $$("input[name=notify_on]", form).forEach((cb) => { cb.checked = (c.notify_on || []).includes(cb.value); });
      el("af-repeat").value = minutes(c.repeat_interval_s);
      const chosen = new Set(c.channel_ids || []);
      $$("input[name=channel]", form).forEach((cb) => { cb.checked = chosen.has(Number(cb.value)); });
      // Channels the list did not show (over its limit) stay chosen.
      loaded.hiddenChannels = [...chosen].filter((id) => !$("input[name=channel][value='" + id + "']", form));
    }

    /** The configuration as the API takes it; throws ApiError for what cannot be sent. */
    function body() {
      const type = typeOf();
      const must = (id, ok, message) => {
        const v = num(id);
        if (v !== null && !(isFinite(v) && ok(v))) throw new ApiError(0, "VALIDATION_ERROR", message, { field: id });
        return v;
      };
      const conditions = {
        min_metrics: Math.max(1, Math.round(must("af-min-metrics", (v) => v >= 1, "At least 1 metric.") || 1)),
      };
      if (type === "anomaly") {
        conditions.min_score = must("af-min-score", (v) => v >= 0 && v <= 100, "The score goes from 0 to 100.") || 0;
        conditions.min_duration_s = (must("af-min-duration", (v) => v >= 0, "The duration cannot be negative.") || 0) * 60;
        conditions.min_delta_abs = must("af-min-delta-abs", (v) => v >= 0, "The delta cannot be negative.");
        conditions.min_delta_pct = must("af-min-delta-pct", (v) => v >= 0, "The delta % cannot be negative.");
        conditions.direction = el("af-direction").value;
        if (loaded && loaded.conditions && loaded.conditions.volume) conditions.volume = loaded.conditions.volume;
      } else if (type === "static") {
        conditions.above = must("af-above", () => true, "Above must be a number.");
        conditions.below = must("af-below", () => true, "Below must be a number.");
        conditions.duration_s = (must("af-static-duration", (v) => v >= 0, "The duration cannot be negative.") || 0) * 60;
        if (conditions.above === null && conditions.below === null) {
          throw new ApiError(0, "INCOMPLETE", "Give a bound above, below or both.", { field: "af-above" });
        }
      } else {
        const quiet = must("af-no-data", (v) => v > 0, "Say for how many minutes a metric must be silent.");
        if (quiet === null) throw new ApiError(0, "INCOMPLETE", "Say for how many minutes a metric must be silent.", { field: "af-no-data" });
        conditions.no_data_s = quiet * 60;
      }
      const repeat = must("af-repeat", (v) => v >= 0 && v <= 43200, "Updates: between 0 and 43,200 minutes (30 days).");
      const out = {
        title: el("af-title").value.trim(),
        description: el("af-description").value.trim(),
        type,
        severity: el("af-severity").value,
        expression: el("af-expression").value.trim(),
        group_by: el("af-group-by").value.split(",").map((v) => v.trim()).filter(Boolean),
        timescale: type === "anomaly" ? el("af-timescale").value : (loaded ? loaded.timescale : "native"),
        conditions,
        notify_on: $$("input[name=notify_on]:checked", form).map((cb) => cb.value),
        repeat_interval_s: repeat === null ? 3600 : Math.round(repeat * 60),
        channel_ids: [...$$("input[name=channel]:checked", form).map((cb) => Number(cb.value)), ...((loaded && loaded.hiddenChannels) || [])],
      };
      if (loaded) {
        // What this form does not show is kept as it was (PUT replaces the whole configuration).
        Object.assign(out, { owner: loaded.owner, labels: loaded.labels, routing_table_id: loaded.routing_table_id, action_ids: loaded.action_ids });
      }
      return out;
    }

    // --- the live preview ---
    const previewCall = newestOnly();
    let timer = null;

    function previewMessage(message, isError) {
      el("preview-fired").textContent = "–";
      el("preview").dataset.fired = "";
      el("preview-count").classList.remove("preview-done", "preview-zero");
      el("preview-text").textContent = isError ? "No preview for this configuration yet." : message;
      el("preview-facts").textContent = "";
      const err = el("preview-error");
      err.textContent = isError ? message : "";
      show(err, !!isError);
      clear(el("preview-list"));
    }

    function renderPreview(p) {
      const n = p.fired;
      el("preview").dataset.fired = String(n);
      el("preview-fired").textContent = fmtCount(n);
      el("preview-count").classList.add("preview-done");
      el("preview-count").classList.toggle("preview-zero", n === 0);
      el("preview-text").textContent = n === 0
        ? "This would not have fired in the last " + PREVIEW_DAYS + " days."
        : "This would have fired " + fmtCount(n) + (n === 1 ? " time" : " times") + " in the last " + PREVIEW_DAYS + " days.";
      const facts = [p.metrics_matched === 0 ? "No metric matches the expression."
        : fmtCount(p.metrics_matched) + (p.metrics_matched === 1 ? " metric matches" : " metrics match")];
      if (typeOf() === "anomaly" && p.metrics_matched) {
        facts.push(fmtCount(p.anomalies_considered) + (p.anomalies_considered === 1 ? " anomaly" : " anomalies") + " of theirs in the period");
      }
      el("preview-facts").textContent = facts.join(" · ") + ".";
      show(el("preview-error"), false);
      const list = clear(el("preview-list"));
      p.triggers.slice(0, PREVIEW_LISTED).forEach((t, i) => list.append(h("li", { "data-testid": "preview-trigger-" + i },
        h("div", { class: "preview-when" },
          known(t.peak_score) ? scorePill(t.peak_score) : null,
          h("span", {}, timeEl(isoOf(t.start))),
          h("span", { class: "muted small" }, "for " + fmtDuration(Math.max(0, t.end - t.start)))),
        h("div", { class: "preview-what muted small" }, t.metrics + (t.metrics === 1 ? " metric" : " metrics"),
          groupChips(t.group) ? [" · ", groupChips(t.group)] : null))));
      if (n > PREVIEW_LISTED) {
        list.append(h("li", { class: "muted small preview-more" }, "and " + fmtCount(n - PREVIEW_LISTED) + " earlier"
          + (n > p.triggers.length ? " (the newest " + p.triggers.length + " are listed by the API)" : "")));
      }
    }

    // The chart under the form: the metric of the newest would-have-fired alert (or the
    // first the expression matches) over the previewed days, with its band and the times
    // this configuration would have fired on it.
    const chartCall = newestOnly();
    let previewChart = null;
    async function drawPreviewChart(p, expression) {
      const stale = chartCall();
      const card = el("preview-chart-card");
      const ids = (t) => t.metric_ids || [];
      let metricId = p.triggers.length && ids(p.triggers[0]).length ? ids(p.triggers[0])[0] : null;
      let name = null;
      if (metricId === null || metricId === undefined) {
        if (!p.metrics_matched) {
          show(card, false);
          return;
        }
        const m = await api("/metrics", { query: { q: expression, sort: "-last_seen", limit: 1 } });
        if (stale()) return;
        if (!m.items.length) {
          show(card, false);
          return;
        }
        metricId = m.items[0].id;
        name = m.items[0].name;
      }
      show(card, true);
      const holder = el("preview-chart-box");
      if (!previewChart || !holder.contains(previewChart.box)) {
        // First time, or after an error panel took its place.
        const existing = el("preview-chart");
        const box = existing && holder.contains(existing) ? existing
          : h("div", { class: "chart chart-medium", id: "preview-chart", "data-testid": "preview-chart" },
            h("div", { class: "chart-tip", hidden: true }), h("div", { class: "skeleton skeleton-chart" }));
        if (box !== existing) append(clear(holder), box);
        previewChart = bandChart(box);
      }
      if (!name) {
        const m = await api("/metrics/" + metricId);
        if (stale()) return;
        name = m.name;
      }
      const mine = p.triggers.filter((t) => ids(t).includes(metricId));
      const fired = mine.map((t) => ({ start: t.start, end: t.end, label: "Would have fired" }));
      await previewChart.draw(metricId, p.start, p.end + 1, fired);
      if (stale()) return;
      el("preview-chart-metric").textContent = name;
      el("preview-chart-caption").textContent = mine.length
        ? "Marked: the " + fmtCount(mine.length) + (mine.length === 1 ? " time" : " times") + " this alert would have fired on this metric"
          + (p.fired > mine.length ? " (" + fmtCount(p.fired - mine.length) + " more on other metrics or groups)" : "") + "."
        : "It would not have fired on this metric in the last " + PREVIEW_DAYS + " days.";
    }

    async function preview() {
      const stale = previewCall();
      let b;
      try {
        b = body();
      } catch (err) {
        show(el("preview-busy"), false);
        previewMessage(err.message, err.code !== "INCOMPLETE");
        return;
      }
      // The preview needs no title, but the API requires one: any will do here.
      b.title = b.title || "Preview";
      b.days = PREVIEW_DAYS;
      show(el("preview-busy"), true);
      el("preview").classList.add("loading");
      try {
        const p = await api("/alerts/preview", { method: "POST", body: b });
        if (stale()) return;
        renderPreview(p);
        loadInto(el("preview-chart-box"), () => drawPreviewChart(p, b.expression),
          () => h("div", { class: "skeleton skeleton-chart" }));
      } catch (err) {
        if (stale()) return;
        if (err.status === 422) previewMessage(err.message, true);
        else throw err;
      } finally {
        if (!stale()) {
          show(el("preview-busy"), false);
          el("preview").classList.remove("loading");
        }
      }
    }

    function schedulePreview() {
      clearTimeout(timer);
      show(el("preview-busy"), true);
      timer = setTimeout(() => preview().catch(showError), PREVIEW_DEBOUNCE_MS);
    }
    form.addEventListener("input", schedulePreview);
    form.addEventListener("change", (ev) => {
      if (ev.target.name === "type") syncType();
      schedulePreview();
    });

    // --- save and delete ---
    function formError(err) {
      formErrorIn(form, el("alert-form-error"), err);
      const field = err && err.details && err.details.field;
      if (field && el(field)) {
        el(field).classList.add("invalid");
        el(field).setAttribute("aria-invalid", "true");
      }
    }

    onSubmit(form, async () => {
      let b;
      try {
        b = body();
        if (!b.title) throw new ApiError(0, "VALIDATION_ERROR", "Give the alert a title.", { field: "af-title" });
      } catch (err) {
        formError(err);
        return;
      }
      let out;
      try {
        out = await api(configId ? "/alerts/" + configId : "/alerts", { method: configId ? "PUT" : "POST", body: b });
      } catch (err) {
        if (err.status !== 422) throw err;
        formError(err);
        return;
      }
      formError(null);
      toast("Alert \u201c" + out.title + "\u201d " + (configId ? "saved." : "created."), "success");
      location.assign("/alerts?tab=configs");
    });

    const del = el("alert-delete");
    if (del) {
      del.addEventListener("click", async () => {
        if (!loaded || !confirm("Delete the alert \u201c" + loaded.title + "\u201d with all the alerts it triggered?")) return;
        await busy(del, async () => {
          await api("/alerts/" + configId, { method: "DELETE" });
          location.assign("/alerts?tab=configs");
        });
      });
    }

    if (!canWrite) {
      el("alert-save").disabled = true;
      el("alert-save").title = "Viewers cannot change alerts";
    }

    await loadChannels();
    if (configId) {
      try {
        loaded = await api("/alerts/" + configId);
      } catch (err) {
        if (err.status === 404) {
          el("alert-form-title").textContent = "Alert not found";
          append(clear(form), h("section", { class: "card" }, h("p", { class: "muted" }, "This alert configuration does not exist in this organization. ",
            h("a", { href: "/alerts?tab=configs" }, "Back to the configurations"), ".")));
          show(el("preview"), false);
          show(el("preview-chart-card"), false);
          return;
        }
        throw err;
      }
      document.title = loaded.title + " · augury";
      el("alert-form-title").textContent = loaded.title;
      append(clear(el("alert-form-state")), configState(loaded, true));
      fill(loaded);
      if (del) del.disabled = !canWrite;
    }
    syncType();
    await preview();
  }

  // --- a metric with its band and alert times, where alert decisions are made ---------

  /**
   * A chart in `box` (a .chart with a .chart-tip) of one metric from `from` to `to` with
   * its learned band, its anomalies shaded and `fired` alert times marked. Native points
   * where the API allows that many, else hourly ones (which carry the hourly band).
   * Redraws itself when the box changes width. Answers the series.
   */
  function bandChart(box) {
    let last = null;
    let width = box.clientWidth;
    new ResizeObserver(() => {
      if (box.clientWidth === width) return;
      width = box.clientWidth;
      if (last && last.s.timestamps.length) drawSeries(box, last.s, last.opts);
    }).observe(box);

    function message(text) {
      $$("svg", box).forEach((el) => el.remove());
      $$(".skeleton", box).forEach((el) => el.remove());
      let el = $(".chart-empty", box);
      if (!el) {
        el = h("div", { class: "chart-empty" });
        box.append(el);
      }
      append(clear(el), h("div", { class: "empty-icon" }, "∅"), h("p", {}, text));
      show(el, true);
    }

    async function draw(metricId, from, to, fired) {
      box.classList.add("loading");
      let s;
      try {
        const q = { from: Math.floor(from), to: Math.ceil(to) };
        try {
          s = await api("/metrics/" + metricId + "/timeseries", { query: { ...q, resolution: "native" } });
        } catch (err) {
          if (err.status !== 422) throw err;
          s = await api("/metrics/" + metricId + "/timeseries", { query: { ...q, resolution: "1h" } });
        }
      } finally {
        box.classList.remove("loading");
      }
      $$(".skeleton", box).forEach((el) => el.remove());
      if (!s.timestamps.length) {
        last = null;
        message("No points of this metric between " + fmtTime(isoOf(from)) + " and " + fmtTime(isoOf(to)) + ".");
        return s;
      }
      show($(".chart-empty", box), false);
      const opts = {
        anomalies: s.anomalies, fired,
        onAnomaly: (a) => location.assign("/anomalies/" + a.anomaly_id),
      };
      last = { s, opts };
      drawSeries(box, s, opts);
      return s;
    }

    return { box, draw, message };
  }

  // --- alerts: one triggered alert ----------------------------------------------------

  async function triggerPage(me) {
    const id = Number($("#trigger-root").dataset.triggerId);
    const canWrite = me.role !== "viewer";
    const ackBtn = $("#trigger-ack");
    const resolveBtn = $("#trigger-resolve");
    let t = null;
    let people = new Map();
    let channels = new Map();
    let configTitle = null;

    const who = (userId) => (userId === null || userId === undefined ? null
      : userId === me.id ? "you" : people.get(userId) || "user #" + userId);

    function render() {
      document.title = t.title + " · augury";
      $("#trigger-title").textContent = t.title;
      append(clear($("#trigger-badges")), [severityBadge(t.severity, "trigger-severity"), triggerBadges(t)]);
      append(clear($("#trigger-summary")), [
        t.status === "open" ? "Open since " : "Was open from ", timeEl(isoOf(t.start)),
        t.status === "open" ? "" : [" to ", timeEl(isoOf(t.end))],
        " (" + fmtDuration(t.duration) + ") on " + t.metric_count + (t.metric_count === 1 ? " metric" : " metrics") + ", raised by ",
        h("a", { href: "/alerts/" + t.config_id + "/edit", "data-testid": "trigger-config-link" },
          configTitle ? "\u201c" + configTitle + "\u201d" : "configuration #" + t.config_id), ".",
      ]);
      const box = $("#trigger-score-box");
      box.classList.remove("score-high", "score-mid", "score-low");
      if (known(t.peak_score)) {
        box.classList.add("score-" + scoreLevel(t.peak_score));
        $("#trigger-score").textContent = String(Math.round(t.peak_score));
      } else {
        $("#trigger-score").textContent = "–";
      }
      append(clear($("#trigger-facts")), [
        factEl("Status", h("span", { class: "badges" }, triggerBadges(t, "fact")), "fact-status"),
        factEl("Severity", severityBadge(t.severity), "fact-severity"),
        factEl("Type", alertTypeBadge(t.type), "fact-type"),
        factEl("Started", timeEl(isoOf(t.start)), "fact-start"),
        factEl(t.status === "open" ? "Last change" : "Ended", timeEl(isoOf(t.status === "open" ? t.updated : t.end)), "fact-end"),
        factEl("Duration", fmtDuration(t.duration), "fact-duration"),
        factEl("Direction", t.direction ? [directionArrow(t.direction), " " + (t.direction === "both" ? "up and down" : t.direction)] : "–", "fact-direction"),
        factEl("Group", groupChips(t.group) || h("span", { class: "muted" }, "–"), "fact-group"),
        factEl("Acknowledged", t.acknowledged_at ? [timeEl(t.acknowledged_at), h("div", { class: "muted small" }, "by " + who(t.acknowledged_by_id))]
          : h("span", { class: "muted" }, "no"), "fact-acknowledged"),
        t.resolved_by_id !== null ? factEl("Resolved by", who(t.resolved_by_id), "fact-resolved") : null,
        t.silenced_by ? factEl("Messages held by", t.silenced_by, "fact-silenced") : null,
      ]);
      const tb = clear($("#trigger-metrics-body"));
      t.metrics.forEach((m) => tb.append(h("tr", { "data-testid": "trigger-metric-" + m.metric_id },
        h("td", { class: "metric-name-cell" },
          h("a", { href: "/metrics/explore/" + m.metric_id, class: "strong", "data-testid": "trigger-metric-link-" + m.metric_id }, m.name)),
        h("td", { class: "num" }, known(m.score) ? scorePill(m.score) : h("span", { class: "muted" }, "–")),
        h("td", {}, stateBadge(m.state)),
        h("td", { class: "nowrap" }, timeEl(isoOf(m.start))),
        h("td", { class: "num" }, fmtDuration(Math.max(0, m.end - m.start))),
        h("td", { class: "num" }, h("span", { class: "strong" }, fmtValue(m.value)),
          known(m.expected) ? h("span", { class: "muted" }, " (" + fmtValue(m.expected) + ")") : null),
        h("td", { class: "num" }, m.direction ? [directionArrow(m.direction), " "] : null, known(m.delta) ? deltaEl(m.delta, m.delta_pct) : "–"),
        h("td", {}, m.anomaly_id
          ? h("a", { href: "/anomalies/" + m.anomaly_id, "data-testid": "trigger-anomaly-link-" + m.metric_id }, "#" + m.anomaly_id)
          : h("span", { class: "muted" }, "–")))));
      if (!t.metrics.length) emptyRow(tb, 8, "No metrics recorded for this alert.");

      const open = t.status === "open";
      ackBtn.textContent = t.acknowledged_at ? "Unacknowledge" : "Acknowledge";
      ackBtn.disabled = !canWrite || !open;
      ackBtn.title = !canWrite ? "Viewers cannot change alerts" : !open ? "The alert is closed"
        : t.acknowledged_at ? "Remove the acknowledgement" : "Someone is on it: no more update messages";
      resolveBtn.disabled = !canWrite || !open;
      resolveBtn.title = !canWrite ? "Viewers cannot change alerts" : !open ? "Already closed" : "Close it now; its close message goes out";
    }

    async function loadDeliveries() {
      const page = await api("/alerts/triggered/" + id + "/deliveries", { query: { limit: 100 } });
      const tb = clear($("#trigger-deliveries-body"));
      if (!page.items.length) {
        emptyRow(tb, 7, t.silenced_by ? "No message yet: they are held by the " + t.silenced_by + "."
          : "No message about this alert: its configuration may have no channel, or not notify on this.");
        return;
      }
      const names = new Map([...channels].map(([cid, c]) => [cid, c.name]));
      append(tb, deliveryRows(page.items, { channels: names, canWrite, reload: loadDeliveries }));
    }

    async function load() {
      t = await api("/alerts/triggered/" + id);
      render();
    }

    // The metric (the strongest first; a menu picks another) around the alert, with its
    // band and the time the alert was open marked.
    let chart = null;
    async function drawTriggerChart() {
      const box = $("#trigger-chart-box");
      if (!chart || !box.contains($("#trigger-chart"))) {
        append(clear(box), h("div", { class: "chart chart-medium", id: "trigger-chart", "data-testid": "trigger-chart" },
          h("div", { class: "chart-tip", hidden: true }), h("div", { class: "skeleton skeleton-chart" })));
        chart = bandChart($("#trigger-chart"));
      }
      const sel = $("#trigger-chart-metric");
      if (!t.metrics.length) {
        chart.message("No metrics recorded for this alert.");
        return;
      }
      if (!sel.options.length) {
        t.metrics.forEach((m) => sel.append(h("option", { value: m.metric_id }, m.name)));
        show(sel, t.metrics.length > 1);
        sel.addEventListener("change", () => loadInto(box, drawTriggerChart));
      }
      const metricId = Number(sel.value || t.metrics[0].metric_id);
      const now = Date.now() / 1000;
      const end = t.end === null || t.end === undefined ? now : t.end;
      const pad = Math.max(6 * 3600, 2 * (end - t.start));
      const fired = [{ start: t.start, end, label: t.status === "open" ? "Alert open since" : "Alert opened" }];
      await chart.draw(metricId, t.start - pad, Math.min(now, end + pad / 2) + 1, fired);
      $("#trigger-chart-caption").textContent = "The metric " + (t.metrics.length > 1 ? "you pick " : "")
        + "with its learned normal band and its anomalies (red); the amber line marks when the alert opened, the amber band how long it "
        + (t.status === "open" ? "has been open." : "stayed open.");
    }

    ackBtn.addEventListener("click", () => busy(ackBtn, async () => {
      t = await setAck(t, !t.acknowledged_at);
      toast(t.acknowledged_at ? "Acknowledged: no more update messages." : "Acknowledgement removed.", "success");
      render();
    }));
    resolveBtn.addEventListener("click", () => busy(resolveBtn, async () => {
      t = await resolveTrigger(t);
      toast("Alert resolved.", "success");
      render();
      await loadDeliveries();
    }));

    try {
      const [members, chans] = await Promise.all([
        api("/members", { query: { limit: 1000 } }).catch(() => ({ items: [] })),
        api("/channels", { query: { limit: 500 } }).catch(() => ({ items: [] })),
      ]);
      people = new Map(members.items.map((m) => [m.user_id, m.name || m.email]));
      channels = new Map(chans.items.map((c) => [c.id, c]));
      await load();
      // The configuration's own title (the alert's may have its placeholders filled in).
      api("/alerts/" + t.config_id).then((c) => {
        configTitle = c.title;
        render();
      }).catch(() => {}); // deleted since: the link says its number
    } catch (err) {
      if (err.status === 404) {
        $("#trigger-summary").textContent = "This triggered alert does not exist in this organization.";
        show($("#trigger-root"), false);
        ackBtn.disabled = true;
        resolveBtn.disabled = true;
        return;
      }
      throw err;
    }
    await Promise.all([loadDeliveries(), feedbackBox({ trigger_id: id }, me), loadInto($("#trigger-chart-box"), drawTriggerChart,
      () => h("div", { class: "skeleton skeleton-chart" }))]);
  }

  // --- settings: members --------------------------------------------------------------

  function needsAdmin(message) {
    const el = $("#needs-admin");
    el.textContent = message;
    show(el, true);
  }

  function membersPage(me) {
    let offset = 0;
    const admin = canAdmin(me);
    if (!admin) needsAdmin("You can see the members; only admins and owners can change them.");

    async function update(m, changes, control) {
      await busy(control, async () => {
        await api("/members/" + m.id, { method: "PATCH", body: changes });
        toast("Updated " + (m.name || m.email) + ".", "success");
      });
      await load();
    }

    async function load() {
      const page = await api("/members", { query: { offset, limit: 50 } });
      const tb = clear($("#members-body"));
      page.items.forEach((m) => {
        const isMe = m.user_id === me.id;
        let roleCell;
        const canTouch = admin && (me.role === "owner" || m.role !== "owner");
        if (canTouch) {
          const sel = h("select", {
            id: "member-role-" + m.id, "data-testid": "member-role-" + m.id, "aria-label": "Role of " + m.email,
          });
          ROLES.filter((r) => r !== "owner" || me.role === "owner").forEach((r) =>
            sel.append(h("option", { value: r, selected: r === m.role }, r)));
          sel.addEventListener("change", () => update(m, { role: sel.value }, sel));
          roleCell = sel;
        } else {
          roleCell = roleBadge(m.role);
        }
        const action = canTouch && !isMe
          ? h("button", {
            class: "btn btn-small " + (m.disabled ? "" : "btn-danger-ghost"),
            id: "member-toggle-" + m.id, "data-testid": "member-toggle-" + m.id,
          }, m.disabled ? "Enable" : "Disable")
          : null;
        if (action) action.addEventListener("click", () => update(m, { disabled: !m.disabled }, action));
        tb.append(h("tr", { "data-testid": "member-row-" + m.id },
          h("td", {}, h("div", { class: "person" },
            h("span", { class: "avatar avatar-small" }, initials(m.name || m.email)),
            h("div", {}, h("div", { class: "strong" }, m.name || m.email, isMe ? h("span", { class: "badge badge-muted you" }, "you") : null),
              h("div", { class: "muted small" }, m.email)))),
          h("td", {}, roleCell),
          h("td", {}, m.disabled ? badge("disabled", "danger") : badge("active", "success")),
          h("td", { class: "nowrap" }, timeEl(m.created_at)),
          h("td", { class: "nowrap" }, timeEl(m.last_login_at, true)),
          h("td", { class: "right" }, action)));
      });
      pager($("#members-pager"), page, (o) => { offset = o; load().catch(showError); }, "members");
    }
    return load();
  }

  // --- settings: invitations ----------------------------------------------------------

  function invitationsPage(me) {
    let offset = 0;
    if (!canAdmin(me)) {
      needsAdmin("Only admins and owners can invite people and see invitations.");
      show($("#settings-body"), false);
      return Promise.resolve();
    }
    if (me.role !== "owner") $("#invite-role option[value=owner]").remove();

    async function load() {
      const page = await api("/invitations", { query: { offset, limit: 50, pending: true } });
      const tb = clear($("#invitations-body"));
      show($("#invitations-empty"), page.total === 0);
      show($("#invitations-table"), page.total > 0);
      page.items.forEach((inv) => {
        const btn = h("button", {
          class: "btn btn-small btn-danger-ghost", id: "revoke-invitation-" + inv.id,
          "data-testid": "revoke-invitation-" + inv.id,
        }, "Revoke");
        btn.addEventListener("click", async () => {
          if (!confirm("Revoke the invitation of " + inv.email + "?")) return;
          await busy(btn, async () => {
            await api("/invitations/" + inv.id, { method: "DELETE" });
            toast("Invitation of " + inv.email + " revoked.", "success");
          });
          load().catch(showError);
        });
        tb.append(h("tr", { "data-testid": "invitation-row-" + inv.id },
          h("td", { class: "strong" }, inv.email),
          h("td", {}, roleBadge(inv.role)),
          h("td", { class: "nowrap" }, timeEl(inv.created_at)),
          h("td", { class: "nowrap" }, timeEl(inv.expires_at, true)),
          h("td", { class: "right" }, btn)));
      });
      pager($("#invitations-pager"), page, (o) => { offset = o; load().catch(showError); }, "invitations");
    }

    onSubmit($("#invite-form"), async (fd) => {
      const inv = await api("/invitations", {
        method: "POST", body: { email: text(fd, "email"), role: String(fd.get("role")) },
      });
      $("#invite-created-email").textContent = inv.email;
      $("#invite-link").textContent = inv.invitation_link;
      show($("#invite-created"), true);
      $("#invite-form").reset();
      toast("Invitation sent to " + inv.email + ".", "success");
      await load();
    });
    return load();
  }

  // --- settings: API keys -------------------------------------------------------------

  function apiKeysPage(me) {
    let offset = 0;
    // Nobody may give a key more power than they have.
    const allowed = canAdmin(me) ? ["ingest", "read", "write", "admin"]
      : me.role === "member" ? ["ingest", "read", "write"] : ["read"];
    $$("input[name=scopes]").forEach((cb) => {
      if (!allowed.includes(cb.value)) {
        cb.disabled = true;
        cb.checked = false;
        cb.closest("label").title = "Your role cannot grant this scope";
      }
    });

    const keysCall = newestOnly();
    async function load() {
      const stale = keysCall();
      const page = await api("/api-keys", {
        query: { offset, limit: 50, include_revoked: $("#keys-include-revoked").checked },
      });
      if (stale()) return;
      const tb = clear($("#keys-body"));
      show($("#keys-empty"), page.total === 0);
      show($("#keys-table"), page.total > 0);
      page.items.forEach((k) => {
        let action = null;
        if (k.revoked_at) {
          action = badge("revoked", "danger", "key-revoked-" + k.id);
        } else {
          action = h("button", {
            class: "btn btn-small btn-danger-ghost", id: "revoke-key-" + k.id, "data-testid": "revoke-key-" + k.id,
          }, "Revoke");
          action.addEventListener("click", async () => {
            if (!confirm("Revoke the key \u201c" + k.name + "\u201d? Anything using it stops working at once.")) return;
            await busy(action, async () => {
              await api("/api-keys/" + k.id, { method: "DELETE" });
              toast("Key \u201c" + k.name + "\u201d revoked.", "success");
            });
            load().catch(showError);
          });
        }
        tb.append(h("tr", { "data-testid": "key-row-" + k.id, class: k.revoked_at ? "row-dim" : "" },
          h("td", { class: "strong" }, k.name),
          h("td", {}, h("code", { "data-testid": "key-prefix-" + k.id }, KEY_START + k.prefix + "_…")),
          h("td", {}, h("div", { class: "badges" }, k.scopes.map((s) => badge(s, s === "admin" ? "violet" : "info")))),
          h("td", { class: "nowrap" }, timeEl(k.created_at)),
          h("td", { class: "nowrap" }, timeEl(k.last_used_at, true)),
          h("td", { class: "nowrap" }, k.expires_at ? timeEl(k.expires_at) : h("span", { class: "muted" }, "never")),
          h("td", { class: "right" }, action)));
      });
      pager($("#keys-pager"), page, (o) => { offset = o; load().catch(showError); }, "keys");
    }

    $("#keys-include-revoked").addEventListener("change", () => { offset = 0; load().catch(showError); });
    $("#key-dismiss").addEventListener("click", () => {
      $("#key-secret").textContent = "";
      show($("#key-created"), false);
    });
    onSubmit($("#key-form"), async (fd) => {
      const scopes = fd.getAll("scopes").map(String);
      if (!text(fd, "name")) throw new ApiError(0, "VALIDATION_ERROR", "Give the key a name, so you know later what uses it.");
      if (!scopes.length) throw new ApiError(0, "VALIDATION_ERROR", "Choose at least one scope.");
      const key = await api("/api-keys", { method: "POST", body: { name: text(fd, "name"), scopes } });
      $("#key-secret").textContent = key.key;
      show($("#key-created"), true);
      $("#key-name").value = "";
      await load();
    });
    return load();
  }

  // --- settings: audit log ------------------------------------------------------------

  function auditPage(me) {
    let offset = 0;
    if (!canAdmin(me)) {
      needsAdmin("Only admins and owners can read the audit log.");
      show($("#settings-body"), false);
      return Promise.resolve();
    }

    function details(ev) {
      const d = Object.entries(ev.details || {});
      if (!d.length) return h("span", { class: "muted" }, "–");
      return h("span", { class: "details small" }, d.map(([k, v]) =>
        h("span", { class: "kv" }, h("span", { class: "muted" }, k + " "), typeof v === "object" ? JSON.stringify(v) : String(v))));
    }

    const auditCall = newestOnly();
    async function load() {
      const stale = auditCall();
      const page = await api("/audit", {
        query: { offset, limit: 25, action: $("#audit-action").value, outcome: $("#audit-outcome").value },
      });
      if (stale()) return;
      const tb = clear($("#audit-body"));
      show($("#audit-empty"), page.total === 0);
      show($("#audit-table"), page.total > 0);
      page.items.forEach((ev) => tb.append(h("tr", { "data-testid": "audit-row", "data-action": ev.action },
        h("td", { class: "nowrap" }, timeEl(ev.created_at)),
        h("td", {}, h("code", {}, ev.action)),
        h("td", {}, badge(ev.outcome, OUTCOME_KIND[ev.outcome] || "muted")),
        h("td", {}, ev.actor_email || (ev.actor_key_id ? "API key #" + ev.actor_key_id : h("span", { class: "muted" }, "–"))),
        h("td", {}, ev.target_type ? ev.target_type + (ev.target_id ? " #" + ev.target_id : "") : h("span", { class: "muted" }, "–")),
        h("td", { class: "nowrap" }, ev.ip || "–"),
        h("td", {}, details(ev)))));
      pager($("#audit-pager"), page, (o) => { offset = o; load().catch(showError); }, "audit");
    }

    $$("#audit-filters select").forEach((s) => s.addEventListener("change", () => { offset = 0; load().catch(showError); }));
    return load();
  }

  // --- settings: organization ---------------------------------------------------------

  async function organizationPage(me) {
    const org = await api("/organizations/" + me.organization.id);
    $("#org-name").value = org.name;
    $("#org-description").value = org.description || "";
    if (!canAdmin(me)) {
      $$("#org-form input, #org-form textarea, #org-form button").forEach((el) => { el.disabled = true; });
      $("#org-save").title = "Only admins can rename the organization";
    }
    onSubmit($("#org-form"), async (fd) => {
      const out = await api("/organizations/" + me.organization.id, {
        method: "PATCH", body: { name: text(fd, "name"), description: text(fd, "description") || null },
      });
      toast("Organization saved.", "success");
      const opt = $("#org-switcher option[value='" + out.id + "']");
      if (opt) opt.textContent = out.name;
      $("#org-avatar").textContent = initials(out.name);
      await loadOrgs();
    });
    onSubmit($("#new-org-form"), async (fd) => {
      const out = await api("/organizations", { method: "POST", body: { name: text(fd, "name") } });
      $("#new-org-form").reset();
      toast("Organization \u201c" + out.name + "\u201d created. Switch to it from the list.", "success");
      await loadOrgs();
    });

    async function loadOrgs() {
      const page = await api("/organizations", { query: { limit: 1000 } });
      const tb = clear($("#orgs-body"));
      page.items.forEach((o) => {
        const current = o.id === me.organization.id;
        let action;
        if (current) {
          action = badge("current", "success");
        } else {
          action = h("button", { class: "btn btn-small", id: "switch-org-" + o.id, "data-testid": "switch-org-" + o.id }, "Switch to it");
          action.addEventListener("click", () => busy(action, () => switchOrg(o.id)));
        }
        tb.append(h("tr", {},
          h("td", { class: "strong" }, o.name),
          h("td", {}, roleBadge(o.role)),
          h("td", { class: "nowrap" }, timeEl(o.created_at)),
          h("td", { class: "right" }, action)));
      });
    }
    return loadOrgs();
  }

  const APP = {
    home: homePage,
    jobs: jobsPage,
    job: jobPage,
    "settings-members": membersPage,
    "settings-invitations": invitationsPage,
    "settings-api-keys": apiKeysPage,
    "settings-audit": auditPage,
    "settings-organization": organizationPage,
    metrics: metricsPage,
    metric: metricPage,
    anomalies: anomaliesPage,
    anomaly: anomalyPage,
    forecasts: forecastsPage,
    forecast: forecastPage,
    alerts: alertsPage,
    "alert-form": alertFormPage,
    "alert-triggered": triggerPage,
  };

  /** Small screens: the menu button opens and closes the sections. */
  function bindNavToggle() {
    const button = $("#nav-toggle");
    const sidebar = $("#sidebar");
    if (!button || !sidebar) return;
    const setOpen = (open) => {
      sidebar.classList.toggle("nav-open", open);
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", () => setOpen(!sidebar.classList.contains("nav-open")));
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") setOpen(false);
    });
  }

  async function startApp(page) {
    bindNavToggle();
    if (!tokens.access() && !tokens.refresh()) {
      goLogin();
      return;
    }
    let me;
    try {
      me = await api("/users/me");
    } catch (err) {
      showError(err);
      return;
    }
    fillShell(me);
    document.body.classList.remove("is-loading");
    if (APP[page]) {
      try {
        await APP[page](me);
      } catch (err) {
        showError(err);
      }
    }
    document.body.dataset.ready = "true";
  }

  function start() {
    const page = document.body.dataset.page;
    if (PUBLIC[page]) {
      PUBLIC[page]();
      document.body.dataset.ready = "true";
    } else if (document.body.classList.contains("app")) {
      startApp(page);
    }
  }

  window.augury = { api, tokens, toast };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
