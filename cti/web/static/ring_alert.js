// The ring, beyond the tab's title and the focus (agent.js): an optional beep, off unless the
// agent ticks it (remembered in this browser), and the browser's notification when she allowed
// them, so a call is not missed while she works in another window.
"use strict";

const RING_SOUND_KEY = "cti.agent.ringSound";

function ringSoundWanted() {
  try { return localStorage.getItem(RING_SOUND_KEY) === "on"; } catch (_) { return false; }
}

// Two short tones made by the page (Web Audio): no sound file to fetch.
function beep() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  const audio = new Context();
  for (const [start, frequency] of [[0, 880], [0.3, 660]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = frequency;
    gain.gain.value = 0.2;
    tone.connect(gain).connect(audio.destination);
    tone.start(audio.currentTime + start);
    tone.stop(audio.currentTime + start + 0.2);
  }
  setTimeout(() => audio.close(), 1000);
  document.body.dataset.beeped = String(Number(document.body.dataset.beeped || 0) + 1);
}

function ringAlert(offered) {
  if (ringSoundWanted()) beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const service = offered.service_label ? ` – ${offered.service_label}` : "";
  const shown = new Notification("Appel entrant", {
    body: `${offered.greeting}${service}`, tag: "cti-ring",
  });
  shown.onclick = () => { window.focus(); $("greeting").focus(); shown.close(); };
}

function showNotifyState() {
  const allow = $("notify-allow");
  const state = $("notify-state");
  if (!("Notification" in window)) {
    allow.hidden = true;
    state.textContent = "Ce navigateur n'affiche pas de notifications.";
    return;
  }
  const permission = Notification.permission;
  allow.hidden = permission !== "default";
  state.textContent = {
    granted: "Notifications autorisées : un appel s'affiche même dans une autre fenêtre.",
    denied: "Notifications refusées dans ce navigateur (à changer dans ses réglages du site).",
    default: "Les notifications ne sont pas encore autorisées.",
  }[permission] || "";
}

document.addEventListener("DOMContentLoaded", () => {
  const box = $("ring-sound");
  box.checked = ringSoundWanted();
  box.addEventListener("change", () => {
    try { localStorage.setItem(RING_SOUND_KEY, box.checked ? "on" : "off"); } catch (_) { /* private mode */ }
    if (box.checked) beep(); // she hears what she chose
  });
  $("notify-allow").addEventListener("click", async () => {
    try { await Notification.requestPermission(); } catch (_) { /* old browsers: callback form */ }
    showNotifyState();
  });
  showNotifyState();
});
