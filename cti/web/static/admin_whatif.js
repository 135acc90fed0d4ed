// « Et si… » on the services page: the draft being edited (admin_services.js's ``config``)
// and a period go to POST /api/routing/what-if; the recorded calls replayed with the draft
// show beside the configuration in force, per service, with what changes said in French.
// Nothing is applied here: « Appliquer ce brouillon » submits the page's form, the one path
// that saves, applies and audits.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const form = byId("routing-form");
  const section = byId("whatif");
  let shown = false;

  function isoDay(d) {
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }

  // The last 7 whole days, as the page opens (today is not over yet).
  function defaultPeriod() {
    const last = new Date(); last.setDate(last.getDate() - 1);
    const first = new Date(last); first.setDate(first.getDate() - 6);
    if (!byId("whatif-from").value) byId("whatif-from").value = isoDay(first);
    if (!byId("whatif-to").value) byId("whatif-to").value = isoDay(last);
  }

  function table(service) {
    return el("table", { className: "whatif" },
      el("caption", { text: service.label }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Mesure" }),
        el("th", { scope: "col", text: "En vigueur" }),
        el("th", { scope: "col", text: "Brouillon" }))),
      el("tbody", {}, ...service.rows.map((r) => el("tr", { className: r.current === r.draft ? "" : "changed" },
        el("th", { scope: "row", text: r.what }),
        el("td", { text: r.current }),
        el("td", {}, r.current === r.draft ? r.draft : el("strong", { text: r.draft }))))));
  }

  function show(answer) {
    const [first, ...others] = answer.notes;
    byId("whatif-result").replaceChildren(
      el("p", { text: `Du ${new Date(answer.from).toLocaleDateString("fr-FR", { timeZone: "UTC" })} au ${new Date(answer.to).toLocaleDateString("fr-FR", { timeZone: "UTC" })} : ${first}` }),
      el("h3", { text: "Ce qui changerait" }),
      el("ul", { className: "whatif-summary" }, ...answer.summary.map((s) => el("li", { text: s }))),
      ...others.map((n) => el("p", { className: "hint", text: n })),
      el("div", { className: "whatif-tables" }, ...answer.services.map(table)),
      el("p", { className: "hint", text: "Taux de service : appels décrochés dans le délai de l'objectif, sur tous les appels du service. Attente à 90 % : 9 appelants sur 10 ont attendu moins." }),
      el("p", { id: "whatif-stale", className: "summary", "aria-live": "polite" }),
      el("button", { type: "button", text: "Appliquer ce brouillon", onclick: () => form.requestSubmit() }));
    shown = true;
  }

  async function run() {
    byId("whatif-error").textContent = "";
    byId("whatif-result").replaceChildren();
    shown = false;
    config.max_missed_offers = Number(byId("max-missed").value);
    config.ring_together = Number(byId("ring-together").value);
    const body = { config, from: byId("whatif-from").value || null, to: byId("whatif-to").value || null };
    const button = byId("whatif-run");
    button.disabled = true;
    byId("whatif-status").textContent = "Simulation en cours…";
    try {
      const answer = await ctiSession.call("POST", "/api/routing/what-if", body);
      adminForms.clear(form);
      byId("whatif-status").textContent = "Simulation terminée.";
      show(answer);
    } catch (e) {
      byId("whatif-status").textContent = "";
      if (!adminForms.refused(e)) return;
      // Period refusals show beside the dates; a draft's, beside its fields (as on save).
      const draftFaults = Object.keys(e.fields || {}).filter((path) => path.startsWith("config.")).length;
      for (const path of Object.keys(e.fields || {})) {
        const [, part, key] = path.split(".");
        const box = document.querySelector(`details[data-${part === "services" ? "service" : "agent"}="${CSS.escape(key || "")}"]`);
        if (box) box.open = true;
      }
      const placed = adminForms.show(form, byId("whatif-error"), "", e.fields);
      if (draftFaults) byId("whatif-error").textContent = `Le brouillon a ${draftFaults} point${draftFaults > 1 ? "s" : ""} à corriger avant la simulation.`;
      else if (!placed) byId("whatif-error").textContent = e.message;
    } finally {
      button.disabled = false;
    }
  }

  // A result no longer says what the draft does once the draft is edited.
  function stale(event) {
    if (!shown || section.contains(event.target)) return;
    const note = byId("whatif-stale");
    if (note) note.textContent = "Le brouillon a changé depuis cette simulation : relancez-la pour voir son effet.";
  }

  defaultPeriod();
  byId("whatif-run").addEventListener("click", run);
  form.addEventListener("change", stale);
  form.addEventListener("click", (e) => { if (e.target.matches("button.danger, #add-agent, #add-service, #add-skill")) stale(e); });
})();
