"""One line of a cases (dossiers) CSV checked and made ready for the directory, or refused.

Pure: text in, a ``CaseRow`` or a ``CsvRowError`` (line, column, reason in French) out. A
status is one of the card's (``screenpop.card.CASE_STATUS_LABELS``), given as its code
(``en_cours``) or its label (« En cours d'instruction »): the card, the voice menu and the
routing read it. Dates are ``2026-11-23``, ``2026-11-23 14:05`` (ISO, an offset allowed) or
``23/11/2026`` [``14:05``]; without an offset they are Paris time, and are kept in UTC. Texts
are bounded, hold no invisible characters and do not start like a spreadsheet formula.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from screenpop.card import CASE_STATUS_LABELS
from screenpop.case_keys import case_key
from screenpop.errors import CsvRowError
from screenpop.text_rules import formula_refusal, refusal

COLUMNS = (
    "reference",
    "citizen_external_ref",
    "service",
    "subject",
    "status",
    "owner_agent",
    "opened_at",
    "updated_at",
    "closed_at",
)
REQUIRED = ("reference", "citizen_external_ref", "service", "subject", "status", "opened_at")
CLOSED = "clos"
PARIS = ZoneInfo("Europe/Paris")
_STATUSES = {code: code for code in CASE_STATUS_LABELS} | {
    label.lower(): code for code, label in CASE_STATUS_LABELS.items()
}
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_EXTENSION = re.compile(r"^[0-9]{2,8}$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_LIMITS = {"reference": 40, "citizen_external_ref": 64, "subject": 200}


@dataclass(frozen=True, slots=True)
class CaseRow:
    line: int
    reference: str
    dtmf_key: str | None
    citizen_ref: str
    service: str
    subject: str
    status: str
    owner_agent: str | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @property
    def status_since(self) -> datetime:
        """When the case took its status, as far as the file tells."""
        if self.status == CLOSED and self.closed_at is not None:
            return self.closed_at
        return self.updated_at


def parse_date(text: str) -> datetime:
    """Raises ``ValueError`` when ``text`` is none of the accepted forms."""
    french = _FRENCH_DATE.match(text)
    if french is not None:
        day, month, year, hour, minute, second = french.groups()
        value = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    else:
        value = datetime.fromisoformat(text)
    # Stored in UTC like every date of the directory (SQLite keeps no offset).
    return (value if value.tzinfo is not None else value.replace(tzinfo=PARIS)).astimezone(UTC)


def _date(line: int, column: str, text: str) -> datetime:
    try:
        return parse_date(text)
    except ValueError:
        raise CsvRowError(
            line, column, f"date « {text} » illisible (2026-11-23, 23/11/2026 ou 23/11/2026 14:05)"
        ) from None


def parse_row(line: int, raw: Mapping[str, str | None]) -> CaseRow:
    """Raises ``CsvRowError`` naming the first column that is wrong."""
    values = {column: (raw.get(column) or "").strip() for column in COLUMNS}
    for column in REQUIRED:
        if not values[column]:
            raise CsvRowError(line, column, "valeur obligatoire manquante")
    for column, limit in _LIMITS.items():
        why = refusal(values[column], limit=limit) or formula_refusal(values[column])
        if why is not None:
            raise CsvRowError(line, column, why)
    service = values["service"]
    if not _SERVICE.match(service):
        raise CsvRowError(
            line, "service", f"service « {service} » : minuscules, chiffres, - ou _ (etat-civil)"
        )
    status = _STATUSES.get(values["status"].lower())
    if status is None:
        known = ", ".join(CASE_STATUS_LABELS)
        raise CsvRowError(line, "status", f"statut « {values['status']} » inconnu ({known})")
    owner = values["owner_agent"] or None
    if owner is not None and not _EXTENSION.match(owner):
        raise CsvRowError(line, "owner_agent", f"poste « {owner} » : 2 à 8 chiffres attendus")
    opened = _date(line, "opened_at", values["opened_at"])
    updated = _date(line, "updated_at", values["updated_at"]) if values["updated_at"] else opened
    if updated < opened:
        raise CsvRowError(line, "updated_at", "antérieure à l'ouverture du dossier (opened_at)")
    closed = _date(line, "closed_at", values["closed_at"]) if values["closed_at"] else None
    if closed is not None:
        if status != CLOSED:
            raise CsvRowError(
                line, "closed_at", f"date de clôture d'un dossier au statut « {status} » (clos ?)"
            )
        if closed < opened:
            raise CsvRowError(line, "closed_at", "antérieure à l'ouverture du dossier (opened_at)")
    reference = values["reference"]
    return CaseRow(
        line=line,
        reference=reference,
        dtmf_key=case_key(reference),
        citizen_ref=values["citizen_external_ref"],
        service=service,
        subject=values["subject"],
        status=status,
        owner_agent=owner,
        opened_at=opened,
        updated_at=updated,
        closed_at=closed,
    )
