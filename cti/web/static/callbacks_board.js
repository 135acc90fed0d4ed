// The wallboard's callbacks: per service, the requests waiting, the oldest, and the promised
// windows missed or ending within 30 minutes (said in one sentence for screen readers).
// Polls /api/callbacks/board while the board is shown; text goes in with textContent only.
"use strict";

(() => {
  const TIME = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "short", timeZone: "Europe/Paris" });
  const cell = (text) => { const td = document.createElement("td"); td.textContent = String(text); return td; };

  async function refresh() {
    const board = document.getElementById("board");
    if (!board || board.hidden) return;
    let rows;
    try { rows = await ctiFetch("GET", "/api/callbacks/board"); } catch (_) { return; }
    const body = document.querySelector("#callbacks-board tbody");
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = r.label;
      tr.append(name, cell(r.waiting), cell(r.oldest_asked_at ? TIME.format(new Date(r.oldest_asked_at)) : "—"),
        cell(r.windows_missed), cell(r.windows_ending_soon));
      return tr;
    }));
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("Aucune demande de rappel en attente.");
      td.colSpan = 5;
      tr.append(td);
      body.append(tr);
    }
    const missed = rows.reduce((n, r) => n + r.windows_missed, 0);
    const soon = rows.reduce((n, r) => n + r.windows_ending_soon, 0);
    const late = [];
    if (missed) late.push(`${missed} rappel(s) promis n'ont pas été faits dans le créneau annoncé`);
    if (soon) late.push(`${soon} créneau(x) promis se terminent dans moins de 30 minutes`);
    const text = late.length ? `Attention : ${late.join(" ; ")}.` : "";
    const status = document.getElementById("callbacks-late");
    if (status.textContent !== text) status.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    setInterval(refresh, 15000);
    const board = document.getElementById("board");
    if (board) new MutationObserver(refresh).observe(board, { attributes: true, attributeFilter: ["hidden"] });
  });
})();
