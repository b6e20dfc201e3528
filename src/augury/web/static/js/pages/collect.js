/* Collectors (/collect): the organization's data sources (type, where, streams), "Add
 * source" (the fields of the chosen type, credentials as password inputs, "Test
 * connection" before saving), and the data streams with their status, lag, last poll
 * and counters, paused and resumed from the list.
 */

import { api } from "../api.js";
import { $, append, clear, h, newestOnly, show } from "../dom.js";
import { badge } from "../badges.js";
import { onSubmit, fieldErrors } from "../forms.js";
import { pager } from "../pager.js";
import { hideFailed, showFailed } from "../loading.js";
import { busy, toast } from "../toast.js";
import { canAdmin, startApp } from "../shell.js";
import { fmtCount, fmtDuration } from "../format.js";
import { clip, epochEl, sourceWhere, streamReads, streamState, streamStatusBadge, typeBadge } from "../collect-common.js";

/* The fields of each source type: `key` is where the value goes ("config.host",
 * "secret.password"); credentials are password inputs. */
const SQL_HOST = [
  { key: "config.host", label: "Host", placeholder: "db.example.com", required: true },
  { key: "config.port", label: "Port", type: "number" },
  { key: "config.database", label: "Database", placeholder: "sales", required: true },
  { key: "config.user", label: "User", placeholder: "reader", required: true },
  { key: "secret.password", label: "Password", type: "password" },
];
const FIELDS = {
  psql: [...SQL_HOST, {
    key: "config.ssl", label: "SSL", type: "select", value: "prefer",
    options: [["disable", "disable"], ["prefer", "prefer"], ["require", "require"], ["verify-full", "verify-full"]],
  }],
  mysql: [...SQL_HOST, { key: "config.ssl", label: "Use SSL", type: "checkbox" }],
  sqlite: [{
    key: "config.path", label: "Database file", placeholder: "shop.db", required: true, mono: true,
    hint: "A SQLite file under the server's data folder collect/, or under a folder the operator allowed.",
  }],
  folder: [{
    key: "config.path", label: "Folder", placeholder: "exports", required: true, mono: true,
    hint: "A path relative to the server's data folder collect/ (exports is collect/exports), or an absolute one under a folder the operator allowed. Streams pick files in it by pattern.",
  }],
  s3: [
    { key: "config.bucket", label: "Bucket", placeholder: "my-exports", required: true },
    { key: "config.region", label: "Region", placeholder: "eu-west-1" },
    { key: "config.endpoint_url", label: "Endpoint URL", placeholder: "empty: AWS", mono: true, hint: "Only for S3-compatible servers (MinIO, R2 …)." },
    { key: "config.prefix", label: "Prefix", placeholder: "daily/", mono: true },
    { key: "secret.access_key_id", label: "Access key ID", type: "password" },
    { key: "secret.secret_access_key", label: "Secret access key", type: "password" },
  ],
  prometheus: [
    { key: "config.url", label: "URL", placeholder: "https://prometheus.example.com", required: true, mono: true, wide: true },
    { key: "secret.token", label: "Bearer token", type: "password", hint: "Or a user name and password below; empty: no authentication.", wide: true },
    { key: "secret.username", label: "User name" },
    { key: "secret.password", label: "Password", type: "password" },
  ],
  http: [
    { key: "config.url", label: "Base URL", placeholder: "https://api.example.com/v1", required: true, mono: true },
    { key: "config.method", label: "Method", type: "select", value: "GET", options: [["GET", "GET"], ["POST", "POST"]] },
    { key: "header.name", label: "Header", placeholder: "Authorization", value: "Authorization", hint: "Sent with every request; its value is kept as a secret." },
    { key: "header.value", label: "Header value", type: "password", placeholder: "Bearer …" },
  ],
};
FIELDS.mariadb = FIELDS.mysql;
const DEFAULT_PORT = { psql: 5432, mysql: 3306, mariadb: 3306 };

function fieldEl(f, type) {
  const id = "src-" + f.key.replace(/\W/g, "-");
  const testid = "src-" + f.key.split(".")[1].replace(/_/g, "-");
  let input;
  if (f.type === "select") {
    input = h("select", { name: f.key, id, "data-testid": testid },
      f.options.map(([v, text]) => h("option", { value: v, selected: v === f.value }, text)));
  } else if (f.type === "checkbox") {
    return h("label", { class: "check check-inline src-check" },
      h("input", { type: "checkbox", name: f.key, id, "data-testid": testid }), f.label);
  } else {
    input = h("input", {
      type: f.type === "password" ? "password" : f.type === "number" ? "number" : "text",
      name: f.key, id, "data-testid": testid, placeholder: f.placeholder || (f.type === "password" ? "empty: none" : ""),
      class: f.mono ? "mono" : null, maxlength: 2000, required: f.required,
      autocomplete: f.type === "password" ? "new-password" : "off", spellcheck: "false",
    });
    if (f.key === "config.port") input.value = String(DEFAULT_PORT[type] || "");
    else if (f.value) input.value = f.value;
  }
  return h("label", { class: "field" + (f.wide ? " field-wide" : "") }, f.label,
    f.required ? null : h("span", { class: "hint" }, f.type === "password" ? "secret" : "optional"),
    input, f.hint ? h("span", { class: "hint" }, f.hint) : null);
}

/** The type's fields, two a row (a wide one takes its row). */
function drawFields(box, type) {
  clear(box);
  const fields = FIELDS[type] || [];
  let row = null;
  fields.forEach((f) => {
    const el = fieldEl(f, type);
    if (f.wide || fields.length === 1) {
      box.append(el);
      row = null;
      return;
    }
    if (!row) {
      row = h("div", { class: "form-row" });
      box.append(row);
    }
    row.append(el);
    if (row.children.length === 2) row = null;
  });
}

/** The form as the API's body: {name, type, config, secret}; empty fields are left out. */
function readSource(form) {
  const body = { name: form.elements.name.value.trim(), type: form.elements.type.value, config: {}, secret: {} };
  let header = null;
  Array.from(form.querySelectorAll("#src-fields [name]")).forEach((el) => {
    const [part, key] = el.name.split(".");
    let value = el.type === "checkbox" ? el.checked : el.value.trim();
    if (value === "" || value === null) return;
    if (el.type === "number") value = Number(value);
    if (part === "header") header = Object.assign(header || {}, { [key]: value });
    else body[part][key] = value;
  });
  if (header && header.value) body.secret.headers = { [header.name || "Authorization"]: header.value };
  if (!Object.keys(body.secret).length) delete body.secret;
  return body;
}

/** A test's answer in place: ok with its detail and what it found, or the error's code and message. */
function testOutcome(box, out) {
  clear(box);
  box.hidden = false;
  box.className = "src-test alert " + (out.ok ? "alert-success" : "alert-error");
  box.dataset.ok = String(!!out.ok);
  if (out.ok) {
    const objects = out.objects || [];
    append(box, [h("div", { class: "strong" }, "Connection works."),
      out.detail ? h("div", { class: "small", "data-testid": "src-test-detail" }, out.detail) : null,
      objects.length ? h("div", { class: "small src-objects" }, objects.length + (objects.length === 1 ? " object: " : " objects: "),
        clip(objects.slice(0, 12).map((o) => (typeof o === "string" ? o : o.name || JSON.stringify(o))).join(", "), 200)) : null]);
  } else {
    append(box, [h("div", { class: "strong" }, "The connection failed", out.code ? h("code", { class: "src-code", "data-testid": "src-test-code" }, out.code) : null),
      h("div", { class: "small", "data-testid": "src-test-message" }, out.message || "No detail was given.")]);
  }
}

function collectPage(me) {
  const admin = canAdmin(me);
  const canWrite = me.role !== "viewer";
  const sources = { offset: 0, limit: 25, byId: new Map() };
  const streams = { offset: 0, limit: 25, q: "", status: "" };

  // --- sources ------------------------------------------------------------------------

  const sourcesWrap = $("#sources-table").closest(".table-wrap");
  const sourceCounts = new Map();

  function sourceRow(src) {
    const outcome = h("div", { class: "test-outcome src-row-test", "data-testid": "source-test-outcome-" + src.id });
    const testBtn = h("button", {
      type: "button", class: "btn btn-small", "data-testid": "source-test-" + src.id, disabled: !admin,
      title: admin ? "Connect to the source now" : "Only admins test sources",
      onclick: (ev) => busy(ev.currentTarget, async () => {
        const out = await api("/data-sources/" + src.id + "/test", { method: "POST" });
        append(clear(outcome), [out.ok ? badge("connected", "success") : badge(out.code || "failed", "danger"),
          out.ok ? null : h("span", { class: "run-error small", title: out.message || "" }, out.message || "")]);
      }),
    }, "Test");
    const delBtn = h("button", {
      type: "button", class: "btn btn-small btn-danger-ghost", "data-testid": "source-delete-" + src.id, disabled: !admin,
      title: admin ? "Delete the source" : "Only admins delete sources",
      onclick: (ev) => busy(ev.currentTarget, async () => {
        if (!confirm("Delete the data source \u201c" + src.name + "\u201d? Its credentials go with it.")) return;
        await api("/data-sources/" + src.id, { method: "DELETE" });
        toast("Source deleted.", "success");
        await loadSources();
      }),
    }, "Delete");
    const count = sourceCounts.get(src.id);
    return h("tr", { "data-testid": "source-row-" + src.id },
      h("td", { class: "src-cell" }, h("div", { class: "strong" }, src.name),
        h("div", { class: "muted small mono-line", title: sourceWhere(src) }, clip(sourceWhere(src), 70)), outcome),
      h("td", {}, typeBadge(src.type)),
      h("td", { class: "num", "data-testid": "source-streams-" + src.id }, count === undefined || count === null ? "–" : String(count)),
      h("td", { class: "nowrap" }, epochEl(src.modifyTime || src.createTime)),
      h("td", { class: "c-actions" }, h("div", { class: "row-actions" },
        canWrite ? h("a", { class: "btn btn-small", href: "/collect/streams/new?source=" + src.id, "data-testid": "source-stream-" + src.id }, "New stream") : null,
        testBtn, delBtn)));
  }

  const sourcesCall = newestOnly();
  async function loadSources() {
    const stale = sourcesCall();
    let page;
    try {
      page = await api("/data-sources", { query: { offset: sources.offset, limit: sources.limit } });
      if (stale()) return;
      // How many streams each reads: the total of a one-row page of its streams.
      await Promise.all(page.items.map(async (src) => {
        try {
          sourceCounts.set(src.id, (await api("/data-streams", { query: { source_id: src.id, limit: 1 } })).total);
        } catch (err) {
          sourceCounts.set(src.id, null);
        }
      }));
    } catch (err) {
      if (stale()) return;
      showFailed("sources-failed", sourcesWrap, err, loadSources);
      return;
    }
    if (stale()) return;
    hideFailed("sources-failed", sourcesWrap);
    page.items.forEach((s) => sources.byId.set(s.id, s));
    const body = clear($("#sources-body"));
    page.items.forEach((s) => body.append(sourceRow(s)));
    show($("#sources-table"), page.total > 0);
    show($("#sources-empty"), page.total === 0);
    pager($("#sources-pager"), page, (off) => { sources.offset = off; loadSources(); }, "sources");
  }

  // --- add a source -------------------------------------------------------------------

  const dialog = $("#source-dialog");
  const form = $("#source-form");
  const result = $("#src-test-result");
  const resetTest = () => { result.hidden = true; clear(result); };
  $("#src-type").addEventListener("change", () => { drawFields($("#src-fields"), $("#src-type").value); resetTest(); });
  form.addEventListener("input", (ev) => { if (ev.target.id !== "src-name") resetTest(); });
  const open = $("#source-new");
  open.disabled = !admin;
  if (!admin) open.title = "Only admins add data sources (they hold credentials)";
  open.addEventListener("click", () => {
    form.reset();
    drawFields($("#src-fields"), $("#src-type").value);
    resetTest();
    dialog.showModal();
  });
  $("#src-cancel").addEventListener("click", () => dialog.close());
  $("#src-test").addEventListener("click", () => busy($("#src-test"), async () => {
    resetTest();
    const body = readSource(form);
    if (!body.name) body.name = body.type + " test";
    try {
      testOutcome(result, await api("/data-sources/test", { method: "POST", body }));
    } catch (err) {
      // A config the API refuses (422) is said next to its field, or as a failed test.
      if (!fieldErrors(form, err)) testOutcome(result, { ok: false, code: err.code, message: err.message });
    }
  }));
  onSubmit(form, async () => {
    const src = await api("/data-sources", { method: "POST", body: readSource(form) });
    dialog.close();
    toast("Source \u201c" + src.name + "\u201d saved.", "success");
    await loadSources();
  });

  // --- streams ------------------------------------------------------------------------

  const streamsWrap = $("#streams-table").closest(".table-wrap");

  function streamRow(s) {
    const href = "/collect/streams/" + s.id;
    const src = sources.byId.get(s.dataSourceId);
    const state = streamState(s);
    const toggle = h("button", {
      type: "button", class: "btn btn-small", "data-testid": "stream-toggle-" + s.id, disabled: !canWrite,
      title: canWrite ? (s.paused ? "Poll the stream again" : "Stop polling the stream") : "Viewers cannot pause streams",
      onclick: (ev) => busy(ev.currentTarget, async () => {
        await api("/data-streams/" + s.id + "/state/" + (s.paused ? "resume" : "pause"), { method: "PUT" });
        toast(s.paused ? "Stream \u201c" + s.name + "\u201d resumed." : "Stream \u201c" + s.name + "\u201d paused.", "success");
        await loadStreams();
      }),
    }, s.paused ? "Resume" : "Pause");
    const tr = h("tr", { class: "row-link", "data-testid": "stream-row-" + s.id, "data-status": state },
      h("td", { class: "stream-cell" }, h("a", { href, class: "strong", "data-testid": "stream-link-" + s.id }, s.name),
        h("div", { class: "muted small" }, streamReads(s))),
      h("td", {}, src ? src.name : "#" + s.dataSourceId, h("div", {}, typeBadge(s.type))),
      h("td", { class: "state-cell" }, streamStatusBadge(s, "stream-status-" + s.id),
        s.error && state === "error" ? h("div", { class: "run-error small", title: s.error, "data-testid": "stream-error-" + s.id }, s.error) : null),
      h("td", { class: "num" }, s.lagSeconds === null || s.lagSeconds === undefined ? "–" : fmtDuration(s.lagSeconds)),
      h("td", { class: "nowrap" }, epochEl(s.lastPollTime, true)),
      h("td", { class: "num" }, fmtCount(s.rowsRead || 0)),
      h("td", { class: "num" }, fmtCount(s.pointsWritten || 0)),
      h("td", { class: "c-actions" }, h("div", { class: "row-actions" }, toggle)));
    tr.addEventListener("click", (ev) => { if (!ev.target.closest("a, button")) location.assign(href); });
    return tr;
  }

  const streamsCall = newestOnly();
  async function loadStreams() {
    const stale = streamsCall();
    let page;
    try {
      page = await api("/data-streams", { query: { offset: streams.offset, limit: streams.limit, q: streams.q, status: streams.status } });
    } catch (err) {
      if (stale()) return;
      showFailed("streams-failed", streamsWrap, err, loadStreams);
      return;
    }
    if (stale()) return;
    hideFailed("streams-failed", streamsWrap);
    const body = clear($("#streams-body"));
    page.items.forEach((s) => body.append(streamRow(s)));
    const filtered = !!(streams.q || streams.status);
    show($("#streams-table"), page.total > 0);
    show($("#streams-empty"), page.total === 0);
    $("#streams-empty-title").textContent = filtered ? "No stream matches" : "No data streams yet";
    show($("#streams-empty-text"), !filtered);
    pager($("#streams-pager"), page, (off) => { streams.offset = off; loadStreams(); }, "streams");
  }

  $("#streams-search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    streams.q = $("#streams-q").value.trim();
    streams.offset = 0;
    loadStreams();
  });
  $("#streams-status").addEventListener("change", () => {
    streams.status = $("#streams-status").value;
    streams.offset = 0;
    loadStreams();
  });
  const newStream = $("#stream-new");
  if (!canWrite) {
    newStream.classList.add("disabled");
    newStream.setAttribute("aria-disabled", "true");
    newStream.title = "Viewers cannot create streams";
  }

  // Add source straight away: /collect?add=1 (the builder's link when there is none).
  if (admin && new URLSearchParams(location.search).get("add")) open.click();

  return (async () => {
    await loadSources();
    await loadStreams();
  })();
}

startApp(collectPage);
