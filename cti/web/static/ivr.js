// The voice-menu editor (telecom staff): versions, diff, a form and a YAML view of the tree,
// check, simulate, save a draft, publish, roll back. It speaks the /api/ivr contract; the
// server's validator is the reference, the page only adds a quick reference check so that an
// obviously broken tree is refused before anything is sent. Everything coming from the server
// or typed by the user is rendered with textContent, never as markup.
"use strict";

const KIND_LABELS = {
  menu: "Menu à touches", message: "Message", hours_check: "Contrôle des horaires",
  case_status: "Suivi de dossier", route: "Mise en relation", voicemail: "Messagerie vocale",
  callback: "Demande de rappel", transfer: "Transfert externe", hangup: "Fin d'appel",
};
const STATUS_LABELS = { draft: "brouillon", published: "publiée", archived: "archivée" };
const SEVERITY_LABELS = { error: "Erreur", warning: "Avertissement" };
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
  const first = published !== null ? published : (versions[0] ? versions[0].version : null);
  if (first !== null) await openVersion(first); else newTree();
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
    row.append(el("td", v.version));
    const status = el("td");
    status.append(el("span", STATUS_LABELS[v.status] || v.status, `badge status-${v.status}`));
    if (v.valid === false) status.append(" ", el("span", "invalide", "badge invalid"));
    row.append(status, el("td", v.author), el("td", formatDate(v.created_at)), el("td", v.comment));
    row.append(el("td", v.published_at
      ? `le ${formatDate(v.published_at)}${v.published_by ? " par " + v.published_by : ""}` : ""));
    const actions = el("td");
    actions.append(actionButton("Ouvrir", `Ouvrir la version ${v.version}`, () => openVersion(v.version, true)));
    if (v.status === "draft") {
      actions.append(actionButton("Publier", `Publier la version ${v.version}`, () => publishVersion(v.version)));
    } else if (v.status === "archived") {
      actions.append(actionButton("Revenir à cette version", `Revenir à cette version (n° ${v.version})`,
        () => publishVersion(v.version)));
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
    const out = $("diff");
    out.replaceChildren();
    let added = 0;
    let removed = 0;
    for (const line of data.lines || []) {
      let cls = "ctx";
      if (line.startsWith("+++") || line.startsWith("---")) cls = "file";
      else if (line.startsWith("@@")) cls = "hunk";
      else if (line.startsWith("+")) { cls = "add"; added += 1; }
      else if (line.startsWith("-")) { cls = "del"; removed += 1; }
      out.append(el("span", line, cls), "\n");
    }
    $("diff-box").hidden = false;
    say(added || removed
      ? `Version ${from} → version ${to} : ${added} ligne(s) ajoutée(s), ${removed} retirée(s).`
      : `Les versions ${from} et ${to} sont identiques.`);
  } catch (error) {
    showAlert(error);
  }
}

async function openVersion(n, announce) {
  showAlert(null);
  const dropped = dirty;
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

async function publishVersion(n) {
  showAlert(null);
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

function touched() {
  if (!dirty) {
    dirty = true;
    renderEditing();
  }
}

function renderEditing() {
  let text = "Nouvel arbre (pas encore enregistré)";
  if (base !== null) {
    const v = versions.find((x) => x.version === base);
    text = `Version ${base}${v ? " (" + (STATUS_LABELS[v.status] || v.status) + ")" : ""}`;
  }
  $("editing").textContent = dirty ? `${text} — modifications non enregistrées` : text;
}

function renderForm() {
  $("tree-name").value = tree.name || "";
  $("tree-start").value = tree.start || "";
  $("tree-fallback").value = tree.fallback_service || "";
  renderLists();
  renderNodeList();
  renderNode();
}

function renderLists() {
  const fill = (id, values) => {
    $(id).replaceChildren(...values.map((v) => { const o = document.createElement("option"); o.value = v; return o; }));
  };
  fill("node-ids", Object.keys(nodes()));
  fill("service-ids", Object.keys(tree.services || {}));
  fill("calendar-ids", Object.keys(tree.calendars || {}));
}

function problemNode(problem) {
  if (problem.node) return problem.node;
  const match = /^nodes\.([^.]+)/.exec(problem.path || "");
  return match ? match[1] : null;
}

function renderNodeList() {
  const list = $("node-list");
  const hadFocus = list.contains(document.activeElement) ? document.activeElement.dataset.node : null;
  list.replaceChildren();
  const withErrors = new Set(problems.filter((p) => p.severity === "error").map(problemNode));
  for (const [id, node] of Object.entries(nodes())) {
    const item = document.createElement("li");
    const button = el("button", null, "node-button");
    button.type = "button";
    button.dataset.node = id;
    button.append(el("span", id, "node-id"), " ", el("span", KIND_LABELS[node.kind] || node.kind || "type inconnu", "node-kind"));
    if (node.label) button.append(" ", el("span", node.label, "node-label"));
    if (id === tree.start) button.append(" ", el("span", "départ", "badge start"));
    if (withErrors.has(id)) {
      button.classList.add("has-problem");
      button.append(" ", el("span", "erreur", "badge invalid"));
    }
    if (id === selected) {
      button.setAttribute("aria-current", "true");
      button.classList.add("selected");
    }
    button.addEventListener("click", () => selectNode(id));
    item.append(button);
    list.append(item);
    if (hadFocus === id) button.focus();
  }
}

function selectNode(id) {
  selected = id;
  renderNodeList();
  renderNode();
}

function fieldId() { fieldCount += 1; return `field-${fieldCount}`; }

function isInvalid(path) {
  return problems.some((p) => p.severity === "error" && (p.path === path || (p.path || "").startsWith(path + ".")));
}

function labelled(labelText, input, path) {
  const wrap = el("div", null, "field");
  input.id = fieldId();
  if (path) {
    input.dataset.path = path;
    if (isInvalid(path)) input.setAttribute("aria-invalid", "true");
  }
  const label = el("label", labelText);
  label.htmlFor = input.id;
  wrap.append(label, input);
  return wrap;
}

function renderNode() {
  const box = $("node-editor");
  box.replaceChildren();
  const node = selected ? nodes()[selected] : null;
  if (!node) {
    box.append(el("p", "Aucun nœud sélectionné."));
    return;
  }
  const id = selected;
  const prefix = `nodes.${id}`;
  const fieldset = document.createElement("fieldset");
  fieldset.className = "node-form";
  fieldset.append(el("legend", `Nœud « ${id} » — ${KIND_LABELS[node.kind] || node.kind || "type inconnu"}`));
  if (id === tree.start) fieldset.append(el("p", "Premier nœud de l'appel (départ).", "hint"));
  fieldset.append(textInput(node, "label", "Libellé (pour l'éditeur)", prefix));
  const specs = NODE_FIELDS[node.kind];
  if (!specs) {
    fieldset.append(el("p", "Type de nœud inconnu : modifiez-le dans l'onglet YAML.", "error"));
  } else {
    for (const spec of specs) fieldset.append(renderField(node, spec, prefix));
  }
  const remove = el("button", "Supprimer ce nœud", "danger");
  remove.type = "button";
  remove.addEventListener("click", () => removeNode(id));
  fieldset.append(remove);
  box.append(fieldset);
}

function renderField(node, spec, base) {
  const path = `${base}.${spec.key}`;
  switch (spec.type) {
    case "prompt": return promptInput(node, spec, path);
    case "choices": return choicesInput(node, spec, path);
    case "target": return textInput(node, spec.key, spec.label, base, { list: "node-ids", nullable: true });
    case "int": return intInput(node, spec, base);
    case "bool": return boolInput(node, spec, path);
    case "select": return selectInput(node, spec, path);
    default: return textInput(node, spec.key, spec.label, base, { list: spec.list, required: spec.required });
  }
}

function textInput(node, key, labelText, base, options) {
  const opts = options || {};
  const input = document.createElement("input");
  input.value = node[key] === undefined || node[key] === null ? "" : String(node[key]);
  if (opts.list) input.setAttribute("list", opts.list);
  if (opts.required) input.required = true;
  input.autocomplete = "off";
  input.addEventListener("input", () => {
    const value = input.value.trim();
    if (value === "" && !opts.required) delete node[key]; else node[key] = value;
    touched();
    if (key === "label") renderNodeList();
  });
  return labelled(labelText, input, `${base}.${key}`);
}

function intInput(node, spec, base) {
  const input = document.createElement("input");
  input.type = "number";
  input.min = String(spec.min);
  input.max = String(spec.max);
  input.step = "1";
  input.value = node[spec.key] === undefined ? "" : String(node[spec.key]);
  input.placeholder = "par défaut";
  input.addEventListener("input", () => {
    const value = input.value.trim();
    if (value === "") delete node[spec.key];
    else if (/^-?\d+$/.test(value)) node[spec.key] = Number(value);
    touched();
  });
  return labelled(spec.label, input, `${base}.${spec.key}`);
}

function boolInput(node, spec, path) {
  const wrap = el("div", null, "field checkbox");
  const input = document.createElement("input");
  input.type = "checkbox";
  input.id = fieldId();
  input.dataset.path = path;
  input.checked = node[spec.key] === undefined ? spec.dflt : Boolean(node[spec.key]);
  input.addEventListener("change", () => { node[spec.key] = input.checked; touched(); });
  const label = el("label", spec.label);
  label.htmlFor = input.id;
  wrap.append(input, label);
  return wrap;
}

function selectInput(node, spec, path) {
  const select = document.createElement("select");
  for (const [value, text] of Object.entries(spec.options)) {
    const option = el("option", text);
    option.value = value;
    select.append(option);
  }
  select.value = node[spec.key] || spec.dflt;
  select.addEventListener("change", () => { node[spec.key] = select.value; touched(); });
  return labelled(spec.label, select, path);
}

function promptInput(node, spec, path) {
  const fieldset = document.createElement("fieldset");
  fieldset.className = "prompt";
  fieldset.append(el("legend", spec.required ? spec.label : `${spec.label} (facultatif)`));
  const prompt = node[spec.key] && typeof node[spec.key] === "object" ? node[spec.key] : null;
  const text = document.createElement("textarea");
  text.value = prompt ? prompt.text || "" : "";
  text.rows = Math.min(8, Math.max(2, Math.ceil(text.value.length / 80)));
  const file = document.createElement("input");
  file.value = prompt && prompt.file ? prompt.file : "";
  file.autocomplete = "off";
  file.placeholder = "ex. mairie/accueil";
  const mark = el("p", "", "badge warn missing");
  const update = () => {
    const t = text.value;
    const f = file.value.trim();
    if (!spec.required && t.trim() === "" && f === "") {
      delete node[spec.key];
    } else {
      const next = { text: t };
      if (f) next.file = f;
      node[spec.key] = next;
    }
    touched();
    showMissing();
  };
  // Without a recording the text is said by speech synthesis: only a recording named but
  // absent is worth a mark.
  const showMissing = () => {
    const current = node[spec.key];
    const absent = Boolean(current && current.file && missing.has(path));
    mark.textContent = absent ? "enregistrement manquant" : "";
    mark.hidden = !absent;
  };
  const upload = document.createElement("input");
  upload.type = "file";
  upload.accept = "audio/*,.wav";
  upload.addEventListener("change", () => uploadRecording(upload, file, update));
  text.addEventListener("input", update);
  file.addEventListener("input", () => { missing.delete(path); update(); });
  fieldset.append(labelled("Texte dit à l'appelant", text, `${path}.text`));
  fieldset.append(labelled("Fichier enregistré (facultatif ; sinon synthèse vocale)", file, `${path}.file`));
  fieldset.append(labelled("Déposer un enregistrement (WAV de préférence, 2 minutes au plus)", upload));
  mark.id = fieldId();
  file.setAttribute("aria-describedby", mark.id);
  fieldset.append(mark);
  fieldset.dataset.path = path;
  fieldset.refreshMissing = showMissing;
  showMissing();
  return fieldset;
}

// Sends the chosen sound file; the server converts it for Asterisk and names it (cti/...):
// that name becomes the prompt's recording. A refusal (not a sound, too long) is shown as is.
async function uploadRecording(upload, file, update) {
  const chosen = upload.files && upload.files[0];
  if (!chosen) return;
  showAlert(null);
  say(`Envoi de « ${chosen.name} »…`);
  try {
    const response = await fetch(`/api/ivr/recordings?filename=${encodeURIComponent(chosen.name)}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": me ? me.csrf : "" },
      body: chosen,
    });
    const data = await response.json().catch(() => null);
    if (response.status === 401) onSessionLost();
    if (!response.ok) {
      const detail = data && data.detail;
      throw new Error((detail && detail.message) || String(detail || `Erreur ${response.status}`));
    }
    file.value = data.file;
    update();
    say(`Enregistrement « ${chosen.name} » déposé (${Math.round(data.seconds)} s) : enregistrez le brouillon ou publiez.`);
  } catch (error) {
    say("");
    showAlert(new Error(`Enregistrement refusé : ${error.message}`));
  } finally {
    upload.value = "";
  }
}

function choicesInput(node, spec, path) {
  const fieldset = document.createElement("fieldset");
  fieldset.className = "choices";
  fieldset.append(el("legend", spec.label));
  const rows = el("div", null, "choice-rows");
  fieldset.append(rows);
  let count = 0;
  const rebuild = () => {
    const out = {};
    for (const row of rows.children) {
      const key = row.querySelector(".choice-key").value.trim();
      const target = row.querySelector(".choice-target").value.trim();
      const duplicate = key !== "" && key in out;
      row.querySelector(".choice-key").setAttribute("aria-invalid", String(duplicate));
      if (key === "" || duplicate) continue;
      out[key] = target === "" ? null : target;
      row.querySelector(".choice-target").dataset.path = `${path}.${key}`;
    }
    node.choices = out;
    touched();
  };
  const addRow = (key, target) => {
    count += 1;
    const row = el("div", null, "choice-row");
    const keyInput = document.createElement("input");
    keyInput.className = "choice-key";
    keyInput.value = key;
    keyInput.maxLength = 1;
    keyInput.size = 2;
    keyInput.autocomplete = "off";
    const targetInput = document.createElement("input");
    targetInput.className = "choice-target";
    targetInput.value = target || "";
    targetInput.setAttribute("list", "node-ids");
    targetInput.autocomplete = "off";
    keyInput.addEventListener("input", rebuild);
    targetInput.addEventListener("input", rebuild);
    const remove = el("button", "Retirer");
    remove.type = "button";
    remove.setAttribute("aria-label", `Retirer le choix n° ${count}`);
    remove.addEventListener("click", () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      rebuild();
      (next ? next.querySelector("input") : add).focus();
      say("Choix retiré.");
    });
    row.append(
      labelled(`Touche du choix n° ${count}`, keyInput, null),
      labelled(`Nœud du choix n° ${count}`, targetInput, key ? `${path}.${key}` : null),
      remove,
    );
    rows.append(row);
    return keyInput;
  };
  for (const [key, target] of Object.entries(node.choices || {})) addRow(key, target);
  const add = el("button", "Ajouter un choix");
  add.type = "button";
  add.addEventListener("click", () => { addRow("", "").focus(); });
  fieldset.append(add);
  return fieldset;
}

function addNode(event) {
  event.preventDefault();
  showAlert(null);
  const id = $("new-node-id").value.trim();
  const kind = $("new-node-kind").value;
  if (!/^[A-Za-z0-9_-]+$/.test(id)) {
    showAlert(new Error("Identifiant de nœud invalide : lettres, chiffres, _ et - seulement."));
    return;
  }
  if (id in nodes()) {
    showAlert(new Error(`Le nœud « ${id} » existe déjà.`));
    return;
  }
  const fresh = { kind };
  if (["menu", "message", "case_status"].includes(kind)) fresh.prompt = { text: "" };
  if (kind === "menu") fresh.choices = {};
  if (kind === "hours_check") fresh.calendar = Object.keys(tree.calendars || {})[0] || "";
  if (kind === "route") fresh.service = tree.fallback_service || "accueil";
  if (kind === "voicemail") fresh.box = "";
  if (kind === "callback") fresh.topic = "";
  if (kind === "transfer") fresh.number = "";
  if (!tree.nodes || typeof tree.nodes !== "object") tree.nodes = {};
  tree.nodes[id] = fresh;
  $("new-node-id").value = "";
  touched();
  renderLists();
  selectNode(id);
  say(`Nœud « ${id} » ajouté (${KIND_LABELS[kind]}).`);
  const first = $("node-editor").querySelector("input, textarea, select");
  if (first) first.focus();
}

function removeNode(id) {
  showAlert(null);
  delete tree.nodes[id];
  const ids = Object.keys(nodes());
  selected = ids.includes(tree.start) ? tree.start : ids[0] || null;
  touched();
  renderLists();
  renderNodeList();
  renderNode();
  say(`Nœud « ${id} » supprimé. Vérifiez les choix qui y menaient.`);
  const first = $("node-list").querySelector("button");
  (first || $("new-node-id")).focus();
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
  const errors = found.filter((p) => p.severity === "error").length;
  if (!quiet) {
    say(errors
      ? `Vérification : ${errors} erreur(s), ${found.length - errors} avertissement(s).`
      : `Vérification : aucune erreur, ${found.length} avertissement(s).`);
  }
  return result.valid && errors === 0;
}

function showProblems(list) {
  problems = list.slice().sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1));
  missing = new Set();
  for (const p of problems) {
    const match = /^(nodes\.[^.]+\.[a-z_]+)(\.file)?$/.exec(p.path || "");
    if (p.severity === "warning" && match && /manquant/.test(p.message)) missing.add(match[1]);
  }
  const ul = $("problems");
  ul.replaceChildren();
  for (const p of problems) {
    const li = el("li", null, `problem ${p.severity}`);
    const node = problemNode(p);
    const where = node ? `nœud « ${node} »` : (p.path ? `« ${p.path} »` : "arbre");
    const button = el("button", `${SEVERITY_LABELS[p.severity] || p.severity} — ${where} : ${p.message}`);
    button.type = "button";
    if (p.path) button.append(" ", el("span", `(${p.path})`, "path"));
    button.addEventListener("click", () => goTo(p));
    li.append(button);
    ul.append(li);
  }
  const errors = problems.filter((p) => p.severity === "error").length;
  $("problems-summary").textContent = problems.length
    ? `${errors} erreur(s), ${problems.length - errors} avertissement(s).`
    : "Aucun problème signalé.";
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

async function publishCurrent() {
  showAlert(null);
  if (mode === "form") {
    const local = localProblems(tree).filter((p) => p.severity === "error");
    if (local.length) {
      showProblems(local);
      showAlert(new Error(
        `Publication refusée : ${local.length} erreur(s) à corriger (voir « Problèmes »), ` +
        `par exemple ${describe(local[0])}.`));
      return;
    }
  }
  if (!(await check({ quiet: true }))) {
    const first = problems.find((p) => p.severity === "error");
    showAlert(new Error(`Publication refusée : l'arbre ne se valide pas${first ? ", par exemple " + describe(first) : ""}.`));
    return;
  }
  const comment = $("comment").value.trim();
  const item = await saveDraft();
  if (!item) return;
  try {
    await api("POST", `/api/ivr/versions/${item.version}/publish`, { comment });
    await loadVersions();
    say(`Version ${item.version} publiée : elle s'applique dès le prochain appel.`);
  } catch (error) {
    if (error.problems.length) showProblems(error.problems);
    await loadVersions().catch(() => null);
    showAlert(new Error(`Publication refusée par le serveur : ${error.message}`));
  }
}

function describe(problem) {
  const node = problemNode(problem);
  return node ? `nœud « ${node} » : ${problem.message}` : `${problem.path || "arbre"} : ${problem.message}`;
}

async function simulate(event) {
  event.preventDefault();
  showAlert(null);
  const at = `${$("sim-date").value}T${$("sim-time").value}`;
  const steps = $("sim-steps");
  try {
    const result = await api("POST", "/api/ivr/simulate", { ...currentBody(), keys: $("sim-keys").value.trim(), at });
    steps.replaceChildren();
    for (const step of result.steps || []) {
      const li = el("li");
      li.append(el("strong", step.node), ` (${KIND_LABELS[step.kind] || step.kind})`);
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
