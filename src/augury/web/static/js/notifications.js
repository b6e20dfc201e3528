/* The notifications bell in the top bar: the unread count, and a list of the newest
 * notifications (long work that finished: an upload segmented, a model trained) that
 * marks each read as it is opened. The count is asked again every minute while the
 * tab is visible. A server without the notifications routes leaves the bell hidden.
 */

import { api } from "./api.js";
import { $, clear, h, show } from "./dom.js";
import { fmtAgo } from "./format.js";

const POLL_MS = 60000;

export function bindNotifications() {
  const menu = $("#notif-menu");
  if (!menu) return;
  const button = $("#notif-button");
  const panel = $("#notif-panel");
  const count = $("#notif-count");
  let unread = 0;

  function setCount(n) {
    unread = Math.max(0, n);
    count.textContent = unread > 99 ? "99+" : String(unread);
    show(count, unread > 0);
    button.setAttribute("aria-label", unread ? "Notifications, " + unread + " unread" : "Notifications");
  }

  async function refreshCount() {
    const out = await api("/notifications/unread-count");
    setCount(Number(out.unread ?? out.count ?? 0));
  }

  async function markRead(n) {
    if (n.read_at) return;
    await api("/notifications/" + n.id + "/read", { method: "POST" });
    n.read_at = new Date().toISOString();
    setCount(unread - 1);
  }

  function item(n) {
    const li = h("li", { class: "notif-item" + (n.read_at ? "" : " notif-unread"), "data-testid": "notif-item-" + n.id });
    const open = h("button", { type: "button", class: "notif-open", "data-testid": "notif-open-" + n.id },
      h("span", { class: "notif-title strong" }, n.title),
      n.body ? h("span", { class: "notif-body muted small" }, n.body) : null,
      h("span", { class: "notif-when muted small" }, fmtAgo(n.created_at)));
    open.addEventListener("click", async () => {
      try {
        await markRead(n);
      } finally {
        li.classList.remove("notif-unread");
        if (n.link && n.link.startsWith("/") && !n.link.startsWith("//")) location.assign(n.link);
      }
    });
    li.append(open);
    if (!n.read_at) {
      const read = h("button", { type: "button", class: "btn btn-small notif-mark", "data-testid": "notif-mark-" + n.id, "aria-label": "Mark read: " + n.title }, "Mark read");
      read.addEventListener("click", async () => {
        await markRead(n);
        li.classList.remove("notif-unread");
        read.remove();
      });
      li.append(read);
    }
    return li;
  }

  async function fillList() {
    const list = clear($("#notif-list"));
    list.append(h("li", { class: "notif-empty muted small" }, "Loading…"));
    let page;
    try {
      page = await api("/notifications", { query: { limit: 15 } });
    } catch (err) {
      clear(list).append(h("li", { class: "notif-empty muted small", role: "alert" }, err.message));
      return;
    }
    clear(list);
    page.items.forEach((n) => list.append(item(n)));
    if (!page.items.length) list.append(h("li", { class: "notif-empty muted small", "data-testid": "notif-empty" }, "Nothing yet. You are told here when long work finishes."));
  }

  const setOpen = (open) => {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) fillList();
  };
  button.addEventListener("click", (ev) => {
    ev.stopPropagation();
    setOpen(panel.hidden);
  });
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest("#notif-menu")) setOpen(false);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !panel.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  $("#notif-read-all").addEventListener("click", async () => {
    await api("/notifications/read-all", { method: "POST" });
    setCount(0);
    await fillList();
  });

  refreshCount().then(() => {
    show(menu, true);
    setInterval(() => {
      if (!document.hidden) refreshCount().catch(() => {});
    }, POLL_MS);
  }).catch(() => show(menu, false));
}
