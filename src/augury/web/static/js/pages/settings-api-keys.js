/* Settings › API keys: the organization's keys; a new key's secret shows once. */

import { api, ApiError } from "../api.js";
import { $, $$, clear, h, newestOnly, show } from "../dom.js";
import { badge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { canAdmin, startApp } from "../shell.js";

const KEY_START = "aug_"; // keys read aug_<prefix>_<secret>: show what people will recognise

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

startApp(apiKeysPage);
