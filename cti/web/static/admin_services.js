// Services and agents (admins): each service's label, objectives, maximum wait, wrap-up,
// overflow, priority, required skills, relaxation and case-owner rules, the announcements of
// rank and wait to waiting callers; the skills; each
// agent's levels and languages. One "save" sends the whole routing configuration, applied at
// once; each refusal comes back by field (config.services.<id>.<field>) and shows beside it.
"use strict";

const $ = (id) => document.getElementById(id);
const LEVELS = [["", "—"], ["1", "1 (notions)"], ["2", "2"], ["3", "3"], ["4", "4"], ["5", "5 (expert)"]];
const OVERFLOWS = { voicemail: "Messagerie vocale", callback: "Demande de rappel", service: "Un autre service" };
let config = null;    // the draft, as the API takes it
let accounts = [];
let n = 0;

function field(label, input, unit) {
  const id = input.id || (input.id = `f-${++n}`);
  return el("div", {}, el("label", { htmlFor: id }, label, unit ? el("span", { className: "unit", text: ` (${unit})` }) : null), input);
}

function number(value, path, attrs, set) {
  return el("input", { type: "number", value: value ?? "", inputmode: "decimal", dataset: { field: path }, ...attrs,
    onchange: (e) => set(e.target.value === "" ? null : Number(e.target.value)) });
}

function checkbox(label, checked, path, set) {
  const input = el("input", { type: "checkbox", checked: Boolean(checked), id: `f-${++n}`, dataset: { field: path },
    onchange: (e) => set(e.target.checked) });
  return el("div", { className: "check" }, input, el("label", { htmlFor: input.id, text: ` ${label}` }));
}

// What a waiting caller hears: her rank and her expected wait (routing/wait_announce.py).
function announceBox(name, s) {
  const path = `config.services.${name}.announce`;
  const a = s.announce = s.announce || { on_entry: false, every_s: 0, position: true, wait: true };
  return el("fieldset", { dataset: { field: path } }, el("legend", { text: "Annonces pendant l'attente" }),
    checkbox("Dire à l'appelant son rang et son attente dès qu'il attend", a.on_entry, `${path}.on_entry`, (v) => { a.on_entry = v; }),
    el("div", { className: "row" },
      field("Répéter toutes les", number(a.every_s ?? 0, `${path}.every_s`, { min: 0, step: 1 }, (v) => { a.every_s = v ?? 0; }), "secondes ; 0 : non ; 30 au moins")),
    checkbox("Annoncer son rang dans la file", a.position ?? true, `${path}.position`, (v) => { a.position = v; }),
    checkbox("Annoncer son attente estimée", a.wait ?? true, `${path}.wait`, (v) => { a.wait = v; }));
}

function levelSelect(value, path, set) {
  const select = el("select", { dataset: { field: path }, onchange: (e) => set(e.target.value ? Number(e.target.value) : null) },
    ...LEVELS.map(([v, t]) => el("option", { value: v, text: t })));
  select.value = value ? String(value) : "";
  return select;
}

// One level per skill; each label names whose level it is for screen readers.
function levels(map, path, who) {
  return el("div", { className: "row" }, ...Object.entries(config.skills).map(([skill, label]) => {
    const select = levelSelect(map[skill], path, (v) => { if (v) map[skill] = v; else delete map[skill]; });
    select.id = `f-${++n}`;
    return el("div", {}, el("label", { htmlFor: select.id }, label, el("span", { className: "visually-hidden", text: ` — ${who}` })), select);
  }));
}

function relaxationStep(service, name, step, i) {
  const path = `config.services.${name}.relaxation.${i}`;
  const extra = Object.entries(step.extra_skills || {})[0] || ["", null];
  const skill = el("select", { dataset: { field: `${path}.extra_skills` },
    onchange: (e) => { step.extra_skills = e.target.value ? { [e.target.value]: step.extra_skills?.[extra[0]] || 1 } : {}; draw(); } },
    el("option", { value: "", text: "—" }), ...Object.entries(config.skills).map(([k, t]) => el("option", { value: k, text: t })));
  skill.value = extra[0];
  return el("fieldset", {}, el("legend", { text: `Étape ${i + 1}` }),
    el("div", { className: "row" },
      field("Après", number(step.after_s, `${path}.after_s`, { min: 1, step: 1 }, (v) => { step.after_s = v; }), "secondes d'attente"),
      field("Niveau demandé abaissé à", levelSelect(step.min_proficiency, `${path}.min_proficiency`, (v) => { step.min_proficiency = v; })),
      field("Ou accepter aussi la compétence", skill),
      extra[0] ? field("à partir du niveau", levelSelect(extra[1], `${path}.extra_skills.${extra[0]}`, (v) => { step.extra_skills = { [extra[0]]: v || 1 }; })) : null),
    el("button", { type: "button", className: "danger", text: `Retirer l'étape ${i + 1}`, onclick: () => { service.relaxation.splice(i, 1); draw(); } }));
}

function serviceBox(name, s) {
  const path = `config.services.${name}`;
  s.overflow = s.overflow || { kind: "voicemail" };
  s.relaxation = s.relaxation || [];
  const kind = el("select", { dataset: { field: `${path}.overflow` }, onchange: (e) => { s.overflow = { kind: e.target.value, target: e.target.value === "service" ? null : s.overflow.target }; draw(); } },
    ...Object.entries(OVERFLOWS).map(([v, t]) => el("option", { value: v, text: t })));
  kind.value = s.overflow.kind;
  const target = el("select", { dataset: { field: `${path}.overflow.target` }, onchange: (e) => { s.overflow.target = e.target.value || null; } },
    el("option", { value: "", text: "—" }),
    ...Object.entries(config.services).filter(([k]) => k !== name).map(([k, o]) => el("option", { value: k, text: o.label || k })));
  target.value = s.overflow.kind === "service" ? (s.overflow.target || "") : "";
  const box = el("details", { className: "service", dataset: { service: name } },
    el("summary", {}, el("strong", { text: s.label || name }), el("span", { className: "unit", text: ` — objectif ${s.sl_target_pct ?? 80} % en ${s.sl_threshold_s ?? 30} s` })),
    el("div", { className: "row" },
      field("Nom affiché", el("input", { value: s.label || "", maxlength: 80, dataset: { field: `${path}.label` }, onchange: (e) => { s.label = e.target.value.trim(); } })),
      field("Priorité", number(s.priority ?? 0, `${path}.priority`, { step: 1 }, (v) => { s.priority = v; }), "plus grand : servi d'abord")),
    el("div", { className: "row" },
      field("Objectif : appels décrochés", number(s.sl_target_pct ?? 80, `${path}.sl_target_pct`, { min: 0, max: 100 }, (v) => { s.sl_target_pct = v; }), "%"),
      field("en moins de", number(s.sl_threshold_s ?? 30, `${path}.sl_threshold_s`, { min: 1 }, (v) => { s.sl_threshold_s = v; }), "secondes"),
      field("Attente maximale", number(s.max_wait_s ?? 300, `${path}.max_wait_s`, { min: 1 }, (v) => { s.max_wait_s = v; }), "secondes"),
      field("Temps de clôture après un appel", number(s.wrap_up_s ?? 0, `${path}.wrap_up_s`, { min: 0 }, (v) => { s.wrap_up_s = v; }), "secondes")),
    el("div", { className: "row" },
      field("Au-delà de l'attente maximale", kind),
      s.overflow.kind === "service" ? field("Service qui reçoit les appels en trop", target) : null),
    el("fieldset", { dataset: { field: `${path}.required_skills` } }, el("legend", { text: "Compétences demandées (niveau minimal)" }), levels(s.required_skills = s.required_skills || {}, `${path}.required_skills`, `${s.label || name}`)),
    el("fieldset", {}, el("legend", { text: "Assouplissement quand l'attente dure" }),
      ...s.relaxation.map((step, i) => relaxationStep(s, name, step, i)),
      el("button", { type: "button", text: "Ajouter une étape", onclick: () => { s.relaxation.push({ after_s: 60, min_proficiency: 1 }); draw(name); } })),
    el("div", { className: "row" },
      field("Proposer d'abord l'appel au responsable du dossier pendant", number(s.case_owner_first_s ?? 0, `${path}.case_owner_first_s`, { min: 0 }, (v) => { s.case_owner_first_s = v; }), "secondes ; 0 : non")),
    announceBox(name, s));
  return box;
}

function agentBox(ext, a) {
  const path = `config.agents.${ext}`;
  a.skills = a.skills || {};
  a.languages = a.languages || ["fr"];
  return el("details", { className: "agent", dataset: { agent: ext } },
    el("summary", {}, el("strong", { text: a.name || ext }), el("span", { className: "unit", text: ` — poste ${ext}` })),
    el("div", { className: "row" },
      field("Nom", el("input", { value: a.name || "", maxlength: 120, dataset: { field: `${path}.name` }, onchange: (e) => { a.name = e.target.value.trim(); } })),
      field("Langues parlées", el("input", { value: a.languages.join(", "), maxlength: 60, dataset: { field: `${path}.languages` }, "aria-describedby": "languages-hint",
        onchange: (e) => { a.languages = e.target.value.split(/[,\s]+/).map((x) => x.trim().toLowerCase()).filter(Boolean); } }), "fr, en, es…")),
    el("fieldset", { dataset: { field: `${path}.skills` } }, el("legend", { text: "Niveaux" }), levels(a.skills, `${path}.skills`, a.name || ext)),
    el("button", { type: "button", className: "danger", text: `Retirer ${a.name || ext} du routage`, onclick: () => { delete config.agents[ext]; draw(); } }));
}

function skillRow(key, label) {
  return el("div", { className: "row" },
    field(`Nom de la compétence « ${key} »`, el("input", { value: label, maxlength: 80, dataset: { field: `config.skills.${key}` }, onchange: (e) => { config.skills[key] = e.target.value.trim(); } })));
}

function draw(open) {
  const opened = new Set([...document.querySelectorAll("details[open]")].map((d) => d.dataset.service || d.dataset.agent));
  if (open) opened.add(open);
  $("services").replaceChildren(...Object.entries(config.services).map(([k, s]) => serviceBox(k, s)));
  $("skills").replaceChildren(...Object.entries(config.skills).map(([k, t]) => skillRow(k, t)));
  $("agents").replaceChildren(el("p", { id: "languages-hint", className: "hint", text: "Langues : codes séparés par des virgules (fr, en, es, ar…)." }),
    ...Object.entries(config.agents).map(([k, a]) => agentBox(k, a)));
  for (const d of document.querySelectorAll("details")) if (opened.has(d.dataset.service || d.dataset.agent)) d.open = true;
  $("max-missed").value = config.max_missed_offers ?? 3;
  $("ring-together").value = config.ring_together ?? 1;
  const missing = accounts.filter((a) => a.extension && a.active && !(a.extension in config.agents));
  $("new-agent").replaceChildren(el("option", { value: "", text: missing.length ? "— choisir —" : "aucun compte avec un poste hors du routage" }),
    ...missing.map((a) => el("option", { value: a.extension, text: `${a.extension} — ${a.display_name}` })));
}

async function load() {
  try {
    accounts = await ctiSession.call("GET", "/api/admin/users");
    const stored = await ctiSession.call("GET", "/api/routing/config");
    config = structuredClone(stored.config);
    $("load-error").textContent = "";
    draw();
  } catch (e) {
    if (adminForms.refused(e)) $("load-error").textContent = e.message;
  }
}

async function save(event) {
  event.preventDefault();
  const form = $("routing-form");
  $("routing-done").textContent = "";
  config.max_missed_offers = Number($("max-missed").value);
  config.ring_together = Number($("ring-together").value);
  try {
    const stored = await ctiSession.call("PUT", "/api/routing/admin", { config, comment: $("comment").value.trim() });
    config = structuredClone(stored.config);
    $("comment").value = "";
    draw();
    adminForms.clear(form);
    $("routing-summary").textContent = "";
    $("routing-done").textContent = `Enregistré et appliqué (version ${stored.version}) : les prochains appels suivent ces règles.`;
  } catch (e) {
    if (!adminForms.refused(e)) return;
    // Open every service or agent a refusal is about, so its field can show it.
    for (const path of Object.keys(e.fields || {})) {
      const [, part, key] = path.split(".");
      const box = document.querySelector(`details[data-${part === "services" ? "service" : "agent"}="${CSS.escape(key || "")}"]`);
      if (box) box.open = true;
    }
    const count = Object.keys(e.fields || {}).length;
    const message = count ? `Rien n'est changé : ${count} point${count > 1 ? "s" : ""} à corriger.` : e.message;
    adminForms.show(form, $("routing-summary"), message, e.fields);
  }
}

function addService() {
  const key = $("new-service").value.trim().toLowerCase();
  const errors = {};
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(key)) errors.newService = "minuscules sans accent, chiffres, - ou _";
  else if (key in config.services) errors.newService = "ce service existe déjà";
  $("new-service").dataset.field = "newService";
  if (Object.keys(errors).length) { adminForms.show($("routing-form"), $("routing-summary"), "", errors); return; }
  adminForms.clear($("routing-form"));
  config.services[key] = { label: key, required_skills: {}, overflow: { kind: "voicemail" }, relaxation: [] };
  $("new-service").value = "";
  draw(key);
  document.querySelector(`details[data-service="${CSS.escape(key)}"] input`).focus();
}

function addSkill() {
  const key = $("new-skill").value.trim().toLowerCase();
  $("new-skill").dataset.field = "newSkill";
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(key) || key in config.skills) {
    adminForms.show($("routing-form"), $("routing-summary"), "", { newSkill: key in config.skills ? "cette compétence existe déjà" : "minuscules sans accent, chiffres, - ou _" });
    return;
  }
  adminForms.clear($("routing-form"));
  config.skills[key] = $("new-skill-label").value.trim() || key;
  $("new-skill").value = ""; $("new-skill-label").value = "";
  draw();
}

function addAgent() {
  const ext = $("new-agent").value;
  if (!ext) return;
  const account = accounts.find((a) => a.extension === ext);
  config.agents[ext] = { name: account ? account.display_name : ext, skills: {}, languages: ["fr"] };
  draw(ext);
  document.querySelector(`details[data-agent="${CSS.escape(ext)}"] input`).focus();
}

$("routing-form").addEventListener("submit", save);
$("add-service").addEventListener("click", addService);
$("add-skill").addEventListener("click", addSkill);
$("add-agent").addEventListener("click", addAgent);
adminForms.gate(load);
