/* Anomalies (/anomalies): the anomalies found, filtered and sorted through the URL,
 * each with a sparkline of its strongest metric.
 */

import { api, inPool } from "../api.js";
import { $, $$, clear, h, newestOnly, show } from "../dom.js";
import { fmtAgo, fmtCount, fmtDuration, fmtTime, isoOf } from "../format.js";
import { badge, timeEl } from "../badges.js";
import { showError } from "../toast.js";
import { emptyRow, pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { startApp } from "../shell.js";
import { TIMESCALE_SECONDS } from "../chart.js";
import { drawSparkline } from "../sparkline.js";
import { anomalyInterval, anomalyTypes, deltaEl, directionArrow, kindBadge, metricsSummary, scorePill, stateBadge } from "../anomalies.js";

const ANOMALY_SORTS = new Set(["-start", "start", "-score", "score", "-duration"]);
const ANOMALY_RANGES = { "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
const ANOMALY_RANGE_TEXT = { "24h": "the last 24 hours", "7d": "the last 7 days", "30d": "the last 30 days" };
// Filters as the API names them, and how they read from the URL.
const ANOMALY_FILTERS = {
  q: (v) => v.trim(),
  min_score: (v) => (v !== "" && Number(v) >= 0 && Number(v) <= 100 ? String(Number(v)) : ""),
  min_duration: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
  min_delta: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
  min_delta_pct: (v) => (v !== "" && Number(v) >= 0 ? String(Number(v)) : ""),
  direction: (v) => (["up", "down"].includes(v) ? v : ""),
  state: (v) => (["open", "closed"].includes(v) ? v : ""),
  timescale: (v) => (v in TIMESCALE_SECONDS ? v : ""),
};
const FILTER_LABEL = {
  min_score: (v) => "≥ " + v,
  min_duration: (v) => "≥ " + fmtDuration(Number(v)),
  min_delta_pct: (v) => "≥ " + v + " %",
};

function anomaliesPage() {
  const state = { range: "all", from: null, to: null, sort: "-start", offset: 0, limit: 20, f: {} };
  const control = {
    q: $("#anomalies-q"),
    min_score: $("#filter-min-score"),
    min_duration: $("#filter-min-duration"),
    min_delta: $("#filter-min-delta"),
    min_delta_pct: $("#filter-min-delta-pct"),
    direction: $("#filter-direction"),
    state: $("#filter-state"),
    timescale: $("#filter-timescale"),
  };
  const sortSel = $("#anomalies-sort");

  /** A value from a link that no option offers gets an option of its own. */
  function setControl(name, value) {
    const el = control[name];
    if (el.tagName === "SELECT" && value && !$$("option", el).some((op) => op.value === value)) {
      el.append(h("option", { value }, FILTER_LABEL[name] ? FILTER_LABEL[name](value) : value));
    }
    el.value = value;
  }

  function readUrl() {
    const p = new URLSearchParams(location.search);
    state.range = ANOMALY_RANGES[p.get("range")] ? p.get("range") : "all";
    const from = Number(p.get("from"));
    const to = Number(p.get("to"));
    const custom = p.has("from") && p.has("to") && isFinite(from) && isFinite(to) && from >= 0 && to > from;
    state.from = custom ? from : null;
    state.to = custom ? to : null;
    state.sort = ANOMALY_SORTS.has(p.get("sort")) ? p.get("sort") : "-start";
    state.offset = Math.max(0, parseInt(p.get("offset"), 10) || 0);
    state.f = {};
    Object.entries(ANOMALY_FILTERS).forEach(([k, parse]) => {
      const v = parse(p.get(k) || "");
      if (v) state.f[k] = v;
      setControl(k, v);
    });
    sortSel.value = state.sort;
    syncControls();
  }

  function writeUrl() {
    const p = new URLSearchParams();
    if (state.from !== null) {
      p.set("from", String(state.from));
      p.set("to", String(state.to));
    } else if (state.range !== "all") {
      p.set("range", state.range);
    }
    Object.keys(ANOMALY_FILTERS).forEach((k) => { if (state.f[k]) p.set(k, state.f[k]); });
    if (state.sort !== "-start") p.set("sort", state.sort);
    if (state.offset) p.set("offset", String(state.offset));
    const url = location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    syncControls();
  }

  function filtered() {
    return state.from !== null || state.range !== "all" || Object.keys(state.f).length > 0;
  }

  function syncControls() {
    const custom = state.from !== null;
    $$("#anomaly-ranges .seg[data-range]").forEach((b) =>
      b.setAttribute("aria-pressed", String(!custom && b.dataset.range === state.range)));
    show($("#range-custom"), custom);
    $("#range-custom").setAttribute("aria-pressed", String(custom));
    show($("#anomalies-reset"), filtered());
  }

  /** [from, to] in epoch s for the API: a preset ends now. */
  function span() {
    if (state.from !== null) return [state.from, state.to];
    if (state.range === "all") return [null, null];
    return [Math.floor(Date.now() / 1000) - ANOMALY_RANGES[state.range], null];
  }

  function apiFilters() {
    const [from, to] = span();
    return { from, to, ...state.f };
  }

  function caption() {
    let when = "At any time";
    if (state.from !== null) when = "Between " + fmtTime(isoOf(state.from)) + " and " + fmtTime(isoOf(state.to));
    else if (state.range !== "all") when = "In " + ANOMALY_RANGE_TEXT[state.range];
    const n = Object.keys(state.f).length;
    return when + (n ? ", " + n + (n === 1 ? " filter" : " filters") : "") + ". The counts above follow the filters too.";
  }

  function queryError(message) {
    const el = $("#anomalies-q-error");
    el.textContent = message || "";
    show(el, !!message);
    control.q.classList.toggle("invalid", !!message);
    if (message) control.q.setAttribute("aria-invalid", "true");
    else control.q.removeAttribute("aria-invalid");
  }

  function setCounts(c) {
    $("#stat-anomalies").textContent = c ? fmtCount(c.total) : "–";
    $("#stat-open").textContent = c ? fmtCount(c.open) : "–";
    $("#stat-closed").textContent = c ? fmtCount(c.closed) : "–";
    $("#stat-open").closest(".stat").classList.toggle("stat-alert", !!(c && c.open));
  }

  function row(a) {
    const href = "/anomalies/" + a.id;
    const spark = h("div", { class: "spark-box", "data-testid": "spark-box-" + a.id });
    const tr = h("tr", { class: "row-link", "data-testid": "anomaly-row-" + a.id, "data-anomaly-id": a.id },
      h("td", { class: "col-score" }, scorePill(a.score, "anomaly-score-" + a.id)),
      h("td", { class: "anomaly-cell" },
        h("div", { class: "anomaly-title" },
          h("a", { href, class: "strong", "data-testid": "anomaly-link-" + a.id }, a.what), " ",
          directionArrow(a.direction, "anomaly-direction-" + a.id)),
        metricsSummary(a)),
      h("td", { class: "col-spark" }, spark),
      h("td", { class: "nowrap" }, timeEl(isoOf(a.start)), h("div", { class: "muted small" }, fmtAgo(isoOf(a.start)))),
      h("td", { class: "num", "data-testid": "anomaly-duration-" + a.id }, fmtDuration(a.duration)),
      h("td", { class: "num" }, deltaEl(a.delta, a.delta_pct, "anomaly-delta-" + a.id)),
      h("td", { class: "col-kind" }, h("div", { class: "badges" },
        stateBadge(a.state, "anomaly-state-" + a.id),
        badge(a.timescale, "muted", "anomaly-timescale-" + a.id),
        anomalyTypes(a).map((t) => kindBadge(t)))));
    tr.addEventListener("click", (ev) => {
      if (!ev.target.closest("a") && !getSelection().toString()) location.assign(href);
    });
    return [tr, spark];
  }

  /** The strongest metric around the anomaly, with its band: one request per row. */
  async function loadSpark(a, box, stale) {
    const m = a.metrics[0];
    if (!m) return;
    const step = anomalyInterval(a, m);
    try {
      const s = await api("/metrics/" + m.metric_id + "/timeseries", {
        query: {
          from: Math.floor(m.start - 30 * step), to: Math.ceil(m.end + 30 * step) + 1, resolution: a.timescale,
        },
      });
      if (!stale()) drawSparkline(box, s, a, m);
    } catch (err) {
      if (!stale()) box.append(h("span", { class: "muted small", title: err.message }, "–"));
    }
  }

  const listCall = newestOnly();
  async function load() {
    const stale = listCall();
    const filters = apiFilters();
    let page;
    let count;
    try {
      [page, count] = await Promise.all([
        api("/anomalies", { query: { ...filters, sort: state.sort, offset: state.offset, limit: state.limit } }),
        api("/anomalies/count", { query: filters }),
      ]);
    } catch (err) {
      if (stale()) return;
      if (err.status === 422 && state.f.q) {
        queryError(err.message);
        setCounts(null);
        const tb = clear($("#anomalies-body"));
        emptyRow(tb, 7, "Fix the expression to see the anomalies of the metrics it matches.");
        show($("#anomalies-table"), true);
        show($("#anomalies-empty"), false);
        pager($("#anomalies-pager"), null);
        return;
      }
      show($("#anomalies-empty"), false);
      pager($("#anomalies-pager"), null);
      showFailed("anomalies-failed", $("#anomalies-table").closest(".table-wrap"), err, () => load().catch(showError));
      return;
    }
    if (stale()) return;
    hideFailed("anomalies-failed", $("#anomalies-table").closest(".table-wrap"));
    queryError(null);
    setCounts(count);
    $("#anomalies-caption").textContent = caption();
    const tb = clear($("#anomalies-body"));
    const none = page.total === 0 && !filtered();
    show($("#anomalies-empty"), none);
    show($("#anomalies-table"), !none);
    if (page.total === 0 && !none) emptyRow(tb, 7, "No anomaly matches these filters.");
    const sparks = page.items.map((a) => {
      const [tr, box] = row(a);
      tb.append(tr);
      return () => loadSpark(a, box, stale);
    });
    pager($("#anomalies-pager"), page, (o) => {
      state.offset = o;
      writeUrl();
      load().catch(showError);
    }, "anomalies");
    await inPool(sparks, 4);
  }

  function apply() {
    Object.entries(ANOMALY_FILTERS).forEach(([k, parse]) => {
      const v = parse(control[k].value || "");
      if (v) state.f[k] = v;
      else delete state.f[k];
    });
    state.offset = 0;
    writeUrl();
    return load();
  }

  $("#anomalies-filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    apply().catch(showError);
  });
  // Choices apply at once; the expression and the delta when submitted (Enter or Apply).
  $$("#anomalies-filters select").forEach((sel) => sel.addEventListener("change", () => apply().catch(showError)));
  $$("#anomaly-ranges .seg[data-range]").forEach((b) => b.addEventListener("click", () => {
    state.range = b.dataset.range;
    state.from = null;
    state.to = null;
    state.offset = 0;
    writeUrl();
    load().catch(showError);
  }));
  $("#range-custom").addEventListener("click", () => {
    state.from = null;
    state.to = null;
    state.offset = 0;
    writeUrl();
    load().catch(showError);
  });
  $("#anomalies-reset").addEventListener("click", () => {
    Object.keys(ANOMALY_FILTERS).forEach((k) => setControl(k, ""));
    state.f = {};
    state.range = "all";
    state.from = null;
    state.to = null;
    state.offset = 0;
    writeUrl();
    load().catch(showError);
  });
  sortSel.addEventListener("change", () => {
    state.sort = sortSel.value;
    state.offset = 0;
    writeUrl();
    load().catch(showError);
  });
  window.addEventListener("popstate", () => {
    readUrl();
    load().catch(showError);
  });

  readUrl();
  return load();
}

startApp(anomaliesPage);
