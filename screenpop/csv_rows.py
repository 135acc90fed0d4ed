"""One line of a citizens CSV checked and made ready for the directory, or refused with why.

Pure: text in, a ``CitizenRow`` or a ``CsvRowError`` (line, column, reason in French) out:
texts longer than their column or holding invisible control or bidi characters are refused
(``screenpop.text_rules``), and so are texts that start like a spreadsheet formula. The
importer writes what passes and lists what does not; one bad line never stops the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from screenpop.directory import search_key
from screenpop.errors import CsvRowError
from screenpop.phones import normalise
from screenpop.text_rules import CITIZEN_LIMITS, formula_refusal, refusal

COLUMNS = (
    "external_ref",
    "civility",
    "last_name",
    "first_name",
    "phone",
    "phone2",
    "address",
    "postal_code",
    "city",
    "email",
    "language",
)
REQUIRED = ("external_ref", "last_name")
_CIVILITIES = {
    "": None,
    "mme": "madame",
    "madame": "madame",
    "mlle": "madame",
    "m": "monsieur",
    "m.": "monsieur",
    "mr": "monsieur",
    "monsieur": "monsieur",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True, slots=True)
class CitizenRow:
    line: int
    external_ref: str
    civility: str | None
    last_name: str
    first_name: str | None
    search_name: str
    phones: tuple[str, ...]
    address: str | None
    postal_code: str | None
    city: str | None
    email: str | None
    language: str

    def citizen_values(self) -> dict[str, object]:
        return {
            "external_ref": self.external_ref,
            "civility": self.civility,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "search_name": self.search_name,
            "address": self.address,
            "postal_code": self.postal_code,
            "city": self.city,
            "email": self.email,
            "language": self.language,
        }


# What a file's header must name (a line may leave ``phone`` empty, the column must be there).
REQUIRED_COLUMNS = (*REQUIRED, "phone")


def parse_row(line: int, raw: Mapping[str, str | None]) -> CitizenRow:
    """Raises ``CsvRowError`` naming the first column that is wrong."""

    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    for column, limit in CITIZEN_LIMITS.items():
        why = refusal(values[column], limit=limit) or formula_refusal(values[column])
        if why is not None:
            raise CsvRowError(line, column, why)
    for column in REQUIRED:
        if not values[column]:
            raise CsvRowError(line, column, "valeur obligatoire manquante")
    civility_text = values["civility"].lower()
    if civility_text not in _CIVILITIES:
        raise CsvRowError(
            line, "civility", f"civilité « {values['civility']} » inconnue (Mme, M., vide)"
        )
    phones: list[str] = []
    for column in ("phone", "phone2"):
        if not values[column]:
            continue
        number = normalise(values[column])
        if number.e164 is None:
            raise CsvRowError(line, column, number.reason or "numéro illisible")
        if number.e164 not in phones:
            phones.append(number.e164)
    email = values["email"] or None
    if email is not None and not _EMAIL.match(email):
        raise CsvRowError(line, "email", f"adresse électronique « {email} » invalide")
    language = values["language"].lower() or "fr"
    if not _LANGUAGE.match(language):
        raise CsvRowError(line, "language", f"langue « {language} » : deux lettres attendues (fr)")
    last, first = values["last_name"], values["first_name"] or None
    return CitizenRow(
        line=line,
        external_ref=values["external_ref"],
        civility=_CIVILITIES[civility_text],
        last_name=last,
        first_name=first,
        search_name=search_key(last, first),
        phones=tuple(phones),
        address=values["address"] or None,
        postal_code=values["postal_code"] or None,
        city=values["city"] or None,
        email=email,
        language=language,
    )
