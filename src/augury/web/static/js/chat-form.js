/* A chatbot's settings form (the New chatbot dialog and the use case page): the
 * organization's AI providers in its select, a use case read into it, and its fields
 * read back as the API's body.
 */

import { api } from "./api.js";
import { clear, h } from "./dom.js";

const words = (value) => String(value || "").split(/[,\n]/).map((w) => w.trim()).filter(Boolean);
const lines = (value) => String(value || "").split(/[\s,]+/).map((w) => w.trim().replace(/\/+$/, "")).filter(Boolean);

/** The providers (id, name, model) as the select's options; "None" first. */
export async function fillProviders(select, chosen) {
  let page = { items: [] };
  try {
    page = await api("/ai/providers", { query: { limit: 100 } });
  } catch (err) {
    if (err.status !== 403 && err.status !== 404) throw err;
  }
  clear(select);
  select.append(h("option", { value: "" }, "None (offline answers)"));
  page.items.forEach((p) => select.append(h("option", { value: p.id, selected: chosen === p.id }, p.name + " · " + p.model + (p.is_default ? " (default)" : ""))));
  if (chosen && !page.items.some((p) => p.id === chosen)) select.append(h("option", { value: chosen, selected: true }, "Provider #" + chosen));
  return page.items;
}

/** The form's fields as the body of POST or PATCH /chat/use-cases. */
export function readUseCase(form) {
  const v = (name) => {
    const el = form.elements.namedItem(name);
    return el ? String(el.value).trim() : "";
  };
  const num = (name, fallback) => (v(name) === "" ? fallback : Number(v(name)));
  return {
    name: v("name"),
    description: v("description"),
    welcome: v("welcome"),
    instructions: v("instructions"),
    temperature: num("temperature", 0),
    max_tokens: num("max_tokens", 512),
    min_confidence: num("min_confidence", 0.2),
    strict: form.elements.namedItem("strict").checked,
    provider_id: v("provider_id") ? Number(v("provider_id")) : null,
    words_for_manual: words(v("words_for_manual")),
    words_for_attention: words(v("words_for_attention")),
    manual_message: v("manual_message"),
    auto_msg: v("auto_msg"),
    timeout_for_auto_msg_s: num("timeout_for_auto_msg_s", null),
    allowed_origins: lines(v("allowed_origins")),
  };
}

/** Fill the form from a use case's JSON. */
export function writeUseCase(form, uc) {
  const set = (name, value) => {
    const el = form.elements.namedItem(name);
    if (el) el.value = value === null || value === undefined ? "" : String(value);
  };
  ["name", "description", "welcome", "instructions", "temperature", "max_tokens", "min_confidence",
    "manual_message", "auto_msg", "timeout_for_auto_msg_s"].forEach((k) => set(k, uc[k]));
  set("provider_id", uc.provider_id || "");
  set("words_for_manual", (uc.words_for_manual || []).join(", "));
  set("words_for_attention", (uc.words_for_attention || []).join(", "));
  set("allowed_origins", (uc.allowed_origins || []).join("\n"));
  form.elements.namedItem("strict").checked = uc.strict !== false;
}
