"""Whether the caller lets us show her number: read from what Asterisk says of the call.

Pure. Asterisk tells the presentation in three ways (see ../shared/asterisk/README.md,
"Withheld callers", and the captures' README): a number that is no number (``anonymous``,
empty...), the Q.931 code of ``NewCallerid``'s ``CID-CallingPres``, and the text of
``CALLERID(pres)`` (``allowed_not_screened``, ``prohib_not_screened``...) that only the dialplan
knows and says in its user events (``CtiCallerId``, ``CtiWaiting``'s ``Pres``) or that a resync
reads with ``Getvar``. A trunk with ``Privacy: id`` raises no event at all when it restricts
the presentation: only the dialplan's word or a ``Getvar`` tells it.
"""

from __future__ import annotations

_WITHHELD_NUMBERS = frozenset({"", "anonymous", "restricted", "private", "unavailable", "unknown"})

# Q.931 presentation indicator, bits 6-7 of the code: 0 allowed, 1 restricted, 2 unavailable.
_INDICATOR = 0x60
_RESTRICTED = 0x20


def number_withheld(number: str) -> bool:
    """A caller-ID number that is no number: nothing to show, whatever the presentation."""
    return number.lower() in _WITHHELD_NUMBERS


def code_withheld(code: int) -> bool:
    """``CID-CallingPres`` says restricted or unavailable."""
    return (code & _INDICATOR) != 0


def code_restricted(code: int) -> bool:
    """``CID-CallingPres`` says the caller restricted her presentation.

    Only this counts once the call is known: at the end of an attended transfer Asterisk
    clears the citizen's leg's caller ID ("67, Number Unavailable", recording 08), which is
    Asterisk's bookkeeping, not the caller's choice.
    """
    return (code & _INDICATOR) == _RESTRICTED


def text_withheld(pres: str) -> bool:
    """``CALLERID(pres)`` (``allowed...``, ``prohib...``, ``unavailable``): anything but an
    allowed presentation withholds the number."""
    return not pres.strip().lower().startswith("allowed")
