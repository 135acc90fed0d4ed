"""Refusals a form shows beside each field, in French.

A page sends a whole form; what the server refuses comes back as 422 (or 409) with ``detail``
(one French sentence, as every other refusal) and ``fields``: the dotted path of each field at
fault (``services.accueil.sl_target_pct``, as the JSON sent) and what is wrong with it, in
words an administrator reads. ``french_fields`` turns pydantic's failures into those words;
our own validators' English messages (``routing.config``) are reworded by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError


class FieldErrors(Exception):
    """A form refused: ``message`` for the whole form, ``fields`` path -> French reason."""

    def __init__(self, status: int, message: str, fields: Mapping[str, str]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = dict(fields)


async def _answer(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldErrors)
    return JSONResponse({"detail": exc.message, "fields": exc.fields}, status_code=exc.status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(FieldErrors, _answer)


_TYPES: dict[str, str] = {
    "missing": "à renseigner",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "string_type": "texte attendu",
    "bool_parsing": "oui ou non attendu",
    "bool_type": "oui ou non attendu",
    "date_parsing": "date attendue (jj/mm/aaaa)",
    "date_from_datetime_parsing": "date attendue (jj/mm/aaaa)",
    "date_type": "date attendue (jj/mm/aaaa)",
    "extra_forbidden": "champ inconnu",
    "dict_type": "liste attendue",
    "list_type": "liste attendue",
    "set_type": "liste attendue",
}

# Messages of routing.config's own validators, reworded (pattern -> French, group names kept).
_OWN: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"skill '(?P<skill>[^']*)': proficiency (?P<level>-?\d+) is outside 1\.\.5"),
        "niveau {level} impossible pour « {skill} » : de 1 (notions) à 5 (expert)",
    ),
    (
        re.compile(r"overflow to a service needs a target service name"),
        "choisissez le service qui reçoit les appels en trop",
    ),
    (
        re.compile(r"a relaxation step needs min_proficiency or extra_skills"),
        "une étape doit baisser le niveau demandé ou ajouter une compétence",
    ),
    (
        re.compile(r"repeat at most every 30 seconds \(0: not repeated\)"),
        "au plus toutes les 30 secondes (0 : pas de répétition)",
    ),
    (
        re.compile(r"an announcement says the position, the wait, or both"),
        "une annonce donne le rang, l'attente, ou les deux",
    ),
]
# Whole-configuration checks name their place in the message: moved onto that field.
_PLACED: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(r"^service '(?P<s>[^']*)', (?P<where>[\w\[\]\.]+): unknown skill '(?P<k>.*)'$"),
        "services.{s}.{where}",
        "compétence inconnue « {k} » : déclarez-la d'abord",
    ),
    (
        re.compile(r"^agent '(?P<a>[^']*)', skills: unknown skill '(?P<k>.*)'$"),
        "agents.{a}.skills",
        "compétence inconnue « {k} » : déclarez-la d'abord",
    ),
    (
        re.compile(r"^service '(?P<s>[^']*)', overflow: unknown target service '(?P<t>.*)'$"),
        "services.{s}.overflow.target",
        "service inconnu « {t} »",
    ),
    (
        re.compile(r"^service '(?P<s>[^']*)', overflow: cycle (?P<c>.*)$"),
        "services.{s}.overflow.target",
        "débordement en boucle : {c}",
    ),
]


def _number(value: Any) -> str:
    """100.0 -> "100", 0.5 -> "0,5": as a French form writes it."""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _limits(kind: str, ctx: Mapping[str, Any]) -> str | None:
    if kind == "greater_than":
        return f"doit être supérieur à {_number(ctx['gt'])}"
    if kind == "greater_than_equal":
        return f"doit valoir au moins {_number(ctx['ge'])}"
    if kind == "less_than":
        return f"doit être inférieur à {_number(ctx['lt'])}"
    if kind == "less_than_equal":
        return f"doit valoir au plus {_number(ctx['le'])}"
    if kind == "too_short":
        return "ne peut pas être vide" if ctx.get("min_length") == 1 else "trop peu d'éléments"
    if kind == "string_too_short":
        return f"au moins {ctx['min_length']} caractère(s)"
    if kind == "string_too_long":
        return f"au plus {ctx['max_length']} caractères"
    if kind == "literal_error":
        return f"valeur non prévue (possibles : {ctx.get('expected', '')})"
    return None


def french(error: Mapping[str, Any]) -> tuple[str, str]:
    """One pydantic failure as (dotted path, French reason)."""
    path = ".".join(str(part) for part in error["loc"])
    kind = str(error["type"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _TYPES:
        return path, _TYPES[kind]
    said = _limits(kind, ctx)
    if said is not None:
        return path, said
    message = str(error["msg"]).removeprefix("Value error, ")
    for pattern, placed_path, words in _PLACED:
        found = pattern.match(message)
        if found:
            groups = found.groupdict()
            if "c" in groups:
                groups["c"] = groups["c"].replace(" -> ", " → ")
            where = groups.get("where", "").replace("[", ".").replace("]", "")
            return placed_path.format(**{**groups, "where": where}), words.format(**groups)
    for pattern, words in _OWN:
        found = pattern.search(message)
        if found:
            return path, words.format(**found.groupdict())
    return path, message


def french_fields(exc: ValidationError, prefix: Iterable[str] = ()) -> dict[str, str]:
    """Every failure of ``exc`` by dotted path (under ``prefix``), the first per field."""
    head = ".".join(prefix)
    fields: dict[str, str] = {}
    for error in exc.errors():
        path, reason = french(error)
        key = ".".join(part for part in (head, path) if part)
        fields.setdefault(key, reason)
    return fields
