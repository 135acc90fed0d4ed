// What the reports page and the quality page share: the session (log in like the agent's
// page), calls to the API, and French number formatting. Server text is always rendered
// with textContent, never as markup.
"use strict";

const report = { me: null };
const $ = (id) => document.getElementById(id);
const FR = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function frNumber(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "number" ? FR.format(value) : String(value);
}

const api = (method, path, body) => ctiFetch(method, path, body, report.me && report.me.csrf);

function showError(id, error) { $(id).textContent = error ? error.message || String(error) : ""; }

function showLogin() {
  $("login").hidden = false;
  $("content").hidden = true;
  $("whoami").hidden = true;
  $("username").focus();
}

// ``enter`` runs once logged in as a supervisor or an admin.
function startSession(enter) {
  const open = () => {
    if (report.me.role !== "supervisor" && report.me.role !== "admin") {
      showLogin();
      showError("login-error", new Error("Cette page est réservée aux superviseurs et aux administrateurs."));
      return;
    }
    $("login").hidden = true;
    $("content").hidden = false;
    $("whoami").hidden = false;
    $("user-name").textContent = report.me.display_name;
    enter();
  };
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      report.me = await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      showError("login-error", null);
      open();
    } catch (error) { showError("login-error", error); }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (_) { /* already gone */ }
    report.me = null;
    showLogin();
  });
  api("GET", "/api/me").then((me) => { report.me = me; open(); }).catch(() => showLogin());
}

// A table's header row from French column names; the first column heads the rows.
function headerRow(headers) {
  const tr = el("tr");
  for (const h of headers) {
    const th = el("th", h);
    th.scope = "col";
    tr.append(th);
  }
  return tr;
}

function bodyRow(cells, cls) {
  const tr = el("tr", null, cls);
  cells.forEach((value, i) => {
    const cell = i === 0 ? el("th", value) : el("td", frNumber(value));
    if (i === 0) cell.scope = "row";
    tr.append(cell);
  });
  return tr;
}
