// Nodes as the telecom staff name them, never by their ids: the same rules as the server's
// ivr_scripts/node_names.py (a browser test checks both agree on the shipped menu), applied
// to the tree being edited. Also the French words of node kinds and of a node's fields, as
// the form, the drawing of the tree and the problems say them.
// Exposes window.IvrNames = { KIND_LABELS, FIELD_WORDS, names, where }.
"use strict";

(() => {
  const KIND_LABELS = {
    menu: "Menu à touches", message: "Message", hours_check: "Contrôle des horaires",
    case_status: "Suivi de dossier", route: "Mise en relation", voicemail: "Messagerie vocale",
    callback: "Demande de rappel", transfer: "Transfert externe", hangup: "Fin d'appel",
  };
  const SHORT_KINDS = { menu: "Menu" };
  const SNIPPET_WORDS = 6;
  // Lower-case words of each field (ivr_scripts/compare.py's FIELD_WORDS).
  const FIELD_WORDS = {
    label: "libellé", prompt: "message", invalid_prompt: "message en cas de choix invalide",
    found_prompt: "message quand le dossier est trouvé",
    not_found_prompt: "message quand le dossier est introuvable",
    next: "nœud suivant", default: "nœud quand les tentatives sont épuisées",
    open: "nœud si ouvert", closed: "nœud si fermé", found: "nœud si le dossier est trouvé",
    not_found: "nœud si le dossier est introuvable", timeout_s: "délai pour taper une touche",
    max_retries: "nouvelles tentatives", calendar: "calendrier",
    announce_closed: "annonce de la raison de la fermeture", max_digits: "nombre maximal de chiffres",
    service: "service", priority: "priorité", language: "langue", box: "boîte vocale",
    topic: "objet du rappel", number: "numéro", outcome: "issue de l'appel", text: "texte",
    file: "enregistrement", choices: "choix", kind: "type",
  };
  const CALENDAR_WORDS = {
    weekly: "horaires de la semaine", closures: "fermetures exceptionnelles",
    special_openings: "ouvertures exceptionnelles", closed_announcement: "annonce hors horaires",
    holiday_announcement: "annonce des jours fériés", timezone: "fuseau horaire",
    holiday_subdivision: "jours fériés locaux", public_holidays: "jours fériés",
  };
  const TREE_WORDS = {
    start: "Premier nœud de l'appel", fallback_service: "Service de repli", name: "Nom du menu",
    nodes: "Nœuds", services: "Services", calendars: "Horaires", format_version: "Version du format",
  };

  function snippet(text) {
    const words = String(text).split(/\s+/).filter(Boolean);
    if (words.length <= SNIPPET_WORDS) return words.join(" ");
    return words.slice(0, SNIPPET_WORDS).join(" ").replace(/[,;:]+$/, "") + "…";
  }

  function baseName(tree, node) {
    if (!node || typeof node !== "object") return "nœud illisible";
    if (typeof node.label === "string" && node.label.trim()) return node.label.trim();
    const kind = KIND_LABELS[node.kind] || "Nœud de type inconnu";
    const services = (tree && tree.services) || {};
    switch (node.kind) {
      case "route": return `${kind} : ${services[node.service] || node.service || ""}`;
      case "hours_check": return `Horaires : ${node.calendar || ""}`;
      case "case_status": return kind;
      case "voicemail": return `${kind} ${node.box || ""}`;
      case "callback": return `${kind} : ${node.topic || ""}`;
      case "transfer": return `Transfert vers ${node.number || ""}`;
      default: {
        const text = node.prompt && typeof node.prompt === "object" ? String(node.prompt.text || "") : "";
        return text.trim() ? `${SHORT_KINDS[node.kind] || kind} “${snippet(text)}”` : kind;
      }
    }
  }

  // id -> name, unique within the tree (« (2) », « (3) » in the menu's order).
  function names(tree) {
    const out = {};
    const seen = {};
    const all = tree && tree.nodes && typeof tree.nodes === "object" ? tree.nodes : {};
    for (const [id, node] of Object.entries(all)) {
      const name = baseName(tree, node);
      seen[name] = (seen[name] || 0) + 1;
      out[id] = seen[name] === 1 ? name : `${name} (${seen[name]})`;
    }
    return out;
  }

  // Where a problem's dotted path is, in words: { node, text } (node: the id, or null).
  function where(path, known) {
    const parts = String(path || "").split(".").filter((p) => p !== "");
    if (parts[0] === "nodes" && parts.length >= 2) {
      const node = parts[1];
      const rest = parts.slice(2);
      let text = "";
      if (rest[0] === "choices" && rest.length >= 2) text = `touche ${rest[1]}`;
      else if (rest.length) text = rest.map((p) => FIELD_WORDS[p] || p).join(", ");
      return { node, text, name: known && known[node] ? known[node] : `« ${node} » (nœud inexistant)` };
    }
    if (parts[0] === "calendars" && parts.length >= 2) {
      const detail = parts.slice(2).filter((p) => !/^\d+$/.test(p)).map((p) => CALENDAR_WORDS[p] || FIELD_WORDS[p] || p);
      return { node: null, text: [`Horaires « ${parts[1]} »`, ...detail].join(" : ") };
    }
    if (!parts.length) return { node: null, text: "Le menu" };
    return { node: null, text: TREE_WORDS[parts[0]] || parts.join(".") };
  }

  window.IvrNames = { KIND_LABELS, FIELD_WORDS, names, where };
})();
