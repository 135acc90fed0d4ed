// Opening hours (admins): per service a weekly grid, public holidays (with Alsace-Moselle's),
// exceptional closures with their announcement and special openings. They are the voice
// menu's calendars: saving publishes them at once (the next call and the wallboard follow).
"use strict";

const $ = (id) => document.getElementById(id);
const DAYS = [["mon", "Lundi"], ["tue", "Mardi"], ["wed", "Mercredi"], ["thu", "Jeudi"], ["fri", "Vendredi"], ["sat", "Samedi"], ["sun", "Dimanche"]];
const ALSACE_MOSELLE = "Alsace-Moselle";
let data = null;      // GET /api/admin/hours
let name = null;      // the calendar on screen
let counter = 0;

const DATE_FR = new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const dayText = (iso) => DATE_FR.format(new Date(iso + "T00:00:00Z"));

function timeInput(value, label, field) {
  return el("input", { type: "time", value: value || "", "aria-label": label, dataset: field ? { field } : undefined });
}

function split(range) {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(range || "");
  if (!m) return ["", ""];
  const pad = (h) => h.padStart(2, "0");
  return [`${pad(m[1])}:${m[2]}`, `${pad(m[3])}:${m[4]}`];
}

function rangeCell(day, dayLabel, i, range) {
  const [from, to] = split(range);
  const part = i === 0 ? "matin" : i === 1 ? "après-midi" : `plage ${i + 1}`;
  return el("td", { "data-label": i === 0 ? "Matin" : "Après-midi" },
    timeInput(from, `${dayLabel} ${part}, ouverture`, `calendars.${name}.weekly.${day}.${i}`),
    el("span", { text: " à " }),
    timeInput(to, `${dayLabel} ${part}, fermeture`));
}

function drawWeek(calendar) {
  const body = $("week");
  body.replaceChildren();
  const weekly = calendar.weekly || {};
  for (const [day, label] of DAYS) {
    const ranges = weekly[day] || [];
    const row = el("tr", { dataset: { day } }, el("th", { scope: "row", text: label }));
    for (let i = 0; i < Math.max(2, ranges.length); i++) row.append(rangeCell(day, label, i, ranges[i]));
    body.append(row);
  }
}

function closureRow(c) {
  const id = ++counter;
  const i = $("closures").children.length;
  const base = `calendars.${name}.closures.${i}`;
  const box = el("fieldset", { className: "closure" },
    el("legend", { text: `Fermeture ${i + 1}` }),
    el("div", { className: "row" },
      el("div", {}, el("label", { htmlFor: `c-start-${id}`, text: "Du" }), el("input", { id: `c-start-${id}`, type: "date", value: c.start || "", className: "start", dataset: { field: `${base}.start` } })),
      el("div", {}, el("label", { htmlFor: `c-end-${id}`, text: "Au (inclus)" }), el("input", { id: `c-end-${id}`, type: "date", value: c.end || "", className: "end", dataset: { field: `${base}.end` } })),
      el("div", {}, el("label", { htmlFor: `c-label-${id}`, text: "Motif" }), el("input", { id: `c-label-${id}`, value: c.label || "", maxlength: 120, className: "label", dataset: { field: base } }))),
    el("label", { htmlFor: `c-text-${id}`, text: "Annonce aux appelants" }),
    el("textarea", { id: `c-text-${id}`, rows: 2, maxlength: 2000, className: "announce", value: (c.announcement && c.announcement.text) || "", dataset: { field: `${base}.announcement` } }),
    el("button", { type: "button", className: "danger", text: `Retirer la fermeture ${i + 1}`, onclick: () => { box.remove(); } }));
  box._file = c.announcement && c.announcement.file;
  box._said = c.announcement && c.announcement.text;
  return box;
}

function specialRow(s) {
  const id = ++counter;
  const i = $("specials").children.length;
  const base = `calendars.${name}.special_openings.${i}`;
  const [from, to] = split((s.hours || [])[0]);
  const box = el("fieldset", { className: "special" },
    el("legend", { text: `Ouverture exceptionnelle ${i + 1}` }),
    el("div", { className: "row" },
      el("div", {}, el("label", { htmlFor: `s-date-${id}`, text: "Le" }), el("input", { id: `s-date-${id}`, type: "date", value: s.date || "", className: "date", dataset: { field: `${base}.date` } })),
      el("div", {}, el("label", { htmlFor: `s-from-${id}`, text: "De" }), el("input", { id: `s-from-${id}`, type: "time", value: from, className: "from", dataset: { field: `${base}.hours` } })),
      el("div", {}, el("label", { htmlFor: `s-to-${id}`, text: "À" }), el("input", { id: `s-to-${id}`, type: "time", value: to, className: "to" })),
      el("div", {}, el("label", { htmlFor: `s-label-${id}`, text: "Motif" }), el("input", { id: `s-label-${id}`, value: s.label || "", maxlength: 120, className: "label", dataset: { field: base } }))),
    el("button", { type: "button", className: "danger", text: `Retirer l'ouverture ${i + 1}`, onclick: () => { box.remove(); } }));
  box._rest = s;
  return box;
}

async function drawHolidays() {
  const years = $("holiday-years");
  const now = new Date().getFullYear();  // the page shows this year and next
  const alsace = $("alsace-moselle").checked;
  const lists = [];
  for (const year of [now, now + 1]) {
    try {
      const found = await ctiSession.call("GET", `/api/admin/holidays?year=${year}&alsace_moselle=${alsace}`);
      lists.push(el("div", {}, el("h3", { text: `${year}` }),
        el("ul", {}, ...found.holidays.map((h) => el("li", { text: `${dayText(h.date)} — ${h.name}` })))));
    } catch (e) { if (!adminForms.refused(e)) return; }
  }
  years.replaceChildren(...lists);
  years.hidden = !$("public-holidays").checked;
}

function draw() {
  const form = $("hours-form");
  adminForms.clear(form);
  $("hours-summary").textContent = "";
  const calendar = data.calendars[name].calendar;
  drawWeek(calendar);
  $("closed-text").value = (calendar.closed_announcement && calendar.closed_announcement.text) || "";
  $("closed-text").dataset.field = `calendars.${name}.closed_announcement`;
  $("public-holidays").checked = calendar.public_holidays !== false;
  $("alsace-moselle").checked = !!calendar.holiday_subdivision;
  $("alsace-moselle").dataset.field = `calendars.${name}.holiday_subdivision`;
  $("closures").replaceChildren();
  for (const c of calendar.closures || []) $("closures").append(closureRow(c));
  $("specials").replaceChildren();
  for (const s of calendar.special_openings || []) $("specials").append(specialRow(s));
  form.hidden = false;
  drawHolidays();
}

function choose() {
  const wanted = $("which").value;
  const own = $("make-own");
  own.hidden = true;
  if (wanted === "") { name = data.town_hall; }
  else {
    const service = data.services.find((s) => s.service === wanted);
    if (!service.own) {
      name = null;
      $("hours-form").hidden = true;
      $("which-note").textContent = `${service.label} suit les horaires de la mairie.`;
      own.hidden = false;
      return;
    }
    name = wanted;
  }
  const used = data.calendars[name].used_by;
  $("which-note").textContent = used.length
    ? `Le menu vocal les consulte à l'étape : ${used.join(", ")}. Le tableau de supervision aussi.`
    : "Le tableau de supervision les consulte ; le menu vocal pas encore (demandez au service télécom d'ajouter un contrôle des horaires).";
  draw();
}

function fillChoices(keep) {
  const select = $("which");
  const townHall = el("option", { value: "", text: "La mairie (les services sans horaires propres)" });
  select.replaceChildren(townHall, ...data.services.map((s) =>
    el("option", { value: s.service, text: s.own ? `${s.label} (horaires propres)` : s.label })));
  select.value = keep || "";
  choose();
}

async function load(keep) {
  try {
    data = await ctiSession.call("GET", "/api/admin/hours");
    $("load-error").textContent = "";
    fillChoices(keep);
  } catch (e) {
    if (adminForms.refused(e)) $("load-error").textContent = e.message;
  }
}

function prompt(text, was) {
  const said = text.trim();
  if (!said) return undefined;
  // A recording says the old words: kept only while the text is unchanged.
  return was && was.file && was.text === said ? { text: said, file: was.file } : { text: said };
}

// The calendar on screen as the API takes it; client-side mistakes by field.
function read(errors) {
  const old = data.calendars[name].calendar;
  const weekly = {};
  for (const row of $("week").children) {
    const day = row.dataset.day;
    const ranges = [];
    row.querySelectorAll("td").forEach((cell, i) => {
      const [from, to] = cell.querySelectorAll("input");
      if (!from.value && !to.value) return;
      if (!from.value || !to.value) errors[`calendars.${name}.weekly.${day}.${i}`] = "indiquez l'heure d'ouverture et celle de fermeture";
      else ranges.push(`${from.value}-${to.value}`);
    });
    if (ranges.length) weekly[day] = ranges;
  }
  const closures = [...$("closures").children].map((box, i) => {
    const c = { start: box.querySelector(".start").value, end: box.querySelector(".end").value };
    if (!c.start) errors[`calendars.${name}.closures.${i}.start`] = "date à renseigner";
    if (!c.end) c.end = c.start;
    const label = box.querySelector(".label").value.trim();
    if (label) c.label = label;
    const announcement = prompt(box.querySelector(".announce").value, { text: box._said, file: box._file });
    if (announcement) c.announcement = announcement;
    return c;
  });
  const specials = [...$("specials").children].map((box, i) => {
    const s = { ...box._rest, date: box.querySelector(".date").value };
    const from = box.querySelector(".from").value;
    const to = box.querySelector(".to").value;
    if (!s.date) errors[`calendars.${name}.special_openings.${i}.date`] = "date à renseigner";
    if (!from || !to) errors[`calendars.${name}.special_openings.${i}.hours`] = "indiquez l'heure d'ouverture et celle de fermeture";
    s.hours = from && to ? [`${from}-${to}`] : [];
    const label = box.querySelector(".label").value.trim();
    if (label) s.label = label; else delete s.label;
    return s;
  });
  const calendar = { ...old, weekly, closures, special_openings: specials, public_holidays: $("public-holidays").checked };
  if ($("alsace-moselle").checked) calendar.holiday_subdivision = old.holiday_subdivision || ALSACE_MOSELLE;
  else delete calendar.holiday_subdivision;
  const closed = prompt($("closed-text").value, old.closed_announcement);
  if (closed) calendar.closed_announcement = closed; else delete calendar.closed_announcement;
  return calendar;
}

async function save(event) {
  event.preventDefault();
  const form = $("hours-form");
  $("hours-done").textContent = "";
  const errors = {};
  const calendar = read(errors);
  if (Object.keys(errors).length) {
    adminForms.show(form, $("hours-summary"), "Horaires non enregistrés : voyez les points signalés.", errors);
    return;
  }
  await send({ ...Object.fromEntries(Object.entries(data.calendars).map(([k, v]) => [k, v.calendar])), [name]: calendar });
}

async function send(calendars, keep) {
  const form = $("hours-form");
  try {
    const kept = keep === undefined ? $("which").value : keep;
    data = await ctiSession.call("PUT", "/api/admin/hours", { calendars, comment: $("comment").value.trim() });
    $("comment").value = "";
    fillChoices(kept);
    $("hours-done").textContent = `Horaires appliqués : le prochain appel les suit (menu vocal, version ${data.version}).`;
  } catch (e) {
    if (adminForms.refused(e)) adminForms.show(form, $("hours-summary"), e.message, e.fields);
  }
}

async function makeOwn() {
  const service = $("which").value;
  const base = data.calendars[data.town_hall].calendar;
  const copy = { ...base };
  delete copy.closed_announcement;  // the town hall's words do not fit one service
  const calendars = Object.fromEntries(Object.entries(data.calendars).map(([k, v]) => [k, v.calendar]));
  calendars[service] = copy;
  await send(calendars, service);
}

$("which").addEventListener("change", choose);
$("make-own").addEventListener("click", makeOwn);
$("public-holidays").addEventListener("change", drawHolidays);
$("alsace-moselle").addEventListener("change", drawHolidays);
$("add-closure").addEventListener("click", () => { const box = closureRow({}); $("closures").append(box); box.querySelector("input").focus(); });
$("add-special").addEventListener("click", () => { const box = specialRow({}); $("specials").append(box); box.querySelector("input").focus(); });
$("hours-form").addEventListener("submit", save);
adminForms.gate(() => load());
