/* Settings › Members: the organization's people and their roles. */

import { api } from "../api.js";
import { $, clear, h } from "../dom.js";
import { initials } from "../format.js";
import { badge, roleBadge, timeEl } from "../badges.js";
import { busy, showError, toast } from "../toast.js";
import { pager } from "../pager.js";
import { canAdmin, startApp } from "../shell.js";
import { needsAdmin } from "../settings.js";

const ROLES = ["viewer", "member", "admin", "owner"];

function membersPage(me) {
  let offset = 0;
  const admin = canAdmin(me);
  if (!admin) needsAdmin("You can see the members; only admins and owners can change them.");

  async function update(m, changes, control) {
    await busy(control, async () => {
      await api("/members/" + m.id, { method: "PATCH", body: changes });
      toast("Updated " + (m.name || m.email) + ".", "success");
    });
    await load();
  }

  async function load() {
    const page = await api("/members", { query: { offset, limit: 50 } });
    const tb = clear($("#members-body"));
    page.items.forEach((m) => {
      const isMe = m.user_id === me.id;
      let roleCell;
      const canTouch = admin && (me.role === "owner" || m.role !== "owner");
      if (canTouch) {
        const sel = h("select", {
          id: "member-role-" + m.id, "data-testid": "member-role-" + m.id, "aria-label": "Role of " + m.email,
        });
        ROLES.filter((r) => r !== "owner" || me.role === "owner").forEach((r) =>
          sel.append(h("option", { value: r, selected: r === m.role }, r)));
        sel.addEventListener("change", () => update(m, { role: sel.value }, sel));
        roleCell = sel;
      } else {
        roleCell = roleBadge(m.role);
      }
      const action = canTouch && !isMe
        ? h("button", {
          class: "btn btn-small " + (m.disabled ? "" : "btn-danger-ghost"),
          id: "member-toggle-" + m.id, "data-testid": "member-toggle-" + m.id,
        }, m.disabled ? "Enable" : "Disable")
        : null;
      if (action) action.addEventListener("click", () => update(m, { disabled: !m.disabled }, action));
      tb.append(h("tr", { "data-testid": "member-row-" + m.id },
        h("td", {}, h("div", { class: "person" },
          h("span", { class: "avatar avatar-small" }, initials(m.name || m.email)),
          h("div", {}, h("div", { class: "strong" }, m.name || m.email, isMe ? h("span", { class: "badge badge-muted you" }, "you") : null),
            h("div", { class: "muted small" }, m.email)))),
        h("td", {}, roleCell),
        h("td", {}, m.disabled ? badge("disabled", "danger") : badge("active", "success")),
        h("td", { class: "nowrap" }, timeEl(m.created_at)),
        h("td", { class: "nowrap" }, timeEl(m.last_login_at, true)),
        h("td", { class: "right" }, action)));
    });
    pager($("#members-pager"), page, (o) => { offset = o; load().catch(showError); }, "members");
  }
  return load();
}

startApp(membersPage);
