// The drawing of the voice menu being edited (ivr.html's « Plan du menu »): nested lists
// from the first node, each branch saying what leads there (« Touche 1 », « Si ouvert »,
// « Sans réponse »...), a node met again shown as a link back to where it is described,
// and the nodes no call reaches listed apart. Lists and buttons: read by screen readers as
// they are, usable with the keyboard. Redrawn after every edit (ivr.js calls draw()).
// Exposes window.IvrTreeView = { draw }.
"use strict";

(() => {
  const BRANCH_WORDS = {
    next: "Ensuite", default: "Sans réponse ou choix invalide", open: "Si ouvert",
    closed: "Si fermé", found: "Dossier trouvé", not_found: "Dossier introuvable",
  };
  const LINKS = {
    menu: ["default"], message: ["next"], hours_check: ["open", "closed"],
    case_status: ["found", "not_found"],
  };

  // What leads out of a node: [{ words, target }] in the order a caller meets them.
  function branches(node) {
    const out = [];
    if (!node || typeof node !== "object") return out;
    if (node.kind === "menu" && node.choices && typeof node.choices === "object") {
      for (const [key, target] of Object.entries(node.choices)) out.push({ words: `Touche ${key}`, target });
    }
    for (const key of LINKS[node.kind] || []) {
      if (key in node) out.push({ words: BRANCH_WORDS[key], target: node[key] });
    }
    return out;
  }

  function draw(box, tree, names, selected, onSelect) {
    const all = tree && tree.nodes && typeof tree.nodes === "object" ? tree.nodes : {};
    const described = new Set();
    const item = (id, words) => {
      const li = document.createElement("li");
      if (words) {
        const branch = document.createElement("span");
        branch.className = "branch";
        branch.textContent = `${words} → `;
        li.append(branch);
      }
      if (id === null || id === undefined || id === "") {
        li.append(span("à choisir", "badge invalid"));
        return li;
      }
      if (!(id in all)) {
        li.append(span(`nœud inexistant « ${id} »`, "badge invalid"));
        return li;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "plan-node";
      button.dataset.node = id;
      if (id === selected) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => onSelect(id));
      if (described.has(id)) {
        button.textContent = names[id];
        button.setAttribute("aria-label", `${names[id]} (décrit plus haut)`);
        li.append(button, span(" (voir plus haut)", "hint-inline"));
        return li;
      }
      described.add(id);
      button.append(span(names[id], "plan-name"), " ", span(IvrNames.KIND_LABELS[all[id].kind] || "type inconnu", "node-kind"));
      li.append(button);
      const out = branches(all[id]);
      if (out.length) {
        const ul = document.createElement("ul");
        for (const b of out) ul.append(item(b.target, b.words));
        li.append(ul);
      }
      return li;
    };
    const root = document.createElement("ul");
    root.className = "plan";
    root.setAttribute("aria-label", "Parcours de l'appel, depuis le premier nœud");
    root.append(item(tree && tree.start, "Début de l'appel"));
    const apart = Object.keys(all).filter((id) => !described.has(id));
    box.replaceChildren(root);
    if (apart.length) {
      const title = document.createElement("p");
      title.className = "plan-apart";
      title.textContent = `Nœuds qu'aucun appel n'atteint (${apart.length}) :`;
      const ul = document.createElement("ul");
      ul.className = "plan";
      ul.setAttribute("aria-label", "Nœuds qu'aucun appel n'atteint");
      for (const id of apart) if (!described.has(id)) ul.append(item(id, null));
      box.append(title, ul);
    }
  }

  function span(text, cls) {
    const s = document.createElement("span");
    s.textContent = text;
    s.className = cls;
    return s;
  }

  window.IvrTreeView = { draw, branches };
})();
