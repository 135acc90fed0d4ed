// Transfer from the card: a colleague or a service picked in one list that says who is free,
// on the phone or paused, then « Transférer » (blind: her phone rings with the card and the
// notes) or « Présenter l'appel d'abord » (attended: the agent talks to her colleague on her
// phone, then hangs up to hand the citizen over). A native list: the keyboard and screen
// readers know it. A service where nobody is free offers to put the citizen in its wait (the
// next agent of the service takes her with the notes); the hint under the list says what
// the chosen service does. Uses agent.js's `card`, `api`, `$`, `el` and `showError`.
"use strict";

let transferLoading = null;

function transferOption(value, text) {
  const option = el("option", text);
  option.value = value;
  return option;
}

const OVERFLOWS = {
  voicemail: "sa messagerie",
  callback: "une demande de rappel",
  service: "le service de débordement",
};
const HINT = "Un service va au collègue libre depuis le plus longtemps.";

function waitingText(n) {
  return n === 0 ? "personne en attente" : `${n} en attente`;
}

// What choosing the service does, said in the list itself.
function serviceChoice(s) {
  if (s.free > 0) return s.free === 1 ? "1 libre" : `${s.free} libres`;
  if (s.when_busy === "wait") {
    return `personne de libre : mettre en attente pour le service ${s.label} (${waitingText(s.waiting)})`;
  }
  if (s.when_busy === "overflow") return `personne de connecté : ${OVERFLOWS[s.overflow]}`;
  return "personne de libre";
}

function busyHint(s) {
  if (s.when_busy === "wait") {
    return `Personne n'est libre au service ${s.label} : « Transférer » met l'appel en attente `
      + "pour ce service, à sa place de première attente ; le prochain agent libre du service "
      + "le prendra avec vos notes.";
  }
  if (s.when_busy === "overflow") {
    return `Personne n'est connecté au service ${s.label} : l'appel ira à ${OVERFLOWS[s.overflow]}.`;
  }
  return `Personne n'est libre au service ${s.label} : choisissez un collègue ou proposez un rappel.`;
}

function showTransferHint() {
  const option = $("transfer-to").selectedOptions[0];
  $("transfer-hint").textContent = (option && option.dataset.hint) || HINT;
}

async function refreshTransferTargets() {
  if (transferLoading) return transferLoading;
  transferLoading = (async () => {
    try {
      const targets = await api("GET", "/api/agent/transfer-targets");
      const select = $("transfer-to");
      const chosen = select.value;
      const services = el("optgroup");
      services.label = "Services";
      services.append(...targets.services.map((s) => {
        const option = transferOption(`service:${s.service}`, `${s.label} – ${serviceChoice(s)}`);
        if (s.free === 0) option.dataset.hint = busyHint(s);
        return option;
      }));
      const colleagues = el("optgroup");
      colleagues.label = "Collègues";
      colleagues.append(...targets.colleagues.map((c) => transferOption(`agent:${c.agent}`,
        `${c.name} – ${c.label}`)));
      const first = transferOption("", "— choisir un service ou un collègue —");
      select.replaceChildren(first, services, colleagues);
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
      showTransferHint();
    } catch (error) {
      showError("call-error", error);
    } finally {
      transferLoading = null;
    }
  })();
  return transferLoading;
}

async function transferCall(attended) {
  if (!card) return;
  const chosen = $("transfer-to").value;
  if (!chosen) {
    showError("call-error", new Error("Choisissez à qui transférer l'appel."));
    $("transfer-to").focus();
    return;
  }
  const [kind, target] = chosen.split(/:(.*)/s);
  const body = kind === "service" ? { to_service: target } : { to_agent: target };
  body.attended = attended;
  $("transfer-status").textContent = "";
  try {
    const done = await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/transfer`, body);
    showError("call-error", null);
    $("transfer-status").textContent = attended
      ? `Votre téléphone appelle ${done.to_name} : présentez l'appel, puis raccrochez pour le lui passer `
        + "(sans réponse, l'administré vous revient)."
      : done.queued
        ? `Mis en attente pour le service ${done.to_name}, `
          + (done.waiting === 0 ? "où personne n'attendait" : `où ${done.waiting} appel${done.waiting > 1 ? "s" : ""} attendai${done.waiting > 1 ? "ent" : "t"}`)
          + " : le prochain agent libre du service le prendra avec vos notes."
        : `Transfert vers ${done.to_name} en cours.`;
  } catch (error) {
    showError("call-error", error);
    refreshTransferTargets();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("transfer-form").addEventListener("submit", (e) => { e.preventDefault(); transferCall(false); });
  $("transfer-attended").addEventListener("click", () => transferCall(true));
  // Who is free changes by the second: the list is read again when the agent comes to it.
  $("transfer-to").addEventListener("focus", () => refreshTransferTargets());
  $("transfer-to").addEventListener("change", showTransferHint);
});
