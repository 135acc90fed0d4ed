// Shared by every page: JSON calls to the API, and for the live board and the audit page who
// is logged in and the login form. Messages from the server are shown with textContent, never
// as HTML.
"use strict";

// The login form, the same on every page: written here once, into the page's #login section
// (which holds the page's own title), before the page's scripts look for it.
(function fillLogin() {
  const section = document.getElementById("login");
  if (!section || document.getElementById("login-form")) return;
  section.insertAdjacentHTML("beforeend", `
    <form id="login-form">
      <label for="username">Identifiant</label>
      <input id="username" name="username" autocomplete="username" required>
      <label for="password">Mot de passe</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Se connecter</button>
      <p id="login-error" class="error" role="alert"></p>
    </form>`);
})();

// A key naming one user action: a state-changing call carries it (Idempotency-Key), so that
// if the server running it dies and the call is sent again to the next one, it is done once
// (cti/broker/answered.py). crypto.getRandomValues works on plain http too, unlike randomUUID.
function ctiActionKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// One JSON call; ``csrf`` is the session's token (state-changing requests need it). A refusal
// throws an Error with the server's message, its ``status`` and the ``problems`` it listed
// (the voice menu's validator: in the body or in ``detail``).
async function ctiFetch(method, path, body, csrf) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-CSRF-Token"] = csrf;
  if (method !== "GET" && method !== "HEAD") headers["Idempotency-Key"] = ctiActionKey();
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) {
    if (path === "/api/login" || path === "/api/me") ctiFollow(data);
    return data;
  }
  if (response.headers.get("X-CTI-Password-Change") === "required") ctiFollow({ password_change_required: true });
  const detail = data && data.detail;
  let message = null;
  let problems = (data && Array.isArray(data.problems)) ? data.problems : [];
  if (Array.isArray(detail)) {
    message = detail.map((d) => d.msg).join(" ; ");
  } else if (detail && typeof detail === "object") {
    message = detail.message || null;
    if (Array.isArray(detail.problems)) problems = detail.problems;
  } else if (detail) {
    message = String(detail);
  }
  const error = new Error(message || `Erreur ${response.status}`);
  error.status = response.status;
  error.problems = problems;
  error.fields = (data && data.fields) || {};  // a form's refusals, by field
  throw error;
}

// After a login: a one-time password leads to the page where it is changed; an admin sees the
// administration pages' links in the page's header.
function ctiFollow(me) {
  if (!me) return;
  const here = location.pathname;
  if (me.password_change_required && here !== "/mot-de-passe") {
    location.assign("/mot-de-passe?retour=" + encodeURIComponent(here + location.search));
    return;
  }
  const header = document.querySelector("header");
  if (me.role !== "admin" || !header || document.getElementById("admin-nav")) return;
  const nav = document.createElement("nav");
  nav.id = "admin-nav";
  nav.setAttribute("aria-label", "Administration");
  for (const [href, text] of [["/admin/utilisateurs", "Utilisateurs"], ["/admin/services", "Services et agents"],
    ["/admin/horaires", "Horaires"], ["/audit", "Journal d'audit"], ["/mot-de-passe", "Mon mot de passe"]]) {
    if (href === here) continue;
    const link = document.createElement("a");
    link.href = href;
    link.textContent = text;
    nav.append(link, " ");
  }
  header.appendChild(nav);
}

const ctiSession = {
  me: null,

  call(method, path, body) {
    return ctiFetch(method, path, body, ctiSession.me && ctiSession.me.csrf);
  },

  async load() {
    try { ctiSession.me = await ctiSession.call("GET", "/api/me"); }
    catch (_) { ctiSession.me = null; }
    return ctiSession.me;
  },

  // Shows the login section until someone logs in, then calls onLoggedIn(me).
  wireLogin(onLoggedIn) {
    const form = document.getElementById("login-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("login-error");
      error.textContent = "";
      try {
        ctiSession.me = await ctiSession.call("POST", "/api/login", {
          username: document.getElementById("username").value,
          password: document.getElementById("password").value,
        });
        document.getElementById("password").value = "";
        onLoggedIn(ctiSession.me);
      } catch (e) {
        error.textContent = e.message;
      }
    });
  },

  showLogin(message) {
    document.getElementById("login").hidden = false;
    document.getElementById("content").hidden = true;
    document.getElementById("login-error").textContent = message || "";
    document.getElementById("username").focus();
  },

  showContent() {
    document.getElementById("login").hidden = true;
    document.getElementById("content").hidden = false;
  },
};
