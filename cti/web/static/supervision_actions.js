// What a supervisor does to an agent from the wallboard: pause her, or end the session she
// forgot (nobody at the desk: calls would ring there). Each is confirmed, audited by the
// server and said in one sentence. Uses supervision.js's `api`, `$`, `el` and `showError`.
"use strict";

function agentActionsCell(a) {
  const cell = el("td");
  cell.className = "agent-actions";
  const add = (text, label, action) => {
    const button = el("button", text);
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.addEventListener("click", () => agentAction(a, action));
    cell.append(button);
  };
  if (a.state === "ready" || a.state === "front_desk") {
    add("Mettre en pause", `Mettre en pause : ${a.name}`, "pause");
  }
  if (a.state !== "offline") {
    add("Fermer la session", `Fermer la session : ${a.name}`, "logout");
  }
  if (!cell.childNodes.length) cell.textContent = "—";
  return cell;
}

async function agentAction(a, action) {
  const question = action === "pause"
    ? `Mettre ${a.name} en pause ? Aucun appel ne lui sera proposé jusqu'à son retour.`
    : `Fermer la session de ${a.name} ? Sa page se ferme et aucun appel ne lui est plus proposé.`;
  if (!window.confirm(question)) return;
  try {
    const done = await api("POST", `/api/supervision/agents/${encodeURIComponent(a.agent)}/${action}`,
      action === "pause" ? {} : undefined);
    $("agent-action-done").textContent = done.message;
    showError("agent-action-error", null);
  } catch (error) {
    $("agent-action-done").textContent = "";
    showError("agent-action-error", error);
  }
}
