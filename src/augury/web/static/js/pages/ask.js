/* Ask (/ask?dataset=&q=, /ask?chart=): a question about a dataset, and its answer: the
 * chart drawn from the answer's Vega-Lite spec, the plan in words with every part of it
 * editable (run again without rephrasing), the insights, the confidence and the rows;
 * a question augury cannot read names the columns it could mean. Answers can be saved
 * as charts (/charts), which open here, run again on the dataset's newest version.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge } from "../badges.js";
import { showError, toast } from "../toast.js";
import { showFailed } from "../loading.js";
import { onSubmit, text } from "../forms.js";
import { startApp } from "../shell.js";
import { cellText, columnTypeBadge, NUMERIC_TYPES, TIME_TYPES } from "../data-common.js";
import { drawSpec, svgOf } from "../vega-lite-render.js";

const FNS = [
  ["count", "count"], ["sum", "total"], ["mean", "average"], ["median", "median"], ["min", "minimum"],
  ["max", "maximum"], ["distinct", "distinct count"], ["std", "std. deviation"], ["corr", "correlation"],
];
const OPS = [
  ["eq", "is"], ["ne", "is not"], ["lt", "<"], ["le", "≤"], ["gt", ">"], ["ge", "≥"],
  ["in", "is one of"], ["not_in", "is none of"], ["between", "between"], ["contains", "contains"],
  ["starts_with", "starts with"], ["ends_with", "ends with"], ["is_null", "is missing"], ["not_null", "is present"],
];
const UNITS = ["hour", "day", "week", "month", "quarter", "year"];
const NO_VALUE = new Set(["is_null", "not_null"]);
const LISTS = new Set(["in", "not_in"]);

/** The output column a measure makes: "<fn>_<column>", "count", "corr_<a>_<b>" (as the engine names it). */
function measureName(m) {
  if (m.alias) return m.alias;
  if (m.fn === "corr") return "corr_" + m.column + "_" + m.other;
  return m.column ? m.fn + "_" + m.column : m.fn;
}

const bucketName = (b) => b.column + "_" + b.unit;
const words = (name) => String(name).replace(/[_\s]+/g, " ").trim();

function options(select, pairs, value) {
  clear(select);
  pairs.forEach(([v, label]) => select.append(h("option", { value: v }, label)));
  if (!pairs.some(([v]) => v === value) && value !== undefined && value !== null && value !== "") {
    select.append(h("option", { value }, String(value))); // a name the dataset lost: kept visible
  }
  select.value = value ?? "";
  return select;
}

/**
 * The question asked again with `column`: in place of the word the engine could not
 * place (details.word or details.term) when it names one, else added at the end.
 */
function rewrite(question, column, details) {
  const said = column.replace(/_/g, " ");
  const word = details && (details.word || details.term || details.phrase);
  if (word && typeof word === "string") {
    const at = question.toLowerCase().indexOf(word.toLowerCase());
    if (at >= 0) return question.slice(0, at) + said + question.slice(at + word.length);
  }
  return question.replace(/[\s?.!]+$/, "") + " " + said;
}

/** A few questions this dataset's columns can answer, phrased as people ask them. */
function suggestionsFor(columns) {
  const plain = (c) => !/(^|_)id$/i.test(c.name) && c.semantic !== "identifier";
  const numbers = columns.filter((c) => NUMERIC_TYPES.has(c.type) && plain(c));
  const cats = columns.filter((c) => (c.type === "category" || c.type === "boolean"
    || (c.type === "string" && c.unique !== null && c.unique !== undefined && c.unique <= 50)) && plain(c));
  const dates = columns.filter((c) => TIME_TYPES.has(c.type));
  const out = [];
  const [n1, n2] = numbers;
  const [c1, c2] = cats;
  if (n1 && c1) out.push("average " + words(n1.name) + " by " + words(c1.name));
  if (n1 && dates[0]) out.push("total " + words(n1.name) + " per month");
  else if (dates[0]) out.push("how many rows per month");
  if (c1 && (n2 || n1)) out.push("top 5 " + words(c1.name) + " by " + words((n2 || n1).name));
  if (c2 && n1) out.push("maximum " + words(n1.name) + " by " + words(c2.name));
  else if (c1 && !n1) out.push("how many rows by " + words(c1.name));
  if (n1 && n2 && !c1) out.push("average " + words(n1.name));
  out.push("how many rows");
  return out.slice(0, 6);
}

function csvOf(columns, rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [columns.map(cell).join(",")].concat(rows.map((r) => r.map(cell).join(","))).join("\n") + "\n";
}

function saveBlob(content, type, fileName) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = h("a", { href: url, download: fileName, class: "offscreen" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/** An SVG document painted at twice its size, as a PNG blob (through a blob: URL, which the policy allows). */
function pngOf(image) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([image], { type: "image/svg+xml" }));
    const img = new Image();
    img.onload = () => {
      const canvas = h("canvas", { width: img.width * 2, height: img.height * 2 });
      const g = canvas.getContext("2d");
      g.scale(2, 2);
      g.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The chart could not be painted as an image."))), "image/png");
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("The chart could not be painted as an image."));
    };
    img.src = url;
  });
}

function confidenceBadge(c) {
  if (c === null || c === undefined) return null;
  const pct = Math.round(c * 100);
  const kind = c >= 0.8 ? "success" : c >= 0.5 ? "info" : "warning";
  const el = badge("confidence " + pct + " %", kind, "answer-confidence");
  el.title = c < 0.5 ? "Low: check how the question was read." : "How surely every word of the question was linked to the dataset.";
  return el;
}

function askPage(me) {
  const canWrite = me.role !== "viewer";
  const state = {
    datasets: [], datasetId: null, columns: [], answer: null, draft: null, chartType: "auto", chartId: null,
  };
  const typeOf = () => new Map(state.columns.map((c) => [c.name, c.type]));
  const fresh = newestOnly();

  // --- the URL: ?dataset=&q= or ?chart= ---
  function writeUrl() {
    const p = new URLSearchParams();
    if (state.chartId) p.set("chart", String(state.chartId));
    else {
      if (state.datasetId) p.set("dataset", String(state.datasetId));
      if (state.answer) p.set("q", state.answer.question);
    }
    const url = location.pathname + (p.toString() ? "?" + p : "");
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  // --- datasets and their suggestions ---
  async function loadDatasets(wanted) {
    const page = await api("/datasets", { query: { limit: 200 } });
    state.datasets = page.items;
    if (wanted && !page.items.some((d) => d.id === wanted)) {
      const one = await api("/datasets/" + wanted).catch((err) => {
        if (err.status === 404) { toast("Dataset #" + wanted + " does not exist in this organization."); return null; }
        throw err;
      });
      if (one) state.datasets.push(one);
    }
    const select = clear($("#ask-dataset"));
    state.datasets.forEach((d) => select.append(h("option", { value: d.id }, d.name + (d.version ? " · " + fmtCount(d.version.rows) + " rows" : ""))));
    const none = !state.datasets.length;
    show($("#ask-no-data"), none);
    [select, $("#ask-q"), $("#ask-submit")].forEach((el) => { el.disabled = none; });
    if (none) {
      select.append(h("option", { value: "" }, "No datasets yet"));
      return;
    }
    const id = state.datasets.some((d) => d.id === wanted) ? wanted : state.datasets[0].id;
    select.value = String(id);
    await pickDataset(id);
  }

  async function pickDataset(id) {
    state.datasetId = id;
    const box = clear($("#ask-suggestions"));
    box.append(h("span", { class: "skeleton ask-skeleton-chip" }), h("span", { class: "skeleton ask-skeleton-chip" }));
    const schema = await api("/datasets/" + id + "/schema");
    if (state.datasetId !== id) return;
    state.columns = schema.columns;
    clear(box).append(h("span", { class: "muted small ask-suggest-label" }, "Try"));
    suggestionsFor(schema.columns).forEach((q) => box.append(h("button", {
      type: "button", class: "tag-chip ask-suggestion", "data-testid": "ask-suggestion",
      onclick: () => { $("#ask-q").value = q; ask(q); },
    }, q)));
  }

  $("#ask-dataset").addEventListener("change", (ev) => {
    state.chartId = null;
    hideAnswer();
    writeUrl();
    pickDataset(Number(ev.target.value)).catch(showError);
  });

  // --- asking ---
  function hideAnswer() {
    state.answer = null;
    show($("#ask-answer"), false);
    show($("#ask-problem"), false);
  }

  function datasetName(id) {
    const d = state.datasets.find((x) => x.id === id);
    return d ? d.name : "dataset #" + id;
  }

  /** Ask `question`; with `plan`, run that plan instead of reading the question again. */
  async function ask(question, plan, opts) {
    const q = String(question || "").trim();
    if (!q) {
      $("#ask-q").focus();
      return;
    }
    const stale = fresh();
    const o = opts || {};
    const body = { query: q, data_source: state.datasetId, chart_type: state.chartType };
    if (plan) body.plan = plan;
    if (o.save) Object.assign(body, { save: true, options: o.options });
    if (!o.save) state.chartId = null;
    if (!plan) {
      show($("#ask-problem"), false);
      show($("#ask-loading"), !state.answer);
    }
    // The answer on screen dims while the next one (a question, a plan, a chart type) is on its way.
    $("#ask-answer").classList.toggle("is-refreshing", !!state.answer);
    const button = plan ? (o.save ? $("#save-submit") : $("#plan-run")) : $("#ask-submit");
    button.disabled = true;
    try {
      const answer = await api("/analytics/chart", { method: "POST", body });
      if (stale()) return null;
      if (o.reading) Object.assign(answer, o.reading);
      render(answer);
      if (answer.chart_id) state.chartId = answer.chart_id;
      writeUrl();
      return answer;
    } catch (err) {
      if (stale() || err.silent) return null;
      if (plan && !o.save && err.status && err.status < 500) {
        setPlanError(err);
        return null;
      }
      if (o.save) throw err;
      problem(err, q);
      return null;
    } finally {
      if (!stale()) {
        show($("#ask-loading"), false);
        $("#ask-answer").classList.remove("is-refreshing");
      }
      button.disabled = state.datasets.length === 0;
    }
  }

  /** What went wrong, in place of the answer: a question not understood names its candidate columns. */
  function problem(err, question) {
    show($("#ask-answer"), false);
    state.answer = null;
    const panel = $("#ask-problem");
    const body = clear($("#ask-problem-body"));
    $("#ask-problem-message").textContent = err.message || "Something went wrong.";
    const d = err.details || {};
    const candidates = Array.isArray(d.candidates) ? d.candidates : [];
    if (err.code === "QUESTION_NOT_UNDERSTOOD" && candidates.length) {
      body.append(h("p", { class: "muted small" }, d.reason === "ambiguous"
        ? "More than one column fits. Pick the one you meant: the question is asked again with it."
        : "These columns come closest. Pick one to ask with it:"),
      h("div", { class: "ask-candidates", "data-testid": "ask-candidates" }, candidates.map((c) => h("button", {
        type: "button", class: "tag-chip ask-candidate", "data-testid": "ask-candidate", "data-column": c,
        onclick: () => { const q = rewrite(question, c, d); $("#ask-q").value = q; ask(q); },
      }, c))));
    } else if (err.code === "QUESTION_NOT_UNDERSTOOD") {
      body.append(h("p", { class: "muted small" }, "Name a column of the dataset, or try one of the suggestions above."));
    } else if (!err.status || err.status >= 500) {
      body.append(h("p", { class: "muted small" }, h("button", {
        type: "button", class: "btn btn-small", "data-testid": "retry", onclick: () => ask(question),
      }, "Retry")));
    }
    show(panel, true);
  }

  // --- the answer ---
  function render(answer) {
    state.answer = answer;
    if (answer.dataset_id && answer.dataset_id !== state.datasetId) {
      state.datasetId = answer.dataset_id;
      $("#ask-dataset").value = String(answer.dataset_id);
      pickDataset(answer.dataset_id).catch(showError);
    }
    show($("#ask-problem"), false);
    show($("#ask-answer"), true);
    // The question box is left alone: a person may be typing the next question.
    $("#answer-question").textContent = answer.question;
    const rows = answer.rows || [];
    const meta = [datasetName(answer.dataset_id || state.datasetId)];
    if (answer.version) meta.push("version " + answer.version);
    meta.push(fmtCount(rows.length) + (rows.length === 1 ? " row" : " rows"));
    if (answer.elapsed_ms !== undefined) meta.push(fmtCount(Math.round(answer.elapsed_ms)) + " ms");
    if (answer.engine && answer.engine !== "offline") meta.push("read by " + answer.engine);
    $("#answer-meta").textContent = meta.join(" · ");
    append(clear($("#answer-confidence")), confidenceBadge(answer.confidence));
    $("#answer-chart-type").value = state.chartType;
    drawChart();
    renderInsights(answer.insights || []);
    renderTable(answer.columns || [], answer.types || [], rows);
    state.draft = JSON.parse(JSON.stringify(answer.plan || {}));
    setPlanError(null);
    renderPlan();
  }

  function drawChart() {
    const a = state.answer;
    if (!a) return;
    const box = $("#answer-chart");
    const note = (a.chart && a.chart.usermeta && a.chart.usermeta.note) || "";
    const drawn = drawSpec(box, a.chart || {}, { chartType: a.chart_type });
    box.dataset.kind = drawn.kind;
    box.dataset.count = String(drawn.count);
    let extra = "";
    if (drawn.kind === "table") extra = "This answer is a listing: its rows are below.";
    if (drawn.kind === "unsupported") extra = "This chart's mark is not drawn here; the spec downloads as JSON and the rows are below.";
    if (drawn.kind === "table" || drawn.kind === "unsupported") clear(box);
    show(box, drawn.kind !== "table" && drawn.kind !== "unsupported");
    const noteEl = $("#answer-note");
    noteEl.classList.remove("answer-stale");
    noteEl.textContent = [note, extra].filter(Boolean).join(" ");
    show(noteEl, !!noteEl.textContent);
  }

  let resizing = null;
  let lastWidth = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      const w = $("#answer-chart").clientWidth;
      if (state.answer && Math.abs(w - lastWidth) > 8) { lastWidth = w; drawChart(); }
    }, 150);
  });

  function renderInsights(list) {
    const ul = clear($("#insights"));
    if (!list.length) {
      ul.append(h("li", { class: "muted small insight-none" }, "Nothing stands out in these numbers."));
      return;
    }
    list.forEach((i) => ul.append(h("li", { class: "insight", "data-testid": "insight", "data-kind": i.kind },
      h("span", { class: "insight-kind badge badge-muted" }, words(i.kind)),
      h("span", { class: "insight-text" }, i.text))));
  }

  function renderTable(columns, types, rows) {
    const head = clear($("#result-head"));
    const body = clear($("#result-body"));
    const numeric = types.map((t) => NUMERIC_TYPES.has(t));
    head.append(h("tr", {}, columns.map((c, i) => h("th", { class: numeric[i] ? "num" : null, scope: "col" },
      h("span", { class: "q-colname" }, c), " ", types[i] ? columnTypeBadge(types[i]) : null))));
    rows.forEach((r) => body.append(h("tr", { "data-testid": "result-row" }, r.map((v, i) => {
      const t = cellText(v);
      return h("td", { class: numeric[i] ? "num" : null }, t === null ? h("span", { class: "vgrid-null" }, "null") : t);
    }))));
    if (!rows.length) body.append(h("tr", { class: "empty-row" }, h("td", { colspan: Math.max(1, columns.length), class: "muted" }, "No row matches.")));
    $("#result-summary").textContent = fmtCount(rows.length) + (rows.length === 1 ? " row" : " rows");
  }

  const fileBase = () => (state.answer.question || "answer").toLowerCase().replace(/[^\w]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "answer";
  $("#result-csv").addEventListener("click", () => {
    if (state.answer) saveBlob(csvOf(state.answer.columns, state.answer.rows), "text/csv", fileBase() + ".csv");
  });
  // --- exports: the spec, and the chart as drawn (SVG, or PNG painted from it) ---
  const exportButton = $("#export-button");
  const exportPanel = $("#export-panel");
  const setExport = (open) => {
    exportPanel.hidden = !open;
    exportButton.setAttribute("aria-expanded", String(open));
    if (open) {
      const drawn = !!svgOf($("#answer-chart"));
      $$("[data-export=png], [data-export=svg]", exportPanel).forEach((b) => {
        b.disabled = !drawn;
        b.title = drawn ? "" : "Only a drawn chart exports as an image";
      });
    }
  };
  exportButton.addEventListener("click", (ev) => {
    ev.stopPropagation();
    setExport(exportPanel.hidden);
  });
  document.addEventListener("click", (ev) => { if (!ev.target.closest("#export-menu")) setExport(false); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") setExport(false); });
  $$("[data-export]", exportPanel).forEach((item) => item.addEventListener("click", () => {
    setExport(false);
    if (!state.answer) return;
    const kind = item.dataset.export;
    if (kind === "spec") saveBlob(JSON.stringify(state.answer.chart, null, 2), "application/json", fileBase() + ".vl.json");
    const image = svgOf($("#answer-chart"));
    if (kind === "svg" && image) saveBlob(image, "image/svg+xml", fileBase() + ".svg");
    if (kind === "png" && image) pngOf(image).then((png) => saveBlob(png, "image/png", fileBase() + ".png")).catch(showError);
  }));
  $("#answer-chart-type").addEventListener("change", (ev) => {
    state.chartType = ev.target.value;
    const a = state.answer;
    // Only the drawing changes: the answer keeps how its question was read.
    if (a) ask(a.question, a.plan, { reading: { confidence: a.confidence, notes: a.notes, engine: a.engine, words: a.words } });
  });

  // --- the plan, editable ---
  function setPlanError(err) {
    const el = $("#plan-error");
    el.textContent = err ? err.message : "";
    show(el, !!err);
  }

  /** Output names the order can name: the bucket, the groups, the measures (or the columns listed). */
  function outputNames(p) {
    const grouped = (p.measures || []).length || (p.group_by || []).length || p.bucket;
    if (!grouped) return p.select && p.select.length ? p.select : state.columns.map((c) => c.name);
    return (p.bucket ? [bucketName(p.bucket)] : []).concat(p.group_by || [], (p.measures || []).map(measureName));
  }

  /** A change that renames an output column renames it in the order too. */
  function renamed(before, after) {
    if (before === after) return;
    state.draft.order = (state.draft.order || []).map(([n, d]) => [n === before ? after : n, d]);
  }

  function changed() {
    setPlanError(null);
    renderPlan();
  }

  function colPairs(filter) {
    return state.columns.filter(filter || (() => true)).map((c) => [c.name, c.name]);
  }

  function removeButton(label, onclick) {
    return h("button", { type: "button", class: "plan-x", "aria-label": label, title: label, "data-testid": "plan-remove", onclick }, "×");
  }

  /** One part of the plan: its label, its controls, and (last of `parts`) its remove button. */
  function chip(kind, key, label, ...parts) {
    const flat = parts.flat().filter(Boolean);
    return h("div", { class: "plan-chip plan-" + kind, "data-testid": "plan-" + kind, "data-key": key, role: "group", "aria-label": label },
      h("span", { class: "plan-chip-label" }, label), h("div", { class: "plan-controls" }, flat.slice(0, -1)), flat[flat.length - 1]);
  }

  function sel(key, label, pairs, value, onChange) {
    const s = options(h("select", { "aria-label": label, "data-focus": key, "data-testid": "plan-" + key.replace(/-\d+$/, "") }), pairs, value);
    s.addEventListener("change", () => onChange(s.value));
    return s;
  }

  function measureChip(m, i) {
    const types = typeOf();
    const numeric = ([n]) => NUMERIC_TYPES.has(types.get(n));
    const fnSel = sel("fn-" + i, "Aggregate", FNS, m.fn, (fn) => {
      const before = measureName(m);
      m.fn = fn;
      if (fn === "count") delete m.column;
      else if (!m.column || (fn !== "distinct" && !numeric([m.column]))) m.column = (colPairs((c) => fn === "distinct" || NUMERIC_TYPES.has(c.type))[0] || [null])[0];
      if (fn === "corr") m.other = m.other || (colPairs((c) => NUMERIC_TYPES.has(c.type) && c.name !== m.column)[0] || [m.column])[0];
      else delete m.other;
      renamed(before, measureName(m));
      changed();
    });
    const parts = [fnSel];
    if (m.fn === "count") {
      parts.push(sel("count-col-" + i, "Counted column", [["", "rows"]].concat(colPairs()), m.column || "", (c) => {
        const before = measureName(m);
        if (c) m.column = c; else delete m.column;
        renamed(before, measureName(m));
        changed();
      }));
    } else {
      const pairs = m.fn === "distinct" ? colPairs() : colPairs((c) => NUMERIC_TYPES.has(c.type) || (["min", "max", "median"].includes(m.fn) && TIME_TYPES.has(c.type)));
      parts.push(h("span", { class: "plan-word" }, "of"), sel("col-" + i, "Measured column", pairs, m.column, (c) => {
        const before = measureName(m);
        m.column = c;
        renamed(before, measureName(m));
        changed();
      }));
      if (m.fn === "corr") {
        parts.push(h("span", { class: "plan-word" }, "and"), sel("other-" + i, "Second column", colPairs((c) => NUMERIC_TYPES.has(c.type)), m.other, (c) => {
          const before = measureName(m);
          m.other = c;
          renamed(before, measureName(m));
          changed();
        }));
      }
    }
    parts.push(removeButton("Remove this measure", () => {
      const name = measureName(m);
      state.draft.measures.splice(i, 1);
      state.draft.order = (state.draft.order || []).filter(([n]) => n !== name);
      changed();
    }));
    return chip("measure", "measure-" + i, "Measure", parts);
  }

  function groupChip(g, i) {
    return chip("group", "group-" + i, "By",
      sel("group-col-" + i, "Group column", colPairs(), g, (c) => {
        state.draft.group_by[i] = c;
        renamed(g, c);
        changed();
      }),
      removeButton("Remove this group", () => {
        state.draft.group_by.splice(i, 1);
        state.draft.order = (state.draft.order || []).filter(([n]) => n !== g);
        changed();
      }));
  }

  function bucketChip(b) {
    const timeCols = colPairs((c) => TIME_TYPES.has(c.type));
    return chip("bucket", "bucket", "Per",
      sel("bucket-unit", "Time unit", UNITS.map((u) => [u, u]), b.unit, (u) => {
        const before = bucketName(b);
        b.unit = u;
        renamed(before, bucketName(b));
        changed();
      }),
      h("span", { class: "plan-word" }, "of"),
      sel("bucket-col", "Time column", timeCols, b.column, (c) => {
        const before = bucketName(b);
        b.column = c;
        renamed(before, bucketName(b));
        changed();
      }),
      removeButton("Remove the time bucket", () => {
        const name = bucketName(b);
        state.draft.bucket = null;
        state.draft.order = (state.draft.order || []).filter(([n]) => n !== name);
        changed();
      }));
  }

  function valueText(v) {
    if (Array.isArray(v)) return v.map((x) => (x === null ? "" : String(x))).join(", ");
    return v === null || v === undefined ? "" : String(v);
  }

  /** What a person typed, as the column's kind of value: numbers for numbers, lists split at commas. */
  function typedValue(column, op, raw) {
    const type = typeOf().get(column);
    const one = (s) => {
      const t = String(s).trim();
      if (NUMERIC_TYPES.has(type) && t !== "" && isFinite(Number(t))) return Number(t);
      if (type === "boolean" && /^(true|false)$/i.test(t)) return t.toLowerCase() === "true";
      return t;
    };
    if (LISTS.has(op)) return String(raw).split(",").map((s) => s.trim()).filter(Boolean).map(one);
    return one(raw);
  }

  function filterChip(f, i) {
    const parts = [
      sel("filter-col-" + i, "Filtered column", colPairs(), f.column, (c) => { f.column = c; changed(); }),
      sel("filter-op-" + i, "Comparison", OPS, f.op, (op) => {
        const was = f.op;
        f.op = op;
        if (NO_VALUE.has(op)) delete f.value;
        else if (op === "between") f.value = Array.isArray(f.value) ? f.value.slice(0, 2) : [f.value ?? "", ""];
        else if (LISTS.has(op)) f.value = Array.isArray(f.value) ? f.value : f.value === undefined || f.value === "" ? [] : [f.value];
        else if (was === "between" || LISTS.has(was)) f.value = Array.isArray(f.value) ? (f.value[0] ?? "") : f.value;
        changed();
      }),
    ];
    const input = (key, label, value, set) => {
      const el = h("input", { type: "text", class: "plan-value", "aria-label": label, "data-focus": key, "data-testid": "plan-" + key.replace(/-\d+$/, ""), value: valueText(value) });
      el.addEventListener("input", () => { set(el.value); showDirty(); });
      return el;
    };
    if (f.op === "between") {
      const pair = Array.isArray(f.value) ? f.value : [f.value, null];
      parts.push(input("filter-low-" + i, "From", pair[0], (v) => { f.value = [typedValue(f.column, "eq", v), pair[1]]; pair[0] = f.value[0]; }),
        h("span", { class: "plan-word" }, "and"),
        input("filter-high-" + i, "To", pair[1], (v) => { f.value = [pair[0], typedValue(f.column, "eq", v)]; pair[1] = f.value[1]; }));
    } else if (!NO_VALUE.has(f.op)) {
      parts.push(input("filter-value-" + i, LISTS.has(f.op) ? "Values, separated by commas" : "Value", f.value, (v) => { f.value = typedValue(f.column, f.op, v); }));
    }
    parts.push(removeButton("Remove this filter", () => { state.draft.filters.splice(i, 1); changed(); }));
    return chip("filter", "filter-" + i, "Where", parts);
  }

  function orderChip(o, i) {
    const names = outputNames(state.draft).map((n) => [n, n]);
    return chip("order", "order-" + i, "Order",
      sel("order-name-" + i, "Order by", names, o[0], (n) => { o[0] = n; changed(); }),
      sel("order-dir-" + i, "Direction", [["desc", "highest first"], ["asc", "lowest first"]], o[1], (d) => { o[1] = d; changed(); }),
      removeButton("Remove this order", () => { state.draft.order.splice(i, 1); changed(); }));
  }

  function limitChip(p) {
    const el = h("input", { type: "number", min: 1, max: 10000, class: "plan-limit", value: p.limit, "aria-label": "Limit", "data-focus": "limit", "data-testid": "plan-limit-value" });
    el.addEventListener("input", () => {
      const n = parseInt(el.value, 10);
      p.limit = n > 0 ? n : null;
      showDirty();
    });
    return chip("limit", "limit", "Limit", el, h("span", { class: "plan-word" }, "rows"),
      removeButton("Remove the limit", () => { p.limit = null; changed(); }));
  }

  function selectChip(name, i) {
    return chip("select", "select-" + i, "Show",
      sel("select-col-" + i, "Listed column", colPairs(), name, (c) => { state.draft.select[i] = c; renamed(name, c); changed(); }),
      removeButton("Remove this column", () => {
        state.draft.select.splice(i, 1);
        if (!state.draft.select.length) state.draft.select = null;
        changed();
      }));
  }

  function addButton(label, testid, fn) {
    return h("button", { type: "button", class: "btn btn-small q-add", "data-testid": testid, onclick: () => { fn(); changed(); } }, "+ " + label);
  }

  function showDirty() {
    const dirty = !!state.answer && JSON.stringify(state.draft) !== JSON.stringify(state.answer.plan || {});
    show($("#plan-dirty"), dirty);
  }

  function renderPlan() {
    const a = state.answer;
    if (!a) return;
    const p = state.draft;
    ["measures", "group_by", "filters", "order"].forEach((k) => { if (!Array.isArray(p[k])) p[k] = []; });
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focus : null;
    $("#plan-words").textContent = a.words || "";
    const notes = clear($("#plan-notes"));
    (a.notes || []).forEach((n) => notes.append(h("li", {}, n)));
    show($("#plan-warning"), a.confidence !== undefined && a.confidence !== null && a.confidence < 0.5);

    const rows = clear($("#plan-rows"));
    p.measures.forEach((m, i) => rows.append(measureChip(m, i)));
    if (p.bucket) rows.append(bucketChip(p.bucket));
    p.group_by.forEach((g, i) => rows.append(groupChip(g, i)));
    if (!p.measures.length && !p.group_by.length && !p.bucket && p.select) p.select.forEach((c, i) => rows.append(selectChip(c, i)));
    p.filters.forEach((f, i) => rows.append(filterChip(f, i)));
    p.order.forEach((o, i) => rows.append(orderChip(o, i)));
    if (p.limit !== null && p.limit !== undefined) rows.append(limitChip(p));

    const first = state.columns[0] ? state.columns[0].name : "";
    const firstNumber = (state.columns.find((c) => NUMERIC_TYPES.has(c.type)) || {}).name;
    const firstTime = (state.columns.find((c) => TIME_TYPES.has(c.type)) || {}).name;
    append(clear($("#plan-add")), [
      addButton("measure", "plan-add-measure", () => p.measures.push(firstNumber ? { fn: "mean", column: firstNumber } : { fn: "count" })),
      addButton("group", "plan-add-group", () => p.group_by.push((state.columns.find((c) => !NUMERIC_TYPES.has(c.type) && !p.group_by.includes(c.name)) || { name: first }).name)),
      firstTime && !p.bucket ? addButton("time bucket", "plan-add-bucket", () => { p.bucket = { column: firstTime, unit: "month" }; }) : null,
      addButton("filter", "plan-add-filter", () => p.filters.push({ column: first, op: "eq", value: "" })),
      addButton("order", "plan-add-order", () => p.order.push([outputNames(p)[0], "desc"])),
      p.limit === null || p.limit === undefined ? addButton("limit", "plan-add-limit", () => { p.limit = 10; }) : null]);
    if (focused) {
      const again = rows.querySelector("[data-focus='" + CSS.escape(focused) + "']");
      if (again) again.focus();
    }
    showDirty();
  }

  onSubmit($("#plan-form"), async () => {
    if (!state.answer) return;
    setPlanError(null);
    await ask(state.answer.question, JSON.parse(JSON.stringify(state.draft)));
  });
  $("#plan-reset").addEventListener("click", () => {
    if (!state.answer) return;
    state.draft = JSON.parse(JSON.stringify(state.answer.plan || {}));
    changed();
  });

  // --- saving ---
  const saveDialog = $("#save-dialog");
  const saveButton = $("#answer-save");
  if (!canWrite) {
    saveButton.disabled = true;
    saveButton.title = "Viewers can ask but not save charts";
  }
  saveButton.addEventListener("click", () => {
    if (!state.answer) return;
    $("#save-title").value = state.answer.question.slice(0, 200);
    saveDialog.showModal();
    $("#save-title").select();
  });
  $("#save-cancel").addEventListener("click", () => saveDialog.close());
  onSubmit($("#save-form"), async (fd) => {
    const title = text(fd, "title") || state.answer.question.slice(0, 200);
    const a = state.answer;
    const saved = await ask(a.question, a.plan, {
      save: true,
      options: { title, theme: text(fd, "theme") || "light" },
      reading: { confidence: a.confidence, notes: a.notes, engine: a.engine, words: a.words },
    });
    saveDialog.close();
    if (saved && saved.chart_id) toast("Saved as “" + title + "”. Find it under Saved charts.", "success");
  });

  // --- a saved chart, run again ---
  async function openChart(id) {
    show($("#ask-loading"), true);
    try {
      const c = await api("/analytics/chart/" + id);
      const answer = Object.assign({}, c, { question: c.question || c.query, dataset_id: c.dataset_id });
      state.chartType = c.requested_type || "auto";
      if (c.dataset_id && c.dataset_id !== state.datasetId) {
        state.datasetId = c.dataset_id;
        $("#ask-dataset").value = String(c.dataset_id);
        await pickDataset(c.dataset_id);
      }
      render(answer);
      if (c.error) stale(c.error);
      $("#ask-q").value = answer.question;
      state.chartId = id;
      document.title = (c.title || answer.question) + " · augury";
      writeUrl();
    } catch (err) {
      if (err.status === 404) toast("Chart #" + id + " does not exist in this organization.");
      else throw err;
    } finally {
      show($("#ask-loading"), false);
    }
  }

  /** A saved chart whose plan no longer runs on its dataset's newest version: shown as saved, and why. */
  function stale(error) {
    const note = $("#answer-note");
    const where = error.version ? " on version " + error.version : "";
    note.textContent = "This chart no longer runs" + where + ": " + (error.message || "its dataset changed") + " Shown as it was saved.";
    note.classList.add("answer-stale");
    show(note, true);
  }

  $("#ask-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    ask($("#ask-q").value);
  });

  const p = new URLSearchParams(location.search);
  const wantedDataset = parseInt(p.get("dataset"), 10) || null;
  const wantedChart = parseInt(p.get("chart"), 10) || null;
  const wantedQ = p.get("q") || "";
  $("#ask-q").value = wantedQ;
  return loadDatasets(wantedDataset).then(async () => {
    if (wantedChart) await openChart(wantedChart).catch(showError);
    else if (wantedQ && state.datasetId) await ask(wantedQ);
    else if (state.datasetId) $("#ask-q").focus();
  }).catch((err) => showFailed("ask-failed", $("#ask-root"), err, () => loadDatasets(wantedDataset).catch(showError)));
}

startApp(askPage);
