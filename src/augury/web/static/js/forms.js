/* Forms: submitting them through the API and saying a 422's errors next to the
 * fields they name (the API's details carry each field's location).
 */

import { $, $$, h } from "./dom.js";
import { showError } from "./toast.js";

export function onSubmit(form, fn) {
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
export function fieldErrors(form, err) {
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

export function text(fd, name) {
  const v = fd.get(name);
  return v === null ? "" : String(v).trim();
}
