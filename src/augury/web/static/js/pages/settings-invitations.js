/* Settings › Invitations: inviting people by mail and the invitations still open. */

import { api } from "../api.js";
import { $, clear, h, show } from "../dom.js";
import { roleBadge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { pager } from "../pager.js";
import { canAdmin, startApp } from "../shell.js";
import { needsAdmin } from "../settings.js";

function invitationsPage(me) {
  let offset = 0;
  if (!canAdmin(me)) {
    needsAdmin("Only admins and owners can invite people and see invitations.");
    show($("#settings-body"), false);
    return Promise.resolve();
  }
  if (me.role !== "owner") $("#invite-role option[value=owner]").remove();

  async function load() {
    const page = await api("/invitations", { query: { offset, limit: 50, pending: true } });
    const tb = clear($("#invitations-body"));
    show($("#invitations-empty"), page.total === 0);
    show($("#invitations-table"), page.total > 0);
    page.items.forEach((inv) => {
      const btn = h("button", {
        class: "btn btn-small btn-danger-ghost", id: "revoke-invitation-" + inv.id,
        "data-testid": "revoke-invitation-" + inv.id,
      }, "Revoke");
      btn.addEventListener("click", async () => {
        if (!confirm("Revoke the invitation of " + inv.email + "?")) return;
        await busy(btn, async () => {
          await api("/invitations/" + inv.id, { method: "DELETE" });
          toast("Invitation of " + inv.email + " revoked.", "success");
        });
        load().catch(showError);
      });
      tb.append(h("tr", { "data-testid": "invitation-row-" + inv.id },
        h("td", { class: "strong" }, inv.email),
        h("td", {}, roleBadge(inv.role)),
        h("td", { class: "nowrap" }, timeEl(inv.created_at)),
        h("td", { class: "nowrap" }, timeEl(inv.expires_at, true)),
        h("td", { class: "right" }, btn)));
    });
    pager($("#invitations-pager"), page, (o) => { offset = o; load().catch(showError); }, "invitations");
  }

  onSubmit($("#invite-form"), async (fd) => {
    const inv = await api("/invitations", {
      method: "POST", body: { email: text(fd, "email"), role: String(fd.get("role")) },
    });
    $("#invite-created-email").textContent = inv.email;
    $("#invite-link").textContent = inv.invitation_link;
    show($("#invite-created"), true);
    $("#invite-form").reset();
    toast("Invitation sent to " + inv.email + ".", "success");
    await load();
  });
  return load();
}

startApp(invitationsPage);
