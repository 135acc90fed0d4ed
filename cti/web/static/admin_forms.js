// Shared by the administration pages: the login gate, and each refusal shown beside its field.
// Fields carry data-field="dotted.path" (the JSON path the server names); a refusal for a path
// no field carries goes to the nearest field above it, else to the form's summary.
"use strict";

const adminForms = {
  clear(root) {
    for (const el of root.querySelectorAll(".field-error")) el.remove();
    for (const el of root.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      const kept = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("err-"));
      if (kept.length) el.setAttribute("aria-describedby", kept.join(" "));
      else el.removeAttribute("aria-describedby");
    }
  },

  _field(root, path) {
    let key = path;
    while (key) {
      const found = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
      if (found) return found;
      key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "";
    }
    return null;
  },

  // Shows ``fields`` ({path: message}) beside their fields and ``message`` in ``summary``;
  // focuses the first field at fault. Returns how many were placed beside a field.
  show(root, summary, message, fields) {
    adminForms.clear(root);
    const left = [];
    let first = null;
    let n = 0;
    for (const [path, text] of Object.entries(fields || {})) {
      const field = adminForms._field(root, path);
      if (!field) { left.push(text); continue; }
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = `err-${++n}-${Math.random().toString(36).slice(2, 7)}`;
      note.textContent = text;
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-invalid", "true");
      const ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      field.setAttribute("aria-describedby", [...ids, note.id].join(" "));
      if (!first) first = field;
    }
    summary.textContent = [message, ...left].filter(Boolean).join(" ");
    if (first) first.focus();
    return n;
  },

  // Login gate of an admins' page: ``enter(me)`` once logged in; 401/403 bring the login back.
  gate(enter) {
    ctiSession.wireLogin((me) => { document.getElementById("whoami").textContent = me.display_name; ctiSession.showContent(); enter(me); });
    ctiSession.load().then((me) => {
      if (!me) { ctiSession.showLogin(); return; }
      document.getElementById("whoami").textContent = me.display_name;
      ctiSession.showContent();
      enter(me);
    });
  },

  // A refusal of the API as the page says it (false when the login was shown instead).
  refused(error) {
    if (error.status === 401) { ctiSession.showLogin("Session expirée : reconnectez-vous."); return false; }
    if (error.status === 403 && !Object.keys(error.fields || {}).length) {
      ctiSession.showLogin("Page réservée aux administrateurs.");
      return false;
    }
    return true;
  },
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k in node && k !== "list") node[k] = v === true ? true : v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}
