/* The annotator view (/text/projects/{pid}/sessions/{sid}/annotate?doc=): one document
 * of a session at a time with its segments, tagged from the keyboard alone.
 *
 * Keys (the "?" dialog lists them): ↑/↓ or k/j move between segments; a digit (1–9,
 * 0 for the tenth) toggles that class (CLASS) or label (LABEL); in CLASSLABEL and ABSA
 * projects the digit picks a class and a letter then its label (ABSA: p, n, u, c);
 * Shift+→/← select a word, Ctrl+Shift+→/← grow or shrink the selection, and the next
 * tag goes on that span (a mouse selection in a segment does the same); u undoes the
 * last tag change (or page mark); Enter marks the segment done; Shift+P the page of a
 * PDF the focused segment is on (a document whose pages are all marked is done, as the
 * server counts it); Shift+Enter the document, and opens the next; s skips the
 * document; ←/→ go to the previous or next document.
 *
 * Keys are handled one after another (a chain of promises), so keys typed while a save
 * or the next document is on its way apply in order. Each segment's tags are saved
 * through the tags PUT with the version last read; a save refused because the segment
 * changed elsewhere (409) is shown with both versions until the annotator picks one.
 */

import { api } from "../api.js";
import { $, append, clear, h, show } from "../dom.js";
import { fmtCount } from "../format.js";
import { badge } from "../badges.js";
import { showError } from "../toast.js";
import { startApp } from "../shell.js";
import { digitOf, keyHint, letterOf, listAll, pairsOf, projectPath, sessionPath, usesClasses, usesLabels } from "../text-common.js";
import { normalizeTag, pieces, spanOf, stepSelection, tagBody, toggleTag, words } from "../text-tags.js";

const NAV_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", "Escape"]);

const SENTIMENTS = { POS: "positive", NEG: "negative", NEU: "neutral", CONFLICT: "both positive and negative" };

const PAGE_STATE = { ANNOTATED: "done", SKIPPED: "skipped" };

function annotatePage() {
  const root = $("#ann-root");
  const pid = Number(root.dataset.projectId);
  const sid = Number(root.dataset.sessionId);
  const base = sessionPath(pid, sid);
  const state = {
    type: "CLASS", classes: [], labels: [], names: { classes: new Map(), labels: new Map() },
    docs: [], index: -1, doc: null, segments: [], focus: 0, pages: [], pageMarks: new Map(),
    pending: null, selection: null, undo: [], finished: false,
  };
  const saveBox = $("#ann-save");
  let chain = Promise.resolve();

  // --- what the annotator is told ---
  function say(message, kind) {
    saveBox.textContent = message;
    saveBox.className = "ann-save" + (kind ? " ann-save-" + kind : "");
  }

  function sayQueue() {
    const saving = state.segments.some((s) => s.saving || s.dirty);
    const conflicts = state.segments.filter((s) => s.conflict).length;
    const failed = state.segments.filter((s) => s.failed).length;
    if (conflicts) say("Not saved: " + conflicts + " segment" + (conflicts > 1 ? "s" : "") + " changed elsewhere; pick which tags to keep.", "error");
    else if (failed) say("Not saved: the last change could not be saved. Change the tags again to retry.", "error");
    else if (saving) say("Saving…", "busy");
    else say("All changes saved.", "ok");
  }

  // --- the vocabulary and its keys ---
  const cls = (i) => state.classes[i];

  function paletteButton(key, item, onclick, testid) {
    const about = item.description || (state.type === "ABSA" ? SENTIMENTS[item.name] : "") || "";
    return h("button", {
      type: "button", class: "ann-key", "data-testid": testid, title: about || item.name,
      "aria-keyshortcuts": key || undefined, onclick: (ev) => { onclick(); ev.currentTarget.blur(); focusSegment(state.focus); },
    }, keyHint(key), h("span", { class: "ann-key-name" }, item.name),
    about ? h("span", { class: "ann-key-desc muted small" }, about) : null);
  }

  function renderPalette() {
    const pairs = pairsOf(state.type);
    const classBox = clear($("#ann-classes"));
    const labelBox = clear($("#ann-labels"));
    if (usesClasses(state.type)) {
      classBox.append(h("div", { class: "ann-palette-title muted small" }, state.type === "ABSA" ? "Aspects" : "Classes"));
      state.classes.forEach((c, i) => classBox.append(paletteButton(digitOf(i), c,
        () => (pairs ? setPending(i) : applyTag({ class: c.name })), "ann-class-" + i)));
    }
    if (usesLabels(state.type)) {
      labelBox.append(h("div", { class: "ann-palette-title muted small" }, state.type === "ABSA" ? "Sentiments (after an aspect)" : pairs ? "Labels (after a class)" : "Labels"));
      state.labels.forEach((l, i) => labelBox.append(paletteButton(pairs ? letterOf(l, i, state.type) : digitOf(i), l,
        () => (pairs ? pickLabel(i) : applyTag({ label: l.name })), "ann-label-" + i)));
    }
    $("#ann-palette-hint").textContent = pairs
      ? (state.type === "ABSA" ? "Press an aspect's number, then a letter for its sentiment." : "Press a class's number, then a letter for its label.") + " The same again removes it."
      : "Press a number to tag the focused segment; again to remove the tag.";
  }

  function setPending(i) {
    if (!cls(i)) return;
    state.pending = i;
    renderPending();
  }

  function renderPending() {
    const box = $("#ann-pending");
    show(box, state.pending !== null);
    [...$("#ann-classes").querySelectorAll(".ann-key")].forEach((b, i) => b.classList.toggle("ann-key-on", i === state.pending));
    if (state.pending === null) return;
    append(clear(box), [h("span", { class: "strong" }, cls(state.pending).name), ": now ",
      state.labels.map((l, i) => h("span", { class: "ann-pending-key" }, keyHint(letterOf(l, i, state.type)), " " + l.name.toLowerCase())),
      h("span", { class: "muted" }, " · Esc cancels")]);
  }

  function pickLabel(i) {
    if (state.pending === null) {
      say("Choose a " + (state.type === "ABSA" ? "aspect" : "class") + " first (its number), then the " + (state.type === "ABSA" ? "sentiment." : "label."));
      return;
    }
    const tag = { class: cls(state.pending).name, label: state.labels[i].name };
    state.pending = null;
    renderPending();
    applyTag(tag);
  }

  // --- segments ---
  const cur = () => state.segments[state.focus];

  function segmentEl(seg, i) {
    const spans = seg.tags.filter(spanOf).map((t) => ({ start: t.start, end: t.end, tag: t }));
    const marks = spans.concat(i === state.focus && state.selection ? [{ start: state.selection.start, end: state.selection.end, selecting: true }] : []);
    const textEl = h("div", { class: "ann-seg-text" }, pieces(seg.text, marks).map((p) => {
      const piece = seg.text.slice(p.start, p.end);
      if (!p.cover.length) return piece;
      const selecting = p.cover.some((j) => marks[j].selecting);
      const tagged = p.cover.filter((j) => !marks[j].selecting).map((j) => marks[j].tag);
      return h("mark", {
        class: (tagged.length ? "ann-span" : "") + (selecting ? " ann-selecting" : ""),
        title: tagged.map((t) => [t.class, t.label].filter(Boolean).join(" · ")).join("; ") || "selected",
      }, piece);
    }));
    const chips = seg.tags.map((t) => {
      const words_ = spanOf(t) ? " “" + seg.text.slice(t.start, t.end) + "”" : "";
      return badge([t.class, t.label].filter(Boolean).join(" · ") + words_, spanOf(t) ? "violet" : "info");
    });
    const page = pageOf(seg);
    const pageMark = page ? state.pageMarks.get(page) : null;
    const firstOfPage = page && (i === 0 || pageOf(state.segments[i - 1]) !== page);
    const el = h("div", {
      class: "ann-seg" + (i === state.focus ? " ann-seg-focus" : "") + (seg.done ? " ann-seg-done" : "")
        + (pageMark === "ANNOTATED" ? " ann-seg-page-done" : "") + (seg.conflict ? " ann-seg-conflict" : ""),
      role: "option", id: "ann-seg-" + seg.id, tabindex: "-1", "aria-selected": String(i === state.focus),
      "data-testid": "ann-seg-" + i, "data-index": i,
    },
    h("span", { class: "ann-seg-num", "aria-hidden": "true" }, String(i + 1)),
    h("div", { class: "ann-seg-body" },
      firstOfPage ? h("div", { class: "ann-seg-page muted small", "data-testid": "ann-seg-page-" + i },
        "Page " + page, pageMark ? badge("page " + PAGE_STATE[pageMark], pageMark === "ANNOTATED" ? "success" : "warning") : null) : null,
      textEl,
      h("div", { class: "badges ann-seg-tags", "data-testid": "ann-seg-tags-" + i }, chips.length ? chips : h("span", { class: "muted small" }, "no tags"))),
    h("span", { class: "ann-seg-state" },
      seg.conflict ? badge("conflict", "warning") : null,
      seg.done ? badge("done", "success", "ann-seg-done-" + i) : null));
    el.addEventListener("mousedown", () => { if (state.focus !== i) focusSegment(i); });
    return el;
  }

  function renderSegment(i) {
    const old = $("#ann-segments").children[i];
    if (!old) return;
    const el = segmentEl(state.segments[i], i);
    const hadFocus = document.activeElement === old;
    old.replaceWith(el);
    if (hadFocus) el.focus({ preventScroll: true });
  }

  /** Focus segment `i`. Its element stays (a mouse selection may be starting in it);
   * only a keyboard selection left on the segment before is redrawn away. */
  function focusSegment(i) {
    if (!state.segments.length) return;
    const next = Math.max(0, Math.min(state.segments.length - 1, i));
    const prev = state.focus;
    state.focus = next;
    if (prev !== next && state.selection) {
      state.selection = null;
      renderSegment(prev);
    }
    [...$("#ann-segments").children].forEach((el, j) => {
      el.classList.toggle("ann-seg-focus", j === next);
      el.setAttribute("aria-selected", String(j === next));
    });
    const el = $("#ann-segments").children[next];
    if (el) {
      el.focus({ preventScroll: true });
      el.scrollIntoView({ block: "nearest" });
    }
    renderSelection();
    renderPages();
  }

  function renderSelection() {
    const box = $("#ann-selection");
    const seg = cur();
    show(box, !!state.selection && !!seg);
    if (state.selection && seg) box.textContent = "Selected “" + seg.text.slice(state.selection.start, state.selection.end) + "”: the next tag goes on it. Esc clears.";
  }

  // --- changing tags, saving them ---
  function applyTag(tag) {
    const seg = cur();
    if (!seg) return;
    if (seg.conflict) {
      say("This segment changed elsewhere: choose which tags to keep first.", "error");
      return;
    }
    const full = state.selection ? Object.assign({}, tag, state.selection) : Object.assign({ start: null, end: null }, tag);
    state.undo.push({ segment: state.focus, tags: seg.tags.slice() });
    seg.tags = toggleTag(seg.tags, full, state.type, seg.text.length);
    state.selection = null;
    renderSegment(state.focus);
    renderSelection();
    queueSave(seg);
  }

  function undo() {
    const last = state.undo.pop();
    if (!last) {
      say("Nothing to undo in this document.");
      return undefined;
    }
    if (last.page) return undoPage(last);
    const seg = state.segments[last.segment];
    seg.tags = last.tags;
    focusSegment(last.segment);
    renderSegment(last.segment);
    queueSave(seg);
    return undefined;
  }

  /** Save a segment's tags: one PUT at a time per segment, the newest tags each time. */
  function queueSave(seg) {
    seg.dirty = true;
    seg.failed = false;
    sayQueue();
    if (seg.saving) return seg.saving;
    seg.saving = (async () => {
      while (seg.dirty && !seg.conflict) {
        seg.dirty = false;
        const tags = seg.tags.map(tagBody);
        try {
          const out = await api(base + "/documents/" + state.doc.id + "/segments/" + seg.id + "/tags", {
            method: "PUT", body: { tags, version: seg.version },
          });
          seg.version = out && out.version !== undefined ? out.version : seg.version;
        } catch (err) {
          if (err.status === 409 && err.details && "version" in err.details) {
            seg.conflict = { tags: (err.details.tags || []).map((t) => normalizeTag(t, state.names)), version: err.details.version };
            renderConflict();
          } else {
            seg.failed = true;
            showError(err);
          }
        }
      }
    })().finally(() => {
      seg.saving = null;
      const i = state.segments.indexOf(seg);
      if (i >= 0) renderSegment(i);
      sayQueue();
    });
    return seg.saving;
  }

  /** Wait for every save of this document (before leaving it). */
  async function flush() {
    for (;;) {
      const running = state.segments.map((s) => s.saving).filter(Boolean);
      if (!running.length) return;
      await Promise.all(running);
    }
  }

  function renderConflict() {
    const box = $("#ann-conflict");
    const i = state.segments.findIndex((s) => s.conflict);
    show(box, i >= 0);
    if (i < 0) return;
    const seg = state.segments[i];
    const list = (tags) => (tags.length ? tags.map((t) => badge([t.class, t.label].filter(Boolean).join(" · "), "muted")) : h("span", { class: "muted" }, "no tags"));
    const keep = h("button", { type: "button", class: "btn btn-small", "data-testid": "ann-conflict-theirs" }, "Keep the saved tags");
    const mine = h("button", { type: "button", class: "btn btn-small btn-primary", "data-testid": "ann-conflict-mine" }, "Save mine over them");
    keep.addEventListener("click", () => {
      seg.tags = seg.conflict.tags;
      seg.version = seg.conflict.version;
      seg.conflict = null;
      renderSegment(i);
      renderConflict();
      sayQueue();
      focusSegment(i);
    });
    mine.addEventListener("click", () => {
      seg.version = seg.conflict.version;
      seg.conflict = null;
      renderConflict();
      queueSave(seg);
      focusSegment(i);
    });
    clear(box).append(
      h("div", { class: "strong" }, "Segment " + (i + 1) + " was saved elsewhere since you opened it (another tab or another device)."),
      h("div", { class: "ann-conflict-row" }, h("span", { class: "muted small" }, "Saved there:"), h("span", { class: "badges", "data-testid": "ann-conflict-saved" }, list(seg.conflict.tags))),
      h("div", { class: "ann-conflict-row" }, h("span", { class: "muted small" }, "Yours:"), h("span", { class: "badges", "data-testid": "ann-conflict-yours" }, list(seg.tags))),
      h("div", { class: "row-actions" }, keep, mine));
  }

  // --- marks: segment done, document done or skipped ---
  /** Marking again replaces the mark (done after skipped, and back). */
  const mark = (path, name) => api(path, { method: "POST", body: { name } });

  async function toggleSegmentDone() {
    const seg = cur();
    if (!seg) return;
    const path = base + "/documents/" + state.doc.id + "/segments/" + seg.id + "/mark";
    if (seg.done) {
      await api(path, { method: "DELETE" });
      seg.done = false;
      renderSegment(state.focus);
      refreshDocState();
      say("Segment " + (state.focus + 1) + " is no longer marked done.");
      return;
    }
    await mark(path, "ANNOTATED");
    seg.done = true;
    say("Segment " + (state.focus + 1) + " done.", "ok");
    renderSegment(state.focus);
    refreshDocState();
    if (state.focus < state.segments.length - 1) focusSegment(state.focus + 1);
  }

  // --- pages of a PDF: the focused segment's page marked done, and back ---
  /** The page (from 1) a segment is on: its own `page`, else the document's page span
   * holding its start; null for a document without pages. */
  function pageOf(seg) {
    if (!seg || !state.pages.length) return null;
    if (seg.page) return seg.page;
    const i = state.pages.findIndex(([start, end]) => seg.start >= start && seg.start < end);
    return i >= 0 ? i + 1 : null;
  }

  function renderPages() {
    const n = state.pages.length;
    show($("#ann-pages"), n > 0 && !!state.doc);
    if (!n || !state.doc) return;
    const here = pageOf(cur());
    append(clear($("#ann-page-chips")), state.pages.map((_, j) => {
      const p = j + 1;
      const name = state.pageMarks.get(p);
      const what = "Page " + p + (name ? ", " + PAGE_STATE[name] : "");
      return h("button", {
        type: "button", class: "ann-page-chip" + (name ? " ann-page-chip-" + PAGE_STATE[name] : ""),
        "aria-current": p === here ? "page" : undefined, "aria-label": what, title: what + ": go to its first segment",
        "data-testid": "ann-page-" + p, "data-state": name ? PAGE_STATE[name] : "open",
        onclick: (ev) => { ev.currentTarget.blur(); goPage(p); },
      }, String(p));
    }));
    const name = here ? state.pageMarks.get(here) : null;
    $("#ann-page-state").textContent = here ? "Page " + here + " of " + n + ": " + (name ? PAGE_STATE[name] : "not done yet") : "";
    const button = $("#ann-page-done");
    button.disabled = !here;
    button.setAttribute("aria-pressed", String(name === "ANNOTATED"));
    button.title = name === "ANNOTATED" ? "Page " + here + " is done: press again to undo" : "Mark page " + (here || "") + " done";
  }

  function goPage(p) {
    const i = state.segments.findIndex((s) => pageOf(s) === p);
    if (i < 0) {
      say("Page " + p + " has no segments.");
      return;
    }
    focusSegment(i);
  }

  /** Set (a name) or remove (null) the caller's mark on page `p`, and redraw what shows it. */
  async function setPageMark(p, name) {
    const path = base + "/documents/" + state.doc.id + "/pages/" + p + "/mark";
    if (name) await mark(path, name);
    else await api(path, { method: "DELETE" });
    if (name) state.pageMarks.set(p, name);
    else state.pageMarks.delete(p);
    state.segments.forEach((s, i) => { if (pageOf(s) === p) renderSegment(i); });
    renderPages();
    refreshDocState();
  }

  async function togglePageDone() {
    const p = pageOf(cur());
    if (!p) {
      say(state.pages.length ? "This segment is on no page." : "Only a PDF's documents have pages to mark.");
      return;
    }
    const before = state.pageMarks.get(p) || null;
    const after = before === "ANNOTATED" ? null : "ANNOTATED";
    await setPageMark(p, after);
    state.undo.push({ page: p, before });
    if (!after) {
      say("Page " + p + " is no longer marked done.");
      return;
    }
    const left = state.pages.length - state.pageMarks.size;
    say("Page " + p + " done." + (left ? "" : " Every page is marked: the document is done."), "ok");
    if (p < state.pages.length) goPage(p + 1);
  }

  async function undoPage(last) {
    await setPageMark(last.page, last.before);
    goPage(last.page);
    say("Undone: page " + last.page + (last.before ? " is " + PAGE_STATE[last.before] + " again." : " is no longer marked done."));
  }

  /** The document's state as the server counts it: its own mark, else every segment
   * marked done, else every page marked (done if any page is); the progress follows. */
  function refreshDocState() {
    const entry = state.docs[state.index];
    if (!entry || !state.doc) return;
    const own = state.doc.mark;
    const pages = state.pages.map((_, j) => state.pageMarks.get(j + 1));
    const everyPage = pages.length > 0 && pages.every(Boolean);
    const everySegment = state.segments.length > 0 && state.segments.every((s) => s.done);
    entry.done = own ? own === "ANNOTATED" : everySegment || (everyPage && pages.includes("ANNOTATED"));
    entry.skipped = own ? own === "SKIPPED" : !entry.done && everyPage;
    renderProgress();
    renderDocState(entry);
  }

  function renderDocState(entry) {
    append(clear($("#ann-doc-state")), entry.done ? badge("done", "success", "ann-doc-done-badge") : entry.skipped ? badge("skipped", "warning") : null);
  }

  async function finishDocument(name) {
    if (!state.doc) return;
    await flush();
    if (state.segments.some((s) => s.conflict)) {
      say("Choose which tags to keep first: this document has a conflict.", "error");
      return;
    }
    await mark(base + "/documents/" + state.doc.id + "/mark", name);
    const entry = state.docs[state.index];
    entry.done = name === "ANNOTATED";
    entry.skipped = name === "SKIPPED";
    renderProgress();
    say(name === "SKIPPED" ? "Document skipped." : "Document done.", "ok");
    const open = (j) => !state.docs[j].done && !state.docs[j].skipped;
    const n = state.docs.length;
    for (let k = 1; k < n; k++) {
      const j = (state.index + k) % n;
      if (open(j)) return openDocument(j);
    }
    showFinished();
  }

  function showFinished() {
    state.finished = true;
    state.doc = null;
    state.segments = [];
    clear($("#ann-segments"));
    show($("#ann-segments"), false);
    show($("#ann-finished"), true);
    $("#ann-doc-title").textContent = "Session done";
    $("#ann-doc-sub").textContent = "";
    clear($("#ann-doc-state"));
    renderPages();
    $("#ann-position").textContent = fmtCount(state.docs.length) + " of " + fmtCount(state.docs.length) + " documents";
    writeUrl(null);
  }

  // --- documents ---
  function renderProgress() {
    const total = state.docs.length;
    const done = state.docs.filter((d) => d.done || d.skipped).length;
    const pct = total ? (100 * done) / total : 0;
    const bar = $("#ann-progress");
    bar.setAttribute("aria-valuenow", String(Math.round(pct)));
    bar.querySelector(".progress-bar").style.width = pct + "%";
    bar.classList.toggle("progress-succeeded", total > 0 && done === total);
    $("#ann-progress-text").textContent = fmtCount(done) + " of " + fmtCount(total) + " documents done"
      + (state.docs.some((d) => d.skipped) ? " (" + fmtCount(state.docs.filter((d) => d.skipped).length) + " skipped)" : "");
  }

  function writeUrl(docId) {
    const p = new URLSearchParams(location.search);
    if (docId) p.set("doc", String(docId));
    else p.delete("doc");
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
  }

  async function openDocument(i) {
    await flush();
    state.finished = false;
    state.index = i;
    state.pending = null;
    state.selection = null;
    state.undo = [];
    const entry = state.docs[i];
    writeUrl(entry.id);
    show($("#ann-finished"), false);
    show($("#ann-segments"), true);
    $("#ann-position").textContent = "Document " + fmtCount(i + 1) + " of " + fmtCount(state.docs.length);
    // The document with its segments, and the caller's tags, versions and marks on them.
    const d = await api(base + "/documents/" + entry.id);
    state.doc = d;
    state.segments = d.segments.map((s) => ({
      id: s.id, start: s.start, end: s.end, text: s.text,
      page: s.page, tags: (s.tags || []).map((t) => normalizeTag(t, state.names)),
      version: s.version, done: s.mark === "ANNOTATED",
      saving: null, dirty: false, failed: false, conflict: null,
    }));
    state.pages = Array.isArray(d.pages) ? d.pages : [];
    state.pageMarks = new Map(Object.entries(d.page_marks || {}).map(([p, name]) => [Number(p), name]));
    entry.done = d.state === "done";
    entry.skipped = d.state === "skipped";
    $("#ann-doc-title").textContent = d.external_id ? "Document " + d.external_id : "Document #" + d.id;
    $("#ann-doc-sub").textContent = fmtCount(state.segments.length) + " segment" + (state.segments.length === 1 ? "" : "s")
      + " · " + fmtCount((d.text || "").length || d.length) + " characters"
      + (state.pages.length ? " · " + fmtCount(state.pages.length) + " page" + (state.pages.length === 1 ? "" : "s") : "");
    renderDocState(entry);
    const list = clear($("#ann-segments"));
    state.segments.forEach((seg, j) => list.append(segmentEl(seg, j)));
    if (!state.segments.length) list.append(h("p", { class: "muted" }, "This document has no segments."));
    renderPending();
    renderConflict();
    sayQueue();
    $("#ann-prev").disabled = i === 0;
    $("#ann-next").disabled = i === state.docs.length - 1;
    const firstOpen = state.segments.findIndex((s) => !s.done && !s.tags.length);
    state.focus = -1;
    focusSegment(firstOpen >= 0 ? firstOpen : 0);
  }

  function step(delta) {
    const j = state.finished ? (delta < 0 ? state.docs.length - 1 : -1) : state.index + delta;
    if (j < 0 || j >= state.docs.length) {
      say(delta < 0 ? "This is the first document." : "This is the last document.");
      return undefined;
    }
    return openDocument(j);
  }

  // --- the keyboard ---
  function moveSelection(how) {
    const seg = cur();
    if (!seg) return;
    state.selection = stepSelection(words(seg.text), state.selection, how);
    renderSegment(state.focus);
    renderSelection();
  }

  function handle(k) {
    if (k.key === "?") return openKeys();
    if (k.key === "Escape") {
      state.pending = null;
      state.selection = null;
      renderPending();
      if (cur()) renderSegment(state.focus);
      renderSelection();
      return undefined;
    }
    if (k.key === "ArrowLeft" && !k.shift) return step(-1);
    if (k.key === "ArrowRight" && !k.shift) return step(1);
    if (!state.doc) return undefined;
    if (k.key === "P" && k.shift) return togglePageDone();
    if (state.pending !== null && /^[a-z]$/i.test(k.key)) {
      const i = state.labels.findIndex((l, j) => letterOf(l, j, state.type) === k.key.toLowerCase());
      if (i >= 0) return pickLabel(i);
      say("No " + (state.type === "ABSA" ? "sentiment" : "label") + " has the key " + k.key + ". Esc cancels.");
      return undefined;
    }
    if (/^[0-9]$/.test(k.key)) {
      const i = k.key === "0" ? 9 : Number(k.key) - 1;
      if (pairsOf(state.type)) return setPending(i);
      if (state.type === "LABEL") return state.labels[i] ? applyTag({ label: state.labels[i].name }) : undefined;
      return cls(i) ? applyTag({ class: cls(i).name }) : undefined;
    }
    if (k.shift && (k.key === "ArrowRight" || k.key === "ArrowLeft")) {
      const right = k.key === "ArrowRight";
      return moveSelection(k.ctrl ? (right ? "grow" : "shrink") : right ? "next" : "prev");
    }
    if (k.key === "ArrowDown" || k.key === "j") return focusSegment(state.focus + 1);
    if (k.key === "ArrowUp" || k.key === "k") return focusSegment(state.focus - 1);
    if (k.key === "u") return undo();
    if (k.key === "s") return finishDocument("SKIPPED");
    if (k.key === "Enter" && k.shift) return finishDocument("ANNOTATED");
    if (k.key === "Enter") return toggleSegmentDone();
    return undefined;
  }

  function ours(ev) {
    if (ev.metaKey || ev.altKey) return false;
    if (ev.ctrlKey && !(ev.shiftKey && (ev.key === "ArrowLeft" || ev.key === "ArrowRight"))) return false;
    return NAV_KEYS.has(ev.key) || ev.key === "?" || /^[a-z0-9]$/i.test(ev.key);
  }

  document.addEventListener("keydown", (ev) => {
    if (keysDialog.open || ev.defaultPrevented || !ours(ev)) return;
    const t = ev.target;
    if (t.closest && t.closest("input, textarea, select, dialog, [contenteditable]")) return;
    // A focused button or link answers Enter and Space itself.
    if (t.closest && t.closest("button, a") && (ev.key === "Enter" || ev.key === " ")) return;
    ev.preventDefault();
    const k = { key: ev.key, shift: ev.shiftKey, ctrl: ev.ctrlKey };
    chain = chain.then(() => handle(k)).catch(showError);
  });

  const run = (fn) => () => { chain = chain.then(fn).catch(showError); };
  $("#ann-prev").addEventListener("click", run(() => step(-1)));
  $("#ann-next").addEventListener("click", run(() => step(1)));
  $("#ann-undo").addEventListener("click", run(() => undo()));
  $("#ann-page-done").addEventListener("click", (ev) => {
    ev.currentTarget.blur();
    focusSegment(state.focus);
    run(() => togglePageDone())();
  });
  $("#ann-skip").addEventListener("click", run(() => finishDocument("SKIPPED")));
  $("#ann-seg-done").addEventListener("click", run(() => toggleSegmentDone()));
  $("#ann-doc-done").addEventListener("click", run(() => finishDocument("ANNOTATED")));

  // A selection made with the mouse inside one segment becomes the span the next tag takes.
  $("#ann-segments").addEventListener("mouseup", () => {
    const sel = getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    const node = range.commonAncestorContainer;
    const textEl = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node).closest(".ann-seg-text");
    if (!textEl) {
      say("Select words within one segment to tag them.");
      return;
    }
    const i = Number(textEl.closest(".ann-seg").dataset.index);
    const before = document.createRange();
    before.selectNodeContents(textEl);
    before.setEnd(range.startContainer, range.startOffset);
    let start = before.toString().length;
    let end = start + range.toString().length;
    const text = state.segments[i].text;
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    sel.removeAllRanges();
    if (start >= end) return;
    focusSegment(i);
    state.selection = { start, end };
    renderSegment(i);
    renderSelection();
  });

  // Leaving with a save on its way would lose it: the browser asks first.
  window.addEventListener("beforeunload", (ev) => {
    if (state.segments.some((s) => s.saving || s.dirty)) ev.preventDefault();
  });

  // --- the shortcuts dialog ---
  const keysDialog = $("#ann-keys");
  function openKeys() {
    const pairs = pairsOf(state.type);
    const row = (keys, what) => [h("dt", {}, keys.map((k) => keyHint(k))), h("dd", {}, what)];
    append(clear($("#ann-keys-list")), [
      row(["↑", "↓"], "previous / next segment (also k / j)"),
      pairs ? row(["1–9"], "pick a " + (state.type === "ABSA" ? "aspect" : "class") + ", then…") : row(["1–9"], "toggle the " + (state.type === "LABEL" ? "label" : "class") + " with that number (0: the tenth)"),
      pairs ? row(state.labels.map((l, i) => letterOf(l, i, state.type)), "…the " + (state.type === "ABSA" ? "sentiment: " : "label: ") + state.labels.map((l) => l.name).join(", ")) : [],
      row(["⇧ →", "⇧ ←"], "select the next / previous word: the next tag goes on it"),
      row(["Ctrl ⇧ →", "Ctrl ⇧ ←"], "grow / shrink the selection by a word"),
      row(["Esc"], "drop the selection or the chosen class"),
      row(["u"], "undo the last tag change or page mark"),
      row(["Enter"], "mark the segment done (again: not done)"),
      row(["⇧ P"], "mark the focused segment's page done (again: not done); a PDF's pages"),
      row(["⇧ Enter"], "mark the document done and open the next"),
      row(["s"], "skip the document"),
      row(["←", "→"], "previous / next document"),
      row(["?"], "this list")]);
    keysDialog.showModal();
  }
  $("#ann-help").addEventListener("click", openKeys);
  $("#ann-keys-close").addEventListener("click", () => keysDialog.close());
  keysDialog.addEventListener("keydown", (ev) => {
    if (ev.key === "?") {
      ev.preventDefault();
      keysDialog.close();
    }
  });
  keysDialog.addEventListener("close", () => focusSegment(state.focus));

  // --- loading ---
  async function load() {
    const [project, session] = await Promise.all([api(projectPath(pid)), api(base)]);
    state.type = project.type;
    $("#ann-title").textContent = session.name;
    document.title = "Labeling " + session.name + " · augury";
    $("#ann-lede").textContent = project.name + " · " + project.type + (session.description ? " · " + session.description : "");
    const [classes, labels, docs] = await Promise.all([
      usesClasses(project.type) ? listAll(projectPath(pid) + "/classes") : [],
      usesLabels(project.type) ? listAll(projectPath(pid) + "/labels") : [],
      listAll(base + "/documents"),
    ]);
    const order = (a, b) => (a.position ?? 0) - (b.position ?? 0) || a.id - b.id;
    classes.forEach((c) => state.names.classes.set(c.id, c.name));
    labels.forEach((l) => state.names.labels.set(l.id, l.name));
    const offered = (all, names) => (names.length ? all.filter((x) => names.includes(x.name)) : all).sort(order);
    state.classes = offered(classes, session.classes || []);
    state.labels = offered(labels, session.labels || []);
    state.docs = docs.map((d) => ({ id: d.id, done: d.state === "done", skipped: d.state === "skipped" }));
    renderPalette();
    renderProgress();
    if (!state.docs.length) {
      clear($("#ann-segments")).append(h("p", { class: "muted", "data-testid": "ann-no-docs" }, "This session has no documents."));
      say("");
      return;
    }
    const wanted = Number(new URLSearchParams(location.search).get("doc"));
    let i = state.docs.findIndex((d) => d.id === wanted);
    if (i < 0) i = state.docs.findIndex((d) => !d.done && !d.skipped);
    if (i < 0) {
      showFinished();
      return;
    }
    await openDocument(i);
  }

  return load().catch((err) => {
    if (err.status === 404) {
      $("#ann-title").textContent = "Session not found";
      $("#ann-lede").textContent = "This session does not exist, or it is not assigned to you.";
      show(root, false);
      return;
    }
    throw err;
  });
}

startApp(annotatePage);
