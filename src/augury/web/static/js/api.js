/* Calls to augury's REST API, and the login tokens they carry.
 *
 * The tokens live in localStorage. An access token lives 15 minutes: an expiring one
 * is refreshed before a call, and a 401 triggers one refresh (shared by concurrent
 * calls) and one retry. When the login cannot be renewed, the tokens are dropped and
 * the browser goes to /login. Errors are ApiErrors carrying the API's own code and
 * message, which the pages show as they are.
 */

const API = "/api/v1";
const K_ACCESS = "augury.access_token";
const K_REFRESH = "augury.refresh_token";

export const tokens = {
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

export class ApiError extends Error {
  constructor(status, code, message, details, silent) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.silent = !!silent;
  }
}

export function goLogin() {
  const here = location.pathname + location.search;
  location.assign("/login" + (here && here !== "/" ? "?next=" + encodeURIComponent(here) : ""));
}

/**
 * Call the API. Options: method, body (JSON), query (object), auth (default true),
 * retry (refresh + retry once on 401, default true), base (default "/api/v1"; the
 * Anodot-compatible routes live under "/api/v2"), blob (answer the body as a Blob,
 * for images).
 */
export async function api(path, opts) {
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

export function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function queryToken() {
  return new URLSearchParams(location.search).get("token") || "";
}

/** Run `tasks` (functions answering promises), at most `width` at a time. */
export async function inPool(tasks, width) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
}
