/* Pieces shared by the Settings tabs. */

import { $, show } from "./dom.js";

export function needsAdmin(message) {
  const el = $("#needs-admin");
  el.textContent = message;
  show(el, true);
}
