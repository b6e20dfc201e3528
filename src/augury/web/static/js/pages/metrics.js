/* Metrics (/metrics/explore): the metrics received, searched and sorted, with the
 * ingest figures; the list's state lives in the URL so it can be linked.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtAgo, fmtCount, fmtRate, fmtTime, isoOf } from "../format.js";
import { timeEl, typeBadge } from "../badges.js";
import { showError } from "../toast.js";
import { emptyRow, pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { drawIngest } from "../sparkline.js";

function dimensionChips(dims) {
  const keys = Object.keys(dims || {}).sort();
  if (!keys.length) return h("span", { class: "muted" }, "none");
  return h("span", { class: "dims" }, keys.map((k) =>
    h("span", { class: "dim" }, h("span", { class: "dim-key" }, k + "="), dims[k])));
}

/** The list page's state lives in the URL (?q=&sort=&offset=), so it can be linked. */
const METRIC_SORTS = new Set(["name", "-name", "last_seen", "-last_seen", "created", "-created"]);

function metricsPage() {
  const state = { q: "", sort: "name", offset: 0, limit: 25 };
  const input = $("#metrics-q");
  const sortSel = $("#metrics-sort");

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.q = (p.get("q") || "").trim();
    state.sort = METRIC_SORTS.has(p.get("sort")) ? p.get("sort") : "name";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    input.value = state.q;
    sortSel.value = state.sort;
    show($("#metrics-search-clear"), !!state.q);
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.sort !== "name") p.set("sort", state.sort);
    if (state.offset) p.set("offset", String(state.offset));
    const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    show($("#metrics-search-clear"), !!state.q);
  }

  function queryError(message) {
    const el = $("#metrics-q-error");
    el.textContent = message || "";
    show(el, !!message);
    input.classList.toggle("invalid", !!message);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  const listCall = newestOnly();
  async function loadList() {
    const stale = listCall();
    let page;
    try {
      page = await api("/metrics", {
        query: { q: state.q, sort: state.sort, offset: state.offset, limit: state.limit },
      });
    } catch (err) {
      if (stale()) return;
      if (err.status === 422 && state.q) {
        // A bad expression: say what is wrong where it was typed, and list nothing.
        queryError(err.message);
        const tb = clear($("#metrics-body"));
        emptyRow(tb, 5, "Fix the expression to see the metrics it matches.");
        show($("#metrics-table"), true);
        show($("#metrics-empty"), false);
        pager($("#metrics-pager"), null);
        return;
      }
      show($("#metrics-empty"), false);
      pager($("#metrics-pager"), null);
      showFailed("metrics-failed", $("#metrics-table").closest(".table-wrap"), err, () => loadList().catch(showError));
      return;
    }
    if (stale()) return;
    hideFailed("metrics-failed", $("#metrics-table").closest(".table-wrap"));
    queryError(null);
    const tb = clear($("#metrics-body"));
    const none = page.total === 0 && !state.q;
    show($("#metrics-empty"), none);
    show($("#metrics-table"), !none);
    if (page.total === 0 && state.q) emptyRow(tb, 5, "No metric matches this expression.");
    page.items.forEach((m) => {
      const href = "/metrics/explore/" + m.id;
      const tr = h("tr", { class: "row-link", "data-testid": "metric-row-" + m.id, "data-metric-id": m.id },
        h("td", { class: "metric-name-cell" },
          h("a", { href, class: "strong", "data-testid": "metric-link-" + m.id }, m.name)),
        h("td", {}, h("code", {}, m.what)),
        h("td", {}, dimensionChips(m.dimensions)),
        h("td", {}, typeBadge(m.target_type)),
        h("td", { class: "nowrap" }, timeEl(isoOf(m.last_ts)),
          m.last_ts ? h("div", { class: "muted small" }, fmtAgo(isoOf(m.last_ts))) : null));
      tr.addEventListener("click", (ev) => {
        if (!ev.target.closest("a") && !getSelection().toString()) location.assign(href);
      });
      tb.append(tr);
    });
    pager($("#metrics-pager"), page, (o) => {
      state.offset = o;
      writeUrl();
      loadList().catch(showError);
    }, "metrics");
  }

  async function loadOverview() {
    const o = await api("/metrics/overview");
    $("#stat-metrics").textContent = fmtCount(o.metrics);
    $("#stat-active-metrics").textContent = fmtCount(o.active_metrics);
    $("#stat-measures").textContent = fmtCount(o.measures);
    $("#stat-eps").textContent = fmtRate(o.eps);
    $("#stat-refused").textContent = fmtCount(o.refused_last_hour);
    $("#stat-refused").closest(".stat").classList.toggle("stat-alert", o.refused_last_hour > 0);
    $("#ingest-accepted").textContent = fmtCount(o.accepted_last_hour);
    $("#ingest-refused").textContent = fmtCount(o.refused_last_hour);
    drawIngest($("#ingest-chart"), o.ingest_per_minute);
  }

  async function loadCardinality() {
    const box = $("#cardinality");
    // The last 24 h of data: ending at the organization's newest point, not at now, so
    // that history sent as a backfill shows too.
    const newest = await api("/metrics", { query: { sort: "-last_seen", active_since: 0, limit: 1 } });
    const top = newest.items[0];
    if (!top) {
      append(clear(box), h("p", { class: "muted" }, "No points yet, so no dimensions."));
      return;
    }
    const end = Math.floor(top.last_ts) + 1;
    const start = end - 86400;
    const c = await api("/metrics/cardinality", {
      base: "/api/v2", query: { startTime: start, endTime: end, size: 25 },
    });
    $("#cardinality-caption").textContent = "Distinct values per dimension among the " + fmtCount(c.totalMetrics)
      + (c.totalMetrics === 1 ? " metric" : " metrics") + " with points from " + fmtTime(isoOf(start))
      + " to " + fmtTime(isoOf(end)) + " (the last 24 h of data).";
    const entries = Object.entries(c.metricsCardinality)
      .sort((a, b) => b[1].cardinality - a[1].cardinality || a[0].localeCompare(b[0]));
    clear(box);
    if (!entries.length) {
      box.append(h("p", { class: "muted" }, "These metrics have no dimensions besides what."));
      return;
    }
    const most = entries[0][1].cardinality || 1;
    box.append(h("ul", { class: "card-list" }, entries.map(([dim, e]) => {
      const bar = h("span", { class: "bar-fill" });
      bar.style.width = Math.max(2, (100 * e.cardinality) / most) + "%";
      const whats = e.what.slice(0, 4).join(", ") + (e.what.length > 4 ? " and " + (e.what.length - 4) + " more" : "");
      return h("li", { "data-testid": "cardinality-" + dim, "data-dimension": dim },
        h("button", {
          type: "button", class: "link-button strong", title: "List the metrics that have " + dim,
          onclick: () => search(dim + "=*"),
        }, dim),
        h("span", { class: "bar" }, bar),
        h("span", { class: "num strong", "data-testid": "cardinality-value-" + dim }, fmtCount(e.cardinality)),
        h("span", { class: "muted small card-list-sub" }, "with " + whats));
    })));
  }

  function search(q) {
    input.value = q;
    state.q = q.trim();
    state.offset = 0;
    writeUrl();
    loadList().catch(showError);
  }

  // Enter in the box submits the form, as does the button.
  $("#metrics-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search(input.value);
  });
  $("#metrics-search-clear").addEventListener("click", () => {
    search("");
    input.focus();
  });
  sortSel.addEventListener("change", () => {
    state.sort = sortSel.value;
    state.offset = 0;
    writeUrl();
    loadList().catch(showError);
  });
  window.addEventListener("popstate", () => {
    readUrl();
    loadList().catch(showError);
  });
  $$("#metrics-curl .origin").forEach((el) => { el.textContent = location.origin; });

  readUrl();
  return Promise.all([loadOverview(), loadList(), loadCardinality()]);
}

startApp(metricsPage);
