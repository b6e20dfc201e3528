/* The stream builder (/collect/streams/new): a data stream in five steps.
 *
 * 1. the source (?source= preselects one) and the stream's name;
 * 2. what to read, by the source's family: a table (listed by GET /data-sources/{id}/objects,
 *    for any member) or a custom query for SQL, a path, file pattern and format for
 *    folders and S3, PromQL for Prometheus, a path and JSONPath for HTTP;
 * 3. "Preview rows" sends the draft, without schema or time, to POST /data-streams/preview
 *    and shows the rows it reads, with one line per column: the time column, metric or
 *    dimension, gauge or counter, unit and the name it gets;
 * 4. the schedule: polling interval, the history ranges the seed allows with it, delay,
 *    time zone, and what an empty dimension does;
 * 5. "See the resulting metrics" previews again with the schema and lists the metrics
 *    the rows make; "Save stream" creates it (POST /data-streams) and opens its page.
 */

import { api } from "../api.js";
import { $, $$, append, clear, h, newestOnly, show } from "../dom.js";
import { badge } from "../badges.js";
import { onSubmit, fieldErrors } from "../forms.js";
import { busy } from "../toast.js";
import { startApp } from "../shell.js";
import { fmtCount } from "../format.js";
import { ALLOWED_HISTORY, clip, epochEl, familyOf, HISTORY_RANGES, POLLING_INTERVALS, SOURCE_TYPES } from "../collect-common.js";

const SQL_TIME = [["TIMESTAMP", "a date and time (TIMESTAMP)"], ["UNIX_SECONDS", "epoch seconds"], ["UNIX_MILLIS", "epoch milliseconds"]];
const FILE_TIME = [
  ["iso8601", "ISO 8601 (2026-01-31T12:00:00Z)"], ["epoch_seconds", "epoch seconds"], ["epoch_millis", "epoch milliseconds"],
  ["epoch_micros", "epoch microseconds"], ["custom", "another pattern…"],
];
const TIME_NAME = /(^|[_. ])(time|timestamp|ts|date|datetime|day|hour|created|updated)([_. ]|$)|_at$/i;
const ISO_LIKE = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/;
const ID_NAME = /(^|_)id$/i;

const cellOf = (row, col, i) => (Array.isArray(row) ? row[i] : row ? row[col] : undefined);
const isNum = (v) => typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !isNaN(Number(v)));
const showValue = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

/** The objects a source lists, as table names (a string, or {name, schema}). */
function tableNames(objects) {
  return (objects || []).map((o) => (typeof o === "string" ? { name: o } : { name: o.name || o.table || "", schema: o.schema || o.schemaName || "" }))
    .filter((o) => o.name);
}

function newStreamPage(me) {
  const params = new URLSearchParams(location.search);
  const form = $("#sb-form");
  const state = {
    sources: [], source: null, family: null, preview: null, columns: [], roles: new Map(),
    time: null, metricsShown: false, nameTouched: false,
  };
  const canWrite = me.role !== "viewer";

  // --- step marks: done, and the first one not done is current -------------------------

  function refreshSteps() {
    const roles = Array.from(state.roles.values());
    const done = [
      !!state.source && !!$("#sb-name").value.trim(),
      !!state.source && readTarget(),
      !!state.preview && !!state.time && roles.some((r) => r.role === "metric"),
      !!$("#sb-interval").value && !!$("#sb-history").value,
      state.metricsShown,
    ];
    let current = false;
    done.forEach((ok, i) => {
      const step = $("#sb-step-" + (i + 1));
      step.classList.toggle("done", ok);
      step.classList.toggle("current", !ok && !current);
      if (!ok) current = true;
    });
    $("#sb-preview").disabled = !state.source || !done[1];
    $("#sb-metrics").disabled = !done[2];
  }

  // --- 1. the source ------------------------------------------------------------------

  async function loadSources() {
    const page = await api("/data-sources", { query: { limit: 100 } });
    state.sources = page.items;
    const sel = clear($("#sb-source"));
    sel.append(h("option", { value: "" }, page.items.length ? "Pick a source…" : "No source yet"));
    page.items.forEach((s) => sel.append(h("option", { value: s.id }, s.name + " · " + ((SOURCE_TYPES[s.type] || {}).label || s.type))));
    show($("#sb-no-source"), !page.items.length);
    const wanted = params.get("source");
    if (wanted && page.items.some((s) => String(s.id) === wanted)) {
      sel.value = wanted;
      await chooseSource();
    }
  }

  /** The fields of the family `fam` carry their API names; the others carry none. */
  function activate(fam) {
    state.family = fam;
    $$(".sb-family").forEach((fs) => {
      const on = fs.dataset.family === fam;
      fs.hidden = !on;
      $$("[data-api]", fs).forEach((el) => {
        if (on) el.name = el.dataset.api;
        else el.removeAttribute("name");
      });
    });
    show($("#sb-read-none"), !fam);
    if (fam === "sql") sqlMode();
  }

  function sqlMode() {
    const query = $("#sb-mode-query").checked;
    show($("#sb-table-field"), !query);
    show($("#sb-schema-field"), !query && !!state.source && state.source.type === "psql");
    show($("#sb-query-field"), query);
    const text = !$("#sb-table-text").hidden;
    const named = (el, on) => (on ? (el.name = el.dataset.api) : el.removeAttribute("name"));
    named($("#sb-table"), !query && !text);
    named($("#sb-table-text"), !query && text);
    named($("#sb-schema"), !query);
    named($("#sb-query"), query);
  }

  const tablesCall = newestOnly();
  async function loadTables() {
    const stale = tablesCall();
    const sel = clear($("#sb-table"));
    const hint = $("#sb-tables-state");
    hint.textContent = "reading the source's tables…";
    let out;
    try {
      // What the source holds, for any member (a test without its credentials).
      out = await api("/data-sources/" + state.source.id + "/objects");
    } catch (err) {
      out = { ok: false, message: err.message };
    }
    if (stale()) return;
    const tables = out.ok ? tableNames(out.objects) : [];
    // No list (the test failed, or the source lists nothing): type the name.
    show($("#sb-table"), tables.length > 0);
    show($("#sb-table-text"), tables.length === 0);
    hint.textContent = out.ok ? (tables.length ? tables.length + " found" : "type its name") : "could not list them: " + clip(out.message || out.code || "", 90);
    hint.classList.toggle("sb-hint-error", !out.ok);
    sel.append(h("option", { value: "" }, "Pick a table…"));
    tables.forEach((t) => sel.append(h("option", { value: t.name, "data-schema": t.schema || "" }, (t.schema ? t.schema + "." : "") + t.name)));
    sqlMode();
    refreshSteps();
  }

  async function chooseSource() {
    const id = Number($("#sb-source").value);
    state.source = state.sources.find((s) => s.id === id) || null;
    resetPreview();
    activate(state.source ? familyOf(state.source.type) : null);
    refreshSteps();
    if (state.source && state.family === "sql") await loadTables();
  }

  $("#sb-source").addEventListener("change", () => busy(null, chooseSource));
  $("#sb-name").addEventListener("input", () => { state.nameTouched = true; refreshSteps(); });
  $$("input[name=sqlMode]").forEach((el) => el.addEventListener("change", () => { sqlMode(); resetPreview(); refreshSteps(); }));
  $("#sb-table").addEventListener("change", () => {
    const opt = $("#sb-table").selectedOptions[0];
    if (opt && opt.dataset.schema) $("#sb-schema").value = opt.dataset.schema;
    if (!state.nameTouched && $("#sb-table").value) $("#sb-name").value = $("#sb-table").value;
  });
  $("#sb-table-text").addEventListener("input", () => {
    if (!state.nameTouched) $("#sb-name").value = val("#sb-table-text");
  });
  $("#sb-format").addEventListener("change", () => show($("#sb-csv-row"), $("#sb-format").value === "csv"));

  // --- 2. what to read ----------------------------------------------------------------

  const val = (id) => $(id).value.trim();

  function readTarget() {
    if (state.family === "sql") {
      return !!($("#sb-mode-query").checked ? val("#sb-query") : $("#sb-table-text").hidden ? val("#sb-table") : val("#sb-table-text"));
    }
    if (state.family === "files") return !!val("#sb-pattern");
    if (state.family === "prometheus") return !!val("#sb-promql");
    if (state.family === "http") return !!val("#sb-json-path");
    return false;
  }

  // What the stream reads changed: the preview no longer says what it gives.
  $$(".sb-family").forEach((fs) => fs.addEventListener("input", (ev) => {
    if (ev.target.name === "sqlMode") return;
    resetPreview();
    refreshSteps();
  }));

  /** The stream object of the form; with `withSchema`, the columns and the time too.
   * Without, the API answers the rows alone: the columns are chosen among theirs. */
  function draft(withSchema) {
    const body = { name: val("#sb-name") || "draft", dataSourceId: state.source ? state.source.id : null, type: state.source ? state.source.type : null };
    if (state.family === "sql") {
      body.customQuery = $("#sb-mode-query").checked;
      if (body.customQuery) body.query = $("#sb-query").value.trim();
      else {
        body.tableName = $("#sb-table-text").hidden ? val("#sb-table") : val("#sb-table-text");
        if (val("#sb-schema") && state.source.type === "psql") body.schemaName = val("#sb-schema");
      }
    } else if (state.family === "files") {
      body.path = val("#sb-path");
      body.fileNamePattern = val("#sb-pattern");
      body.fileFormat = $("#sb-format").value;
      if (body.fileFormat === "csv") {
        body.header = $("#sb-header").checked;
        body.delimiter = $("#sb-delimiter").value || ",";
      }
    } else if (state.family === "prometheus") {
      body.query = $("#sb-promql").value.trim();
    } else if (state.family === "http") {
      body.path = val("#sb-http-path");
      body.jsonPath = val("#sb-json-path");
    }
    body.pollingInterval = $("#sb-interval").value;
    body.historicalDateRange = { constRange: $("#sb-history").value };
    body.delayMinutes = Number($("#sb-delay").value) || 0;
    body.timeZone = val("#sb-tz") || "UTC";
    body.missingDimPolicy = { action: $("#sb-missing").value, fill: "unknown" };
    if (withSchema) Object.assign(body, schemaOf());
    // A SQL table's rows come in the database's order; once its time column is known,
    // the rows preview asks for the latest by it.
    else if (state.family === "sql") Object.assign(body, timeOf());
    return body;
  }

  function timeOf() {
    if (!state.time) return {};
    if (state.family === "sql") return { timestampColumn: state.time, timestampType: $("#sb-time-format").value };
    const pattern = $("#sb-time-format").value === "custom" ? val("#sb-time-pattern") : $("#sb-time-format").value;
    return { timeDefinition: { path: state.time, timePattern: pattern } };
  }

  function schemaOf() {
    const columns = [];
    state.columns.forEach((col) => {
      const r = state.roles.get(col);
      if (!r || col === state.time || (r.role !== "metric" && r.role !== "dimension")) return;
      const name = r.name.trim() || col;
      if (r.role === "metric") {
        const c = { name, type: "metric", targetType: r.agg, sourceColumn: col };
        if (r.unit.trim()) c.metricTags = { unit: r.unit.trim() };
        columns.push(c);
      } else {
        columns.push({ name, type: "dimension", sourceColumn: col });
      }
    });
    return Object.assign({ schema: { columns }, filters: [] }, timeOf());
  }

  // --- 3. preview rows and the columns --------------------------------------------------

  function resetPreview() {
    state.preview = null;
    state.metricsShown = false;
    show($("#sb-columns-box"), false);
    show($("#sb-result"), false);
    show($("#sb-preview-error"), false);
    show($("#sb-metrics-error"), false);
    $("#sb-preview-state").textContent = "";
    $("#sb-metrics-state").textContent = "";
  }

  function staleMetrics() {
    if (!state.metricsShown) return;
    state.metricsShown = false;
    $("#sb-metrics-state").textContent = "The columns or the schedule changed: see the metrics again.";
  }

  /** A preview's error: the API's 200 {error} or a refused draft (422 next to its field). */
  function previewError(box, err) {
    box.hidden = false;
    clear(box).append(h("span", { class: "strong" }, err.code ? err.code + " · " : ""), err.message || "The preview failed.");
  }

  async function preview(withSchema, rows) {
    const out = await api("/data-streams/preview", { method: "POST", body: draft(withSchema), query: { rows } });
    if (out && out.error) {
      const e = new Error(out.error.message || "The source could not be read.");
      e.code = out.error.code;
      e.inBody = true;
      throw e;
    }
    return out;
  }

  function guessTime(cols, rows) {
    const sample = (col, i) => rows.map((r) => cellOf(r, col, i)).find((v) => v !== null && v !== undefined && v !== "");
    const byName = cols.find((c) => TIME_NAME.test(c));
    if (byName) return byName;
    return cols.find((c, i) => { const v = sample(c, i); return typeof v === "string" && ISO_LIKE.test(v.trim()); }) || null;
  }

  function timeFormatFor(values) {
    const v = values.find((x) => x !== null && x !== undefined && x !== "");
    if (v === undefined) return state.family === "sql" ? "TIMESTAMP" : "iso8601";
    if (isNum(v)) {
      const n = Math.abs(Number(v));
      if (state.family === "sql") return n > 1e11 ? "UNIX_MILLIS" : "UNIX_SECONDS";
      return n > 1e14 ? "epoch_micros" : n > 1e11 ? "epoch_millis" : "epoch_seconds";
    }
    if (state.family === "sql") return "TIMESTAMP";
    return ISO_LIKE.test(String(v).trim()) ? "iso8601" : "custom";
  }

  function fillTimeFormat() {
    const sel = clear($("#sb-time-format"));
    (state.family === "sql" ? SQL_TIME : FILE_TIME).forEach(([v, text]) => sel.append(h("option", { value: v }, text)));
    sel.disabled = !state.time;
    if (state.time) {
      const i = state.columns.indexOf(state.time);
      sel.value = timeFormatFor(state.preview.rows.map((r) => cellOf(r, state.time, i)));
    }
    $("#sb-time-hint").textContent = state.time ? "of " + state.time : "pick the time column above";
    show($("#sb-time-pattern-field"), sel.value === "custom" && !!state.time);
  }

  function roleRadio(col, i, value, text) {
    const r = state.roles.get(col);
    return h("label", { class: "seg-radio" },
      h("input", {
        type: "radio", name: "sb-role-" + i, value, "data-testid": "role-" + value, checked: r.role === value,
        onchange: () => { r.role = value; drawColumnRow(col, i); staleMetrics(); refreshSteps(); },
      }), text);
  }

  function drawColumnRow(col, i) {
    const tr = $("#sb-columns-body").children[i];
    const r = state.roles.get(col);
    const isTime = state.time === col;
    const values = state.preview.rows.map((row) => cellOf(row, col, i)).filter((v) => v !== null && v !== undefined && v !== "");
    const numeric = values.length > 0 && values.every(isNum);
    tr.className = isTime ? "sb-col-is-time" : r.role === "none" ? "row-dim-soft" : "sb-col-" + r.role;
    tr.dataset.role = isTime ? "time" : r.role;
    const metric = !isTime && r.role === "metric";
    const used = !isTime && r.role !== "none";
    const none = () => h("span", { class: "muted" }, "–");
    const agg = metric ? h("select", {
      class: "select-small", "data-testid": "agg", "aria-label": "Aggregation of " + col,
      onchange: (ev) => { r.agg = ev.target.value; staleMetrics(); },
    }, h("option", { value: "gauge", selected: r.agg === "gauge" }, "gauge (avg)"), h("option", { value: "counter", selected: r.agg === "counter" }, "counter (sum)")) : none();
    let unit = none();
    if (metric) {
      unit = h("input", {
        type: "text", class: "sb-unit", "data-testid": "unit", maxlength: 40, placeholder: "e.g. USD",
        "aria-label": "Unit of " + col, oninput: (ev) => { r.unit = ev.target.value; staleMetrics(); },
      });
      unit.value = r.unit;
    }
    let name = none();
    if (used) {
      name = h("input", {
        type: "text", class: "sb-rename mono", "data-testid": "rename", maxlength: 200,
        "aria-label": "Name of " + col + " in augury", oninput: (ev) => { r.name = ev.target.value; staleMetrics(); },
      });
      name.value = r.name;
    }
    append(clear(tr), [
      h("td", {}, h("span", { class: "mono strong" }, col), h("div", { class: "muted small" }, numeric ? "number" : values.length ? "text" : "empty")),
      h("td", { class: "sb-sample mono small", title: values.slice(0, 5).map(showValue).join("\n") }, clip(values.slice(0, 3).map(showValue).join(", "), 48)),
      h("td", { class: "sb-col-time" }, h("input", {
        type: "radio", name: "sb-time", value: col, checked: isTime, "data-testid": "time", "aria-label": col + " is the time",
        onchange: () => { setTime(col); },
      })),
      h("td", {}, isTime ? h("span", { class: "badge badge-violet" }, "time") : h("div", { class: "segmented seg-radios", role: "radiogroup", "aria-label": "Use of " + col },
        roleRadio(col, i, "none", "—"), roleRadio(col, i, "metric", "Metric"), roleRadio(col, i, "dimension", "Dimension"))),
      h("td", {}, name),
      h("td", {}, agg),
      h("td", {}, unit)]);
  }

  function setTime(col) {
    const before = state.time;
    state.time = col;
    [before, col].forEach((c) => { if (c !== null && c !== undefined) drawColumnRow(c, state.columns.indexOf(c)); });
    fillTimeFormat();
    staleMetrics();
    refreshSteps();
  }

  function drawPreview(out) {
    const cols = (out.columns || []).map((c) => (typeof c === "string" ? c : c.name));
    const rows = out.rows || [];
    const keep = new Map(state.roles);
    state.preview = { columns: cols, rows };
    state.columns = cols;
    state.roles = new Map();
    if (!cols.includes(state.time)) state.time = guessTime(cols, rows);
    cols.forEach((col, i) => {
      if (keep.has(col)) { state.roles.set(col, keep.get(col)); return; }
      // A suggestion from the values: numbers are metrics (ids are not), short texts dimensions.
      const values = rows.map((r) => cellOf(r, col, i)).filter((v) => v !== null && v !== undefined && v !== "");
      const numeric = values.length > 0 && values.every(isNum);
      const role = col === state.time || !values.length || ID_NAME.test(col) ? "none"
        : numeric ? "metric" : new Set(values.map(showValue)).size <= Math.max(20, values.length / 2) ? "dimension" : "none";
      state.roles.set(col, { role, name: col, agg: "gauge", unit: "" });
    });
    const body = clear($("#sb-columns-body"));
    cols.forEach((col, i) => { body.append(h("tr", { "data-testid": "sb-col-" + col, "data-column": col })); drawColumnRow(col, i); });
    fillTimeFormat();
    const shown = rows.slice(0, 20);
    append(clear($("#sb-rows")), [
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
      h("tbody", {}, shown.map((r) => h("tr", { "data-testid": "sb-row" }, cols.map((c, i) => h("td", { class: isNum(cellOf(r, c, i)) ? "num" : "" }, clip(showValue(cellOf(r, c, i)), 60))))))]);
    $("#sb-rows-count").textContent = rows.length ? shown.length + " of " + fmtCount(rows.length) + " rows read" : "no rows";
    show($("#sb-columns-box"), true);
    $("#sb-preview-state").textContent = cols.length + " columns · " + fmtCount(rows.length) + " rows read";
  }

  $("#sb-preview").addEventListener("click", () => busy($("#sb-preview"), async () => {
    show($("#sb-preview-error"), false);
    fieldErrors(form, null); // what the last refusal marked goes
    $("#sb-preview-state").textContent = "reading the source…";
    try {
      drawPreview(await preview(false, 100));
    } catch (err) {
      $("#sb-preview-state").textContent = "";
      if (err.inBody || !fieldErrors(form, err)) previewError($("#sb-preview-error"), err);
    }
    refreshSteps();
  }));
  $("#sb-time-format").addEventListener("change", () => {
    show($("#sb-time-pattern-field"), $("#sb-time-format").value === "custom");
    staleMetrics();
  });
  $("#sb-time-pattern").addEventListener("input", staleMetrics);

  // --- 4. the schedule ------------------------------------------------------------------

  function fillHistory() {
    const allowed = ALLOWED_HISTORY[$("#sb-interval").value] || [];
    const sel = $("#sb-history");
    const was = sel.value;
    clear(sel);
    HISTORY_RANGES.filter(([k]) => allowed.includes(k)).forEach(([k, text]) => sel.append(h("option", { value: k }, text)));
    sel.value = allowed.includes(was) ? was : allowed.includes("d1") ? "d1" : allowed[0];
  }
  POLLING_INTERVALS.forEach(([k, text]) => $("#sb-interval").append(h("option", { value: k, selected: k === "hourly" }, text)));
  fillHistory();
  $("#sb-interval").addEventListener("change", () => { fillHistory(); staleMetrics(); refreshSteps(); });
  ["#sb-history", "#sb-delay", "#sb-tz", "#sb-missing"].forEach((id) => $(id).addEventListener("change", () => { staleMetrics(); refreshSteps(); }));
  try {
    const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
    append($("#sb-tz-list"), ["UTC", ...zones.filter((z) => z !== "UTC")].map((z) => h("option", { value: z })));
  } catch (err) {
    // An old browser: the zone is typed.
  }

  // --- 5. the resulting metrics and save ------------------------------------------------

  function dimsEl(dims) {
    const pairs = Array.isArray(dims) ? dims.map((d) => [d.key || d.name, d.value]) : Object.entries(dims || {});
    if (!pairs.length) return h("span", { class: "muted small" }, "none");
    return h("div", { class: "dims" }, pairs.map(([k, v]) => h("span", { class: "dim" }, h("span", { class: "dim-key" }, k + "="), showValue(v))));
  }

  function drawMetrics(out) {
    const metrics = out.metrics || [];
    const total = out.metricsTotal !== undefined ? out.metricsTotal : metrics.length;
    const read = out.rowsRead !== undefined ? out.rowsRead : (out.rows || []).length;
    const skipped = Object.entries(out.skipped || {}).filter(([, n]) => n);
    const invalid = out.invalidTimes || [];
    const stat = (value, text, testid) => h("div", { class: "sb-stat" },
      h("span", { class: "sb-stat-value", "data-testid": testid }, fmtCount(value)), h("span", { class: "muted small" }, text));
    append(clear($("#sb-result-stats")), [
      stat(total, total === 1 ? "metric" : "metrics", "sb-metric-count"),
      stat(out.points !== undefined ? out.points : metrics.reduce((a, m) => a + (m.points || 0), 0), "points", "sb-point-count"),
      stat(read, "rows read", "sb-rows-read"),
      out.rowsUsed !== undefined ? stat(out.rowsUsed, "used", "sb-rows-used") : null,
      skipped.length ? h("div", { class: "sb-skipped", "data-testid": "sb-skipped" }, h("span", { class: "muted small" }, "Left out:"),
        skipped.map(([why, n]) => badge(why.replace(/_/g, " ") + " " + fmtCount(n), "warning"))) : null]);
    const warn = $("#sb-invalid-times");
    show(warn, invalid.length > 0);
    if (invalid.length) {
      clear(warn).append(h("span", { class: "strong" }, "Times the format cannot read: "),
        invalid.slice(0, 5).map((x) => "row " + x.row + " \u201c" + clip(showValue(x.value), 40) + "\u201d").join(", "),
        invalid.length > 5 ? " …" : "", ". Check the time column's format in step 3.");
    }
    const body = clear($("#sb-metrics-body"));
    metrics.forEach((m) => body.append(h("tr", { "data-testid": "sb-metric" },
      h("td", { class: "metric-name" }, m.what),
      h("td", {}, dimsEl(m.dimensions)),
      h("td", { class: "num" }, fmtCount(m.points)),
      h("td", { class: "nowrap" }, epochEl(m.first)),
      h("td", { class: "nowrap" }, epochEl(m.last)))));
    if (!metrics.length) {
      body.append(h("tr", { class: "empty-row" }, h("td", { colspan: 5, class: "muted" }, "These rows make no metric: check the time column, its format and the history range.")));
    }
    show($("#sb-result"), true);
    state.metricsShown = true;
    $("#sb-metrics-state").textContent = total > metrics.length ? "the first " + fmtCount(metrics.length) + " of " + fmtCount(total) + " metrics" : "";
  }

  $("#sb-metrics").addEventListener("click", () => busy($("#sb-metrics"), async () => {
    show($("#sb-metrics-error"), false);
    fieldErrors(form, null);
    $("#sb-metrics-state").textContent = "reading the source…";
    try {
      drawMetrics(await preview(true, 100));
    } catch (err) {
      $("#sb-metrics-state").textContent = "";
      show($("#sb-result"), false);
      state.metricsShown = false;
      if (err.inBody || !fieldErrors(form, err)) previewError($("#sb-metrics-error"), err);
    }
    refreshSteps();
  }));

  onSubmit(form, async () => {
    show($("#sb-save-error"), false);
    if (!canWrite) throw new Error("Viewers cannot create streams.");
    try {
      const stream = await api("/data-streams", { method: "POST", body: draft(true) });
      location.assign("/collect/streams/" + stream.id);
    } catch (err) {
      // A refusal the form cannot place next to a field is said above the buttons.
      if (err.status === 422 && !fieldErrors(form, err)) previewError($("#sb-save-error"), err);
      else if (err.status !== 422) throw err;
    }
  });

  // Enter in a field does not save a half-built stream: only the Save button does.
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && ev.target.tagName === "INPUT") ev.preventDefault();
  });
  if (!canWrite) {
    $("#sb-save").disabled = true;
    $("#sb-save").title = "Viewers cannot create streams";
  }
  refreshSteps();
  return loadSources().then(refreshSteps);
}

startApp(newStreamPage);
