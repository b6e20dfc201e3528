/* The what-if panel of a model's page: a row (one of a dataset's, by its number, or
 * typed as JSON), a control per feature (a slider by percent for a number, a choice
 * among the values seen for anything else), and the model's answer as it is and with
 * the changes, with the explanation of the changed row as signed bars.
 *
 * Nothing changed: POST .../predict with explain (the row as it is, explained).
 * Something changed: POST .../what-if with the changes (before, after, delta and the
 * explanation). A control's change asks again after a short pause, so a slider moved
 * with the arrow keys asks once it rests.
 */

import { api } from "./api.js";
import { $, $$, append, clear, h, show } from "./dom.js";
import { fmtNum, fmtPct, fmtSigned, fmtValue, known } from "./format.js";
import { badge } from "./badges.js";
import { NUMERIC_TYPES } from "./data-common.js";
import { contributionBars } from "./model-report.js";

const SAMPLE_ROWS = 500;
const MAX_CHOICES = 60;

/**
 * Bind the panel once: ctx {model, datasets: [...]}. Answers {setVersion(version)}, which
 * points it at a (ready) version and starts again from no row.
 */
export function whatIfPanel(ctx) {
  const base = "/models/" + ctx.model.id;
  const state = { row: null, types: {}, choices: {}, timer: null, sampleOf: null, call: 0 };
  let version = null;
  let order = [];
  let own = false;
  const datasetSelect = $("#wi-dataset");

  function setVersion(v) {
    version = v;
    order = orderedFeatures(v);
    state.row = null;
    state.call++;
    datasetSelect.replaceChildren(...ctx.datasets.map((d) => h("option", { value: d.id }, d.name)));
    own = !!v.dataset && ctx.datasets.some((d) => d.id === v.dataset.id);
    if (own) datasetSelect.value = String(v.dataset.id);
    $("#wi-row-number").value = "1";
    $("#wi-json").value = "";
    clear($("#wi-controls"));
    clear($("#wi-result"));
    show($("#wi-work"), false);
    setError(null);
  }

  // --- where the row comes from ---
  function setMode(mode) {
    $$("#wi-source .seg").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    show($("#wi-from-dataset"), mode === "dataset");
    show($("#wi-from-json"), mode === "json");
  }
  $$("#wi-source .seg").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));

  function setError(message) {
    $("#wi-error").textContent = message || "";
    show($("#wi-error"), !!message);
  }

  /** Up to SAMPLE_ROWS rows of the dataset: the columns' types and the values to offer. */
  async function sample(datasetId, dsVersion) {
    const key = datasetId + ":" + (dsVersion || "");
    if (state.sampleOf === key) return;
    const out = await api("/datasets/" + datasetId + "/preview", { query: { version: dsVersion, limit: SAMPLE_ROWS } });
    state.types = {};
    state.choices = {};
    out.columns.forEach((c, i) => {
      state.types[c] = out.types[i];
      const seen = new Set();
      out.rows.forEach((r) => { if (r[i] !== null && r[i] !== undefined && seen.size < MAX_CHOICES) seen.add(String(r[i])); });
      state.choices[c] = [...seen].sort((a, b) => a.localeCompare(b));
    });
    state.sampleOf = key;
  }

  async function loadDatasetRow() {
    const id = Number(datasetSelect.value);
    const n = Math.max(1, parseInt($("#wi-row-number").value, 10) || 1);
    if (!id) return setError("Choose a dataset to take a row from.");
    const dsVersion = own && id === version.dataset.id ? version.dataset.version : undefined;
    await sample(id, dsVersion);
    const out = await api("/datasets/" + id + "/preview", { query: { version: dsVersion, offset: n - 1, limit: 1 } });
    if (!out.rows.length) return setError("The dataset has " + out.total + " rows: row " + n + " is not one of them.");
    const row = {};
    out.columns.forEach((c, i) => { row[c] = out.rows[0][i]; });
    setError(null);
    $("#wi-row-caption").textContent = "Row " + n + " of " + fmtNum(out.total, 0) + " in " + datasetSelect.selectedOptions[0].textContent;
    useRow(row);
  }

  function loadJsonRow() {
    let row;
    try {
      row = JSON.parse($("#wi-json").value);
    } catch (e) {
      return setError("That is not JSON: " + e.message);
    }
    if (!row || typeof row !== "object" || Array.isArray(row)) return setError("Type one row as a JSON object: {\"column\": value, ...}.");
    const missing = order.filter((f) => !(f in row));
    setError(missing.length ? "Missing, so taken as empty: " + missing.join(", ") + "." : null);
    $("#wi-row-caption").textContent = "A typed row";
    useRow(row);
  }

  $("#wi-load").addEventListener("click", () => guard($("#wi-load"), loadDatasetRow));
  $("#wi-row-number").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      guard($("#wi-load"), loadDatasetRow);
    }
  });
  $("#wi-use-json").addEventListener("click", () => guard($("#wi-use-json"), async () => loadJsonRow()));

  // --- a control per feature ---
  const numeric = (f, v) => (state.types[f] ? NUMERIC_TYPES.has(state.types[f]) : typeof v === "number");

  function useRow(row) {
    state.row = row;
    if (!$("#wi-json").value.trim()) $("#wi-json").value = JSON.stringify(pick(row, order), null, 1);
    const box = clear($("#wi-controls"));
    order.forEach((f, i) => box.append(control(f, row[f], i)));
    show($("#wi-work"), true);
    run();
  }

  function control(f, v, i) {
    const id = "wi-c-" + i;
    if (numeric(f, v) && known(v)) {
      const out = h("span", { class: "pm-wi-out num", "data-testid": "wi-out-" + f }, fmtValue(v));
      const pct = h("span", { class: "pm-wi-pct num", "data-testid": "wi-pct-" + f }, "±0 %");
      const input = h("input", {
        type: "range", id, min: -100, max: 100, step: 5, value: 0, class: "pm-wi-range",
        "data-column": f, "data-kind": "percent", "data-testid": "wi-slider-" + f, "aria-valuetext": "unchanged",
      });
      const moved = () => {
        const p = Number(input.value);
        pct.textContent = p ? fmtPct(p) : "±0 %";
        out.textContent = fmtValue(v * (1 + p / 100));
        input.setAttribute("aria-valuetext", p ? fmtPct(p) + ", " + fmtValue(v * (1 + p / 100)) : "unchanged");
        input.closest(".pm-wi-row").classList.toggle("pm-wi-changed", p !== 0);
      };
      input.addEventListener("input", moved);
      input.addEventListener("change", schedule);
      return h("div", { class: "pm-wi-row", "data-testid": "wi-row-" + f },
        h("label", { for: id, class: "pm-wi-name", title: f }, f, h("span", { class: "muted small" }, " " + fmtValue(v))),
        input, pct, out);
    }
    const options = new Set((state.choices[f] || []).slice());
    const current = v === null || v === undefined ? "" : String(v);
    if (current) options.add(current);
    const select = h("select", { id, class: "pm-wi-select", "data-column": f, "data-kind": "value", "data-original": current, "data-testid": "wi-select-" + f },
      current ? null : h("option", { value: "" }, "(missing)"),
      [...options].map((o) => h("option", { value: o, selected: o === current }, o + (o === current ? " (as it is)" : ""))));
    select.addEventListener("change", () => {
      select.closest(".pm-wi-row").classList.toggle("pm-wi-changed", select.value !== current);
      schedule();
    });
    return h("div", { class: "pm-wi-row", "data-testid": "wi-row-" + f },
      h("label", { for: id, class: "pm-wi-name", title: f }, f, h("span", { class: "muted small" }, " " + (current || "missing"))),
      select);
  }

  function changes() {
    return $$("#wi-controls [data-column]").flatMap((el) => {
      if (el.dataset.kind === "percent") return Number(el.value) ? [{ column: el.dataset.column, percent: Number(el.value) }] : [];
      if (el.value === el.dataset.original) return [];
      const raw = el.value;
      const typed = numeric(el.dataset.column, null) && raw !== "" && isFinite(Number(raw)) ? Number(raw) : raw === "" ? null : raw;
      return [{ column: el.dataset.column, value: typed }];
    });
  }

  $("#wi-reset").addEventListener("click", () => {
    if (state.row) useRow(state.row);
  });
  $("#wi-run").addEventListener("click", () => run());

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(run, 250);
  }

  // --- asking the model ---
  async function run() {
    if (!state.row) return;
    const asked = ++state.call;
    const wanted = changes();
    const row = pick(state.row, Object.keys(state.row));
    $("#wi-result").setAttribute("aria-busy", "true");
    try {
      let shown;
      if (!wanted.length) {
        const out = await api(base + "/predict", { method: "POST", body: { rows: [row], version: version.number, explain: true } });
        const p = out.predictions[0];
        shown = { before: p, after: null, delta: null, explanation: { base: p.base, output: out.output, contributions: p.contributions || [] } };
      } else {
        const out = await api(base + "/what-if", { method: "POST", body: { rows: [row], changes: wanted, model_version: version.number } });
        shown = out.rows[0];
      }
      if (asked !== state.call) return;
      setError(null);
      render(shown, wanted);
    } catch (err) {
      if (asked !== state.call) return;
      setError(err.message);
    } finally {
      if (asked === state.call) $("#wi-result").removeAttribute("aria-busy");
    }
  }

  const isClassifier = () => version.task === "binary" || version.task === "multiclass";

  /** The figure that moves: the probability of the class predicted before (a
   * classifier), the predicted value otherwise. */
  function figure(p, cls) {
    if (!p) return null;
    if (isClassifier()) {
      const prob = (p.probability || {})[cls];
      return h("span", {}, h("span", { class: "pm-wi-label", "data-testid": "wi-label" }, String(p.prediction)),
        known(prob) ? h("span", { class: "muted" }, " · P(" + cls + ") " + fmtNum(100 * prob, 1) + " %") : null);
    }
    return h("span", {}, h("span", { class: "pm-wi-label" }, fmtValue(p.prediction)),
      known(p.lower) && known(p.upper) ? h("span", { class: "muted small" }, " (80 %: " + fmtValue(p.lower) + " – " + fmtValue(p.upper) + ")") : null);
  }

  function render(r, wanted) {
    const task = version.task;
    const classifier = isClassifier();
    // The class whose probability moves: a binary model's positive class (what the
    // API's delta measures), else the class predicted before the changes.
    const positive = ((version.report || {}).classes || [])[1];
    const cls = !classifier ? null : task === "binary" && positive !== undefined ? String(positive) : String(r.before.prediction);
    const cards = [h("div", { class: "pm-wi-figure", "data-testid": "wi-before" }, h("div", { class: "muted small" }, "As it is"), figure(r.before, cls))];
    if (r.after) {
      // A classifier's change is the predicted-before class's probability, in points.
      const pb = classifier ? (r.before.probability || {})[cls] : r.before.prediction;
      const pa = classifier ? (r.after.probability || {})[cls] : r.after.prediction;
      const delta = known(pb) && known(pa) ? pa - pb : r.delta;
      const moved = String(r.after.prediction) !== String(r.before.prediction);
      cards.push(h("div", { class: "pm-wi-arrow", "aria-hidden": "true" }, "→"),
        h("div", { class: "pm-wi-figure pm-wi-after", "data-testid": "wi-after" },
          h("div", { class: "muted small" }, "With ", wanted.length === 1 ? "1 change" : wanted.length + " changes"), figure(r.after, cls),
          moved ? badge("prediction changed", "warning", "wi-flipped") : null),
        known(delta) ? h("div", { class: "pm-wi-figure", "data-testid": "wi-delta" }, h("div", { class: "muted small" }, classifier ? "Change in P(" + cls + ")" : "Change"),
          h("span", { class: "pm-wi-label " + (delta > 0 ? "pm-wi-up" : delta < 0 ? "pm-wi-down" : "") }, classifier ? fmtSignedPoints(delta) : fmtSigned(delta))) : null);
    }
    const expl = r.explanation || {};
    const output = task === "binary" ? "log-odds of " + (positive === undefined ? "the positive class" : String(positive))
      : task === "multiclass" ? "log-odds of the predicted class" : version.target + " units";
    append(clear($("#wi-result")), [
      h("div", { class: "pm-wi-figures" }, cards),
      h("h3", { class: "pm-plan-sub" }, "Why: each column's push on ", r.after ? "the changed row" : "this row"),
      (expl.contributions || []).length
        ? contributionBars({ base: expl.base, contributions: expl.contributions, output: expl.output || output }, { testid: "wi-explanation" })
        : h("p", { class: "muted small" }, "The model gave no explanation for this row."),
    ]);
  }

  return { setVersion };
}

/** A change of probability in percentage points: "+12.5 pts". */
function fmtSignedPoints(d) {
  return (d > 0 ? "+" : d < 0 ? "−" : "") + fmtNum(100 * Math.abs(d), 1) + " pts";
}

/** The features, most important first (the report's order), then any other. */
function orderedFeatures(version) {
  const imp = ((version.report || {}).importance || []).map((x) => x.feature);
  const feats = version.features || [];
  return imp.filter((f) => feats.includes(f)).concat(feats.filter((f) => !imp.includes(f)));
}

function pick(row, keys) {
  const out = {};
  keys.forEach((k) => { out[k] = row[k] === undefined ? null : row[k]; });
  return out;
}

/** Run fn with the button disabled; its error goes in the panel. */
async function guard(button, fn) {
  button.disabled = true;
  try {
    await fn();
  } catch (err) {
    $("#wi-error").textContent = err.message;
    show($("#wi-error"), true);
  } finally {
    button.disabled = false;
  }
}
