// The supervisors' wallboard: tiles per service, agents and their calls, alerts to acknowledge.
// The server sends a snapshot, then board updates and alerts (protocol v1). Durations tick
// here every second from the server's clock (its "now"), not the browser's. Everything coming
// from the server is rendered with textContent: a name or a message is text, never markup.
"use strict";

const STATE_LABELS = {
  ready: "Prêt", paused: "En pause", front_desk: "Au guichet", offline: "Déconnecté",
  ringing: "Sonnerie", on_call: "En communication", wrap_up: "Post-appel",
};
const STAGE_LABELS = {
  arrived: "dans le menu", waiting: "en attente", ringing: "sonne",
  connected: "en communication", elsewhere: "transféré",
};
const KIND_LABELS = {
  service_level: "Niveau de service", long_wait: "Attente trop longue",
  no_agent: "Aucun agent", missed_offers: "Appels sans réponse",
  database: "Base de données", overload: "Surcharge",
  callback_window: "Rappels promis",
};

let me = null;
let socket = null;
let retry = 500;
let board = null; // the last snapshot/board: services, agents
let alerts = new Map(); // id -> alert
let skew = 0; // server clock - browser clock, seconds

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

const api = (method, path, body) => ctiFetch(method, path, body, me && me.csrf);

function showError(id, error) { $(id).textContent = error ? error.message || String(error) : ""; }

const serverNow = () => Date.now() / 1000 + skew;

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return `${m} min ${String(r).padStart(2, "0")} s`;
  return `${r} s`;
}

const clock = (epoch) => new Date(epoch * 1000).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
const pct = (value) => value === null || value === undefined ? "—" : `${Math.round(value)} %`;

async function start() {
  try { me = await api("GET", "/api/me"); } catch (_) { me = null; }
  if (me) enterBoard(); else showLogin();
}

function showLogin() {
  $("login").hidden = false;
  $("board").hidden = true;
  $("whoami").hidden = true;
  $("username").focus();
}

function enterBoard() {
  $("login").hidden = true;
  $("board").hidden = false;
  $("whoami").hidden = false;
  $("user-name").textContent = me.display_name;
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/supervision`);
  socket.onopen = () => { retry = 500; document.body.dataset.socket = "open"; $("link-state").textContent = "En direct"; };
  socket.onmessage = (e) => onMessage(JSON.parse(e.data));
  socket.onclose = (e) => {
    document.body.dataset.socket = "closed";
    $("link-state").textContent = "Reconnexion…";
    if (e.code === 4401 || !me) { me = null; showLogin(); return; }
    if (e.code === 4403) {
      $("link-state").textContent = "Accès refusé";
      showError("alert-error", new Error("Ce tableau est réservé aux superviseurs."));
      return;
    }
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

function onMessage(message) {
  if (message.v !== 1) return;
  switch (message.type) {
    case "snapshot":
      alerts = new Map(message.alerts.map((a) => [a.id, a]));
      renderAlerts();
      takeBoard(message);
      break;
    case "board":
      takeBoard(message);
      break;
    case "alert.raised":
      alerts.set(message.alert.id, message.alert);
      renderAlerts();
      $("announce").textContent = `Nouvelle alerte : ${message.alert.message}`;
      break;
    case "alert.updated":
      alerts.set(message.alert.id, message.alert);
      renderAlerts();
      break;
  }
}

function takeBoard(message) {
  skew = message.now - Date.now() / 1000;
  board = message;
  // The rows are redrawn: a keyboard user on a « Pourquoi ? » button stays on it.
  const focused = document.activeElement && document.activeElement.dataset.why;
  renderServices();
  renderQueue();
  renderAgents();
  if (focused) {
    const again = document.querySelector(`button[data-why="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function slStatus(service) {
  const value = service.sl_today_pct;
  if (value === null) return ["sl-none", "pas encore d'appel traité"];
  if (value >= service.sl_target_pct) return ["sl-ok", "objectif atteint"];
  if (value >= service.sl_target_pct - 10) return ["sl-warn", "proche de l'objectif"];
  return ["sl-bad", "sous l'objectif"];
}

function renderServices() {
  const now = serverNow();
  $("services").replaceChildren(...board.services.map((s) => {
    const tile = el("article", null, "tile");
    tile.dataset.service = s.service;
    const title = el("h3", s.label);
    tile.setAttribute("aria-label", `Service ${s.label}`);
    tile.append(title);
    if (!s.open) tile.append(el("p", "Fermé en ce moment", "closed"));
    const facts = el("dl");
    const add = (label, value, key) => {
      const dd = el("dd", value);
      if (key) dd.dataset.field = key;
      facts.append(el("dt", label), dd);
    };
    add("Appels en attente", s.waiting, "waiting");
    add("Attente la plus longue", s.waiting ? duration(s.longest_wait_s + (now - board.now)) : "—", "longest");
    add("Décrochés aujourd'hui", s.answered, "answered");
    add("Abandonnés aujourd'hui", s.abandoned, "abandoned");
    if (s.overflowed) add("Débordés aujourd'hui", s.overflowed, "overflowed");
    add("Agents connectés", s.agents_logged_in, "agents");
    add("Sur 30 minutes", pct(s.sl_30min_pct), "sl30");
    tile.append(facts);
    const [cls, words] = slStatus(s);
    const sl = el("p",
      `Niveau de service du jour : ${pct(s.sl_today_pct)} (objectif ${Math.round(s.sl_target_pct)} % en ${Math.round(s.sl_threshold_s)} s) — ${words}`,
      `sl ${cls}`);
    sl.dataset.field = "sl";
    tile.append(sl);
    return tile;
  }));
}

function renderAgents() {
  const now = serverNow();
  const labels = new Map(board.services.map((s) => [s.service, s.label]));
  $("agents").tBodies[0].replaceChildren(...board.agents.map((a) => {
    const row = el("tr");
    row.dataset.agent = a.agent;
    const state = STATE_LABELS[a.state] || a.state;
    let call = "—";
    if (a.call) {
      // The citizen by name when her card has one, her number as people write it.
      const who = a.call.citizen_name ? `${a.call.citizen_name} (${a.call.caller_display})` : a.call.caller_display;
      const service = labels.get(a.call.service) || a.call.service || "service inconnu";
      call = `${who} – ${service} – ${STAGE_LABELS[a.call.stage] || a.call.stage}`;
    }
    const since = el("td", duration(now - a.since));
    since.dataset.since = String(a.since);
    const callCell = el("td", call);
    if (a.call) callCell.append(" ", whyButton(a.call.call_id, `de l'appel de ${a.name}`)); // supervision_why.js
    row.append(el("td", `${a.name} (${a.agent})`), el("td", a.reason ? `${state} (${a.reason})` : state),
      since, callCell, agentActionsCell(a)); // supervision_actions.js
    return row;
  }));
}

function renderQueue() {
  const now = serverNow();
  const labels = new Map(board.services.map((s) => [s.service, s.label]));
  const queue = board.queue || [];
  $("no-queue").hidden = queue.length > 0;
  $("queue").hidden = queue.length === 0;
  $("queue").tBodies[0].replaceChildren(...queue.map((c) => {
    const row = el("tr");
    row.dataset.call = c.call_id;
    const who = c.citizen_name ? `${c.citizen_name} (${c.caller_display})` : c.caller_display;
    const wait = el("td", duration(now - c.since));
    wait.dataset.since = String(c.since);
    const cell = el("td");
    cell.append(whyButton(c.call_id, `de l'appel de ${who}`));
    row.append(el("td", who), el("td", labels.get(c.service) || c.service), wait, cell);
    return row;
  }));
}

function renderAlerts() {
  // Those that hold, newest first, then the last few that ended (to read, nothing to do).
  const newest = [...alerts.values()].sort((a, b) => b.id - a.id);
  const shown = [...newest.filter((a) => a.cleared_at === null),
    ...newest.filter((a) => a.cleared_at !== null).slice(0, 5)];
  $("no-alerts").hidden = shown.length > 0;
  $("alerts").replaceChildren(...shown.map((a) => {
    const item = el("li");
    item.dataset.alertId = String(a.id);
    if (a.cleared_at !== null) item.classList.add("cleared");
    if (a.acknowledged_by) item.classList.add("acknowledged");
    item.append(el("strong", `${KIND_LABELS[a.kind] || a.kind} : `), el("span", a.message));
    let meta = `à ${clock(a.raised_at)}`;
    if (a.cleared_at !== null) meta += `, terminée à ${clock(a.cleared_at)}`;
    if (a.acknowledged_by) meta += `, acquittée par ${a.acknowledged_by} à ${clock(a.acknowledged_at)}`;
    item.append(el("span", `(${meta})`, "alert-meta"));
    if (!a.acknowledged_by && a.cleared_at === null) {
      const button = el("button", "Acquitter");
      button.type = "button";
      button.setAttribute("aria-label", `Acquitter l'alerte : ${a.message}`);
      button.addEventListener("click", () => acknowledge(a.id));
      item.append(button);
    }
    return item;
  }));
}

async function acknowledge(id) {
  try {
    const alert = await api("POST", `/api/supervision/alerts/${encodeURIComponent(id)}/ack`);
    alerts.set(alert.id, alert);
    renderAlerts();
    $("alerts-title").focus(); // its button is gone: keep the keyboard user in the list
    showError("alert-error", null);
  } catch (error) { showError("alert-error", error); }
}

function tick() {
  if (!board) return;
  const now = serverNow();
  for (const cell of document.querySelectorAll("#agents td[data-since], #queue td[data-since]")) {
    cell.textContent = duration(now - Number(cell.dataset.since));
  }
}

function bind() {
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      me = await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      showError("login-error", null);
      enterBoard();
    } catch (error) { showError("login-error", error); }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (_) { /* already gone */ }
    me = null;
    if (socket) socket.close();
    showLogin();
  });
  setInterval(tick, 1000);
}

document.addEventListener("DOMContentLoaded", () => { bind(); start(); });
