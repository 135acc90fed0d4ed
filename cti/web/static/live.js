// Live calls page: a snapshot on connect, then one message per domain event.
// Everything from the server is inserted as text (textContent), never as HTML.
// Callers' numbers are shown: the page asks for a supervisor's login (session.js) first.
// Services and agents are named as people name them (``names`` of the snapshot), numbers
// written as people write them.
"use strict";

const LABELS = {
  CallArrived: "Appel reçu", CallerIdSettled: "Présentation du numéro connue",
  CallWaiting: "En attente", CallOffered: "Proposé à l'agent", CallAnswered: "Décroché", CallNoAnswer: "Sans réponse", CallTransferred: "Transféré",
  CallSafetyNet: "File de secours", CallAbandoned: "Abandonné", CallEnded: "Terminé",
};
const LINK = {
  ready: "Asterisk connecté", connecting: "Connexion à Asterisk…",
  authenticating: "Authentification…", resyncing: "Resynchronisation…",
  disconnected: "Asterisk déconnecté", auth_failed: "Asterisk : identifiants refusés",
};

let calls = new Map();
let names = { services: {}, agents: {} };
let ended = 0;
let clockOffset = 0;

// French numbers as people write them ("06 12 34 56 78"); any other as received.
function displayNumber(raw) {
  const digits = raw.replace(/[\s.\-\/]/g, "");
  const french = /^(?:0|\+33|0033)([1-9][0-9]{8})$/.exec(digits);
  return french ? ("0" + french[1]).replace(/([0-9]{2})(?=[0-9])/g, "$1 ") : raw;
}

function caller(c) {
  if (c.caller_withheld) return "Numéro masqué";
  return c.caller_number ? displayNumber(c.caller_number) : "Numéro inconnu";
}

const serviceName = (service) => names.services[service] || service;
const agentName = (agent) => names.agents[agent] || `poste ${agent}`;

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  row.appendChild(td);
}

function renderCalls() {
  const body = document.getElementById("calls");
  body.replaceChildren();
  const now = Date.now() / 1000 - clockOffset;
  for (const c of calls.values()) {
    const row = document.createElement("tr");
    cell(row, caller(c));
    cell(row, c.service ? serviceName(c.service) : "—");
    cell(row, c.stage);
    cell(row, c.agent ? agentName(c.agent) : "—");
    cell(row, Math.max(0, Math.round(now - c.since)) + " s");
    body.appendChild(row);
  }
  document.getElementById("count").textContent = String(calls.size);
  document.getElementById("ended").textContent = String(ended);
}

function addEvent(e) {
  const list = document.getElementById("events");
  const item = document.createElement("li");
  const to = e.type === "CallTransferred" ? e.to_agent : e.agent;
  const who = to ? " → " + agentName(to) : "";
  item.textContent = (LABELS[e.type] || e.type) + " · " + caller(e) + (e.service ? " · " + serviceName(e.service) : "") + who;
  list.prepend(item);
  while (list.children.length > 100) list.lastChild.remove();
}

const STAGES = {
  CallArrived: "arrivé", CallWaiting: "en attente", CallOffered: "sonne",
  CallAnswered: "en communication", CallNoAnswer: "en attente", CallTransferred: "transféré",
  CallSafetyNet: "file de secours",
};

function apply(e) {
  clockOffset = Date.now() / 1000 - e.at;
  if (e.type === "CallEnded") { calls.delete(e.call_id); ended += 1; return; }
  let c = calls.get(e.call_id);
  if (!c) {
    c = { call_id: e.call_id, caller_number: e.caller_number, caller_withheld: e.caller_withheld,
          stage: "arrivé", since: e.at };
    calls.set(e.call_id, c);
  }
  // The number comes once the presentation is known, and goes for good if withheld.
  c.caller_withheld = e.caller_withheld;
  if (e.caller_withheld) c.caller_number = null;
  else if (e.caller_number) c.caller_number = e.caller_number;
  const stage = STAGES[e.type];
  if (stage && stage !== c.stage) { c.stage = stage; c.since = e.at; }
  if (e.service) c.service = e.service;
  if (e.type === "CallOffered" || e.type === "CallAnswered") c.agent = e.agent;
  if (e.type === "CallTransferred") c.agent = e.to_agent;
  if (e.type === "CallWaiting" || e.type === "CallNoAnswer") c.agent = null;
}

function setLink(state) {
  const el = document.getElementById("link");
  el.textContent = LINK[state] || state;
  el.className = state === "ready" ? "ok" : "ko";
}

function connect(delay) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(proto + "//" + location.host + "/ws/events");
  ws.onmessage = (msg) => {
    const m = JSON.parse(msg.data);
    if (m.kind === "snapshot") {
      if (m.names) names = m.names;
      calls = new Map(m.calls.map((c) => [c.call_id, c]));
      ended = m.ended;
      document.getElementById("events").replaceChildren();
      m.recent.forEach(addEvent);
      setLink(m.link);
    } else if (m.kind === "event") {
      apply(m.event);
      addEvent(m.event);
    } else if (m.kind === "link") {
      setLink(m.state);
    }
    renderCalls();
  };
  ws.onopen = () => { delay = 500; };
  ws.onclose = (e) => {
    setLink("disconnected");
    if (e.code === 4401) { ctiSession.showLogin("Session expirée : reconnectez-vous."); return; }
    if (e.code === 4403) { ctiSession.showLogin("Page réservée aux superviseurs."); return; }
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

function enter() {
  ctiSession.showContent();
  connect(500);
}

setInterval(renderCalls, 1000);
ctiSession.wireLogin(enter);
ctiSession.load().then((me) => { if (me) enter(); else ctiSession.showLogin(); });
