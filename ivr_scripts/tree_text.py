"""A menu file's bytes as text, and what pyyaml finds wrong in it said in French.

A tree file comes from a technician's editor: UTF-8 most often, with or without a byte
order mark, sometimes UTF-16 (Windows' Notepad "Unicode"), sometimes Windows-1252 pasted
from an old document. Text with a mark is read in the mark's encoding; text without one
must be UTF-8, and text that is not is refused naming the first bad byte's line and column,
not guessed: a menu read in the wrong encoding would speak garbled names to citizens.

pyyaml's problems ("mapping values are not allowed here") are English and name the
parser's inner workings; ``french_problem`` says the frequent ones in the technician's
words and keeps the original for the others.
"""

from __future__ import annotations

import codecs
import re

from ivr_scripts.errors import Problem

_MARKS = (  # the longest first: UTF-32-LE's mark starts with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def decode_tree_bytes(raw: bytes) -> tuple[str | None, list[Problem]]:
    """The file's text (its byte order mark removed), or ``None`` and why it does not read."""
    encoding, label = "utf-8", "UTF-8"
    for mark, codec, name in _MARKS:
        if raw.startswith(mark):
            raw, encoding, label = raw[len(mark) :], codec, name
            break
    if encoding == "utf-8" and b"\x00" in raw[:400]:  # ASCII text in UTF-16: every other byte
        message = (
            "le fichier semble en UTF-16 sans marque d'ordre des octets (octets nuls) : "
            "enregistrez-le en UTF-8"
        )
        return None, [Problem("error", "", message)]
    try:
        return raw.decode(encoding), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        hint = (
            "enregistrez le fichier en UTF-8"
            if label == "UTF-8"
            else f"le fichier s'annonce en {label} mais ne l'est pas"
        )
        message = (
            f"le fichier n'est pas du texte {label} : octet 0x{byte:02X} "
            f"(ligne {line}, colonne {column}) ; {hint}"
        )
        return None, [Problem("error", "", message)]


def refused_character(text: str, position: int, character: str) -> str:
    """A character YAML does not allow (NUL, controls, lone surrogates), with its place."""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return (
        f"caractère interdit U+{ord(character):04X} (ligne {line}, colonne {column}) : "
        "un menu ne contient que du texte imprimable"
    )


# pyyaml's problem -> the technician's words; the first that matches wins.
_FRENCH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (
            r"^mapping values are not allowed here",
            "« : » inattendu ici (un texte qui contient « : » s'écrit entre guillemets)",
        ),
        (r"^could not find expected ':'", "« : » manquant après une clé"),
        (
            r"^expected <block end>, but found",
            "indentation incohérente : cette ligne n'est alignée sur aucune des précédentes",
        ),
        (
            r"^found character '\\t' that cannot start any token",
            "tabulation : indentez avec des espaces",
        ),
        (
            r"^found character '(.*)' that cannot start any token",
            "caractère « \\1 » inattendu en début de valeur (écrivez la valeur entre guillemets)",
        ),
        (r"^expected ',' or '\]'", "liste entre crochets [ ] mal fermée"),
        (r"^expected ',' or '\}'", "dictionnaire entre accolades { } mal fermé"),
        (
            r"^found unexpected end of stream",
            "fin du fichier inattendue (un guillemet ou un crochet n'est pas fermé)",
        ),
        (r"but found another document", "un seul document par fichier (retirez « --- »)"),
        (r"^expected '<document start>'", "texte inattendu après la fin du menu"),
        (r"^expected the node content", "valeur manquante"),
        (r"^mapping keys are not allowed here", "clé inattendue ici"),
        (
            r"^sequence entries are not allowed here",
            "« - » inattendu ici (un élément de liste commence sa propre ligne)",
        ),
        (
            r"^expected alphabetic or numeric character",
            "nom invalide après « & » ou « * » (écrivez la valeur entre guillemets)",
        ),
        (r"^expected chomping or indentation indicators", "« | » ou « > » mal suivi"),
        (r"^found unknown escape character", "séquence « \\ » inconnue entre guillemets"),
        (r"^expected a comment or a line break", "texte inattendu en fin de ligne"),
        (r"^found a tab character", "tabulation : indentez avec des espaces"),
        (r"^found unexpected ':'", "« : » inattendu ici"),
    )
)


def french_problem(problem: str) -> str:
    """pyyaml's ``problem`` in French; an unknown one is quoted after a French lead."""
    for pattern, text in _FRENCH:
        match = pattern.search(problem)
        if match:
            return match.expand(text)
    return f"erreur de syntaxe YAML (« {problem} »)"
