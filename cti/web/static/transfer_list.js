// Transfer from the card: a colleague or a service picked in one list that says who is free,
// on the phone or paused, then « Transférer » (blind: her phone rings with the card and the
// notes) or « Présenter l'appel d'abord » (attended: the agent talks to her colleague on her
// phone, then hangs up to hand the citizen over). A native list: the keyboard and screen
// readers know it. Uses agent.js's `card`, `api`, `$`, `el` and `showError`.
"use strict";

let transferLoading = null;

function transferOption(value, text) {
  const option = el("option", text);
  option.value = value;
  return option;
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
      services.append(...targets.services.map((s) => transferOption(`service:${s.service}`,
        `${s.label} – ${s.free === 0 ? "personne de libre" : s.free === 1 ? "1 libre" : `${s.free} libres`}`)));
      const colleagues = el("optgroup");
      colleagues.label = "Collègues";
      colleagues.append(...targets.colleagues.map((c) => transferOption(`agent:${c.agent}`,
        `${c.name} – ${c.label}`)));
      const first = transferOption("", "— choisir un service ou un collègue —");
      select.replaceChildren(first, services, colleagues);
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
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
});
