/* The classes and labels editor of a text project: a table edited in place (name,
 * description, examples), a row to add one, and delete with what it takes along.
 *
 * Classes and labels have the same shape and routes, so one editor serves both. ABSA
 * sentiments are fixed: shown, never edited.
 */

import { api } from "./api.js";
import { $, $$, clear, h, show } from "./dom.js";
import { fieldErrors } from "./forms.js";
import { busy, showError, toast } from "./toast.js";
import { badge } from "./badges.js";
import { loadInto } from "./loading.js";
import { keyHint, listAll } from "./text-common.js";

/** A table cell holding one input; the wrapper (not the cell) is the field, so an
 * error message can go under the input without breaking the table's layout. */
const cell = (input) => h("td", {}, h("div", { class: "field" }, input));

const examplesOf = (item) => (Array.isArray(item.examples) ? item.examples : item.example ? [item.example] : []);
const splitLines = (s) => String(s || "").split("\n").map((x) => x.trim()).filter(Boolean);

/** Whether a key event in an input should save (Enter, not in a textarea) or cancel (Escape). */
function keyAction(ev) {
  if (ev.key === "Escape") return "cancel";
  if (ev.key === "Enter" && (ev.target.tagName !== "TEXTAREA" || ev.ctrlKey || ev.metaKey)) return "save";
  return null;
}

/**
 * Fill `box` with the editor of `path` (".../classes" or ".../labels").
 * opts: noun ("class"), nouns ("classes"), canEdit, keyOf(item, i) → the key that
 * picks it in the annotator view, onChange(items) after every change.
 */
export function vocabularyEditor(box, path, opts) {
  let items = [];
  const n = opts.noun;
  const tid = (s) => n + "-" + s;

  function cells(item, i) {
    const ex = examplesOf(item);
    return [
      h("td", { class: "c-key" }, keyHint(opts.keyOf(item, i))),
      h("td", { class: "strong", "data-testid": tid("name-" + item.id) }, item.name, item.fixed ? h("span", {}, " ", badge("fixed", "muted")) : null),
      h("td", { class: "vocab-desc" }, item.description || h("span", { class: "muted" }, "–")),
      h("td", { class: "vocab-examples" }, ex.length
        ? h("ul", { class: "vocab-example-list" }, ex.map((e) => h("li", {}, "“" + e + "”")))
        : h("span", { class: "muted" }, "–")),
    ];
  }

  function viewRow(item, i) {
    const tr = h("tr", { "data-testid": tid("row-" + item.id) }, cells(item, i));
    const editable = opts.canEdit && !item.fixed;
    tr.append(h("td", { class: "c-actions" }, editable ? h("span", { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-small", "data-testid": tid("edit-" + item.id), onclick: () => tr.replaceWith(editRow(item, i)) }, "Edit"),
      h("button", {
        type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": tid("delete-" + item.id),
        "aria-label": "Delete " + n + " " + item.name, onclick: (ev) => remove(item, ev.currentTarget),
      }, "Delete")) : null));
    return tr;
  }

  function inputs(item) {
    return {
      name: h("input", { type: "text", name: "name", maxlength: 200, value: item ? item.name : "", "aria-label": "Name", "data-testid": tid("input-name"), placeholder: "Name" }),
      description: h("textarea", { name: "description", rows: 2, maxlength: 5000, "aria-label": "Description", "data-testid": tid("input-description"), placeholder: "What it means, for the annotators" }),
      examples: h("textarea", { name: "examples", rows: 2, "aria-label": "Examples, one a line", "data-testid": tid("input-examples"), placeholder: "Examples, one a line" }),
    };
  }

  function bodyOf(f) {
    return { name: f.name.value.trim(), description: f.description.value.trim(), examples: splitLines(f.examples.value) };
  }

  function editRow(item, i) {
    const f = inputs(item);
    f.description.value = item.description || "";
    f.examples.value = examplesOf(item).join("\n");
    const save = h("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": tid("save-" + item.id) }, "Save");
    const tr = h("tr", { class: "row-editing", "data-testid": tid("editing-" + item.id) },
      h("td", { class: "c-key" }, keyHint(opts.keyOf(item, i))),
      cell(f.name), cell(f.description), cell(f.examples),
      h("td", { class: "c-actions" }, h("span", { class: "row-actions" }, save,
        h("button", { type: "button", class: "btn btn-small", onclick: () => tr.replaceWith(viewRow(item, i)) }, "Cancel"))));
    const submit = () => busy(save, async () => {
      try {
        await api(path + "/" + item.id, { method: "PATCH", body: bodyOf(f) });
      } catch (err) {
        if (!fieldErrors(tr, err)) throw err;
        return;
      }
      toast("Saved " + n + " " + f.name.value.trim() + ".", "success");
      await reload();
    });
    save.addEventListener("click", submit);
    tr.addEventListener("keydown", (ev) => {
      const act = keyAction(ev);
      if (act === "save") { ev.preventDefault(); submit(); }
      if (act === "cancel") { ev.preventDefault(); tr.replaceWith(viewRow(item, i)); }
    });
    setTimeout(() => f.name.focus(), 0);
    return tr;
  }

  function addRow() {
    const f = inputs(null);
    const add = h("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": tid("add") }, "Add " + n);
    const tr = h("tr", { class: "row-adding" },
      h("td", { class: "c-key muted small" }, "new"),
      cell(f.name), cell(f.description), cell(f.examples),
      h("td", { class: "c-actions" }, add));
    const submit = () => busy(add, async () => {
      const body = bodyOf(f);
      if (!body.name) {
        fieldErrors(tr, { status: 422, message: "This field is required.", details: { field: "name" } });
        return;
      }
      try {
        await api(path, { method: "POST", body });
      } catch (err) {
        if (err.status === 409) {
          fieldErrors(tr, { status: 422, message: err.message, details: { field: "name" } });
          return;
        }
        if (!fieldErrors(tr, err)) throw err;
        return;
      }
      toast("Added " + n + " " + body.name + ".", "success");
      await reload();
      const again = $("[data-testid='" + tid("input-name") + "']", box);
      if (again) again.focus();
    });
    add.addEventListener("click", submit);
    tr.addEventListener("keydown", (ev) => {
      if (keyAction(ev) === "save") { ev.preventDefault(); submit(); }
    });
    return tr;
  }

  async function remove(item, button) {
    if (!confirm("Delete the " + n + " " + item.name + "? Tags that use it are removed from every session.")) return;
    await busy(button, async () => {
      const out = await api(path + "/" + item.id, { method: "DELETE" });
      const removed = out.tags_removed;
      toast("Deleted " + n + " " + item.name + (removed ? "; " + removed + (removed === 1 ? " tag" : " tags") + " went with it." : "."), "success");
      await reload();
    });
  }

  function render() {
    const body = h("tbody", {});
    items.forEach((item, i) => body.append(viewRow(item, i)));
    if (!items.length) {
      body.append(h("tr", { class: "empty-row", "data-testid": tid("none") },
        h("td", { colspan: 5, class: "muted" }, opts.canEdit ? "No " + opts.nouns + " yet: add the first below." : "No " + opts.nouns + " yet.")));
    }
    if (opts.canEdit && !opts.fixed) body.append(addRow());
    clear(box).append(h("div", { class: "table-wrap" },
      h("table", { class: "table vocab-table", "data-testid": tid("table") },
        h("thead", {}, h("tr", {}, h("th", { class: "c-key" }, "Key"), h("th", {}, "Name"), h("th", {}, "Description"), h("th", {}, "Examples"), h("th", {}))),
        body)));
    if (opts.fixed) box.append(h("p", { class: "muted small vocab-note" }, opts.fixed));
  }

  async function reload() {
    items = await listAll(path);
    items.sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.id - b.id);
    render();
    if (opts.onChange) opts.onChange(items);
  }

  return {
    load: () => loadInto(box, reload),
    items: () => items,
    focusAdd: () => {
      const input = $$("[data-testid='" + tid("input-name") + "']", box)[0];
      if (input) input.focus();
    },
    show: (on) => show(box.closest(".card"), on),
    reload: () => reload().catch(showError),
  };
}
