"""Finding a citizen the way an agent types her: a name in either order, a number, a case.

``search_key`` is what the directory stores beside each citizen (``search_name``: last name
then first names, lower case, accents removed) and what a search compares with.
``matching_citizens`` builds the SELECT of the citizens a query names, without running it:

* by name, in the order the agent says it: « Leroy » and « Leroy Mich » (the last name
  first, as stored, the end typed in part) and « Michel Leroy » (first names first, the
  last name maybe typed in part): each way of cutting the words into first names and last
  name is one ``LIKE 'prefix%'`` on the ``search_name`` index;
* by case reference, as printed (« EC-2026-00012 », any case and separators) or as keyed
  by a caller (« 1202600012 »): the case's owner.

Numbers are the directory's own index (``Directory.citizens_by_number``), tried first.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from sqlalchemy import Select, or_, select

from screenpop.case_keys import case_key
from screenpop.models import Case, Citizen

# Beyond this many words, a query is not a name: the first ones are kept.
MAX_WORDS = 6
# What a printed case reference looks like: letters, then digits and separators.
_REFERENCE = re.compile(r"^[A-Za-z]{1,6}[-_ /.]?[0-9][0-9 ./_-]*$")


def search_key(*names: str | None) -> str:
    """Lower case without accents: "Éloïse Lefèvre" and "eloise lefevre" compare equal."""
    return " ".join(_fold(n) for n in names if n).strip()


@functools.lru_cache(maxsize=65536)
def _fold(name: str) -> str:
    # A town has far fewer distinct names than citizens: an import folds each one once.
    if name.isascii():
        return name.lower().strip()
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_patterns(query: str) -> list[str]:
    """The ``LIKE`` patterns of ``query`` read as a name, in either order.

    "Leroy Mi" -> "leroy mi%"; "Michel Ler" also -> "ler% michel%" (the last word(s) are
    the last name, maybe cut short, the first ones the first names).
    """
    words = search_key(query).split()[:MAX_WORDS]
    if not words:
        return []
    patterns = [_escape(" ".join(words)) + "%"]
    for cut in range(1, len(words)):
        last, first = " ".join(words[cut:]), " ".join(words[:cut])
        patterns.append(f"{_escape(last)}% {_escape(first)}%")
    return patterns


def looks_like_case(query: str) -> bool:
    """A case reference as printed ("EC-2026-00012") or keyed by a caller ("1202600012")."""
    text = query.strip()
    return bool(_REFERENCE.match(text)) or text.rstrip("#").isdigit()


def matching_citizens(query: str, limit: int) -> Select[Any] | None:
    """The SELECT of the citizens ``query`` names (by case reference, else by name), or
    None when it names nobody (nothing but separators)."""
    if looks_like_case(query):
        text = query.strip().rstrip("#")
        key = case_key(text)
        by_case = [Case.reference == text.upper()]
        if key is not None:
            by_case.append(Case.dtmf_key == key)
        owners = select(Case.citizen_id).where(or_(*by_case))
        return (
            select(Citizen)
            .where(Citizen.id.in_(owners))
            .order_by(Citizen.search_name, Citizen.id)
            .limit(limit)
        )
    patterns = name_patterns(query)
    if not patterns:
        return None
    return (
        select(Citizen)
        .where(or_(*(Citizen.search_name.like(p, escape="\\") for p in patterns)))
        .order_by(Citizen.search_name, Citizen.id)
        .limit(limit)
    )
