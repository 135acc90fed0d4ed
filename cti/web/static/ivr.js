// The voice-menu editor (telecom staff): versions, a form and a YAML view of the tree, check,
// simulate, save a draft, publish, roll back. It speaks the /api/ivr contract; the server's
// validator is the reference, the page adds a quick reference check of its own, merged into
// the same list (what « Vérifier » shows is what « Publier » refuses). The page reopens the
// newest draft, « Publier » publishes exactly the tree shown, and nothing that changes what
// callers hear happens without a confirmation saying what changes (ivr_confirm.js).
// Split by concern: ivr_names.js (names of nodes), ivr_form.js (the form), ivr_tree_view.js
// (the plan), ivr_problems.js, ivr_compare.js, ivr_measures.js. Everything coming from the
// server or typed by the user is rendered with textContent, never as markup.
"use strict";

const KIND_LABELS = IvrNames.KIND_LABELS;
const STATUS_LABELS = { draft: "brouillon", published: "publiée", archived: "archivée" };
const OUTCOME_LABELS = { hung_up: "Appel terminé (raccroché)", self_service: "Demande traitée par le menu" };

// Fields of each node kind, in the order the form shows them.
const NODE_FIELDS = {
  menu: [
    { type: "prompt", key: "prompt", label: "Message du menu", required: true },
    { type: "choices", key: "choices", label: "Choix (touche vers nœud)" },
    { type: "int", key: "timeout_s", label: "Délai pour taper une touche (secondes)", min: 1, max: 60 },
    { type: "int", key: "max_retries", label: "Nouvelles tentatives", min: 0, max: 9 },
    { type: "prompt", key: "invalid_prompt", label: "Message en cas de choix invalide" },
    { type: "target", key: "default", label: "Nœud quand les tentatives sont épuisées" },
  ],
  message: [
    { type: "prompt", key: "prompt", label: "Message", required: true },
    { type: "target", key: "next", label: "Nœud suivant" },
  ],
  hours_check: [
    { type: "text", key: "calendar", label: "Calendrier", list: "calendar-ids", required: true },
    { type: "target", key: "open", label: "Nœud si ouvert" },
    { type: "target", key: "closed", label: "Nœud si fermé" },
    { type: "bool", key: "announce_closed", label: "Annoncer la raison de la fermeture", dflt: true },
  ],
  case_status: [
    { type: "prompt", key: "prompt", label: "Demande du numéro de dossier", required: true },
    { type: "int", key: "max_digits", label: "Nombre maximal de chiffres", min: 1, max: 20 },
    { type: "int", key: "timeout_s", label: "Délai de saisie (secondes)", min: 1, max: 60 },
    { type: "int", key: "max_retries", label: "Nouvelles tentatives", min: 0, max: 9 },
    { type: "prompt", key: "found_prompt", label: "Message quand le dossier est trouvé" },
    { type: "prompt", key: "not_found_prompt", label: "Message quand le dossier est introuvable" },
    { type: "target", key: "found", label: "Nœud si le dossier est trouvé" },
    { type: "target", key: "not_found", label: "Nœud si le dossier est introuvable" },
  ],
  route: [
    { type: "text", key: "service", label: "Service", list: "service-ids", required: true },
    { type: "int", key: "priority", label: "Priorité (0 à 9)", min: 0, max: 9 },
    { type: "text", key: "language", label: "Langue de l'agent (fr, en…)" },
    { type: "prompt", key: "prompt", label: "Message avant la mise en relation" },
  ],
  voicemail: [
    { type: "text", key: "box", label: "Boîte vocale (ex. 100@mairie)", required: true },
    { type: "prompt", key: "prompt", label: "Message avant le bip" },
  ],
  callback: [
    { type: "text", key: "topic", label: "Objet du rappel", required: true },
    { type: "prompt", key: "prompt", label: "Message de confirmation" },
  ],
  transfer: [
    { type: "text", key: "number", label: "Numéro externe", required: true },
    { type: "prompt", key: "prompt", label: "Message avant le transfert" },
  ],
  hangup: [
    { type: "prompt", key: "prompt", label: "Message de fin" },
    { type: "select", key: "outcome", label: "Issue de l'appel", options: OUTCOME_LABELS, dflt: "hung_up" },
  ],
};
// Outgoing references of each kind (the choices of a menu are added separately).
const TARGET_FIELDS = {
  menu: ["default"], message: ["next"], hours_check: ["open", "closed"],
  case_status: ["found", "not_found"],
};

let me = null;
let versions = [];
let published = null;
let tree = null; // the tree being edited, as the API's JSON
let base = null; // the version it was opened from (null: not saved yet)
let dirty = false;
let selected = null; // id of the node shown in the form
let mode = "form"; // "form" or "yaml": which view holds the truth
let problems = []; // the problems listed last
let missing = new Set(); // prompt paths whose recording the validator says is missing
let fieldCount = 0;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

// ------------------------------------------------------------------ talking to the server

async function api(method, path, body) {
  try {
    return await ctiFetch(method, path, body, me && me.csrf);
  } catch (error) {
    if (error.status === 401) onSessionLost();
    throw error;
  }
}

function say(text) { $("status").textContent = text; }
function showAlert(error) { $("alert").textContent = error ? error.message || String(error) : ""; }

function onSessionLost() {
  if (!me) return;
  me = null;
  showLogin("Session expirée : reconnectez-vous.");
}

// ------------------------------------------------------------------ session

async function start() {
  bind();
  try {
    me = await api("GET", "/api/me");
  } catch (_) {
    me = null;
  }
  if (me) await enter(); else showLogin("");
}

function showLogin(message) {
  $("login").hidden = false;
  $("workspace").hidden = true;
  $("whoami").hidden = true;
  $("login-error").textContent = message || "";
  $("username").focus();
}

async function enter() {
  $("login").hidden = true;
  $("whoami").hidden = false;
  $("user-name").textContent = me.display_name || me.username;
  try {
    await loadVersions();
  } catch (error) {
    $("workspace").hidden = true;
    if (error.status === 403) {
      showAlert(new Error(
        "Accès refusé : l'éditeur du menu vocal est réservé au service télécom " +
        `(compte « ${me.username} »). ${error.message}`));
    } else if (error.status !== 401) {
      showAlert(error);
    }
    return;
  }
  $("workspace").hidden = false;
  if (window.IvrMeasures) IvrMeasures.load();
  if (tree !== null) return; // logged in again after the session expired: keep the edits
  // The work in progress first: a draft saved since the version in force was put in place
  // is what the editor was left on (publishing then publishes it, not the older published
  // text). A draft older than a rollback is not: going back was the last decision.
  const inForce = versions.find((v) => v.version === published);
  const since = inForce && inForce.published_at ? Date.parse(inForce.published_at) : -Infinity;
  const draft = versions.find((v) => v.status === "draft" && Date.parse(v.created_at) > since);
  const first = draft ? draft.version : published !== null ? published : (versions[0] ? versions[0].version : null);
  if (first !== null) await openVersion(first); else newTree();
  if (draft) {
    say(`Brouillon n° ${draft.version} rouvert : il n'est pas encore publié` +
      (published !== null ? ` (les appelants entendent la version ${published}).` : "."));
  }
}

// ------------------------------------------------------------------ versions and diff

function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" });
}

async function loadVersions() {
  const data = await api("GET", "/api/ivr/versions");
  versions = data.versions || [];
  published = data.published === undefined ? null : data.published;
  renderVersions();
}

function renderVersions() {
  const body = $("versions-table").tBodies[0];
  body.replaceChildren();
  for (const v of versions) {
    const row = document.createElement("tr");
    row.dataset.version = String(v.version);
    if (v.version === base) row.className = "current";
    // data-label: the column's name, said before each value when the table is stacked (phone).
    const cell = (label, content) => {
      const td = el("td", content instanceof Node ? null : content);
      if (content instanceof Node) td.append(content);
      td.dataset.label = label;
      return td;
    };
    const status = el("span");
    status.append(el("span", STATUS_LABELS[v.status] || v.status, `badge status-${v.status}`));
    if (v.valid === false) status.append(" ", el("span", "invalide", "badge invalid"));
    row.append(cell("N°", String(v.version)), cell("Statut", status), cell("Auteur", v.author),
      cell("Date", formatDate(v.created_at)), cell("Commentaire", v.comment));
    row.append(cell("Publication", v.published_at
      ? `le ${formatDate(v.published_at)}${v.published_by ? " par " + v.published_by : ""}` : ""));
    const actions = el("td");
    actions.dataset.label = "Actions";
    actions.append(actionButton("Ouvrir", `Ouvrir la version ${v.version}`, () => openVersion(v.version, true)));
    if (v.status === "draft") {
      actions.append(actionButton("Publier", `Publier la version ${v.version}`, () => publishVersion(v.version, false)));
    } else if (v.status === "archived") {
      actions.append(actionButton("Revenir à cette version", `Revenir à cette version (n° ${v.version})`,
        () => publishVersion(v.version, true)));
    }
    row.append(actions);
    body.append(row);
  }
  fillDiffChoices();
  renderEditing();
}

function actionButton(text, label, onClick) {
  const button = el("button", text);
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.addEventListener("click", onClick);
  return button;
}

function fillDiffChoices() {
  for (const [id, fallback] of [["diff-from", 1], ["diff-to", 0]]) {
    const select = $(id);
    const previous = select.value;
    select.replaceChildren();
    for (const v of versions) {
      const option = el("option", `Version ${v.version} (${STATUS_LABELS[v.status] || v.status})`);
      option.value = String(v.version);
      select.append(option);
    }
    if (versions.some((v) => String(v.version) === previous)) select.value = previous;
    else if (versions.length) select.value = String(versions[Math.min(fallback, versions.length - 1)].version);
  }
}

async function showDiff(event) {
  event.preventDefault();
  showAlert(null);
  const from = $("diff-from").value;
  const to = $("diff-to").value;
  try {
    const data = await api("GET", `/api/ivr/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    say(IvrCompare.show(from, to, data));
  } catch (error) {
    showAlert(error);
  }
}

async function openVersion(n, announce) {
  showAlert(null);
  const dropped = dirty;
  if (announce && dirty) {
    const yes = await IvrConfirm.ask({
      title: `Ouvrir la version ${n} ?`,
      intro: "Les modifications non enregistrées de l'arbre en cours seront perdues.",
      confirm: "Ouvrir sans enregistrer",
    });
    if (!yes) return;
  }
  try {
    const item = await api("GET", `/api/ivr/versions/${n}`);
    setTree(item.tree, n);
    if (announce) {
      say(`Version ${n} ouverte dans l'éditeur${dropped ? " (les modifications non enregistrées sont abandonnées)" : ""}.`);
    }
    await check({ quiet: true });
  } catch (error) {
    showAlert(error);
  }
  document.body.dataset.loaded = String(n);
}

// What callers will hear differently if version n (or the tree shown) replaces the one in
// force, asked before anything is published. Returns false when the person says no.
async function confirmPublication(title, changes, confirm) {
  return IvrConfirm.ask({
    title,
    intro: changes.length
      ? "Dès le prochain appel, pour les appelants :"
      : "Rien ne change pour les appelants : ce menu est identique à celui en service.",
    lines: changes,
    confirm,
  });
}

async function publishVersion(n, rollback) {
  showAlert(null);
  let changes = [];
  try {
    if (published !== null) {
      changes = (await api("GET", `/api/ivr/diff?from=${published}&to=${n}`)).changes || [];
    }
  } catch (error) {
    showAlert(error);
    return;
  }
  const yes = await confirmPublication(
    rollback ? `Revenir à la version ${n} ?` : `Publier la version ${n} ?`, changes,
    rollback ? "Revenir à cette version" : "Publier");
  if (!yes) {
    say("Publication annulée : rien n'a changé pour les appelants.");
    return;
  }
  try {
    await api("POST", `/api/ivr/versions/${n}/publish`, { comment: $("comment").value.trim() });
    $("comment").value = "";
    await loadVersions();
    say(`Version ${n} publiée : elle s'applique dès le prochain appel.`);
  } catch (error) {
    if (error.problems.length) {
      if (!dirty && base !== n) {
        try { setTree((await api("GET", `/api/ivr/versions/${n}`)).tree, n); } catch (_) { /* shown below */ }
      }
      showProblems(error.problems);
    }
    showAlert(new Error(`Publication de la version ${n} refusée : ${error.message}`));
  }
}

// ------------------------------------------------------------------ the tree being edited

function newTree() {
  setTree({
    format_version: 1, name: "", start: "accueil", fallback_service: "accueil", services: {},
    calendars: {}, nodes: { accueil: { kind: "route", service: "accueil" } },
  }, null);
}

function setTree(value, version) {
  tree = value;
  base = version;
  dirty = false;
  problems = [];
  missing = new Set();
  showProblems([]);
  if (mode === "yaml") $("yaml-text").value = IvrYaml.toYaml(tree);
  if (!selected || !nodes()[selected]) selected = tree.start in nodes() ? tree.start : Object.keys(nodes())[0] || null;
  renderForm();
  renderVersions();
}

function nodes() { return (tree && tree.nodes && typeof tree.nodes === "object") ? tree.nodes : {}; }

function nodeNames() { return IvrNames.names(tree); }

function touched() {
  if (!dirty) {
    dirty = true;
    renderEditing();
  }
  refreshNames();
}

function renderEditing() {
  let text = "Nouvel arbre (pas encore enregistré)";
  if (base !== null) {
    const v = versions.find((x) => x.version === base);
    text = `Version ${base}${v ? " (" + (STATUS_LABELS[v.status] || v.status) + ")" : ""}`;
  }
  $("editing").textContent = dirty ? `${text} — modifications non enregistrées` : text;
}

// ------------------------------------------------------------------ checking

// A quick check of references before anything goes to the server (the server's validator
// says everything else: services, loops, calendars, recordings...).
function localProblems(value) {
  const found = [];
  const all = value && value.nodes && typeof value.nodes === "object" ? value.nodes : {};
  const missingTarget = (node, path, target) => {
    if (target !== undefined && target !== null && target !== "" && !(target in all)) {
      found.push({ severity: "error", node, path, message: `référence à un nœud inconnu « ${target} »` });
    }
  };
  if (!value || !value.start || !(value.start in all)) {
    found.push({ severity: "error", node: null, path: "start",
      message: `le nœud de départ « ${value && value.start ? value.start : ""} » n'existe pas` });
  }
  for (const [id, node] of Object.entries(all)) {
    if (!node || typeof node !== "object") continue;
    for (const key of TARGET_FIELDS[node.kind] || []) missingTarget(id, `nodes.${id}.${key}`, node[key]);
    if (node.kind === "menu") {
      for (const [key, target] of Object.entries(node.choices || {})) {
        missingTarget(id, `nodes.${id}.choices.${key}`, target);
      }
    }
    for (const spec of NODE_FIELDS[node.kind] || []) {
      const prompt = node[spec.key];
      if (spec.type === "prompt" && (spec.required || prompt) && !(prompt && String(prompt.text || "").trim())) {
        found.push({ severity: "error", node: id, path: `nodes.${id}.${spec.key}.text`, message: "texte du message manquant" });
      }
    }
  }
  return found;
}

function currentBody() {
  return mode === "yaml" ? { yaml: $("yaml-text").value } : { tree };
}

// Asks the server; returns true when the tree has no error.
async function check(options) {
  const quiet = options && options.quiet;
  let result;
  try {
    result = await api("POST", "/api/ivr/validate", currentBody());
  } catch (error) {
    showAlert(error);
    return false;
  }
  const found = result.problems || [];
  // The server has the last word; a local finding it does not repeat is still shown.
  const local = mode === "form" ? localProblems(tree) : [];
  for (const p of local) {
    if (!found.some((q) => q.path === p.path && q.severity === "error")) found.push(p);
  }
  showProblems(found);
  if (!quiet) say(`Vérification : ${$("problems-summary").textContent}`);
  return result.valid && IvrProblems.count(found).errors === 0;
}

function showProblems(list) {
  problems = list.slice().sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
  missing = new Set();
  for (const p of problems) {
    const match = /^(nodes\.[^.]+\.[a-z_]+)(\.file)?$/.exec(p.path || "");
    if (p.severity === "warning" && match && /manquant/.test(p.message)) missing.add(match[1]);
  }
  IvrProblems.render(problems, tree ? nodeNames() : {}, goTo);
  if (tree && mode === "form") {
    renderNodeList();
    refreshMarks();
  }
}

// Problems changed: mark the fields they name and the prompts without recording, in place
// (re-rendering the form would take the focus away from someone typing).
function refreshMarks() {
  for (const field of document.querySelectorAll("#panel-form [data-path]")) {
    if (field.matches("fieldset")) {
      if (field.refreshMissing) field.refreshMissing();
    } else if (isInvalid(field.dataset.path)) {
      field.setAttribute("aria-invalid", "true");
    } else {
      field.removeAttribute("aria-invalid");
    }
  }
}

// Shows the node a problem is about and puts the focus on the field it names; what the form
// does not show (calendars...) or a problem found while editing the YAML is shown in the YAML.
function goTo(problem) {
  if (mode === "yaml" || !goToField(problem)) {
    if (switchMode("yaml")) selectInYaml(problem.path || "");
  }
}

function selectInYaml(path) {
  const area = $("yaml-text");
  const text = area.value;
  let start = 0;
  let found = -1;
  for (const part of path.split(".")) {
    if (part === "") continue;
    const name = part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const match = new RegExp(`^[ \\t]*(- )?["']?${name}["']?[ \\t]*:`, "m").exec(text.slice(start));
    if (!match && /^\d+$/.test(part)) continue; // a position in a list, not a key
    if (!match) break;
    found = start + match.index;
    start = found + match[0].length;
  }
  area.focus();
  if (found >= 0) {
    const end = text.indexOf("\n", found);
    area.setSelectionRange(found, end < 0 ? text.length : end);
  }
}

function goToField(problem) {
  const node = problemNode(problem);
  if (node && node in nodes()) {
    selectNode(node);
  }
  const fields = [...document.querySelectorAll("#panel-form [data-path]")];
  const path = problem.path || "";
  let best = null;
  for (const field of fields) {
    const p = field.dataset.path;
    if ((path === p || path.startsWith(p + ".")) && (!best || p.length > best.dataset.path.length)) best = field;
  }
  if (!best && node) best = document.querySelector(`#node-list button[data-node="${CSS.escape(node)}"]`);
  if (!best) return false;
  const target = best.matches("fieldset") ? best.querySelector("input, textarea, select") : best;
  if (!target) return false;
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 2000);
  target.scrollIntoView({ block: "center" });
  target.focus();
  return true;
}

// ------------------------------------------------------------------ actions

async function saveDraft() {
  showAlert(null);
  try {
    const item = await api("POST", "/api/ivr/drafts", { ...currentBody(), comment: $("comment").value.trim() });
    afterSave(item);
    await loadVersions();
    say(item.valid
      ? `Brouillon enregistré : version ${item.version}.`
      : `Brouillon enregistré : version ${item.version}, invalide (il ne pourra pas être publié en l'état).`);
    return item;
  } catch (error) {
    if (error.problems.length) showProblems(error.problems);
    showAlert(new Error(`Brouillon non enregistré : ${error.message}`));
    return null;
  }
}

function afterSave(item) {
  base = item.version;
  dirty = false;
  $("comment").value = "";
}

// Publishes the tree shown, exactly: the draft it was opened from when nothing changed
// since, else a new draft saved first. Refused with the same list « Vérifier » gives, and
// only after the person has read what changes for callers and confirmed.
async function publishCurrent() {
  showAlert(null);
  if (!(await check({ quiet: true }))) {
    const { errors } = IvrProblems.count(problems);
    const first = problems.find((p) => p.severity === "error");
    showAlert(new Error(`Publication refusée : ${errors} erreur(s) à corriger (voir « Problèmes »)` +
      `${first ? ", par exemple " + describe(first) : ""}.`));
    return;
  }
  const current = versions.find((v) => v.version === base);
  if (!dirty && base !== null && base === published) {
    say(`La version ${base} est déjà celle que les appelants entendent : rien à publier.`);
    return;
  }
  let changes = [];
  try {
    if (published !== null) {
      changes = (await api("POST", "/api/ivr/compare", { ...currentBody(), against: published })).changes || [];
    }
  } catch (error) {
    if (error.problems.length) showProblems(error.problems);
    showAlert(new Error(`Publication impossible : ${error.message}`));
    return;
  }
  const reuse = !dirty && current !== undefined && current.status !== "published";
  const title = reuse
    ? `Publier la version ${base} (${STATUS_LABELS[current.status] || current.status}) ?`
    : "Publier le menu affiché ?";
  if (!(await confirmPublication(title, changes, "Publier"))) {
    say("Publication annulée : rien n'a changé pour les appelants.");
    return;
  }
  const comment = $("comment").value.trim();
  let number = base;
  if (!reuse) {
    const item = await saveDraft();
    if (!item) return;
    number = item.version;
  }
  try {
    await api("POST", `/api/ivr/versions/${number}/publish`, { comment });
    $("comment").value = "";
    await loadVersions();
    say(`Version ${number} publiée : elle s'applique dès le prochain appel.`);
  } catch (error) {
    if (error.problems.length) showProblems(error.problems);
    await loadVersions().catch(() => null);
    showAlert(new Error(`Publication refusée par le serveur : ${error.message}`));
  }
}

function describe(problem) {
  const at = IvrNames.where(problem.path, nodeNames());
  const place = at.node !== null ? `nœud « ${at.name} »${at.text ? ", " + at.text : ""}` : at.text;
  return `${place} : ${problem.message}`;
}

async function simulate(event) {
  event.preventDefault();
  showAlert(null);
  const at = `${$("sim-date").value}T${$("sim-time").value}`;
  const steps = $("sim-steps");
  try {
    const result = await api("POST", "/api/ivr/simulate", { ...currentBody(), keys: $("sim-keys").value.trim(), at });
    steps.replaceChildren();
    const names = mode === "form" ? nodeNames() : IvrNames.names(safeYaml());
    for (const step of result.steps || []) {
      const li = el("li");
      li.append(el("strong", names[step.node] || step.node), ` (${KIND_LABELS[step.kind] || step.kind})`);
      if (step.said && step.said.length) {
        const said = el("ul", null, "said");
        for (const line of step.said) said.append(el("li", `« ${line} »`));
        li.append(said);
      }
      steps.append(li);
    }
    $("sim-end").textContent = result.end ? `Fin de l'appel : ${result.end}` : "";
    say(`Simulation : ${(result.steps || []).length} étape(s). ${result.end || ""}`);
  } catch (error) {
    if (error.problems.length) showProblems(error.problems);
    steps.replaceChildren();
    $("sim-end").textContent = "";
    showAlert(new Error(`Simulation impossible : ${error.message}`));
  }
}

// ------------------------------------------------------------------ form <-> YAML

function safeYaml() {
  try { return IvrYaml.parseYaml($("yaml-text").value); } catch (_) { return {}; }
}

function switchMode(next) {
  if (next === mode) return true;
  showAlert(null);
  if (next === "yaml") {
    $("yaml-text").value = IvrYaml.toYaml(tree);
  } else {
    let value;
    try {
      value = IvrYaml.parseYaml($("yaml-text").value);
    } catch (error) {
      showAlert(new Error(`Le YAML ne peut pas être repris dans le formulaire : ${error.message}. ` +
        "Corrigez-le (« Vérifier » donne le détail) ou restez dans l'onglet YAML."));
      return false;
    }
    if (!value || typeof value !== "object" || Array.isArray(value) || !value.nodes ||
        typeof value.nodes !== "object" || Array.isArray(value.nodes)) {
      showAlert(new Error("Le YAML doit décrire un arbre avec une section « nodes » : restez dans l'onglet YAML pour le corriger."));
      return false;
    }
    tree = value;
    if (!selected || !(selected in nodes())) selected = value.start in nodes() ? value.start : Object.keys(nodes())[0] || null;
  }
  mode = next;
  for (const [tabId, panelId, name] of [["tab-form", "panel-form", "form"], ["tab-yaml", "panel-yaml", "yaml"]]) {
    const active = name === mode;
    $(tabId).setAttribute("aria-selected", String(active));
    $(tabId).tabIndex = active ? 0 : -1;
    $(panelId).hidden = !active;
  }
  if (mode === "form") renderForm();
  return true;
}

function onTabKey(event) {
  const order = ["tab-form", "tab-yaml"];
  const index = order.indexOf(event.target.id);
  let next = null;
  if (event.key === "ArrowRight") next = order[(index + 1) % order.length];
  else if (event.key === "ArrowLeft") next = order[(index + order.length - 1) % order.length];
  else if (event.key === "Home") next = order[0];
  else if (event.key === "End") next = order[order.length - 1];
  if (!next) return;
  event.preventDefault();
  if (switchMode(next === "tab-form" ? "form" : "yaml")) $(next).focus();
}

// ------------------------------------------------------------------ wiring

function bind() {
  const kinds = $("new-node-kind");
  for (const [value, text] of Object.entries(KIND_LABELS)) {
    const option = el("option", text);
    option.value = value;
    kinds.append(option);
  }
  const calendars = document.createElement("datalist");
  calendars.id = "calendar-ids";
  document.body.append(calendars);

  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  $("sim-date").value = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  $("sim-time").value = `${pad(now.getHours())}:${pad(now.getMinutes())}`;

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      me = await api("POST", "/api/login", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      await enter();
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (_) { /* already gone */ }
    me = null;
    showAlert(null);
    say("Vous êtes déconnecté.");
    showLogin("");
  });
  $("diff-form").addEventListener("submit", showDiff);
  $("add-node-form").addEventListener("submit", addNode);
  $("simulate-form").addEventListener("submit", simulate);
  $("check").addEventListener("click", () => { showAlert(null); check(); });
  $("save-draft").addEventListener("click", () => { saveDraft(); });
  $("publish").addEventListener("click", publishCurrent);
  $("tab-form").addEventListener("click", () => switchMode("form"));
  // Leaving with unsaved edits (closing, reloading, another page): the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
  $("tab-yaml").addEventListener("click", () => switchMode("yaml"));
  for (const id of ["tab-form", "tab-yaml"]) $(id).addEventListener("keydown", onTabKey);
  $("yaml-text").addEventListener("input", touched);
  const treeField = (id, key) => $(id).addEventListener("input", () => {
    const value = $(id).value.trim();
    if (value === "" && key !== "start") delete tree[key]; else tree[key] = value;
    touched();
    if (key === "start") renderNodeList();
  });
  treeField("tree-name", "name");
  treeField("tree-start", "start");
  treeField("tree-fallback", "fallback_service");
}

document.addEventListener("DOMContentLoaded", start);
