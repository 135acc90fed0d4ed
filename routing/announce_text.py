"""What a waiting caller hears, in French words, and the wait as a person would say it.

Numbers are written out (« une minute », « vingt et une minutes », « troisième ») so that
speech synthesis says them right: espeak-ng reads « 1 minute » as « un minute ».

A wait is said the way a person at the desk would: under a minute, about N minutes up to
five, by steps of five minutes up to twenty, then « plus de vingt minutes ». What was said is
kept as a ``SpokenWait`` so its error can be measured against the wait that followed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

_UNITS = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze"
    " seize dix-sept dix-huit dix-neuf"
).split()
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
LONGEST_SAID_MIN = 20  # beyond: « plus de vingt minutes »


def cardinal(n: int, feminine: bool = False) -> str:
    """``n`` (0..999) in French words, « une » for a feminine noun (« vingt et une minutes »)."""
    if not 0 <= n <= 999:
        raise ValueError(f"{n} is outside 0..999")
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        head = "cent" if hundreds == 1 else f"{_UNITS[hundreds]} cent{'' if rest else 's'}"
        return head if not rest else f"{head} {cardinal(rest, feminine)}"
    one = "une" if feminine else "un"
    if n < 20:
        return one if n == 1 else _UNITS[n]
    if n < 70:
        tens, unit = divmod(n, 10)
        if unit == 0:
            return _TENS[tens]
        return f"{_TENS[tens]} et {one}" if unit == 1 else f"{_TENS[tens]}-{_UNITS[unit]}"
    if n < 80:
        return "soixante et onze" if n == 71 else f"soixante-{_UNITS[n - 60]}"
    if n == 80:
        return "quatre-vingts"
    return f"quatre-vingt-{one if n == 81 else _UNITS[n - 80]}"


def ordinal(n: int) -> str:
    """``n`` (1..999) as a French ordinal adjective: « premier », « deuxième », « vingt et
    unième », « quatre-vingtième »."""
    if n == 1:
        return "premier"
    words = cardinal(n)
    if words.endswith("quatre-vingts") or words.endswith("cents"):
        words = words[:-1]
    if words.endswith("cinq"):
        return words + "uième"
    if words.endswith("neuf"):
        return words[:-1] + "vième"
    if words.endswith("e"):
        return words[:-1] + "ième"
    return words + "ième"


class WaitKind(enum.Enum):
    UNDER = "under"  # « moins de N minute(s) »
    ABOUT = "about"  # « environ N minutes »
    OVER = "over"  # « plus de N minutes »


@dataclass(frozen=True, slots=True)
class SpokenWait:
    kind: WaitKind
    minutes: int

    def error_s(self, actual_s: float) -> float:
        """How far the wait that followed was from what was said (0 inside a bound said)."""
        bound = self.minutes * 60.0
        if self.kind is WaitKind.UNDER:
            return max(0.0, actual_s - bound)
        if self.kind is WaitKind.OVER:
            return max(0.0, bound - actual_s)
        return abs(actual_s - bound)

    @property
    def words(self) -> str:
        minutes = f"{cardinal(self.minutes, feminine=True)} minute{'s' if self.minutes > 1 else ''}"
        if self.kind is WaitKind.UNDER:
            return "moins d'une minute" if self.minutes == 1 else f"moins de {minutes}"
        if self.kind is WaitKind.OVER:
            return f"plus de {minutes}"
        return f"environ {minutes}"


def spoken_wait(seconds: float) -> SpokenWait:
    """The wait as a person says it (see the module's docstring)."""
    if seconds < 60:
        return SpokenWait(WaitKind.UNDER, 1)
    minutes = int(seconds / 60 + 0.5)
    if minutes <= 5:
        return SpokenWait(WaitKind.ABOUT, minutes)
    rounded = 5 * int(minutes / 5 + 0.5)
    if rounded <= LONGEST_SAID_MIN:
        return SpokenWait(WaitKind.ABOUT, rounded)
    return SpokenWait(WaitKind.OVER, LONGEST_SAID_MIN)


def announcement_text(position: int | None, wait: SpokenWait | None) -> str:
    """The sentence the caller hears; empty when there is nothing to say."""
    parts: list[str] = []
    if position is not None:
        if position == 1:
            parts.append("Votre appel est le prochain.")
        else:
            parts.append(f"Votre appel est en {ordinal(position)} position.")
    if wait is not None:
        parts.append(f"Votre attente est estimée à {wait.words}.")
    if not parts:
        return ""
    return " ".join([*parts, "Merci de patienter."])
