// A citizen's file as the desk shows it, on the card of a call and outside any call (search):
// name, address and numbers, open cases, last calls with their notes, dates in French.
// Everything from the server is text (textContent), never markup.
"use strict";

// French dates and times, on the town hall's clock whatever the browser's.
const WHEN = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Paris" });
const when = (iso) => WHEN.format(new Date(iso));
const agentName = (name, agent) => name || (agent ? `poste ${agent}` : "");

function textNode(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

// ``parts``: the elements to fill, {name, address, cases (a table), history (a list)}.
function renderCitizen(parts, citizen) {
  parts.name.textContent = [citizen.civility, citizen.first_name, citizen.last_name]
    .filter(Boolean).join(" ");
  parts.address.textContent = [citizen.address, citizen.phones_display.join(", ")]
    .filter(Boolean).join(" – ");
  const body = parts.cases.tBodies[0];
  body.replaceChildren(...citizen.open_cases.map((c) => {
    const row = textNode("tr");
    row.append(textNode("td", c.reference), textNode("td", c.service_label || c.service),
      textNode("td", c.subject), textNode("td", c.status_label),
      textNode("td", c.owner_agent ? agentName(c.owner_name, c.owner_agent) : "—"));
    return row;
  }));
  if (!citizen.open_cases.length) {
    const row = textNode("tr");
    const cell = textNode("td", "Aucun dossier ouvert");
    cell.colSpan = 5;
    row.append(cell);
    body.append(row);
  }
  parts.history.replaceChildren(...citizen.recent_calls.map((i) => {
    const item = textNode("li");
    const agents = i.agent_names.length ? i.agent_names.join(", ") : "sans agent";
    item.append(textNode("span", `${when(i.at)} – ${i.service_label || "service non choisi"} – ${agents}`
      + (i.disposition ? ` – ${i.disposition}` : "")));
    for (const n of i.notes) {
      item.append(textNode("p", `« ${n.text} » – ${agentName(n.agent_name, n.agent)}, ${when(n.at)}`, "past-note"));
    }
    return item;
  }));
  if (!citizen.recent_calls.length) parts.history.append(textNode("li", "Premier appel"));
}
