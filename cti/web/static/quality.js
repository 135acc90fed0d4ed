// The weekly quality page: per service, the target against the service level obtained each
// week, the trend in words and as a chart (whose text alternative is the trend list).
"use strict";

function trendText(t) {
  const target = `objectif ${frNumber(t.target_pct)} %`;
  if (t.last_pct === null) return `${t.label} : aucun appel présenté sur la période (${target}).`;
  let change = "";
  if (t.change_points !== null) {
    if (t.change_points > 0) change = `, en hausse de ${frNumber(t.change_points)} points`;
    else if (t.change_points < 0) change = `, en baisse de ${frNumber(-t.change_points)} points`;
    else change = ", stable";
  }
  const met = t.last_pct >= t.target_pct ? "objectif atteint" : "objectif non atteint";
  return `${t.label} : ${frNumber(t.last_pct)} % la dernière semaine avec des appels (${target}, ${met})${change}.`;
}

function qualityRow(r) {
  const met = r.met === null ? "—" : (r.met ? "oui" : "non");
  const tr = bodyRow([r.week_label, r.label, r.target_pct, r.threshold_s, r.offered, r.answered,
    r.answered_in_sl, r.service_level_pct, r.abandoned, r.abandon_rate_pct, met]);
  if (r.met !== null) tr.lastChild.className = r.met ? "met" : "missed";
  return tr;
}

async function load() {
  const weeks = $("weeks").value;
  try {
    const data = await api("GET", `/api/quality?weeks=${encodeURIComponent(weeks)}`);
    const lines = data.trends.map(trendText);
    $("trends").replaceChildren(...lines.map((line) => el("li", line)));
    $("chart").src = `/api/quality.svg?weeks=${encodeURIComponent(weeks)}`;
    $("chart").alt = `Courbes du niveau de service par semaine. ${lines.join(" ")}`;
    $("table").tHead.replaceChildren(headerRow(data.headers));
    $("table").tBodies[0].replaceChildren(...data.rows.map(qualityRow));
    $("csv").href = `/api/quality.csv?weeks=${encodeURIComponent(weeks)}`;
    showError("quality-error", null);
    QualityMenu.load(data.weeks);
  } catch (error) {
    if (error.status === 401) { report.me = null; showLogin(); return; }
    showError("quality-error", error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("weeks-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  startSession(load);
});
