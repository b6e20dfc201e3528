/* Loading and errors: skeletons while a part loads, a panel with Retry when it fails.
 *
 * A part that cannot be loaded says so in place (with the API's message) instead of
 * staying blank, and can be tried again without reloading the page.
 */

import { $, append, clear, h, show } from "./dom.js";

export function skeletonLines(n) {
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
export async function loadInto(box, fn, placeholder, stats) {
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
export function showFailed(id, anchor, err, retry) {
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

export function hideFailed(id, anchor) {
  const slot = document.getElementById(id);
  if (slot) show(clear(slot), false);
  show(anchor, true);
}
