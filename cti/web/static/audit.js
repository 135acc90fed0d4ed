// The audit page (admins): filter the trail, read who did what, export a citizen's data.
// Entries are rendered with textContent: a username or a detail is text, never markup.
"use strict";

const ACTIONS = {
  "card.open": "Fiche consultée", "citizen.create": "Administré créé",
  "routing.update": "Routage modifié", "ivr.publish": "Menu vocal publié", "hours.update": "Horaires modifiés",
  "login": "Connexion", "login.failed": "Connexion refusée",
  "retention.run": "Anonymisation", "citizen.export": "Export droit d'accès",
  "callback.request": "Rappel demandé", "callback.call": "Administré rappelé",
  "citizen.search": "Recherche d'administrés", "agent.paused": "Mis(e) en pause par la supervision",
  "agent.offline": "Session fermée par la supervision",
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
    cell(row, entry.who); // one person: her name, login and phone, however the entry was written
    cell(row, ACTIONS[entry.action] || entry.action);
    cell(row, entry.citizen_id == null ? ""
      : entry.citizen_name ? `${entry.citizen_name} (n° ${entry.citizen_id})` : `n° ${entry.citizen_id}`);
    cell(row, entry.detail, "detail");
    body.appendChild(row);
  }
  $("count").textContent = `(${found.length})`;
}

// Right of access in one step: find the citizen by name, number or id, then one link gives
// her data as a page to print for her, one as JSON (each export is audited by the server).
async function findForExport(event) {
  event.preventDefault();
  const wanted = $("export-citizen").value.trim();
  const result = $("export-result");
  const list = $("export-list");
  result.textContent = "";
  list.replaceChildren();
  try {
    const found = /^[0-9]+$/.test(wanted) && wanted.length < 9
      ? [{ id: Number(wanted), label: `Administré n° ${wanted}` }]
      : (await ctiSession.call("GET", `/api/citizens?q=${encodeURIComponent(wanted)}`)).map((c) => ({
        id: c.id,
        label: [c.civility, c.first_name, c.last_name].filter(Boolean).join(" ")
          + ` – ${c.address || "adresse inconnue"} (n° ${c.id})`,
      }));
    result.textContent = found.length ? `${found.length} administré(s) trouvé(s).` : "Aucun administré trouvé.";
    list.replaceChildren(...found.map((c) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${c.label} : `;
      const page = document.createElement("a");
      page.href = `/api/admin/citizens/${c.id}/export.html`;
      page.target = "_blank";
      page.rel = "noopener";
      page.textContent = "Version à imprimer pour l'administré";
      const json = document.createElement("a");
      json.href = `/api/admin/citizens/${c.id}/export?download=true`;
      json.textContent = "Données complètes (JSON)";
      item.append(name, page, json);
      return item;
    }));
  } catch (e) {
    result.textContent = e.message;
  }
}

function enter(me) {
  $("whoami").textContent = me.display_name;
  $("logout").hidden = false;
  ctiSession.showContent();
  show();
}

$("filter").addEventListener("submit", (event) => { event.preventDefault(); show(); });
$("export-form").addEventListener("submit", findForExport);
$("logout").addEventListener("click", async () => {
  try { await ctiSession.call("POST", "/api/logout"); } catch (_) { /* already gone */ }
  ctiSession.me = null;
  $("whoami").textContent = "";
  $("logout").hidden = true;
  ctiSession.showLogin("Vous êtes déconnecté(e).");
});
ctiSession.wireLogin(enter);
ctiSession.load().then((me) => { if (me) enter(me); else ctiSession.showLogin(); });
