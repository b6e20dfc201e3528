/* The app's frame around every page: the organization switcher, the user menu, the
 * password dialog and the small-screen menu; and how a page starts.
 *
 * Each page is a module of its own (pages/<data-page>.js, loaded by base.html) that
 * calls startApp() with the function that fills it, or startPublic() on the pages for
 * people not logged in. startApp() sends people without a login to /login, fills the
 * frame from /users/me and hands the page that answer. Once the page is filled, the
 * body carries data-ready="true".
 */

import { api, goLogin, tokens } from "./api.js";
import { $, clear, h } from "./dom.js";
import { initials } from "./format.js";
import { ROLE_KIND } from "./badges.js";
import { busy, copyText, showError, toast } from "./toast.js";
import { onSubmit } from "./forms.js";
import { bindNotifications } from "./notifications.js";
import { bindSearchBox } from "./search-box.js";
import { applyPreferences, applyStoredTheme } from "./preferences.js";

applyStoredTheme();

export function canAdmin(me) {
  return me.role === "admin" || me.role === "owner";
}

export async function switchOrg(orgId) {
  const out = await api("/auth/switch", { method: "POST", body: { organization_id: Number(orgId) } });
  tokens.save(out);
  location.reload();
}

async function logout() {
  try {
    await api("/auth/logout", { method: "POST", retry: false });
  } catch (e) {
    // The login may already have ended: forgetting the tokens is what matters.
  }
  tokens.clear();
  location.assign("/login");
}

function fillShell(me) {
  const sel = $("#org-switcher");
  clear(sel);
  me.organizations.forEach((o) => {
    sel.append(h("option", { value: o.id, selected: o.id === me.organization.id, title: "your role: " + o.role }, o.name));
  });
  sel.disabled = me.organizations.length < 2;
  sel.title = sel.disabled ? "Create or join another organization to switch" : "Switch organization";
  sel.addEventListener("change", () => busy(sel, () => switchOrg(sel.value)));
  $("#org-avatar").textContent = initials(me.organization.name);
  const role = $("#my-role");
  role.textContent = me.role;
  role.className = "badge badge-" + (ROLE_KIND[me.role] || "muted");
  $("#user-avatar").textContent = initials(me.name || me.email);
  $("#user-name").textContent = me.name || me.email;
  $("#menu-user-name").textContent = me.name || "";
  $("#menu-user-email").textContent = me.email;

  const button = $("#user-menu-button");
  const panel = $("#user-menu-panel");
  const setOpen = (open) => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", (ev) => {
    ev.stopPropagation();
    setOpen(panel.hidden);
  });
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("#user-menu")) setOpen(false);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") setOpen(false);
  });
  $("#logout-button").addEventListener("click", () => busy($("#logout-button"), logout));

  const dialog = $("#password-dialog");
  $("#change-password-open").addEventListener("click", () => {
    setOpen(false);
    $("#password-form").reset();
    dialog.showModal();
  });
  $("#password-cancel").addEventListener("click", () => dialog.close());
  onSubmit($("#password-form"), async (fd) => {
    // A wrong current password answers 422; no refresh-and-retry is needed here.
    await api("/auth/password/change", {
      method: "POST", retry: false,
      body: { current_password: String(fd.get("current_password") || ""), new_password: String(fd.get("new_password") || "") },
    });
    dialog.close();
    toast("Password changed. Your other logins have ended.", "success");
  });
}

/** Small screens: the menu button opens and closes the sections. */
function bindNavToggle() {
  const button = $("#nav-toggle");
  const sidebar = $("#sidebar");
  if (!button || !sidebar) return;
  const setOpen = (open) => {
    sidebar.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => setOpen(!sidebar.classList.contains("nav-open")));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") setOpen(false);
  });
}

/** Copy buttons (data-copy-target="id") copy the text of the element they name. */
function bindCopyButtons() {
  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-copy-target]");
    if (btn) copyText($("#" + btn.dataset.copyTarget).textContent);
  });
}

/** What every page has, logged in or not; `window.augury` is for the browser console. */
function startAny() {
  bindCopyButtons();
  window.augury = { api, tokens, toast };
}

/** Start a page for people not logged in: `fill()` binds its form. */
export function startPublic(fill) {
  startAny();
  fill();
  document.body.dataset.ready = "true";
}

/** Start an app page: the frame from /users/me, then `fill(me)` fills the page. */
export async function startApp(fill) {
  startAny();
  bindNavToggle();
  if (!tokens.access() && !tokens.refresh()) {
    goLogin();
    return;
  }
  let me;
  try {
    me = await api("/users/me");
  } catch (err) {
    showError(err);
    return;
  }
  applyPreferences(me.preferences);
  fillShell(me);
  bindNotifications();
  bindSearchBox();
  document.body.classList.remove("is-loading");
  try {
    await fill(me);
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = "true";
}
