// The agent's page when the network cuts: it says so, keeps the card on screen and reconnects
// by itself (agent.js); once back, the server sends the current card again and it is said.
"use strict";

let linkDown = false;

function linkLost() {
  if (linkDown || !me) return;
  linkDown = true;
  const status = $("link-status");
  status.hidden = false;
  status.textContent = "Connexion perdue : reconnexion en cours… L'appel continue sur votre téléphone.";
}

function linkRestored() {
  const status = $("link-status");
  if (!linkDown) { status.hidden = true; return; }
  linkDown = false;
  status.textContent = "Connexion rétablie.";
  setTimeout(() => { if (!linkDown) status.hidden = true; }, 5000);
}
