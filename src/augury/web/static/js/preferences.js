/* A person's preferences applied to the page: the theme on <html data-theme> (the
 * stylesheet's dark variables) and the time zone of every time shown (format.js).
 *
 * The last theme is remembered in localStorage, so a page paints in it before
 * /users/me answers; "system" follows the browser's light or dark setting, live.
 */

import { setTimeZone } from "./format.js";

const KEY = "augury.theme";
const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
let chosen = "system";

function paint() {
  const dark = chosen === "dark" || (chosen === "system" && darkQuery && darkQuery.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

if (darkQuery) darkQuery.addEventListener("change", paint);

/** Show the page in `theme` (light, dark or system) and remember it for the next one. */
export function applyTheme(theme) {
  chosen = theme === "dark" || theme === "light" ? theme : "system";
  try {
    localStorage.setItem(KEY, chosen);
  } catch (err) {
    // Storage may be off (private windows): the theme still applies to this page.
  }
  paint();
}

/** The theme remembered from the last page, until /users/me tells. */
export function applyStoredTheme() {
  let stored = null;
  try {
    stored = localStorage.getItem(KEY);
  } catch (err) {
    stored = null;
  }
  chosen = stored || "system";
  paint();
}

/** Everything /users/me's `preferences` says about showing things. */
export function applyPreferences(prefs) {
  if (!prefs) return;
  applyTheme(prefs.theme);
  setTimeZone(prefs.timezone);
}
