/* What the Text pages share: the projects' API paths, type and status badges, a
 * progress bar of a session, reading every page of a list, and the keyboard keys of
 * classes and labels (the annotator view shows them; the classes editor too).
 */

import { api, ApiError, tokens } from "./api.js";
import { h } from "./dom.js";
import { badge } from "./badges.js";

export const projectPath = (pid) => "/text/projects/" + pid;
export const sessionPath = (pid, sid) => projectPath(pid) + "/sessions/" + sid;

const TYPE_KIND = { CLASS: "info", LABEL: "violet", CLASSLABEL: "success", ABSA: "warning" };

export const TYPE_TEXT = {
  CLASS: "one class per segment",
  LABEL: "any number of labels per segment",
  CLASSLABEL: "pairs of a class and a label",
  ABSA: "aspects, each with a sentiment",
};

export function projectTypeBadge(type, testid) {
  const el = badge(type, TYPE_KIND[type] || "muted", testid);
  el.title = TYPE_TEXT[type] || "";
  return el;
}

const ROLE_KIND = { MANAGER: "info", ANNOTATOR: "success", VIEWER: "muted" };

export function projectRoleBadge(role, testid) {
  return badge(String(role || "–").toLowerCase(), ROLE_KIND[role] || "muted", testid);
}

const STATUS_KIND = {
  CREATED: "muted", SAMPLING: "info", PREDICTING: "info", ANNOTATING: "info", FINISHED: "success", FAILED: "danger",
};

export function sessionStatusBadge(status, testid) {
  return badge(String(status || "").toLowerCase(), STATUS_KIND[status] || "muted", testid);
}

/** Which vocabulary a project type tags with: classes, labels, or both (pairs). */
export function usesClasses(type) {
  return type !== "LABEL";
}

export function usesLabels(type) {
  return type !== "CLASS";
}

export const pairsOf = (type) => type === "CLASSLABEL" || type === "ABSA";

/** ABSA's fixed sentiments answer to the letters people read in them. */
export const ABSA_KEYS = { POS: "p", NEG: "n", NEU: "u", CONFLICT: "c" };

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** The digit that picks the n-th (0-based) class or label: 1–9, then 0 for the tenth. */
export function digitOf(i) {
  return i < 9 ? String(i + 1) : i === 9 ? "0" : null;
}

/** The letter that picks the n-th label after a class (ABSA: p, n, u, c). */
export function letterOf(label, i, type) {
  if (type === "ABSA" && ABSA_KEYS[label.name]) return ABSA_KEYS[label.name];
  return i < LETTERS.length ? LETTERS[i] : null;
}

export function keyHint(key) {
  return key ? h("kbd", { class: "kbd" }, key) : null;
}

/** A session's (or an annotator's) progress, 0–100, as a bar with its figure. */
export function progressCell(pct, testid, caption) {
  const v = Math.max(0, Math.min(100, Number(pct) || 0));
  const bar = h("div", { class: "progress-bar" });
  bar.style.width = v + "%";
  return h("div", { class: "text-progress" },
    h("div", {
      class: "progress " + (v >= 100 ? "progress-succeeded" : "progress-running"), role: "progressbar",
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(v), "data-testid": testid,
      "aria-label": caption || "Progress",
    }, bar),
    h("span", { class: "small pct" }, Math.round(v) + "%"));
}

/** Every item of a paginated list (the classes of a project, its groups): pages of 1,000. */
export async function listAll(path, query) {
  const items = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api(path, { query: Object.assign({}, query || {}, { offset, limit: 1000 }) });
    const got = Array.isArray(page) ? page : page.items;
    items.push(...got);
    if (Array.isArray(page) || !page.has_more || !got.length) return items;
  }
}

/** The first line of a long text, cut at `n` characters. */
export function excerpt(text, n) {
  const s = String(text || "").replace(/\s+/g, " ").trim();
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** A person as the lists show them: their name, else their email, else who the API says. */
export function personName(p) {
  if (!p) return "–";
  return p.name || p.email || (p.user_id ? "user #" + p.user_id : p.annotator || "–");
}

/**
 * POST a multipart form (a file) to the API. api() sends JSON only; this sends the
 * FormData as it is with the login's token, renews an expired login once through
 * api(), and throws the API's own error as api() does.
 */
export async function postForm(path, form) {
  const send = () => fetch("/api/v1" + path, {
    method: "POST",
    headers: Object.assign({ Accept: "application/json" }, tokens.access() ? { Authorization: "Bearer " + tokens.access() } : {}),
    body: form,
  });
  let r;
  try {
    r = await send();
    if (r.status === 401) {
      await api("/users/me");
      r = await send();
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "NETWORK_ERROR", "Cannot reach the augury server. Check that it is running.");
  }
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(r.status, err.code || "ERROR", err.message || "Upload failed (HTTP " + r.status + ").", err.details);
  }
  return data;
}
