// The editor's "Mesures" panel (ivr.html): per node of the voice menu, the calls that passed,
// hung up there and let a question time out, over 1, 7 or 30 days, and the daily share of
// calls the menu answered by itself. Reads GET /api/ivr/measures through ivr.js's api() (which
// handles an expired session) and el(); everything from the server goes in with textContent.
// A node where many callers hang up is said in words ("élevé"), the colour only repeats it.
// Nodes are shown by their names (the API's name, as the editor names them), never by id.
// Exposes window.IvrMeasures = { load }; ivr.js calls load() once the workspace is shown.
"use strict";

(() => {
  const PCT = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });
  const PERIODS = { 1: "aujourd'hui", 7: "les 7 derniers jours", 30: "les 30 derniers jours" };
  let last = null; // the last answer, re-sorted without asking the server again

  const byId = (id) => document.getElementById(id);
  const percent = (share) => `${PCT.format(share * 100)} %`;

  function dayText(iso) {
    // Noon UTC of that date, shown in UTC: the same day whatever the browser's zone.
    const date = new Date(`${iso}T12:00:00Z`);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleDateString("fr-FR", {
      weekday: "short", day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC",
    });
  }

  function sorted(nodes, how) {
    const copy = nodes.slice();
    if (how === "passed") {
      copy.sort((a, b) => b.passed - a.passed || a.node.localeCompare(b.node));
    } else {
      // The menu's order (as in the list of nodes); nodes it no longer has come last.
      const rank = (n) => (n.order === null || n.order === undefined ? Infinity : n.order);
      copy.sort((a, b) => rank(a) - rank(b) || a.node.localeCompare(b.node));
    }
    return copy;
  }

  function nodeRow(n) {
    const tr = document.createElement("tr");
    tr.dataset.node = n.node;
    const head = el("th", n.name);
    head.scope = "row";
    tr.append(head, el("td", n.kind_label));
    for (const value of [n.passed, n.hung_up, n.timed_out]) tr.append(el("td", value, "number"));
    const share = el("td", n.passed ? percent(n.hang_up_share) : "—", "number");
    if (n.high_hang_up) {
      tr.classList.add("high-hang-up");
      share.append(" ", el("strong", "élevé", "badge invalid"));
    }
    tr.append(share);
    return tr;
  }

  function dayRow(d) {
    const tr = document.createElement("tr");
    const head = el("th", dayText(d.day));
    head.scope = "row";
    tr.append(head, el("td", d.calls, "number"), el("td", d.self_served, "number"),
      el("td", d.calls ? percent(d.share) : "—", "number"));
    return tr;
  }

  function emptyRow(columns, text) {
    const tr = document.createElement("tr");
    const td = el("td", text);
    td.colSpan = columns;
    tr.append(td);
    return tr;
  }

  function render() {
    if (last === null) return;
    const { data, days } = last;
    const period = PERIODS[days] || `les ${days} derniers jours`;
    byId("measures-nodes-caption").textContent =
      `Appels par nœud du menu vocal, ${period} : passés par le nœud, raccrochés et délais dépassés à ce nœud`;
    byId("measures-days-caption").textContent =
      `Part des appels traités entièrement par le menu vocal (libre-service), par jour, ${period}`;
    const nodes = sorted(data.nodes, byId("measures-sort").value);
    byId("measures-nodes").tBodies[0].replaceChildren(...(nodes.length
      ? nodes.map(nodeRow)
      : [emptyRow(6, "Aucun appel n'est passé par le menu sur la période.")]));
    byId("measures-days").tBodies[0].replaceChildren(...data.days.map(dayRow));
    const high = data.nodes.filter((n) => n.high_hang_up).map((n) => `« ${n.name} »`);
    const calls = data.days.reduce((sum, d) => sum + d.calls, 0);
    byId("measures-summary").textContent = `${calls} appel${calls > 1 ? "s" : ""} sur ${period}. ` + (high.length
      ? `Beaucoup d'appelants raccrochent à : ${high.join(", ")}.`
      : "Aucun nœud où beaucoup d'appelants raccrochent.");
  }

  async function load() {
    const days = Number(byId("measures-days-choice").value) || 7;
    byId("measures-error").textContent = "";
    try {
      const data = await api("GET", `/api/ivr/measures?days=${encodeURIComponent(days)}`);
      last = { data, days };
      render();
    } catch (error) {
      byId("measures-error").textContent = `Mesures indisponibles : ${error.message}`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    byId("measures-form").addEventListener("submit", (event) => { event.preventDefault(); load(); });
    byId("measures-sort").addEventListener("change", render);
  });

  window.IvrMeasures = { load };
})();
