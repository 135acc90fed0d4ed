// Asks before an action that changes what callers hear (publish, roll back) or that
// breaks links (delete a node): a modal <dialog> (ivr.html's #confirm) with the question,
// what changes for callers as a list, and two buttons. The focus goes to « Annuler » first
// and comes back where it was. Escape cancels.
// Exposes window.IvrConfirm = { ask({ title, intro, lines, empty, confirm }) -> Promise<boolean> }.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);

  function ask({ title, intro, lines, empty, confirm }) {
    const dialog = byId("confirm");
    const back = document.activeElement;
    byId("confirm-title").textContent = title;
    byId("confirm-intro").textContent = intro || "";
    const list = byId("confirm-lines");
    list.replaceChildren(...(lines || []).map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }));
    list.hidden = !(lines && lines.length);
    byId("confirm-empty").textContent = lines && lines.length ? "" : (empty || "");
    byId("confirm-yes").textContent = confirm;
    return new Promise((resolve) => {
      const done = (answer) => {
        dialog.removeEventListener("close", onClose);
        byId("confirm-yes").onclick = null;
        byId("confirm-no").onclick = null;
        if (dialog.open) dialog.close();
        if (back && typeof back.focus === "function" && document.contains(back)) back.focus();
        resolve(answer);
      };
      const onClose = () => done(false);
      dialog.addEventListener("close", onClose);
      byId("confirm-yes").onclick = () => done(true);
      byId("confirm-no").onclick = () => done(false);
      dialog.showModal();
      byId("confirm-no").focus();
    });
  }

  window.IvrConfirm = { ask };
})();
