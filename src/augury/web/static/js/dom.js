/* Building and changing the page: h() and svg() make elements, $/$$ find them.
 *
 * No framework: each page builds its parts with these and fills them from the API.
 */

// Answers can arrive out of order (a filter changed twice quickly): a loader asks
// `stale()` after each await and renders only if no newer call has started since.
export function newestOnly() {
  let latest = 0;
  return () => { const mine = ++latest; return () => mine !== latest; };
}

export const $ = (sel, root) => (root || document).querySelector(sel);
export const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

/** h("a", {href: "/x", class: "btn", onclick: fn}, "text", child, ...) */
export function h(tag, attrs) {
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

export function append(el, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(el, c));
  else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function show(el, visible) {
  if (el) el.hidden = !visible;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** svg("path", {d: "M0 0"}, child, ...): h() for SVG elements. */
export function svg(tag, attrs) {
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
