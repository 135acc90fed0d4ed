"""Case references a caller can key on a phone: "EC-2026-00012" -> "1202600012".

A reference is ``PREFIX-YEAR-COUNTER`` (the prefix names the service); letters cannot be
keyed, so each case also has a digits-only key, unique like the reference: the service's
digit (the one of the voice menu: 1 état civil ... 9 accueil), then the year and the counter
as printed. A reference made of digits (and separators) only is keyed as its digits. Other
references have no key (the caller cannot key them; agents still find them by reference).
"""

from __future__ import annotations

import re

# Reference prefix -> the service's digit (the default voice menu's key for that service).
PREFIX_DIGITS = {"EC": "1", "URB": "2", "ECO": "3", "CCAS": "4", "ST": "5", "ACC": "9"}
_PREFIXED = re.compile(r"^([A-Z]+)[-_ /.]?([0-9][0-9 ./_-]*)$")
_SEPARATORS = re.compile(r"[ ./_-]")


def case_key(reference: str) -> str | None:
    """The digits a caller keys for ``reference``, or None when it cannot be keyed."""
    text = reference.strip().upper()
    if not text:
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.isdigit():
        return digits
    match = _PREFIXED.match(text)
    if match is None or match.group(1) not in PREFIX_DIGITS:
        return None
    return PREFIX_DIGITS[match.group(1)] + _SEPARATORS.sub("", match.group(2))


def is_key(text: str) -> bool:
    """True when ``text`` is what a caller keyed (digits only, a trailing # allowed)."""
    return text.strip().rstrip("#").isdigit()
