// A citizen's file opened from the search, outside any call: the same layout as the card's
// (citizen_view.js), below the results, and the keyboard taken to it. Opening it is audited.
// Uses agent.js's `api`, `$`, `el` and `showError`.
"use strict";

function fileButton(citizen, name) {
  const button = el("button", "Ouvrir la fiche");
  button.type = "button";
  button.setAttribute("aria-label", `Ouvrir la fiche de ${name}`);
  button.addEventListener("click", () => openFile(citizen.id));
  return button;
}

async function openFile(citizenId) {
  try {
    const citizen = await api("GET", `/api/citizens/${encodeURIComponent(citizenId)}`);
    renderCitizen({ name: $("file-name"), address: $("file-address"), cases: $("file-cases"),
      history: $("file-history") }, citizen);
    $("file").hidden = false;
    $("file-name").focus();
    showError("search-error", null);
  } catch (error) { showError("search-error", error); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("file-close").addEventListener("click", () => {
    $("file").hidden = true;
    $("query").focus();
  });
});
