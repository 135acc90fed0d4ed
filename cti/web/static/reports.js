// The reports page: a period and a grouping in; out, first the essentials per service (five
// figures a town hall reads), then every figure on demand (same columns as the CSV export)
// and a chart for any grouping (bars for services, agents or a single day; lines otherwise).
"use strict";

const BY_WORDS = { service: "service", agent: "agent", day: "jour", hour: "heure" };

// A Date as the value of a datetime-local field (the browser's local time: Paris here).
function fieldValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function setPeriod(kind) {
  const now = new Date();
  let start;
  if (kind === "hour") start = new Date(now.getTime() - 3600 * 1000);
  else if (kind === "week") start = new Date(now.getTime() - 7 * 24 * 3600 * 1000);
  else start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(now.getTime() + 60 * 1000);  // the minute under way included
  $("from").value = fieldValue(start);
  $("to").value = fieldValue(end);
}

function query(by) {
  const params = new URLSearchParams({ from: $("from").value, to: $("to").value, by: by || $("by").value });
  return params.toString();
}

const pctText = (v) => (v === null || v === undefined ? "—" : `${frNumber(v)} %`);
const secondsText = (v) => (v === null || v === undefined ? "—" : `${frNumber(Math.round(v))} s`);

// The five figures per service, in words: the table a mayor or a head of service reads first.
async function loadSummary() {
  const data = await api("GET", `/api/reports?${query("service")}`);
  $("summary-caption").textContent = `Par service, ${periodText()}`;
  const row = (r, cls) => {
    const tr = el("tr", null, cls);
    const head = el("th", r.label);
    head.scope = "row";
    tr.append(head, el("td", frNumber(r.offered)), el("td", frNumber(r.answered)),
      el("td", pctText(r.service_level_pct)),
      el("td", r.offered ? `${frNumber(r.abandoned)} (${pctText(r.abandon_rate_pct)})` : "0"),
      el("td", secondsText(r.avg_answer_s)));
    return tr;
  };
  $("summary-table").tBodies[0].replaceChildren(...data.rows.map((r) => row(r)),
    row({ ...data.total, label: "Total" }, "total"));
  const t = data.total;
  $("summary").textContent = `${t.calls} appels, ${t.offered} présentés, ${t.answered} répondus, `
    + `${t.abandoned} abandonnés ; niveau de service ${pctText(t.service_level_pct)}.`;
}

function periodText() {
  const fmt = (v) => new Date(v).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" });
  return `du ${fmt($("from").value)} au ${fmt($("to").value)}`;
}

async function load() {
  try {
    const data = await api("GET", `/api/reports?${query()}`);
    const by = $("by").value;
    $("caption").textContent = `Appels par ${BY_WORDS[by]}, ${periodText()}`;
    $("table").tHead.replaceChildren(headerRow(data.headers));
    const rows = data.cells.map((cells, i) => bodyRow(cells, i === data.cells.length - 1 ? "total" : null));
    $("table").tBodies[0].replaceChildren(...rows);
    $("csv").href = `/api/reports.csv?${query()}`;
    await loadSummary();
    const chart = data.rows.length > 0;
    $("chart-box").hidden = !chart;
    if (chart) {
      $("chart").src = `/api/reports.svg?${query()}`;
      $("chart").alt = `Appels présentés, répondus et abandonnés par ${BY_WORDS[by]} ${periodText()}.`;
      $("chart-caption").textContent = "Les chiffres de ce graphique sont dans « Tous les chiffres » ci-dessus.";
    }
    showError("report-error", null);
  } catch (error) {
    if (error.status === 401) { report.me = null; showLogin(); return; }
    showError("report-error", error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setPeriod("today");
  $("period-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  for (const button of document.querySelectorAll("[data-quick]")) {
    button.addEventListener("click", () => { setPeriod(button.dataset.quick); load(); });
  }
  startSession(load);
});
