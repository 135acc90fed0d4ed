// The agent's page, callbacks: « À rappeler » on the call in progress, the callback offered
// to her (Accepter / Reporter) and the pending callbacks of her services. Loaded beside
// agent.js, which hands it its API helper and the card on screen (ctiCallbacks.enter) and
// the socket's callback.* messages. Text from the server goes in with textContent only.
"use strict";

window.ctiCallbacks = (() => {
  const $ = (id) => document.getElementById(id);
  const WHEN = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short", timeZone: "Europe/Paris" });
  let api = null;
  let currentCard = () => null;
  let offered = null;
  let bound = false;
  let timer = null;

  function error(e) { $("callback-error").textContent = e ? e.message || String(e) : ""; }

  function showOffer(callback, focus) {
    offered = callback;
    $("callback-offer").hidden = false;
    $("callback-headline").textContent = callback.headline;
    $("callback-number-shown").textContent = callback.number || "—";
    $("callback-when").textContent = `${callback.window_label} (demandé le ${WHEN.format(new Date(callback.asked_at))})`;
    $("callback-note-shown").textContent = callback.note || "—";
    $("callback-attempts").textContent = String(callback.attempts);
    const outcome = callback.outcome_label ? ` – dernier essai : ${callback.outcome_label}` : "";
    $("callback-state").textContent = callback.state_label + outcome;
    const mine = callback.state === "offered";
    $("callback-accept").hidden = !mine;
    $("callback-postpone").hidden = !mine;
    if (focus) $("callback-headline").focus();
  }

  async function refresh() {
    if (!api) return;
    try {
      const listed = await api("GET", "/api/callbacks");
      $("callback-list").replaceChildren(...listed.callbacks.map((c) => {
        const item = document.createElement("li");
        item.textContent = `${c.headline} – ${c.window_label}, ${c.state_label}` + (c.note ? ` – « ${c.note} »` : "");
        return item;
      }));
      if (!listed.callbacks.length) {
        const item = document.createElement("li");
        item.textContent = "Aucun rappel en attente.";
        $("callback-list").append(item);
      }
    } catch (_) { /* the next round */ }
  }

  async function act(verb) {
    if (!offered) return;
    try {
      const updated = await api("POST", `/api/callbacks/${encodeURIComponent(offered.id)}/${verb}`);
      showOffer(updated, false);
      error(null);
    } catch (e) { error(e); }
    refresh();
  }

  function bind() {
    $("callback-accept").addEventListener("click", () => act("accept"));
    $("callback-postpone").addEventListener("click", () => act("postpone"));
    $("callback-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const card = currentCard();
      if (!card) return;
      const body = {
        note: $("callback-note").value.trim(),
        window: $("callback-window").value,
        number: $("callback-number").value.trim() || null,
      };
      try {
        const made = await api("POST", `/api/calls/${encodeURIComponent(card.call_id)}/callback`, body);
        $("callback-saved").textContent = `Rappel enregistré (${made.window_label}).`;
        $("callback-form").reset();
        error(null);
      } catch (err) { $("callback-saved").textContent = ""; error(err); }
      refresh();
    });
  }

  return {
    enter(apiHelper, cardOnScreen) {
      api = apiHelper;
      currentCard = cardOnScreen;
      if (!bound) { bind(); bound = true; }
      refresh();
      if (timer === null) timer = setInterval(refresh, 30000);
    },
    onMessage(message) {
      if (message.type === "callback.offered") showOffer(message.callback, true);
      else if (message.type === "callback.updated") showOffer(message.callback, false);
      refresh();
    },
  };
})();
