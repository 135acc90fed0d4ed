// « Pourquoi ? » on the wallboard: why the routing engine did what it did with a call (the
// requirement in force, the rule that chose, each agent's reason), from
// GET /api/supervision/calls/{id}/why. A disclosure: the button says whether the explanation
// is shown (aria-expanded) and points at it; the panel survives the board's re-renders (the
// buttons are redrawn with their state). Uses supervision.js's `api`, `$`, `el`, `showError`.
"use strict";

let whyShown = null; // the call whose explanation is open

function whyButton(callId, what) {
  const button = el("button", "Pourquoi ?", "why");
  button.type = "button";
  button.dataset.why = callId;
  button.setAttribute("aria-label", `Pourquoi ? Explication ${what}`);
  button.setAttribute("aria-controls", "why-box");
  button.setAttribute("aria-expanded", String(whyShown === callId));
  button.addEventListener("click", () => (whyShown === callId ? closeWhy() : openWhy(callId)));
  return button;
}

function markWhyButtons() {
  for (const button of document.querySelectorAll("button[data-why]")) {
    button.setAttribute("aria-expanded", String(button.dataset.why === whyShown));
  }
}

async function openWhy(callId) {
  whyShown = callId;
  markWhyButtons();
  const box = $("why-box");
  box.hidden = false;
  $("why-decision").textContent = "Chargement…";
  $("why-requirement").textContent = "";
  $("why-agents").replaceChildren();
  showError("why-error", null);
  try {
    const why = await api("GET", `/api/supervision/calls/${encodeURIComponent(callId)}/why`);
    if (whyShown !== callId) return; // another one was asked meanwhile
    $("why-title").textContent = `Pourquoi ? – ${why.service_label}`;
    $("why-decision").textContent = why.decision;
    $("why-requirement").textContent = `Exigence en vigueur : ${why.requirement}.`;
    $("why-agents").replaceChildren(...why.agents.map((a) => {
      const item = el("li");
      item.dataset.agent = a.agent;
      if (a.verdict === "chosen") item.classList.add("chosen");
      item.append(el("strong", `${a.name} : `), el("span", a.reason));
      return item;
    }));
  } catch (error) {
    $("why-decision").textContent = "";
    showError("why-error", error);
  }
  $("why-title").focus();
}

function closeWhy() {
  const callId = whyShown;
  whyShown = null;
  $("why-box").hidden = true;
  markWhyButtons();
  const button = callId && document.querySelector(`button[data-why="${CSS.escape(callId)}"]`);
  if (button) button.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("why-close").addEventListener("click", closeWhy);
  $("why-box").addEventListener("keydown", (e) => { if (e.key === "Escape") closeWhy(); });
});
