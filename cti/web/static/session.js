// Shared by the live board and the audit page: who is logged in, the login form, JSON calls.
// Messages from the server are shown with textContent, never as HTML.
"use strict";

const ctiSession = {
  me: null,

  async call(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (ctiSession.me) headers["X-CSRF-Token"] = ctiSession.me.csrf;
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      let detail = data && data.detail;
      if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join(" ; ");
      const error = new Error(detail || `Erreur ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
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
