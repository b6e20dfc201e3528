/* Messages that come and go (toasts), and running an action with its button
 * disabled and its error shown: how every page reports what happened.
 */

import { $, h } from "./dom.js";

export function toast(message, kind) {
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

export function showError(err) {
  if (err && err.silent) return;
  console.error(err);
  toast((err && err.message) || "Something went wrong.", "error");
}

/** Run fn with the button disabled and errors shown as toasts; resolves to fn's value. */
export async function busy(button, fn) {
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

export async function copyText(value) {
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
