// The editor's « Problèmes » list: errors first (what stops a publication), grouped by
// node and named as the staff name nodes, each leading to the field to fix; warnings after,
// folded away (publication stays possible). Never a raw path or a node id when a name is
// known. ivr.js keeps the list (problems) and decides where a click leads (onGo).
// Exposes window.IvrProblems = { render(list, names, onGo), count(list) }.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);

  function count(list) {
    const errors = list.filter((p) => p.severity === "error").length;
    return { errors, warnings: list.length - errors };
  }

  function plural(n, one, many) { return `${n} ${n > 1 ? many : one}`; }

  // Problems of one severity, grouped by node (or by place in the menu), in order.
  function groups(list, names) {
    const out = new Map();
    for (const p of list) {
      const at = IvrNames.where(p.path, names);
      const key = at.node !== null ? `node:${at.node}` : `place:${at.text}`;
      if (!out.has(key)) {
        out.set(key, { title: at.node !== null ? `Nœud « ${at.name} »` : at.text, node: at.node, items: [] });
      }
      out.get(key).items.push({ problem: p, detail: at.node !== null ? at.text : "" });
    }
    return [...out.values()];
  }

  function renderGroups(ul, list, names, onGo, cls) {
    ul.replaceChildren();
    for (const group of groups(list, names)) {
      const li = document.createElement("li");
      li.className = `problem-group ${cls}`;
      if (group.node !== null) li.dataset.node = group.node;
      const title = document.createElement("span");
      title.className = "problem-where";
      title.textContent = group.title;
      const inner = document.createElement("ul");
      for (const { problem, detail } of group.items) {
        const item = document.createElement("li");
        item.className = `problem ${cls}`;
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = detail ? `${capital(detail)} : ${problem.message}` : capital(problem.message);
        button.addEventListener("click", () => onGo(problem));
        item.append(button);
        inner.append(item);
      }
      li.append(title, inner);
      ul.append(li);
    }
  }

  function capital(text) { return text ? text.charAt(0).toUpperCase() + text.slice(1) : text; }

  function render(list, names, onGo) {
    const errors = list.filter((p) => p.severity === "error");
    const warnings = list.filter((p) => p.severity !== "error");
    renderGroups(byId("problems"), errors, names, onGo, "error");
    renderGroups(byId("warnings"), warnings, names, onGo, "warning");
    byId("problems").hidden = errors.length === 0;
    byId("warnings-box").hidden = warnings.length === 0;
    byId("warnings-title").textContent =
      `${plural(warnings.length, "avertissement", "avertissements")} (la publication reste possible)`;
    let text = "Aucun problème signalé.";
    if (errors.length) {
      text = `${plural(errors.length, "erreur à corriger", "erreurs à corriger")} avant de publier` +
        (warnings.length ? `, et ${plural(warnings.length, "avertissement", "avertissements")}.` : ".");
    } else if (warnings.length) {
      text = `Aucune erreur ; ${plural(warnings.length, "avertissement", "avertissements")}.`;
    }
    byId("problems-summary").textContent = text;
  }

  window.IvrProblems = { render, count };
})();
