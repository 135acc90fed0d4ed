"""The differences of an « Et si… » comparison, said in French for the town hall's staff.

One sentence per service whose rounded figures change: « Le taux de service de l'État civil
passerait de 78 % à 84 %, l'attente moyenne de 1 min 05 s à 40 s. » Figures are rounded as
the page shows them (whole percents, whole seconds), so a sentence never announces a change
the table does not show. ``rows`` gives the page its table with the same
strings. The service's name comes with its article from a few plain rules
(« de l'Accueil », « du CCAS », « des Services techniques », else « du service « X » »).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping

from routing.what_if import Figures, ServiceComparison, WhatIf

_VOWELS = frozenset("aeiouyh")


def of_service(label: str) -> str:
    """« de l'État civil », « du CCAS », « des Écoles et périscolaire », « du service « X » »."""
    words = label.split()
    if not words:
        return "du service"
    first = words[0]
    if first.isupper() and len(first) > 1:
        return f"du {label}"
    if first.lower().endswith(("s", "x")) and len(first) > 3:
        return f"des {label}"
    bare = unicodedata.normalize("NFD", first[0]).encode("ascii", "ignore").decode().lower()
    if bare and bare in _VOWELS:
        return f"de l'{label}"
    return f"du service « {label} »"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value)} %"


def duration(seconds: float) -> str:
    """« 40 s », « 1 min 05 s », « 2 min »."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min" if rest == 0 else f"{minutes} min {rest:02d} s"


def _count(pct: float, n: int) -> str:
    return f"{percent(pct)} ({n})"


# (row label on the page, its name in a sentence, the figure as shown)
_SHOWN: tuple[tuple[str, str | None, Callable[[Figures], str]], ...] = (
    ("Appels", None, lambda f: str(f.calls)),
    ("Taux de service", "le taux de service", lambda f: percent(f.sl_pct)),
    ("Objectif", None, lambda f: f"{percent(f.sl_target_pct)} en {duration(f.sl_threshold_s)}"),
    ("Attente moyenne", "l'attente moyenne", lambda f: duration(f.avg_wait_s)),
    ("Attente à 90 %", "l'attente à 90 %", lambda f: duration(f.p90_wait_s)),
    ("Abandons", "les abandons", lambda f: _count(f.abandon_pct, f.abandoned)),
    ("Débordements", "les débordements", lambda f: _count(f.overflow_pct, f.overflowed)),
)


def rows(service: ServiceComparison) -> list[tuple[str, str, str]]:
    """The service's table as the page shows it: (what, in force, draft)."""
    return [(label, shown(service.current), shown(service.draft)) for label, _, shown in _SHOWN]


def _changes(before: Figures, after: Figures) -> list[tuple[str, str, str]]:
    pairs = [(name, shown(before), shown(after)) for _, name, shown in _SHOWN if name]
    return [(what, a, b) for what, a, b in pairs if a != b]


def service_sentence(service: ServiceComparison) -> str | None:
    """What changes for one service, or None when its shown figures stay the same."""
    changes = _changes(service.current, service.draft)
    if not changes:
        return None
    (what, a, b), rest = changes[0], changes[1:]
    head = f"{what[0].upper()}{what[1:]} {of_service(service.label)} passerait de {a} à {b}"
    tail = "".join(f", {w} de {x} à {y}" for w, x, y in rest)
    objective = ""
    if service.current.sl_threshold_s != service.draft.sl_threshold_s or (
        service.current.sl_target_pct != service.draft.sl_target_pct
    ):
        objective = (
            f" (objectif passé de {percent(service.current.sl_target_pct)} en"
            f" {duration(service.current.sl_threshold_s)} à"
            f" {percent(service.draft.sl_target_pct)} en {duration(service.draft.sl_threshold_s)})"
        )
    return f"{head}{tail}{objective}."


def summary(result: WhatIf) -> list[str]:
    """The sentences to show above the tables, the most telling first."""
    sentences = [s for s in (service_sentence(c) for c in result.services) if s is not None]
    if not sentences:
        return [
            "Aucune différence : sur ces appels, le brouillon donne les mêmes résultats que "
            "la configuration en vigueur."
        ]
    return sentences


def notes(result: WhatIf, names: Mapping[str, str]) -> list[str]:
    """What the reader must know about how the calls were replayed (``names``: the agents')."""
    said = [
        f"{result.calls} appel{'s' if result.calls > 1 else ''} enregistré"
        f"{'s' if result.calls > 1 else ''} sur {result.days} jour{'s' if result.days > 1 else ''}"
        ", rejoués avec chacune des deux configurations."
    ]
    for agent in result.added_agents:
        said.append(
            f"{names.get(agent, agent)} (poste {agent}), nouvel agent du brouillon, est "
            "compté présent chaque jour, du premier au dernier appel."
        )
    if result.left_out:
        said.append(
            f"{result.left_out} appel{'s' if result.left_out > 1 else ''} d'un service absent "
            "de l'une des deux configurations ne sont pas rejoués."
        )
    return said
