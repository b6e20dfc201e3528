/* Settings › Organization: renaming it, its rules (data retention, maximum users,
 * allowed AI models), and the organizations one belongs to. */

import { api } from "../api.js";
import { $, $$, clear, h } from "../dom.js";
import { initials } from "../format.js";
import { badge, roleBadge, timeEl } from "../badges.js";
import { busy, toast } from "../toast.js";
import { onSubmit, text } from "../forms.js";
import { canAdmin, startApp, switchOrg } from "../shell.js";

async function organizationPage(me) {
  const org = await api("/organizations/" + me.organization.id);
  $("#org-name").value = org.name;
  $("#org-description").value = org.description || "";
  if (!canAdmin(me)) {
    $$("#org-form input, #org-form textarea, #org-form button").forEach((el) => { el.disabled = true; });
    $("#org-save").title = "Only admins can rename the organization";
  }
  onSubmit($("#org-form"), async (fd) => {
    const out = await api("/organizations/" + me.organization.id, {
      method: "PATCH", body: { name: text(fd, "name"), description: text(fd, "description") || null },
    });
    toast("Organization saved.", "success");
    const opt = $("#org-switcher option[value='" + out.id + "']");
    if (opt) opt.textContent = out.name;
    $("#org-avatar").textContent = initials(out.name);
    await loadOrgs();
  });
  await rules(me);
  onSubmit($("#new-org-form"), async (fd) => {
    const out = await api("/organizations", { method: "POST", body: { name: text(fd, "name") } });
    $("#new-org-form").reset();
    toast("Organization \u201c" + out.name + "\u201d created. Switch to it from the list.", "success");
    await loadOrgs();
  });

  async function loadOrgs() {
    const page = await api("/organizations", { query: { limit: 1000 } });
    const tb = clear($("#orgs-body"));
    page.items.forEach((o) => {
      const current = o.id === me.organization.id;
      let action;
      if (current) {
        action = badge("current", "success");
      } else {
        action = h("button", { class: "btn btn-small", id: "switch-org-" + o.id, "data-testid": "switch-org-" + o.id }, "Switch to it");
        action.addEventListener("click", () => busy(action, () => switchOrg(o.id)));
      }
      tb.append(h("tr", {},
        h("td", { class: "strong" }, o.name),
        h("td", {}, roleBadge(o.role)),
        h("td", { class: "nowrap" }, timeEl(o.created_at)),
        h("td", { class: "right" }, action)));
    });
  }
  return loadOrgs();
}

function fillRules(settings) {
  $("#org-retention").value = settings.data_retention_days ?? "";
  $("#org-max-users").value = settings.max_users ?? "";
  $("#org-models").value = (settings.allowed_models || []).join(", ");
}

async function rules(me) {
  const url = "/organizations/" + me.organization.id + "/settings";
  fillRules(await api(url));
  if (!canAdmin(me)) {
    $$("#org-settings-form input, #org-settings-form button").forEach((el) => { el.disabled = true; });
    return;
  }
  const count = (fd, name) => (text(fd, name) === "" ? null : Number(text(fd, name)));
  onSubmit($("#org-settings-form"), async (fd) => {
    const models = text(fd, "allowed_models");
    const out = await api(url, {
      method: "PATCH",
      body: {
        data_retention_days: count(fd, "data_retention_days"),
        max_users: count(fd, "max_users"),
        allowed_models: models ? models.split(",").map((m) => m.trim()).filter(Boolean) : null,
      },
    });
    fillRules(out);
    toast("Rules saved.", "success");
  });
}

startApp(organizationPage);
