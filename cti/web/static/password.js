// Everyone's own password; the page a one-time password leads to (session.js), and back.
"use strict";

const $ = (id) => document.getElementById(id);

// Where to go back after the change: a path of this site only.
function back() {
  const wanted = new URLSearchParams(location.search).get("retour") || "";
  return wanted.startsWith("/") && !wanted.startsWith("//") && !wanted.startsWith("/mot-de-passe") ? wanted : "";
}

async function change(event) {
  event.preventDefault();
  const form = $("change-form");
  const fields = {};
  if (!$("current").value) fields.current_password = "à renseigner";
  if ($("new").value.length < 12) fields.new_password = `au moins 12 caractères (il en a ${$("new").value.length})`;
  if ($("again").value !== $("new").value) fields.again = "les deux saisies sont différentes";
  if (Object.keys(fields).length) {
    adminForms.show(form, $("change-summary"), "Le mot de passe n'est pas changé.", fields);
    return;
  }
  try {
    await ctiSession.call("POST", "/api/password", { current_password: $("current").value, new_password: $("new").value });
    form.reset();
    adminForms.clear(form);
    $("change-summary").textContent = "";
    $("must-change").hidden = true;
    const done = $("done");
    done.replaceChildren("Mot de passe changé.");
    const to = back();
    if (to) done.append(" ", el("a", { href: to, text: "Continuer vers la page demandée" }));
  } catch (e) {
    if (e.status === 401) { ctiSession.showLogin("Session expirée : reconnectez-vous."); return; }
    adminForms.show(form, $("change-summary"), e.message, e.fields);
  }
}

function enter(me) {
  $("whoami").textContent = me.display_name;
  $("must-change").hidden = !me.password_change_required;
  ctiSession.showContent();
  $("current").focus();
}

$("change-form").addEventListener("submit", change);
ctiSession.wireLogin(enter);
ctiSession.load().then((me) => { if (me) enter(me); else ctiSession.showLogin(); });
