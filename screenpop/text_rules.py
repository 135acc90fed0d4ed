"""What text about citizens may hold: bounded lengths, no invisible control characters.

A name, an address or a note comes from a CSV file or an agent's form and ends on a page.
Two things there break the page or lie to the agent: a 10 kB "name" (the card no longer fits),
and the characters that are not text but instructions to the display: C0/C1 controls, and
Unicode "format" characters, among them the bidirectional overrides (U+202E RIGHT-TO-LEFT
OVERRIDE shows "Dupont\u202eXYZ" as "DupontZYX") and zero-width ones. Those are refused where
text comes in (the import names line and column, the API answers 422 in French) and stripped
from what goes out (``shown``), for anything stored before the rule.

A text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is refused
at import, and any text written to a CSV file is made safe (``spreadsheet_safe``).

Pure: no I/O. The limits are the directory's column sizes.
"""

from __future__ import annotations

import unicodedata

# Column -> most characters (screenpop.models' sizes).
CITIZEN_LIMITS = {
    "external_ref": 64,
    "last_name": 120,
    "first_name": 120,
    "address": 200,
    "postal_code": 10,
    "city": 120,
    "email": 200,
}
# Cc: controls, Cf: format (bidi, zero-width), Co/Cs: private use and lone surrogates,
# Zl/Zp: line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})
_MULTILINE = frozenset("\n\t")  # a note may keep its lines


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character ``text`` may not hold, named for a technician (``U+202E RIGHT-TO-
    LEFT OVERRIDE``), or None when it is clean."""
    for char in text:
        if unicodedata.category(char) in _INVISIBLE and not (multiline and char in _MULTILINE):
            name = unicodedata.name(char, "caractère de contrôle")
            return f"U+{ord(char):04X} {name}"
    return None


def refusal(text: str, *, limit: int, multiline: bool = False) -> str | None:
    """Why ``text`` is refused (in French), or None when it passes."""
    if len(text) > limit:
        return f"{len(text)} caractères, {limit} au plus"
    bad = forbidden_character(text, multiline=multiline)
    if bad is not None:
        return f"caractère invisible interdit ({bad}) : il change l'affichage du texte"
    return None


# What a spreadsheet takes for the start of a formula (« =HYPERLINK(...) », « @SUM », « +cmd|... »).
FORMULA_STARTS = ("=", "+", "-", "@")


def formula_refusal(text: str) -> str | None:
    """Why an imported text that a spreadsheet would run as a formula is refused, or None."""
    if text[:1] in FORMULA_STARTS:
        return f"commence par « {text[0]} » comme une formule de tableur"
    return None


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell that a spreadsheet shows and never runs (leading apostrophe)."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def shown(text: str, *, multiline: bool = False) -> str:
    """``text`` without the characters a page must not render."""
    if forbidden_character(text, multiline=multiline) is None:
        return text
    return "".join(
        c
        for c in text
        if unicodedata.category(c) not in _INVISIBLE or (multiline and c in _MULTILINE)
    )
