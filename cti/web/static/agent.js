// The agent's page: log in, set a state, see the citizen's card pop while the phone rings.
// Everything coming from the server is rendered with textContent: a name or a note is text,
// never markup.
"use strict";

const STATE_LABELS = {
  ready: "Prêt", paused: "Pause", front_desk: "Au guichet", offline: "Déconnecté",
  ringing: "Sonnerie", on_call: "En communication", wrap_up: "Post-appel",
};
const STAGE_LABELS = {
  ringing: "Le téléphone sonne", connected: "En communication",
  transferred: "Appel transféré", ended: "Appel terminé",
};

const TITLE = document.title;
let me = null;
let socket = null;
let card = null;
let shownCall = null; // the call the desk's fields (call reason...) were set up for
let retry = 500;
let wrapTimer = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

const api = (method, path, body) => ctiFetch(method, path, body, me && me.csrf);

function showError(id, error) { $(id).textContent = error ? error.message || String(error) : ""; }

function showState(state, reason) {
  const label = STATE_LABELS[state] || state || "";
  $("state-badge").textContent = reason ? `${label} (${reason})` : label;
  for (const button of document.querySelectorAll("[data-state]")) {
    button.setAttribute("aria-pressed", String(button.dataset.state === state));
  }
}

async function start() {
  try {
    me = await api("GET", "/api/me");
  } catch (_) {
    me = null;
  }
  if (me) enterDesk(); else showLogin();
}

function showLogin() {
  $("login").hidden = false;
  $("desk").hidden = true;
  $("whoami").hidden = true;
  $("username").focus();
}

async function enterDesk() {
  $("login").hidden = true;
  $("desk").hidden = false;
  $("whoami").hidden = false;
  $("agent-name").textContent = me.agent ? `${me.display_name} – poste ${me.agent}` : me.display_name;
  showState(me.state, me.reason);
  const select = $("disposition");
  select.replaceChildren(el("option", "— choisir —"));
  select.firstChild.value = "";
  for (const d of await api("GET", "/api/agent/dispositions")) select.append(el("option", d));
  if (window.ctiCallbacks) window.ctiCallbacks.enter(api, () => card); // callbacks.js
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/agent`);
  socket.onopen = () => { retry = 500; document.body.dataset.socket = "open"; linkRestored(); };
  socket.onmessage = (e) => onMessage(JSON.parse(e.data));
  socket.onclose = (e) => {
    document.body.dataset.socket = "closed";
    if (e.code === 4401 || !me) { me = null; showLogin(); return; }
    linkLost(); // link_status.js
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

function onMessage(message) {
  if (message.v !== 1) return;
  switch (message.type) {
    case "hello": showState(message.state, message.reason); break;
    case "agent.state": showState(message.state, message.reason); break;
    case "card.offered":
      showCard(message.card);
      if (message.late_s) {  // the server is overloaded: the agent must know the card is late
        $("call-stage").textContent += ` — fiche affichée avec ${Math.round(message.late_s)} s de retard (serveur surchargé)`;
      }
      announceRing(message.card);
      break;
    case "card.answered":
    case "card.updated":
      showCard(message.card);
      break;
    case "card.transferred":
      showCard(message.card);
      document.title = TITLE;
      startWrapUp(0, message.to_agent
        ? `Appel transféré à ${agentName(message.to_agent_name, message.to_agent)}.`
        : message.to_service
          ? `Appel mis en attente pour le service ${message.to_service_label || message.to_service}.`
          : "Appel transféré.");
      break;
    case "card.ended":
      showCard(message.card);
      document.title = TITLE;
      if (message.reason === "hangup") {
        startWrapUp(message.wrap_up_s, "Appel terminé.");
      } else {
        startWrapUp(0, ENDED_TEXT[message.reason] || "L'appelant a raccroché.");
      }
      break;
    default: // callback.* messages: callbacks.js
      if (window.ctiCallbacks) window.ctiCallbacks.onMessage(message);
  }
}

// Why a card that rang here ended without a call for this agent.
const ENDED_TEXT = {
  no_answer: "Appel non décroché.",
  taken: "Appel pris par un collègue.",
  abandoned: "L'appelant a raccroché.",
};

// The phone rings: the tab's title says so, the keyboard is taken to the card, and one short
// sentence is read out (the card itself is not a live region: it would be read whole).
function announceRing(offered) {
  if (offered.stage !== "ringing") return;
  document.title = `Appel entrant – ${TITLE}`;
  const service = offered.service_label ? `, ${offered.service_label}` : "";
  $("ring-announce").textContent = `Appel entrant : ${offered.greeting}${service}.`;
  $("greeting").focus();
  ringAlert(offered); // ring_alert.js: the optional beep and the browser's notification
}

function showCard(next) {
  card = next;
  if (card.call_id !== shownCall) newCall();
  if (card.stage === "connected") document.title = `En communication – ${TITLE}`;
  $("no-call").hidden = true;
  $("card").hidden = false;
  $("card").dataset.callId = card.call_id;
  $("call-stage").textContent = STAGE_LABELS[card.stage] || card.stage;
  $("greeting").textContent = card.greeting;
  $("caller").textContent = card.caller.display;
  $("did").textContent = card.did_display || card.did || "—";
  $("service").textContent = card.service_label || card.service || "—";
  $("ivr-path").textContent = card.menu_choices.length ? card.menu_choices.join(" › ") : "—";
  $("call-callback").hidden = !card.callback;
  $("call-callback").textContent = card.callback || "";
  $("waited").textContent = `${Math.round(card.waited_s)} s`;
  // Handed on by a colleague: said under the greeting, her notes follow below.
  $("transferred-by").hidden = !card.transferred_by_name || card.transferred_by === (me && me.agent);
  $("transferred-by").textContent = card.transferred_by_name ? `Transféré par ${card.transferred_by_name}` : "";
  $("previous-agents").textContent = card.previous_agent_names.length ? card.previous_agent_names.join(", ") : "—";
  const previous = card.notes.filter((n) => n.agent !== (me && me.agent));
  $("previous-notes-box").hidden = previous.length === 0;
  $("previous-notes").replaceChildren(...previous.map((n) => {
    const item = el("li", null, "note-from-previous");
    item.append(el("strong", `${agentName(n.agent_name, n.agent)} : `), el("span", n.text));
    return item;
  }));
  showMyNotes();
  if (card.disposition) $("disposition").value = card.disposition;
  showHousehold();
  showCitizen(card.citizens.find((c) => c.id === card.selected_citizen_id));
  if (card.stage === "ringing" || card.stage === "connected") {
    $("wrapup").hidden = true;
    if (wrapTimer) { clearInterval(wrapTimer); wrapTimer = null; }
  }
  $("transfer-form").hidden = card.stage !== "connected";
  if (card.stage === "connected") refreshTransferTargets(); // transfer_list.js
  if (!card.citizens.length && card.caller.e164) $("new-phone").value = card.caller.display;
}

// A new call starts with a clean desk: no call reason nor confirmation left from the last one.
function newCall() {
  shownCall = card.call_id;
  $("disposition").value = card.disposition || "";
  $("disposition-saved").textContent = "";
  showError("call-error", null);
}

function showMyNotes() {
  const mine = card.notes.filter((n) => n.agent === (me && me.agent));
  $("my-notes").replaceChildren(...mine.map((n) => el("li", n.text)));
}

function showHousehold() {
  const box = $("household");
  const several = card.citizens.length > 1;
  box.hidden = !several;
  if (!several) return;
  $("household-list").replaceChildren(...card.citizens.map((c) => {
    const id = `pick-${c.id}`;
    const wrap = el("div");
    const input = el("input");
    input.type = "radio"; input.name = "pick"; input.id = id; input.value = String(c.id);
    input.checked = c.id === card.selected_citizen_id;
    input.addEventListener("change", () => pick(c.id));
    const label = el("label", `${c.civility ? c.civility + " " : ""}${c.first_name || ""} ${c.last_name}`
      + (c.address ? ` – ${c.address}` : ""));
    label.htmlFor = id;
    label.style.display = "inline";
    wrap.append(input, label);
    return wrap;
  }));
}

function showCitizen(citizen) {
  $("citizen-box").hidden = !citizen;
  if (!citizen) return;
  renderCitizen({ name: $("citizen-name"), address: $("citizen-address"), cases: $("cases"),
    history: $("history") }, citizen);
}

function startWrapUp(seconds, text) {
  $("wrapup").hidden = false;
  $("transfer-form").hidden = true;
  if (wrapTimer) clearInterval(wrapTimer);
  let left = Math.round(seconds);
  const render = () => {
    $("wrapup-text").textContent = left > 0 ? `${text} Post-appel : ${left} s.` : text;
  };
  render();
  if (left > 0) {
    wrapTimer = setInterval(() => {
      left -= 1;
      render();
      if (left <= 0) { clearInterval(wrapTimer); wrapTimer = null; }
    }, 1000);
  }
}

async function pick(citizenId) {
  try {
    await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/citizen`, { citizen_id: citizenId });
    showError("call-error", null);
  } catch (error) { showError("call-error", error); }
}

function bind() {
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      me = await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      showError("login-error", null);
      enterDesk();
    } catch (error) { showError("login-error", error); }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (_) { /* already gone */ }
    me = null;
    if (socket) socket.close();
    showLogin();
  });
  for (const button of document.querySelectorAll("[data-state]")) {
    button.addEventListener("click", async () => {
      const state = button.dataset.state;
      const body = { state };
      if (state === "paused") body.reason = $("pause-reason").value;
      try {
        const updated = await api("POST", "/api/agent/state", body);
        me = updated;
        showState(updated.state, updated.reason);
        showError("state-error", null);
      } catch (error) { showError("state-error", error); }
    });
  }
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("note").value.trim();
    if (!text || !card) return;
    try {
      const note = await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/note`, { text });
      // The same note may already have come back on the socket (card.updated).
      const known = card.notes.some((n) => n.agent === note.agent && n.at === note.at && n.text === note.text);
      if (!known) card.notes.push(note);
      showMyNotes();
      $("note").value = "";
      // The database away: the note is kept and written later; the agent is told so.
      showError("call-error", note.pending ? note.message : null);
    } catch (error) { showError("call-error", error); }
  });
  $("disposition-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = $("disposition").value;
    if (!card) return;
    if (!chosen) { showError("call-error", new Error("Choisissez le motif de l'appel.")); return; }
    try {
      $("disposition-saved").textContent = "";
      const saved = await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/disposition`,
        { disposition: chosen });
      card.disposition = chosen;
      $("disposition-saved").textContent = `Motif enregistré : ${chosen}.`;
      // The database away: the reason is kept and written later; the agent is told so.
      showError("call-error", saved && saved.pending ? saved.message : null);
    } catch (error) { showError("call-error", error); }
  });
  $("done").addEventListener("click", async () => {
    if (!card) return;
    try {
      await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/done`);
      card = null;
      $("card").hidden = true;
      $("no-call").hidden = false;
      document.title = TITLE;
    } catch (error) { showError("call-error", error); }
  });
  $("search-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const found = await api("GET", `/api/citizens?q=${encodeURIComponent($("query").value)}`);
      $("results").replaceChildren(...found.map((c) => {
        // Namesakes are told apart by where they live and their numbers.
        const item = el("li");
        const name = [c.civility, c.first_name, c.last_name].filter(Boolean).join(" ");
        const where = [c.address || "adresse inconnue", c.phones_display.join(", ") || "sans téléphone"];
        item.append(el("strong", name), el("span", ` – ${where.join(" – ")}`, "who-else"));
        if (card) {
          const button = el("button", "Associer à l'appel");
          button.type = "button";
          button.setAttribute("aria-label", `Associer ${name}, ${where[0]}, à l'appel`);
          button.addEventListener("click", () => pick(c.id));
          item.append(" ", button);
        }
        item.append(" ", fileButton(c, name)); // citizen_file.js
        return item;
      }));
      if (!found.length) $("results").append(el("li", "Aucun administré trouvé."));
      showError("search-error", null);
    } catch (error) { showError("search-error", error); }
  });
  $("create-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      civility: $("new-civility").value || null,
      last_name: $("new-last").value.trim(),
      first_name: $("new-first").value.trim() || null,
      phone: $("new-phone").value.trim() || null,
      address: $("new-address").value.trim() || null,
      city: $("new-city").value.trim() || null,
      call_id: card ? card.call_id : null,
    };
    try {
      await api("POST", "/api/citizens", body);
      $("create-form").reset();
      $("create").open = false;
      showError("search-error", null);
    } catch (error) { showError("search-error", error); }
  });
}

document.addEventListener("DOMContentLoaded", () => { bind(); start(); });
