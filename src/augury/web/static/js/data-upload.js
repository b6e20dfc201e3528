/* The upload dialog: a file dropped or picked, its name, description and tags, sent as
 * multipart/form-data with a real progress bar.
 *
 * fetch() reports no upload progress, so the file goes through XMLHttpRequest, whose
 * upload.onprogress does. The bearer token is the one api.js keeps; a 401 (a token that
 * expired during a long upload) renews the login through api() and sends the file again.
 */

import { api, tokens } from "./api.js";
import { $, show } from "./dom.js";
import { fmtBytes, splitTags } from "./data-common.js";

const UPLOAD_URL = "/api/v1/datasets";

/** The name a file suggests: its own, without the extension. */
function nameOf(fileName) {
  return fileName.replace(/\.(csv|tsv|txt|xlsx|json|jsonl|ndjson|parquet)$/i, "").slice(0, 200);
}

/** POST `body` with progress; resolves to {status, data} whatever the status. */
function send(body, onProgress, hold) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    hold(xhr);
    xhr.open("POST", UPLOAD_URL);
    xhr.setRequestHeader("Accept", "application/json");
    if (tokens.access()) xhr.setRequestHeader("Authorization", "Bearer " + tokens.access());
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) onProgress(ev.loaded, ev.total); };
    xhr.upload.onload = () => onProgress(1, 1);
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch (e) {
        data = null;
      }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = () => reject(new Error("Cannot reach the augury server. Check that it is running."));
    xhr.onabort = () => reject(Object.assign(new Error("Upload cancelled."), { aborted: true }));
    xhr.send(body);
  });
}

/** What went wrong, from the API's error envelope (a field's own message when it names one). */
function errorText(status, data) {
  const err = (data && data.error) || {};
  if (status === 413) return err.message || "The file is larger than this server accepts.";
  const fields = (err.details && err.details.errors) || [];
  const name = fields.find((e) => (e.loc || []).includes("name"));
  if (name) {
    return /pattern/.test(name.msg || "") ? "The name may not contain / or \\ or control characters."
      : "The name: " + String(name.msg || "not valid").replace(/^String/, "it") + ".";
  }
  return err.message || "Upload failed (HTTP " + status + ").";
}

/**
 * Bind the upload dialog (templates/data_upload_dialog.html). `dataset` set: the dialog
 * uploads that dataset's next version (its name fixed). Answers the function that opens it.
 */
export function bindUpload(dataset) {
  const dialog = $("#upload-dialog");
  const form = $("#upload-form");
  const input = $("#upload-file");
  const drop = $("#upload-drop");
  const name = $("#upload-name");
  const bar = $("#upload-bar");
  let xhr = null;
  let autoName = "";

  function setError(message, field) {
    const el = $("#upload-error");
    el.textContent = message || "";
    show(el, !!message);
    [name, drop].forEach((f) => f.classList.remove("invalid"));
    if (field) field.classList.add("invalid");
  }

  function setProgress(loaded, total) {
    const pct = total ? Math.min(100, (100 * loaded) / total) : 0;
    bar.setAttribute("aria-valuenow", String(Math.round(pct)));
    $(".progress-bar", bar).style.width = pct + "%";
    $("#upload-pct").textContent = Math.round(pct) + "%";
    $("#upload-status").textContent = pct < 100
      ? fmtBytes(loaded) + " of " + fmtBytes(total) + " sent"
      : "Sent. Reading the file and converting it…";
  }

  function chosen() {
    const file = input.files && input.files[0];
    $("#upload-file-info").textContent = file ? file.name + " · " + fmtBytes(file.size) : "Up to the server's upload limit.";
    drop.classList.toggle("has-file", !!file);
    if (file && !dataset && (!name.value.trim() || name.value === autoName)) {
      autoName = nameOf(file.name);
      name.value = autoName;
    }
    if (file) setError(null);
  }

  input.addEventListener("change", chosen);
  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (ev) => {
    ev.preventDefault();
    drop.classList.add("dragging");
  }));
  ["dragleave", "dragend"].forEach((type) => drop.addEventListener(type, () => drop.classList.remove("dragging")));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("dragging");
    if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
    const picked = new DataTransfer();
    picked.items.add(ev.dataTransfer.files[0]);
    input.files = picked.files;
    chosen();
  });

  function busy(on) {
    form.querySelectorAll("input, textarea, select, #upload-submit").forEach((el) => { el.disabled = on; });
    show($("#upload-progress"), on);
    drop.classList.toggle("disabled", on);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = input.files && input.files[0];
    if (!file) return setError("Choose a file to upload, or drop one on the box.", drop);
    if (!name.value.trim()) return setError("Give the dataset a name.", name);
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("name", name.value.trim());
    if (!dataset) {
      const description = $("#upload-description").value.trim();
      if (description) body.append("description", description);
      splitTags($("#upload-tags").value).forEach((t) => body.append("tags", t));
    }
    const format = $("#upload-format").value;
    if (format) body.append("format", format);
    setError(null);
    setProgress(0, file.size);
    busy(true);
    try {
      let answer = await send(body, setProgress, (x) => { xhr = x; });
      if (answer.status === 401) {
        await api("/users/me"); // renews the login (or goes to /login), then once more
        setProgress(0, file.size);
        answer = await send(body, setProgress, (x) => { xhr = x; });
      }
      if (answer.status !== 201) {
        const loc = (((answer.data || {}).error || {}).details || {}).errors;
        const onName = Array.isArray(loc) && loc.some((e) => (e.loc || []).includes("name"));
        setError(errorText(answer.status, answer.data), onName ? name : null);
        busy(false);
        return;
      }
      $("#upload-status").textContent = "Uploaded. Opening the dataset…";
      location.assign("/data/" + answer.data.id + (dataset ? "?version=" + answer.data.latest_version : ""));
    } catch (err) {
      if (!err.aborted) setError(err.message);
      busy(false);
    } finally {
      xhr = null;
    }
  });

  $("#upload-cancel").addEventListener("click", () => {
    if (xhr) xhr.abort();
    dialog.close();
  });
  dialog.addEventListener("close", () => { if (xhr) xhr.abort(); });

  if (dataset) {
    $("#upload-dialog-title").textContent = "Upload a new version";
    $("#upload-lede").textContent = "The file becomes version " + (dataset.latest_version + 1) + " of " + dataset.name
      + ". Its columns are compared with this version's; your column types carry over.";
    $("#upload-name-hint").textContent = "A new version keeps the dataset's name.";
    [$("#upload-description"), $("#upload-tags")].forEach((el) => show(el.closest(".field"), false));
  }

  return function open() {
    form.reset();
    autoName = "";
    setError(null);
    busy(false);
    chosen();
    if (dataset) {
      name.value = dataset.name;
      name.readOnly = true;
    }
    dialog.showModal();
  };
}
