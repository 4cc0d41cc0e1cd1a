// Shared by every admin page: building DOM safely, calling the API, formatting.
// Rule: text from the server is only ever set with textContent (through el()), never as HTML.
"use strict";

const Admin = {
  session: null,      // { username, role, csrf_token, expires_at }
  program: null,      // selected program id
  programs: [],
};

// el("td", { class: "num" }, "text", childNode, ...): strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// A fresh key per form display: a double submit reuses it, so the server records it once.
function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body, key) {
  const headers = { Accept: "application/json" };
  // A file (a logo) goes as its own bytes; anything else as JSON.
  const raw = body instanceof Blob;
  if (raw) headers["Content-Type"] = body.type || "application/octet-stream";
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && Admin.session) headers["X-CSRF-Token"] = Admin.session.csrf_token;
  if (key) headers["Idempotency-Key"] = key;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined || raw ? body : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) {
    const e = (data && data.error) || {};
    // Only a lost session sends the page back to sign-in; a refused sign-in or Telegram
    // confirmation is an answer to show.
    if (response.status === 401 && e.code === "unauthorized") {
      window.location.assign("/admin");
    }
    throw new ApiError(response.status, e.code || "http_" + response.status, e.message || text);
  }
  return data;
}

function programPath(rest) {
  return "/api/v1/admin/programs/" + encodeURIComponent(Admin.program) + rest;
}

function fmtNum(n) {
  if (n === null || n === undefined) return "—";
  return Number(n).toLocaleString(I18n.locale());
}

function fmtSigned(n) {
  return (n > 0 ? "+" : "") + fmtNum(n);
}

function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleDateString(I18n.locale(), { dateStyle: "medium" });
}

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(I18n.locale(), { dateStyle: "short", timeStyle: "short" });
}

function toast(message, bad) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.className = bad ? "toast bad" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

// Codes whose server message carries the detail (which field, which limit, which line of a
// file, which code): it follows the translated sentence.
const DETAILED_ERRORS = new Set(["bad_request", "invalid_body", "invalid_rules", "invalid_codes_file", "invalid_code", "invalid_raffle", "invalid_season", "invalid_broadcast", "invalid_bulk_file"]);

function errorText(e) {
  if (e instanceof ApiError) {
    const known = I18n.t("error." + e.code, null, true);
    if (known && e.message && DETAILED_ERRORS.has(e.code)) return known + " " + e.message;
    return known || e.message || e.code;
  }
  return String(e && e.message ? e.message : e);
}

function can(permission) {
  const role = Admin.session && Admin.session.role;
  const table = {
    manage: ["admin", "manager"],
    administer: ["admin"],
    audit: ["admin", "auditor"],
  };
  return (table[permission] || []).includes(role);
}

// A table from rows: columns are [heading key, cell(row) -> node|string, class].
function table(columns, rows, rowClass) {
  const head = el("tr", {}, columns.map((c) => el("th", { class: c[2] || "" }, I18n.t(c[0]))));
  const body = rows.map((row) =>
    el("tr", { class: rowClass || "" }, columns.map((c) => el("td", { class: c[2] || "" }, c[1](row)))));
  if (rows.length === 0) {
    body.push(el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, I18n.t("common.empty"))));
  }
  // Wide tables scroll sideways on their own, so the page never gets wider than the window.
  return el("div", { class: "table-scroll" }, el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
}

function networkName(n) {
  return n ? I18n.t("network." + n) : "—";
}

function accountLabel(a) {
  if (!a) return "—";
  const name = a.username ? "@" + a.username : (a.display_name || a.external_id || "");
  return name || "—";
}

// Wires a language button: shows the other language, switches and re-renders.
function wireLangSwitch(onChange) {
  const button = document.getElementById("lang-switch");
  if (!button) return;
  const show = () => { button.textContent = I18n.lang === "ru" ? "EN" : "RU"; };
  show();
  button.addEventListener("click", () => {
    I18n.set(I18n.lang === "ru" ? "en" : "ru");
    show();
    I18n.apply(document);
    if (onChange) onChange();
  });
}

// Telegram's Login Widget, loaded from telegram.org on first use: asks the user in a popup to
// confirm with the bot `botId` and resolves with the signed fields, or null when cancelled.
function telegramConfirm(botId) {
  const ask = () => new Promise((resolve) => {
    window.Telegram.Login.auth({ bot_id: botId, request_access: false, lang: I18n.lang }, resolve);
  });
  if (window.Telegram && window.Telegram.Login) return ask();
  return new Promise((resolve, reject) => {
    const script = el("script", { src: "https://telegram.org/js/telegram-widget.js?22" });
    script.addEventListener("load", () => resolve(ask()));
    script.addEventListener("error", () => reject(new Error(I18n.t("telegram.unreachable"))));
    document.head.append(script);
  });
}
