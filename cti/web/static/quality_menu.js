// The quality page's "Menu vocal" section: over the weeks shown above, the share of calls the
// voice menu answered by itself (self-service) for each day, one row per week, and the 5 nodes
// where most callers hang up. Reads GET /api/ivr/measures (supervisors may) with
// report_common.js's api(), el() and frNumber(); server text goes in with textContent.
// Exposes window.QualityMenu = { load(weeks) }; quality.js calls it with /api/quality's weeks.
"use strict";

(() => {
  const WEEKDAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"];
  const MAX_DAYS = 731; // the API's limit
  const DAY_MS = 86400000;
  const TOP = 5;
  // Today's date in Paris (YYYY-MM-DD), the zone the server counts days in.
  const PARIS_DAY = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
  });

  const dayNumber = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / DAY_MS;
  const percent = (share) => `${frNumber(Math.round(share * 1000) / 10)} %`;
  const ratio = (served, calls) => (calls ? `${percent(served / calls)} (${served}/${calls})` : "—");

  // One row per week, a cell per weekday (Monday first) and the week's own share.
  function weekRows(weeks, days) {
    const byDay = new Map(days.map((d) => [dayNumber(d.day), d]));
    return weeks.map((week) => {
      const monday = dayNumber(week.start.slice(0, 10)); // the week's Paris date
      const tr = el("tr");
      const head = el("th", week.label);
      head.scope = "row";
      tr.append(head);
      let calls = 0;
      let served = 0;
      for (let i = 0; i < 7; i += 1) {
        const d = byDay.get(monday + i);
        if (d) { calls += d.calls; served += d.self_served; }
        tr.append(el("td", d ? ratio(d.self_served, d.calls) : ""));
      }
      tr.append(el("td", ratio(served, calls)));
      return tr;
    });
  }

  function hangUpRows(nodes) {
    const top = nodes.filter((n) => n.hung_up > 0)
      .sort((a, b) => b.hung_up - a.hung_up || b.hang_up_share - a.hang_up_share || (a.name || "").localeCompare(b.name || ""))
      .slice(0, TOP);
    if (!top.length) {
      const tr = el("tr");
      const td = el("td", "Aucun appelant n'a raccroché dans le menu sur la période.");
      td.colSpan = 5;
      tr.append(td);
      return [tr];
    }
    return top.map((n) => {
      const tr = el("tr", null, n.high_hang_up ? "missed" : null);
      const head = el("th", n.name || n.label || "—");  // the editor's name, never the id
      head.scope = "row";
      const share = el("td", percent(n.hang_up_share));
      if (n.high_hang_up) share.append(" ", el("strong", "élevé"));
      tr.append(head, el("td", n.kind_label), el("td", frNumber(n.hung_up)),
        el("td", frNumber(n.passed)), share);
      return tr;
    });
  }

  async function load(weeks) {
    if (!weeks || !weeks.length) return;
    const today = dayNumber(PARIS_DAY.format(new Date()));
    const days = Math.min(MAX_DAYS, Math.max(1, today - dayNumber(weeks[0].start.slice(0, 10)) + 1));
    try {
      const data = await api("GET", `/api/ivr/measures?days=${days}`);
      const head = el("tr");
      for (const name of ["Semaine", ...WEEKDAYS, "Toute la semaine"]) {
        const th = el("th", name);
        th.scope = "col";
        head.append(th);
      }
      $("menu-days").tHead.replaceChildren(head);
      $("menu-days").tBodies[0].replaceChildren(...weekRows(weeks, data.days));
      $("menu-nodes").tBodies[0].replaceChildren(...hangUpRows(data.nodes));
      const calls = data.days.reduce((sum, d) => sum + d.calls, 0);
      const served = data.days.reduce((sum, d) => sum + d.self_served, 0);
      $("menu-summary").textContent = calls
        ? `Sur la période, le menu vocal a traité seul ${served} des ${calls} appels (${percent(served / calls)}).`
        : "Aucun appel n'est passé par le menu vocal sur la période.";
      showError("menu-error", null);
    } catch (error) {
      if (error.status === 401) { report.me = null; showLogin(); return; }
      showError("menu-error", error);
    }
  }

  window.QualityMenu = { load };
})();
