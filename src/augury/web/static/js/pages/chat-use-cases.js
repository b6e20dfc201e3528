/* Chatbots (/chat): the organization's use cases (status, knowledge tokens, index,
 * chats), and "New chatbot", which creates one and opens its page.
 */

import { api } from "../api.js";
import { $, clear, h, newestOnly, show } from "../dom.js";
import { timeEl } from "../badges.js";
import { onSubmit } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { fmtCount } from "../format.js";
import { indexBadge, useCaseStatusBadge } from "../chat-common.js";
import { fillProviders, readUseCase } from "../chat-form.js";

function useCasesPage(me) {
  const canWrite = me.role !== "viewer";
  const state = { offset: 0, limit: 25 };
  const body = $("#uc-body");
  const wrap = $("#uc-table").closest(".table-wrap");
  const counts = new Map();

  function row(uc) {
    const href = "/chat/" + uc.id;
    const chats = counts.get(uc.id);
    const tr = h("tr", { class: "row-link", "data-testid": "uc-row-" + uc.id },
      h("td", {}, h("a", { href, class: "strong", "data-testid": "uc-link-" + uc.id }, uc.name),
        uc.description ? h("div", { class: "muted small" }, uc.description) : null),
      h("td", {}, useCaseStatusBadge(uc)),
      h("td", { class: "num" }, fmtCount(uc.tokens || 0)),
      h("td", {}, indexBadge(uc.index), uc.index && uc.index.passages ? h("span", { class: "muted small" }, " " + uc.index.passages + " passages") : null),
      h("td", { class: "num" }, chats === undefined || chats === null ? "–" : String(chats)),
      h("td", { class: "nowrap" }, timeEl(uc.updated_at)));
    tr.addEventListener("click", (ev) => { if (!ev.target.closest("a, button")) location.assign(href); });
    return tr;
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    let page;
    try {
      page = await api("/chat/use-cases", { query: { offset: state.offset, limit: state.limit } });
      if (stale()) return;
    } catch (err) {
      if (stale()) return;
      showFailed("uc-failed", wrap, err, load);
      return;
    }
    // How many chats each has: the total of a one-row page of its chats.
    await Promise.all(page.items.map(async (uc) => {
      try {
        counts.set(uc.id, (await api("/chat/chats", { query: { use_case_id: uc.id, limit: 1 } })).total);
      } catch (err) {
        counts.set(uc.id, null);
      }
    }));
    if (stale()) return;
    hideFailed("uc-failed", wrap);
    clear(body);
    page.items.forEach((uc) => body.append(row(uc)));
    show($("#uc-table"), page.total > 0);
    show($("#uc-empty"), page.total === 0);
    pager($("#uc-pager"), page, (off) => { state.offset = off; load(); }, "uc");
  }

  const dialog = $("#uc-dialog");
  const open = $("#uc-new");
  open.disabled = !canWrite;
  if (!canWrite) open.title = "Viewers cannot create chatbots";
  open.addEventListener("click", async () => {
    $("#uc-form").reset();
    dialog.showModal();
    await fillProviders($("#new-provider"), null).catch(() => null);
  });
  $("#uc-cancel").addEventListener("click", () => dialog.close());
  onSubmit($("#uc-form"), async () => {
    const uc = await api("/chat/use-cases", { method: "POST", body: readUseCase($("#uc-form")) });
    location.assign("/chat/" + uc.id);
  });
  return load();
}

startApp(useCasesPage);
