"""Caller ID as Asterisk gives it, normalised to E.164 (default region France).

"06 12 34 56 78", "0612345678", "+33612345678", "0033 6 12 34 56 78" are the same number;
"+32 2 555 12 12" is a Belgian one. A withheld or missing number, or one that does not parse,
is said so in words the agent understands (``reason``), never guessed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

Status = Literal["ok", "withheld", "unknown", "invalid"]

# What Asterisk and trunks put in CALLERID(num) when there is no number to show.
_WITHHELD = frozenset({"anonymous", "restricted", "private", "withheld", "masqué"})
_UNKNOWN = frozenset({"", "<unknown>", "unknown", "unavailable", "s"})

# The common French spellings ("06 12 34 56 78", "+33612345678", "0033 6...") are read without
# phonenumbers (50 times faster: an import of a million lines reads two million numbers). The
# 08 numbers ("0 800 12 34 56") and everything else go through phonenumbers.
_SEPARATORS = str.maketrans("", "", " .-/\u00a0")
_FRENCH = re.compile(r"(?:0|\+33|0033)([1-79][0-9]{8})")


@dataclass(frozen=True, slots=True)
class CallerNumber:
    raw: str | None
    status: Status
    e164: str | None = None
    national: str | None = None
    reason: str | None = None


@functools.lru_cache(maxsize=65536)
def normalise(raw: str | None, *, withheld: bool = False, region: str = "FR") -> CallerNumber:
    """The caller's number in E.164, or why there is none."""
    text = (raw or "").strip()
    if withheld or text.lower() in _WITHHELD:
        return CallerNumber(raw, "withheld", reason="l'appelant a masqué son numéro")
    if text.lower() in _UNKNOWN:
        return CallerNumber(raw, "unknown", reason="aucun numéro transmis par l'opérateur")
    if region == "FR":
        french = _FRENCH.fullmatch(text.translate(_SEPARATORS))
        if french is not None:
            nsn = french.group(1)
            national = f"0{nsn[0]} {nsn[1:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:9]}"
            return CallerNumber(raw, "ok", e164="+33" + nsn, national=national)
    dialled = "+" + text[2:] if text.startswith("00") else text
    try:
        parsed = phonenumbers.parse(dialled, region)
    except phonenumbers.NumberParseException:
        return CallerNumber(raw, "invalid", reason=f"« {text} » n'est pas un numéro de téléphone")
    if not phonenumbers.is_possible_number(parsed):
        return CallerNumber(
            raw, "invalid", reason=f"« {text} » n'a pas la longueur d'un numéro de téléphone"
        )
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if parsed.country_code == phonenumbers.country_code_for_region(region):
        shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    else:
        shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return CallerNumber(raw, "ok", e164=e164, national=shown)
