// The editor's form (ivr.html's « Formulaire » tab): the list of nodes, the selected node's
// fields, menu choices, prompts and their recordings, adding and deleting nodes. Classic
// script sharing ivr.js's state (tree, selected, problems, missing...) and helpers (el, $,
// touched, say, showAlert); loaded before it. Every link to a node is chosen in a list of
// the existing nodes, shown by name (ivr_names.js), never typed as an id.
"use strict";

function renderForm() {
  $("tree-name").value = tree.name || "";
  fillTargets($("tree-start"), tree.start, false);
  $("tree-fallback").value = tree.fallback_service || "";
  renderLists();
  renderNodeList();
  renderNode();
  drawPlan();
}

// The options of a node link: the existing nodes by name, and the value kept as it is
// when it names no node (a link broken in the YAML stays visible until it is fixed).
function fillTargets(select, value, nullable) {
  const names = nodeNames();
  const current = value === undefined || value === null ? "" : String(value);
  const options = [];
  if (current !== "" && !(current in names)) {
    const broken = el("option", `« ${current} » : nœud inexistant`);
    broken.value = current;
    options.push(broken);
  }
  if (nullable || current === "") {
    const none = el("option", nullable ? "— aucun —" : "— choisir un nœud —");
    none.value = "";
    options.push(none);
  }
  for (const [id, name] of Object.entries(names)) {
    const option = el("option", name);
    option.value = id;
    options.push(option);
  }
  select.replaceChildren(...options);
  select.value = current;
}

// Names follow the edits (a label or a greeting changed): every link list says them anew.
function refreshTargets() {
  for (const select of document.querySelectorAll("#panel-form select.node-target")) {
    if (select === document.activeElement) continue;
    fillTargets(select, select.value, select.dataset.nullable === "true");
  }
}

function renderLists() {
  const fill = (id, values) => {
    $(id).replaceChildren(...values.map((v) => { const o = document.createElement("option"); o.value = v; return o; }));
  };
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
  const names = nodeNames();
  for (const [id, node] of Object.entries(nodes())) {
    const item = document.createElement("li");
    const button = el("button", null, "node-button");
    button.type = "button";
    button.dataset.node = id;
    button.append(el("span", names[id], "node-id"), " ", el("span", KIND_LABELS[node.kind] || "type inconnu", "node-kind"));
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
  drawPlan();
}

// After an edit: the names may have changed (a label, a greeting), so the list of nodes,
// the plan, the link lists and the node's title say them anew; the field being typed in
// keeps the focus (none of these is it).
function refreshNames() {
  if (!tree || mode !== "form") return;
  renderNodeList();
  drawPlan();
  refreshTargets();
  const legend = $("node-editor").querySelector("fieldset.node-form > legend");
  const node = selected ? nodes()[selected] : null;
  if (legend && node) legend.textContent = `Nœud « ${nodeNames()[selected]} » — ${KIND_LABELS[node.kind] || "type inconnu"}`;
}

function drawPlan() {
  IvrTreeView.draw($("plan"), tree, nodeNames(), selected, (id) => {
    selectNode(id);
    const first = $("node-editor").querySelector("input, textarea, select");
    if (first) first.focus();
  });
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
  fieldset.append(el("legend", `Nœud « ${nodeNames()[id]} » — ${KIND_LABELS[node.kind] || "type inconnu"}`));
  if (id === tree.start) fieldset.append(el("p", "Premier nœud de l'appel (départ).", "hint"));
  fieldset.append(el("p", `Identifiant technique (onglet YAML) : ${id}`, "hint technical"));
  fieldset.append(textInput(node, "label", "Libellé (pour l'éditeur)", prefix));
  const specs = NODE_FIELDS[node.kind];
  if (!specs) {
    fieldset.append(el("p", "Type de nœud inconnu : modifiez-le dans l'onglet YAML.", "error"));
  } else {
    for (const spec of specs) fieldset.append(renderField(node, spec, prefix));
  }
  const remove = el("button", "Supprimer ce nœud", "danger");
  remove.type = "button";
  remove.addEventListener("click", () => askRemoveNode(id));
  fieldset.append(remove);
  box.append(fieldset);
}

function renderField(node, spec, base) {
  const path = `${base}.${spec.key}`;
  switch (spec.type) {
    case "prompt": return promptInput(node, spec, path);
    case "choices": return choicesInput(node, spec, path);
    case "target": return targetInput(node, spec.key, spec.label, path);
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

  });
  return labelled(labelText, input, `${base}.${key}`);
}

function targetInput(node, key, labelText, path) {
  const select = document.createElement("select");
  select.className = "node-target";
  select.dataset.nullable = "true";
  fillTargets(select, node[key], true);
  select.addEventListener("change", () => {
    if (select.value === "") delete node[key]; else node[key] = select.value;
    touched();
  });
  return labelled(labelText, select, path);
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
      headers: { "Accept": "application/json", "X-CSRF-Token": me ? me.csrf : "", "Idempotency-Key": ctiActionKey() },
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
      const target = row.querySelector(".choice-target").value;
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
    const targetInput = document.createElement("select");
    targetInput.className = "choice-target node-target";
    fillTargets(targetInput, target, false);
    keyInput.addEventListener("input", rebuild);
    targetInput.addEventListener("change", rebuild);
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

// A node's id, made from the name telecom staff gave it (never typed by them): lower case,
// accents and spaces gone, unique in the tree (« Horaires d'été » -> horaires_d_ete).
function idFromName(name) {
  const base = name.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "noeud";
  let id = base;
  for (let n = 2; id in nodes(); n += 1) id = `${base}_${n}`;
  return id;
}

function addNode(event) {
  event.preventDefault();
  showAlert(null);
  const name = $("new-node-id").value.trim();
  const kind = $("new-node-kind").value;
  if (!name) {
    showAlert(new Error("Donnez un nom au nouveau nœud (par exemple « Horaires d'été »)."));
    return;
  }
  const id = idFromName(name);
  const fresh = { kind };
  if (["menu", "message", "case_status"].includes(kind)) fresh.prompt = { text: "" };
  if (kind === "menu") fresh.choices = {};
  if (kind === "hours_check") fresh.calendar = Object.keys(tree.calendars || {})[0] || "";
  if (kind === "route") fresh.service = tree.fallback_service || "accueil";
  if (kind === "voicemail") fresh.box = "";
  if (kind === "callback") fresh.topic = "";
  if (kind === "transfer") fresh.number = "";
  fresh.label = name;
  if (!tree.nodes || typeof tree.nodes !== "object") tree.nodes = {};
  tree.nodes[id] = fresh;
  $("new-node-id").value = "";
  touched();
  selected = id;
  renderForm();
  say(`Nœud « ${name} » ajouté (${KIND_LABELS[kind]}) : reliez-le depuis un autre nœud.`);
  const first = $("node-editor").querySelector("input, textarea, select");
  if (first) first.focus();
}

// Which links lead to a node, in words: what callers lose if it goes.
function linksTo(id) {
  const names = nodeNames();
  const out = [];
  if (tree.start === id) out.push("C'est le premier nœud de l'appel : il faudra en choisir un autre, sinon aucun appel ne passe.");
  for (const [from, node] of Object.entries(nodes())) {
    if (from === id) continue;
    for (const branch of IvrTreeView.branches(node)) {
      if (branch.target === id) {
        out.push(`Dans « ${names[from]} », « ${branch.words} » ne mènera plus nulle part.`);
      }
    }
  }
  return out;
}

async function askRemoveNode(id) {
  const names = nodeNames();
  const lines = linksTo(id);
  const yes = await IvrConfirm.ask({
    title: `Supprimer le nœud « ${names[id]} » ?`,
    intro: lines.length
      ? "Pour les appelants, une fois publié : ces liens seront à refaire avant de pouvoir publier."
      : "Aucun autre nœud n'y mène : les appelants ne verront pas de différence.",
    lines,
    confirm: "Supprimer le nœud",
  });
  if (yes) removeNode(id);
}

function removeNode(id) {
  const name = nodeNames()[id];
  showAlert(null);
  delete tree.nodes[id];
  const ids = Object.keys(nodes());
  selected = ids.includes(tree.start) ? tree.start : ids[0] || null;
  touched();
  renderForm();
  say(`Nœud « ${name} » supprimé. Choisissez un autre nœud pour les liens qui y menaient.`);
  const first = $("node-list").querySelector("button");
  (first || $("new-node-id")).focus();
}

