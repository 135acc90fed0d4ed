// The audit page (admins): filter the trail, read who did what, export a citizen's data.
// Entries are rendered with textContent: a username or a detail is text, never markup.
"use strict";

const ACTIONS = {
  "card.open": "Fiche consultée", "citizen.create": "Administré créé",
  "routing.update": "Routage modifié", "ivr.publish": "Menu vocal publié", "hours.update": "Horaires modifiés",
  "login": "Connexion", "login.failed": "Connexion refusée",
  "retention.run": "Anonymisation", "citizen.export": "Export droit d'accès",
  "callback.request": "Rappel demandé", "callback.call": "Administré rappelé",
};
const $ = (id) => document.getElementById(id);

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
}

function query() {
  const params = new URLSearchParams();
  // Days are the browser's (town hall's) local days, sent as UTC instants.
  if ($("from").value) params.set("from", new Date($("from").value + "T00:00:00").toISOString());
  if ($("to").value) {
    const end = new Date($("to").value + "T00:00:00");
    end.setDate(end.getDate() + 1);  // "to" is inclusive on the page
    params.set("to", end.toISOString());
  }
  for (const name of ["user", "citizen", "action"]) {
    const value = $(name).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

async function show() {
  $("filter-error").textContent = "";
  let found;
  try {
    found = await ctiSession.call("GET", "/api/audit?" + query().toString());
  } catch (e) {
    if (e.status === 401) { ctiSession.showLogin("Session expirée : reconnectez-vous."); return; }
    if (e.status === 403) { ctiSession.showLogin("Page réservée aux administrateurs."); return; }
    $("filter-error").textContent = e.message;
    return;
  }
  const body = $("entries");
  body.replaceChildren();
  for (const entry of found) {
    const row = document.createElement("tr");
    cell(row, new Date(entry.at).toLocaleString("fr-FR"));
    cell(row, entry.username);
    cell(row, ACTIONS[entry.action] || entry.action);
    cell(row, entry.citizen_id);
    cell(row, entry.detail, "detail");
    body.appendChild(row);
  }
  $("count").textContent = `(${found.length})`;
}

async function exportCitizen(event) {
  event.preventDefault();
  const id = $("export-citizen").value.trim();
  const result = $("export-result");
  result.textContent = "";
  try {
    const data = await ctiSession.call("GET", `/api/admin/citizens/${encodeURIComponent(id)}/export`);
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `administre-${id}.json`;
    link.textContent = `Télécharger l'export de l'administré ${id}`;
    result.replaceChildren(link);
    show();
  } catch (e) {
    result.textContent = e.message;
  }
}

function enter(me) {
  $("whoami").textContent = me.display_name;
  ctiSession.showContent();
  show();
}

$("filter").addEventListener("submit", (event) => { event.preventDefault(); show(); });
$("export-form").addEventListener("submit", exportCitizen);
ctiSession.wireLogin(enter);
ctiSession.load().then((me) => { if (me) enter(me); else ctiSession.showLogin(); });
