// « Comparer deux versions » (ivr.html): what changes from one version to the other, node
// by node in French (GET /api/ivr/diff's ``changes``), « aucune différence » when there is
// none, and the raw YAML diff only on demand (a <details> closed by default).
// Exposes window.IvrCompare = { show(from, to, data) }: ivr.js fetches, this module shows.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);

  function line(text, cls) {
    const span = document.createElement("span");
    span.textContent = text;
    span.className = cls;
    return span;
  }

  function show(from, to, data) {
    const summary = byId("diff-summary");
    const list = byId("diff-changes");
    const changes = data.changes || [];
    list.replaceChildren(...changes.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    list.hidden = changes.length === 0;
    summary.textContent = changes.length
      ? `De la version ${from} à la version ${to} : ${changes.length} changement(s).`
      : `Aucune différence entre la version ${from} et la version ${to}.`;
    const out = byId("diff");
    out.replaceChildren();
    for (const text of data.lines || []) {
      let cls = "ctx";
      if (text.startsWith("+++") || text.startsWith("---")) cls = "file";
      else if (text.startsWith("@@")) cls = "hunk";
      else if (text.startsWith("+")) cls = "add";
      else if (text.startsWith("-")) cls = "del";
      out.append(line(text, cls), "\n");
    }
    byId("diff-raw").hidden = changes.length === 0;
    byId("diff-result").hidden = false;
    return summary.textContent;
  }

  window.IvrCompare = { show };
})();
