// The accounts page (admins): create with a role and a phone extension, change them, disable,
// reset a password. A one-time password is shown once, in the page, never stored by it.
"use strict";

const ROLES = { agent: "Agent d'accueil", supervisor: "Superviseur", telecom: "Télécom", admin: "Administrateur" };
const $ = (id) => document.getElementById(id);
let accounts = [];
let editing = null;
let confirming = null;  // the account whose password reset awaits confirmation

function fillRoles(select) {
  select.replaceChildren(...Object.entries(ROLES).map(([value, text]) => el("option", { value, text })));
}

function showOnce(account, password, what) {
  const box = $("one-time");
  box.hidden = false;
  box.replaceChildren(
    el("p", { text: `${what} pour ${account.display_name} (identifiant « ${account.username} ») :` }),
    el("p", {}, el("code", { text: password })),
    el("p", { text: "Notez-le et transmettez-le à la personne : il ne sera plus jamais affiché. Elle devra le changer à sa première connexion." }),
  );
  box.tabIndex = -1;
  box.focus();
}

function state(a) {
  if (!a.active) return "Désactivé";
  return a.must_change_password ? "Actif — mot de passe à changer" : "Actif";
}

function render() {
  const body = $("accounts");
  body.replaceChildren();
  for (const a of accounts) {
    const actions = el("td", { "data-label": "Actions" });
    actions.append(el("button", { type: "button", text: "Modifier", "aria-label": `Modifier ${a.display_name}`, onclick: () => edit(a) }), " ");
    if (a.active) {
      actions.append(el("button", { type: "button", text: "Désactiver", "aria-label": `Désactiver ${a.display_name}`, onclick: () => act(a, "disable") }), " ");
    } else {
      actions.append(el("button", { type: "button", text: "Réactiver", "aria-label": `Réactiver ${a.display_name}`, onclick: () => act(a, "enable") }), " ");
    }
    if (confirming === a.username) {
      actions.append(
        el("span", { text: "Ses sessions ouvertes seront fermées. " }),
        el("button", { type: "button", className: "danger", text: "Confirmer la réinitialisation", onclick: () => reset(a) }), " ",
        el("button", { type: "button", text: "Annuler", onclick: () => { confirming = null; render(); } }),
      );
    } else {
      actions.append(el("button", { type: "button", text: "Réinitialiser le mot de passe", "aria-label": `Réinitialiser le mot de passe de ${a.display_name}`,
        onclick: () => { confirming = a.username; render(); } }));
    }
    body.append(el("tr", {},
      el("td", { "data-label": "Nom", text: a.display_name }),
      el("td", { "data-label": "Identifiant", text: a.username }),
      el("td", { "data-label": "Rôle", text: ROLES[a.role] || a.role }),
      el("td", { "data-label": "Poste", text: a.extension || "—" }),
      el("td", { "data-label": "État", text: state(a) }),
      actions));
  }
  $("count").textContent = `(${accounts.length})`;
}

async function load() {
  try {
    accounts = await ctiSession.call("GET", "/api/admin/users");
    $("accounts-error").textContent = "";
    render();
  } catch (e) {
    if (adminForms.refused(e)) $("accounts-error").textContent = e.message;
  }
}

function replace(account) {
  accounts = accounts.map((a) => (a.username === account.username ? account : a));
  render();
}

async function act(a, what) {
  try {
    replace(await ctiSession.call("POST", `/api/admin/users/${encodeURIComponent(a.username)}/${what}`, {}));
    $("accounts-error").textContent = "";
  } catch (e) {
    if (adminForms.refused(e)) $("accounts-error").textContent = e.message;
  }
}

async function reset(a) {
  confirming = null;
  try {
    const given = await ctiSession.call("POST", `/api/admin/users/${encodeURIComponent(a.username)}/password`, {});
    replace(given.account);
    showOnce(given.account, given.one_time_password, "Nouveau mot de passe à usage unique");
  } catch (e) {
    render();
    if (adminForms.refused(e)) $("accounts-error").textContent = e.message;
  }
}

function edit(a) {
  editing = a;
  $("edit").hidden = false;
  $("edit-name").textContent = a.display_name;
  $("edit-role").value = a.role;
  $("edit-extension").value = a.extension || "";
  adminForms.clear($("edit-form"));
  $("edit-summary").textContent = "";
  $("edit-role").focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const form = $("edit-form");
  const name = encodeURIComponent(editing.username);
  const extension = $("edit-extension").value.trim() || null;
  try {
    let account = editing;
    if ($("edit-role").value !== editing.role) {
      account = await ctiSession.call("PUT", `/api/admin/users/${name}/role`, { role: $("edit-role").value });
    }
    if (extension !== (editing.extension || null)) {
      account = await ctiSession.call("PUT", `/api/admin/users/${name}/extension`, { extension });
    }
    replace(account);
    $("edit").hidden = true;
    $("accounts-error").textContent = `Compte ${account.display_name} enregistré.`;
  } catch (e) {
    if (adminForms.refused(e)) adminForms.show(form, $("edit-summary"), e.message, e.fields);
  }
}

async function create(event) {
  event.preventDefault();
  const form = $("create-form");
  const username = $("new-username").value.trim();
  if (!username) {
    adminForms.show(form, $("create-summary"), "Le compte n'est pas créé.", { username: "à renseigner" });
    return;
  }
  try {
    const given = await ctiSession.call("POST", "/api/admin/users", {
      username,
      display_name: $("new-name").value.trim(),
      role: $("new-role").value,
      extension: $("new-extension").value.trim() || null,
    });
    adminForms.clear(form);
    $("create-summary").textContent = "";
    form.reset();
    accounts = [...accounts, given.account].sort((x, y) => x.username.localeCompare(y.username));
    render();
    showOnce(given.account, given.one_time_password, "Compte créé. Mot de passe à usage unique");
  } catch (e) {
    if (adminForms.refused(e)) adminForms.show(form, $("create-summary"), e.message, e.fields);
  }
}

fillRoles($("new-role"));
fillRoles($("edit-role"));
$("create-form").addEventListener("submit", create);
$("edit-form").addEventListener("submit", saveEdit);
$("edit-cancel").addEventListener("click", () => { $("edit").hidden = true; });
adminForms.gate(load);
