/* The query builder of a dataset's page: filters, groups (columns and a time bucket),
 * measures, the columns to show, order and limit, as the API's structured query; and
 * its result as a table.
 */

import { $, $$, clear, h, show } from "./dom.js";
import { fmtCount } from "./format.js";
import { cellText, columnTypeBadge, NUMERIC_TYPES, TIME_TYPES } from "./data-common.js";

const OPS = [
  ["eq", "="], ["ne", "≠"], ["lt", "<"], ["le", "≤"], ["gt", ">"], ["ge", "≥"],
  ["in", "is one of"], ["not_in", "is none of"], ["between", "between"],
  ["contains", "contains"], ["starts_with", "starts with"], ["ends_with", "ends with"],
  ["is_null", "is missing"], ["not_null", "is present"],
];
const TEXT_OPS = new Set(["contains", "starts_with", "ends_with"]);
const FNS = [["count", "count"], ["sum", "sum"], ["mean", "mean"], ["median", "median"], ["min", "min"], ["max", "max"], ["distinct", "distinct count"]];
const UNITS = ["hour", "day", "week", "month", "quarter", "year"];

function options(select, pairs, value) {
  clear(select);
  pairs.forEach(([v, label]) => select.append(h("option", { value: v, selected: v === value }, label)));
  if (pairs.some(([v]) => v === value)) select.value = value;
  return select;
}

function removeButton(label, onclick) {
  return h("button", { type: "button", class: "btn btn-small btn-icon", "aria-label": label, title: label, onclick }, "×");
}

/**
 * Build the form in `form` for `columns` [{name, type}]. run(body) answers the API's
 * result; csv(body) saves it as a file. Answers nothing: the form runs itself.
 */
export function queryBuilder(form, columns, run, csv) {
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const colPairs = columns.map((c) => [c.name, c.name + " · " + c.type]);
  const timeCols = columns.filter((c) => TIME_TYPES.has(c.type));
  clear(form);

  // --- filters ---
  const filters = h("div", { class: "q-rows", "data-testid": "q-filters" });
  function filterRow() {
    const col = options(h("select", { class: "q-col", "aria-label": "Column", "data-testid": "q-filter-column" }), colPairs, columns[0].name);
    const op = options(h("select", { class: "q-op", "aria-label": "Operator", "data-testid": "q-filter-op" }), OPS, "eq");
    const value = h("input", { type: "text", class: "q-value", "aria-label": "Value", "data-testid": "q-filter-value", placeholder: "value" });
    const high = h("input", { type: "text", class: "q-value", "aria-label": "Upper value", placeholder: "and" });
    const sync = () => {
      const o = op.value;
      show(value, o !== "is_null" && o !== "not_null");
      show(high, o === "between");
      value.placeholder = o === "in" || o === "not_in" ? "a, b, c" : o === "between" ? "from" : TIME_TYPES.has(typeOf.get(col.value)) ? "2024-12-31" : "value";
    };
    op.addEventListener("change", sync);
    col.addEventListener("change", sync);
    const row = h("div", { class: "q-row q-filter" }, col, op, value, high, removeButton("Remove this filter", () => row.remove()));
    row.read = () => {
      const f = { column: col.value, op: op.value };
      if (op.value === "in" || op.value === "not_in") f.value = value.value.split(",").map((s) => s.trim()).filter(Boolean);
      else if (op.value === "between") f.value = [value.value.trim() || null, high.value.trim() || null];
      else if (op.value !== "is_null" && op.value !== "not_null") f.value = value.value.trim();
      return f;
    };
    sync();
    filters.append(row);
    return row;
  }

  // --- groups ---
  const groupChecks = h("div", { class: "levels q-chips", "data-testid": "q-group-by" },
    columns.filter((c) => !NUMERIC_TYPES.has(c.type) || c.type === "integer").map((c) => h("label", { class: "check check-chip" },
      h("input", { type: "checkbox", name: "group_by", value: c.name, "data-testid": "q-group-" + c.name }), " ", c.name)));
  const bucketCol = options(h("select", { "aria-label": "Time bucket column", "data-testid": "q-bucket-column" }),
    [["", "no time bucket"]].concat(timeCols.map((c) => [c.name, c.name])), "");
  const bucketUnit = options(h("select", { "aria-label": "Time bucket unit", "data-testid": "q-bucket-unit" }), UNITS.map((u) => [u, "by " + u]), "month");

  // --- measures ---
  const measures = h("div", { class: "q-rows", "data-testid": "q-aggregates" });
  function measureRow() {
    const fn = options(h("select", { "aria-label": "Function", "data-testid": "q-agg-fn" }), FNS, "count");
    const col = h("select", { "aria-label": "Column", "data-testid": "q-agg-column" });
    const alias = h("input", { type: "text", class: "q-alias", "aria-label": "Name", placeholder: "name (optional)", maxlength: 100 });
    const sync = () => {
      const keep = col.value;
      const pairs = fn.value === "count" ? [["", "all rows"]].concat(colPairs)
        : fn.value === "distinct" ? colPairs
          : colPairs.filter(([n]) => NUMERIC_TYPES.has(typeOf.get(n)) || (fn.value !== "sum" && fn.value !== "mean" && TIME_TYPES.has(typeOf.get(n))));
      options(col, pairs.length ? pairs : colPairs, keep);
      syncOrder();
    };
    fn.addEventListener("change", sync);
    col.addEventListener("change", syncOrder);
    alias.addEventListener("input", syncOrder);
    const row = h("div", { class: "q-row q-measure" }, fn, col, alias, removeButton("Remove this measure", () => { row.remove(); syncOrder(); }));
    row.read = () => {
      const a = { fn: fn.value };
      if (col.value) a.column = col.value;
      if (alias.value.trim()) a.alias = alias.value.trim();
      return a;
    };
    row.outName = () => alias.value.trim() || (col.value ? fn.value + "_" + col.value : fn.value);
    measures.append(row);
    sync();
    return row;
  }

  // --- columns shown (rows only) ---
  const selectChecks = h("div", { class: "levels q-chips", "data-testid": "q-select" },
    columns.map((c) => h("label", { class: "check check-chip" },
      h("input", { type: "checkbox", name: "select", value: c.name, "data-testid": "q-select-" + c.name }), " ", c.name)));

  // --- order and limit ---
  const orderCol = h("select", { "aria-label": "Order by", "data-testid": "q-order-column" });
  const orderDir = options(h("select", { "aria-label": "Direction", "data-testid": "q-order-direction" }), [["asc", "ascending"], ["desc", "descending"]], "asc");
  const limit = h("input", { type: "number", min: 1, max: 100000, value: 100, class: "q-limit", "aria-label": "Limit", "data-testid": "q-limit" });

  const checked = (box) => $$("input:checked", box).map((i) => i.value);
  const grouped = () => checked(groupChecks).length > 0 || $$(".q-measure", measures).length > 0 || !!bucketCol.value;

  function syncOrder() {
    const keep = orderCol.value;
    let names;
    if (grouped()) {
      names = (bucketCol.value ? [bucketCol.value + "_" + bucketUnit.value] : [])
        .concat(checked(groupChecks), $$(".q-measure", measures).map((r) => r.outName()));
    } else {
      const picked = checked(selectChecks);
      names = picked.length ? picked : columns.map((c) => c.name);
    }
    options(orderCol, [["", grouped() ? "the groups" : "file order"]].concat(names.map((n) => [n, n])), keep);
    show(selectSection, !grouped());
  }
  [groupChecks, selectChecks].forEach((box) => box.addEventListener("change", syncOrder));
  [bucketCol, bucketUnit].forEach((s) => s.addEventListener("change", syncOrder));

  const section = (title, hint, ...body) => h("div", { class: "q-section" },
    h("div", { class: "q-label" }, h("div", { class: "strong" }, title), hint ? h("div", { class: "muted small" }, hint) : null),
    h("div", { class: "q-body" }, body));
  const addLink = (label, testid, fn) => h("button", { type: "button", class: "btn btn-small q-add", "data-testid": testid, onclick: fn }, "+ " + label);

  const selectSection = section("Columns", "None checked: all of them.", selectChecks);
  const error = h("div", { class: "alert alert-error form-error", role: "alert", "data-testid": "query-error", hidden: true });
  form.append(
    error,
    section("Filters", "Rows must match all of them.", filters, addLink("Add filter", "q-add-filter", () => filterRow())),
    section("Group by", "One result row per combination.", groupChecks,
      timeCols.length ? h("div", { class: "q-row" }, bucketCol, bucketUnit) : null),
    section("Measures", "Computed for each group.", measures, addLink("Add measure", "q-add-measure", () => measureRow())),
    selectSection,
    section("Order and limit", null, h("div", { class: "q-row" }, orderCol, orderDir, h("span", { class: "muted small" }, "at most"), limit, h("span", { class: "muted small" }, "rows"))),
    h("div", { class: "form-actions q-actions" },
      h("button", { type: "submit", class: "btn btn-primary", "data-testid": "query-run" }, "Run query"),
      h("button", { type: "button", class: "btn", "data-testid": "query-reset", onclick: () => queryBuilder(form, columns, run, csv) }, "Reset")));
  syncOrder();

  function body() {
    const q = { filters: $$(".q-filter", filters).map((r) => r.read()) };
    if (grouped()) {
      q.group_by = checked(groupChecks);
      q.aggregates = $$(".q-measure", measures).map((r) => r.read());
      if (bucketCol.value) q.bucket = { column: bucketCol.value, unit: bucketUnit.value };
    } else if (checked(selectChecks).length) {
      q.select = checked(selectChecks);
    }
    if (orderCol.value) q.order = [{ column: orderCol.value, direction: orderDir.value }];
    const n = parseInt(limit.value, 10);
    if (n > 0) q.limit = n;
    return q;
  }

  function setError(err) {
    error.textContent = err ? err.message : "";
    show(error, !!err);
  }

  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const button = $("[type=submit]", form);
    button.disabled = true;
    setError(null);
    const q = body();
    try {
      showResult(await run(q), q);
    } catch (err) {
      if (err.silent) return;
      if (err.status && err.status < 500) setError(err);
      else throw err;
    } finally {
      button.disabled = false;
    }
  };
  const csvButton = $("#query-csv");
  csvButton.onclick = async () => {
    csvButton.disabled = true;
    try {
      await csv(body());
    } catch (err) {
      setError(err);
    } finally {
      csvButton.disabled = false;
    }
  };
}

function showResult(result, q) {
  const head = clear($("#query-head"));
  const tbody = clear($("#query-body"));
  const numeric = result.types.map((t) => NUMERIC_TYPES.has(t));
  head.append(h("tr", {}, result.columns.map((c, i) => h("th", { class: numeric[i] ? "num" : null },
    h("span", { class: "q-colname" }, c), " ", columnTypeBadge(result.types[i])))));
  result.rows.forEach((r) => tbody.append(h("tr", { "data-testid": "query-row" }, r.map((v, i) => {
    const text = cellText(v);
    return h("td", { class: numeric[i] ? "num" : null }, text === null ? h("span", { class: "vgrid-null" }, "null") : text);
  }))));
  if (!result.rows.length) tbody.append(h("tr", { class: "empty-row" }, h("td", { colspan: Math.max(1, result.columns.length), class: "muted" }, "No row matches.")));
  const n = result.rows.length;
  const total = result.total;
  let text = fmtCount(n) + (n === 1 ? " row" : " rows");
  if (total !== null && total !== undefined && total !== n) text += " of " + fmtCount(total) + (q.group_by || q.aggregates ? " groups" : " matching");
  if (result.truncated) text += " · cut short: raise the limit or narrow the filters";
  $("#query-summary").textContent = text;
  show($("#query-result-card"), true);
}
