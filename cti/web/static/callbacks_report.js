// The reports page's callbacks: requests asked in the period chosen above, per service:
// requested, reached, failed, cancelled (she called again and was served), expired, still
// open, and the mean delay from request to the call that reached her.
"use strict";

(() => {
  const cell = (text) => { const td = document.createElement("td"); td.textContent = String(text); return td; };

  function delay(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return `${hours} h ${String(minutes % 60).padStart(2, "0")}`;
  }

  async function refresh() {
    const content = document.getElementById("content");
    if (!content || content.hidden) return;
    const from = document.getElementById("from").value;
    const to = document.getElementById("to").value;
    const query = from && to ? `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` : "";
    const error = document.getElementById("callbacks-report-error");
    try {
      const report = await ctiFetch("GET", `/api/callbacks/report${query}`);
      const body = document.querySelector("#callbacks-table tbody");
      body.replaceChildren(...report.rows.map((r) => {
        const tr = document.createElement("tr");
        const name = document.createElement("th");
        name.scope = "row";
        name.textContent = r.label;
        tr.append(name, cell(r.requested), cell(r.reached), cell(r.failed), cell(r.cancelled),
          cell(r.expired), cell(r.open), cell(delay(r.mean_delay_s)));
        return tr;
      }));
      if (!report.rows.length) {
        const tr = document.createElement("tr");
        const td = cell("Aucune demande de rappel sur la période.");
        td.colSpan = 8;
        tr.append(td);
        body.append(tr);
      }
      error.textContent = "";
    } catch (e) { error.textContent = e.message || String(e); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("period-form");
    if (form) form.addEventListener("submit", () => setTimeout(refresh, 0));
    for (const b of document.querySelectorAll("[data-quick]")) b.addEventListener("click", () => setTimeout(refresh, 0));
    const content = document.getElementById("content");
    if (content) new MutationObserver(refresh).observe(content, { attributes: true, attributeFilter: ["hidden"] });
  });
})();
