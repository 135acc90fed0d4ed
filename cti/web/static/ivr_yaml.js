// YAML for the voice-menu editor (ivr.js): the tree's text in the "YAML" tab and back.
// No library is loaded from elsewhere, so this is a small writer and reader for what trees
// hold; the server's reader stays the reference (what this one refuses can still be checked
// and saved as YAML text). Exposes window.IvrYaml = { toYaml, parseYaml }.
"use strict";

(() => {
  // A small YAML writer for the tree: block mappings and sequences, strings quoted the JSON way
  // unless they are plain words (JSON strings are valid YAML double-quoted scalars).
  const YAML_WORDS = /^(y|n|yes|no|true|false|on|off|null|~)$/i;

  function yamlKey(key) {
    return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !YAML_WORDS.test(key) ? key : yamlQuote(key);
  }

  function yamlQuote(text) {
    return JSON.stringify(text).replace(/[\u0085\u2028\u2029]/g,
      (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  }

  function yamlScalar(value) {
    if (value === null || value === undefined) return "null";
    if (typeof value === "boolean" || typeof value === "number") return String(value);
    const text = String(value);
    const plain = /^[A-Za-zÀ-ÖØ-öø-ÿ][^:#\n\r\t"'\\\u0085\u2028\u2029]*$/.test(text) && !/\s$/.test(text);
    return plain && !YAML_WORDS.test(text) ? text : yamlQuote(text);
  }

  function isMapping(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

  function yamlLines(value, indent, out) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const head = `${indent}${yamlKey(key)}:`;
      if (isMapping(item)) {
        if (Object.keys(item).length === 0) out.push(`${head} {}`);
        else { out.push(head); yamlLines(item, indent + "  ", out); }
      } else if (Array.isArray(item)) {
        if (item.length === 0) out.push(`${head} []`);
        else { out.push(head); yamlItems(item, indent + "  ", out); }
      } else {
        out.push(`${head} ${yamlScalar(item)}`);
      }
    }
  }

  function yamlItems(items, indent, out) {
    for (const item of items) {
      if (isMapping(item) && Object.keys(item).length) {
        const inner = [];
        yamlLines(item, indent + "  ", inner);
        inner[0] = `${indent}- ${inner[0].slice(indent.length + 2)}`;
        out.push(...inner);
      } else if (isMapping(item) || Array.isArray(item)) {
        out.push(`${indent}- ${JSON.stringify(item)}`);
      } else {
        out.push(`${indent}- ${yamlScalar(item)}`);
      }
    }
  }

  function toYaml(value) {
    const out = [];
    yamlLines(value || {}, "", out);
    return out.join("\n") + "\n";
  }

  // A small YAML reader, enough for trees: block mappings and sequences (indented or not),
  // plain, quoted and block (| >) scalars, one-line flow collections, comments. The server's
  // reader is the reference: what this one refuses can still be checked and saved as YAML.
  class YamlError extends Error {}

  function parseYaml(text) {
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    const fail = (message, n) => { throw new YamlError(`${message} (ligne ${n + 1})`); };

    const peek = () => {
      while (i < lines.length) {
        const raw = lines[i];
        const trimmed = raw.trim();
        if (trimmed === "" || trimmed.startsWith("#") || trimmed === "---") { i += 1; continue; }
        if (trimmed === "...") { i = lines.length; return null; }
        const indent = raw.length - raw.trimStart().length;
        if (/^ *\t/.test(raw)) fail("tabulation dans l'indentation", i);
        return { indent, text: trimmed, n: i };
      }
      return null;
    };
    const isItem = (t) => t === "-" || t.startsWith("- ");

    const stripComment = (s) => {
      const m = /(^|\s)#/.exec(s);
      return (m ? s.slice(0, m.index) : s).trim();
    };

    // Reads a quoted scalar starting at s[0] (a quote), continuing on the following lines.
    const quoted = (s, n) => {
      const q = s[0];
      let raw = s.slice(1);
      let line = n;
      for (;;) {
        let k = 0;
        let end = -1;
        while (k < raw.length) {
          if (q === '"' && raw[k] === "\\") { k += 2; continue; }
          if (raw[k] === q) {
            if (q === "'" && raw[k + 1] === "'") { k += 2; continue; }
            end = k;
            break;
          }
          k += 1;
        }
        if (end >= 0) {
          const rest = raw.slice(end + 1);
          return { value: unquote(raw.slice(0, end), q), rest, lastLine: line };
        }
        line += 1;
        if (line >= lines.length) fail("guillemet non fermé", n);
        raw += "\n" + lines[line];
      }
    };

    const unquote = (body, q) => {
      // Line breaks fold: one break is a space, each empty line a newline.
      const parts = body.split("\n");
      let folded = parts[0];
      let empties = 0;
      for (let k = 1; k < parts.length; k += 1) {
        const part = parts[k].trim();
        if (part === "" && k < parts.length - 1) { empties += 1; continue; }
        if (q === '"' && /\\$/.test(folded) && !/\\\\$/.test(folded)) folded = folded.slice(0, -1);
        else folded = folded.replace(/[ \t]+$/, "") + (empties ? "\n".repeat(empties) : " ");
        folded += part;
        empties = 0;
      }
      if (q === "'") return folded.replace(/''/g, "'");
      const escapes = { "0": "\0", a: "\x07", b: "\b", t: "\t", "\t": "\t", n: "\n", v: "\v", f: "\f",
        r: "\r", e: "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", N: "\u0085", _: "\u00a0",
        L: "\u2028", P: "\u2029" };
      return folded.replace(/\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (m, e) => {
        if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
        if (e in escapes) return escapes[e];
        throw new YamlError(`échappement inconnu \\${e}`);
      });
    };

    const resolve = (s) => {
      if (s === "" || s === "~" || /^(null|Null|NULL)$/.test(s)) return null;
      if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON)$/.test(s)) return true;
      if (/^(false|False|FALSE|no|No|NO|off|Off|OFF)$/.test(s)) return false;
      if (/^[-+]?(0|[1-9][0-9_]*)$/.test(s)) return Number(s.replace(/_/g, ""));
      if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$/.test(s) && /\d/.test(s)) {
        return Number(s.replace(/_/g, ""));
      }
      return s;
    };

    // One-line flow collection ([a, b], {k: v}); returns [value, position after it].
    const flow = (s, pos, n) => {
      const skip = () => { while (s[pos] === " ") pos += 1; };
      skip();
      if (s[pos] === "[" || s[pos] === "{") {
        const close = s[pos] === "[" ? "]" : "}";
        const out = close === "]" ? [] : {};
        pos += 1;
        for (;;) {
          skip();
          if (s[pos] === close) return [out, pos + 1];
          if (close === "]") {
            const [v, next] = flow(s, pos, n);
            out.push(v);
            pos = next;
          } else {
            const [k, afterKey] = flow(s, pos, n);
            pos = afterKey;
            skip();
            if (s[pos] !== ":") fail("« : » attendu dans un dictionnaire entre accolades", n);
            const [v, next] = flow(s, pos + 1, n);
            out[String(k)] = v;
            pos = next;
          }
          skip();
          if (s[pos] === ",") { pos += 1; continue; }
          if (s[pos] !== close) fail(`« ${close} » attendu`, n);
        }
      }
      if (s[pos] === '"' || s[pos] === "'") {
        const q = s[pos];
        let k = pos + 1;
        while (k < s.length) {
          if (q === '"' && s[k] === "\\") k += 2;
          else if (q === "'" && s[k] === "'" && s[k + 1] === "'") k += 2;
          else if (s[k] === q) break;
          else k += 1;
        }
        if (k >= s.length) fail("guillemet non fermé", n);
        return [unquote(s.slice(pos + 1, k), q), k + 1];
      }
      let k = pos;
      while (k < s.length && !",]}".includes(s[k]) && !(s[k] === ":" && (s[k + 1] === " " || s[k + 1] === undefined || ",]}".includes(s[k + 1])))) k += 1;
      return [resolve(s.slice(pos, k).trim()), k];
    };

    // "key: rest" -> [key, rest]; null when the text is not a mapping entry.
    const splitKey = (t, n) => {
      if (t[0] === '"' || t[0] === "'") {
        const { value, rest, lastLine } = quoted(t, n);
        if (lastLine !== n) return null;
        const m = /^\s*:(\s|$)/.exec(rest);
        return m ? [value, rest.slice(m[0].length)] : null;
      }
      if ("[{&*!|>%@`".includes(t[0])) return null;
      const m = /:(\s|$)/.exec(t);
      if (!m) return null;
      const key = t.slice(0, m.index).trim();
      if (key.includes(" #")) return null;
      return [key, t.slice(m.index + m[0].length)];
    };

    const blockScalar = (header, parentIndent, n) => {
      const m = /^([|>])([-+]?)([1-9]?)([-+]?)\s*(#.*)?$/.exec(header);
      if (!m) fail("en-tête de bloc invalide", n);
      const literal = m[1] === "|";
      const chomp = m[2] || m[4];
      const body = [];
      let contentIndent = m[3] ? parentIndent + Number(m[3]) : null;
      while (i < lines.length) {
        const raw = lines[i];
        if (raw.trim() === "") { body.push(""); i += 1; continue; }
        const indent = raw.length - raw.trimStart().length;
        if (contentIndent === null) {
          if (indent <= parentIndent) break;
          contentIndent = indent;
        }
        if (indent < contentIndent) break;
        body.push(raw.slice(contentIndent));
        i += 1;
      }
      let trailing = 0;
      while (body.length && body[body.length - 1] === "") { body.pop(); trailing += 1; }
      let value;
      if (literal) {
        value = body.join("\n");
      } else {
        value = "";
        let breaks = 0;
        let lastMore = false;
        body.forEach((line, k) => {
          if (line === "") { breaks += 1; return; }
          const more = /^[ \t]/.test(line);
          if (k > 0) value += breaks === 0 ? (more || lastMore ? "\n" : " ") : "\n".repeat(breaks + (more || lastMore ? 1 : 0));
          value += line;
          breaks = 0;
          lastMore = more;
        });
      }
      if (body.length === 0) return "";
      if (chomp === "-") return value;
      if (chomp === "+") return value + "\n".repeat(trailing + 1);
      return value + "\n";
    };

    const value = (rest, parentIndent, n) => {
      const r = rest.trim();
      if (r === "" || r.startsWith("#")) {
        const next = peek();
        if (next && next.indent > parentIndent) return block(next.indent);
        if (next && next.indent === parentIndent && isItem(next.text)) return seq(parentIndent);
        return null;
      }
      if (r[0] === "|" || r[0] === ">") return blockScalar(r, parentIndent, n);
      if (r[0] === "[" || r[0] === "{") {
        const [v, pos] = flow(r, 0, n);
        if (stripComment(r.slice(pos)) !== "") fail("texte inattendu après la collection", n);
        return v;
      }
      if (r[0] === '"' || r[0] === "'") {
        const { value: v, rest: after, lastLine } = quoted(r, n);
        i = lastLine + 1;
        if (stripComment(after) !== "") fail("texte inattendu après les guillemets", lastLine);
        return v;
      }
      if (r[0] === "&" || r[0] === "*" || r[0] === "!") fail("ancres, alias et étiquettes non pris en charge", n);
      // A plain scalar goes on while the next lines are more indented than its key.
      let text = stripComment(r);
      if (/:(\s|$)/.test(text)) fail("« : » inattendu dans un texte (mettez-le entre guillemets)", n);
      let breaks = 0;
      while (i < lines.length) {
        const raw = lines[i];
        const trimmed = raw.trim();
        if (trimmed === "") { breaks += 1; i += 1; continue; }
        const indent = raw.length - raw.trimStart().length;
        if (indent <= parentIndent || trimmed.startsWith("#")) break;
        if (/:(\s|$)/.test(stripComment(trimmed))) fail("« : » inattendu dans un texte (indentation ?)", i);
        text += breaks ? "\n".repeat(breaks) : " ";
        text += stripComment(trimmed);
        breaks = 0;
        i += 1;
      }
      return resolve(text);
    };

    const map = (indent) => {
      const out = {};
      for (;;) {
        const line = peek();
        if (!line || line.indent < indent) return out;
        if (line.indent > indent) fail("indentation inattendue", line.n);
        if (isItem(line.text)) fail("élément de liste inattendu", line.n);
        const pair = splitKey(line.text, line.n);
        if (!pair) fail("« clé: valeur » attendu", line.n);
        const [key, rest] = pair;
        if (Object.prototype.hasOwnProperty.call(out, key)) fail(`clé « ${key} » en double`, line.n);
        i = line.n + 1;
        out[key] = value(rest, indent, line.n);
      }
    };

    const seq = (indent) => {
      const out = [];
      for (;;) {
        const line = peek();
        if (!line || line.indent < indent || !isItem(line.text)) return out;
        if (line.indent > indent) fail("indentation inattendue", line.n);
        const after = line.text === "-" ? "" : line.text.slice(2);
        const column = line.indent + (line.text.length - after.trimStart().length);
        const rest = after.trimStart();
        if (rest !== "" && !rest.startsWith("#") && !"[{\"'|>".includes(rest[0]) && splitKey(rest, line.n)) {
          // "- key: value": a mapping whose entries sit at the column of "key".
          lines[line.n] = " ".repeat(column) + rest;
          out.push(map(column));
        } else {
          i = line.n + 1;
          out.push(value(rest, indent, line.n));
        }
      }
    };

    const block = (indent) => {
      const line = peek();
      if (!line) return null;
      return isItem(line.text) ? seq(indent) : map(indent);
    };

    const first = peek();
    if (!first) return null;
    if (!isItem(first.text) && !splitKey(first.text, first.n)) {
      const v = value(first.text, -1, first.n);
      if (peek()) fail("texte inattendu", peek().n);
      return v;
    }
    const result = block(first.indent);
    const extra = peek();
    if (extra) fail("indentation inattendue", extra.n);
    return result;
  }

  window.IvrYaml = { toYaml, parseYaml };
})();
