"""The citizen directory as the rest of the product sees it: plain views, one transaction each.

``Directory`` hides SQLAlchemy: each method opens a session, does its work in one transaction
and returns frozen views (no lazy loading behind the caller's back). The hot path is
``citizens_by_number``: one query on the ``phone_numbers.e164`` index joined to the citizens
and to all their numbers, whatever the size of the household, read without the ORM.
The write side (calls' records, notes, audit trail) is ``screenpop.directory_writes``,
which ``Directory`` extends with the reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased, selectinload

from cti.db import Database
from screenpop.case_keys import is_key
from screenpop.directory_writes import (
    AuditRecord,
    DirectoryWrites,
    InteractionUpdate,
    NoteView,
    note_view,
    utc,
)
from screenpop.models import AuditEntry, Case, Citizen, Interaction, InteractionNote, PhoneNumber
from screenpop.phones import normalise
from screenpop.search import matching_citizens, search_key

# The write side's types, where the rest of the product has always found them.
__all__ = [
    "AuditRecord",
    "CaseView",
    "CitizenView",
    "Directory",
    "InteractionUpdate",
    "InteractionView",
    "NoteView",
    "citizen_view",
    "search_key",
]


@dataclass(frozen=True, slots=True)
class CitizenView:
    id: int
    civility: str | None
    last_name: str
    first_name: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    email: str | None
    language: str
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseView:
    reference: str
    service: str
    subject: str
    status: str
    owner_agent: str | None
    opened_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InteractionView:
    call_id: str
    started_at: datetime
    caller_e164: str | None
    service: str | None
    agents: tuple[str, ...]
    outcome: str
    disposition: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    ivr_path: tuple[str, ...]
    notes: tuple[NoteView, ...]


def citizen_view(citizen: Citizen) -> CitizenView:
    return CitizenView(
        id=citizen.id,
        civility=citizen.civility,
        last_name=citizen.last_name,
        first_name=citizen.first_name,
        address=citizen.address,
        postal_code=citizen.postal_code,
        city=citizen.city,
        email=citizen.email,
        language=citizen.language,
        phones=tuple(p.e164 for p in citizen.phones),
    )


def _case_view(case: Case) -> CaseView:
    return CaseView(
        reference=case.reference,
        service=case.service,
        subject=case.subject,
        status=case.status,
        owner_agent=case.owner_agent,
        opened_at=utc(case.opened_at),
        updated_at=utc(case.updated_at),
    )


def _interaction_view(row: Interaction) -> InteractionView:
    return InteractionView(
        call_id=row.call_id,
        started_at=utc(row.started_at),
        caller_e164=row.caller_e164,
        service=row.service,
        agents=tuple(row.agents or ()),
        outcome=row.outcome,
        disposition=row.disposition,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        ivr_path=tuple(row.ivr_path or ()),
        notes=tuple(note_view(n) for n in row.notes),
    )


_OWN = aliased(PhoneNumber)
_BY_NUMBER = (
    select(
        Citizen.id,
        Citizen.civility,
        Citizen.last_name,
        Citizen.first_name,
        Citizen.address,
        Citizen.postal_code,
        Citizen.city,
        Citizen.email,
        Citizen.language,
        _OWN.e164,
    )
    .select_from(PhoneNumber)
    .join(Citizen, Citizen.id == PhoneNumber.citizen_id)
    .join(_OWN, _OWN.citizen_id == Citizen.id)
    .where(PhoneNumber.e164 == bindparam("e164"))
    .order_by(Citizen.last_name, Citizen.first_name, Citizen.id, _OWN.id)
)


# The card's history of a citizen, read with plain statements (no ORM objects): every call
# from a known number runs these.
_OPEN_CASES = (
    select(
        Case.reference,
        Case.service,
        Case.subject,
        Case.status,
        Case.owner_agent,
        Case.opened_at,
        Case.updated_at,
    )
    .where(Case.citizen_id == bindparam("citizen"), Case.status != "clos")
    .order_by(Case.updated_at.desc(), Case.id.desc())
)
_RECENT_CALLS = (
    select(
        Interaction.id,
        Interaction.call_id,
        Interaction.started_at,
        Interaction.caller_e164,
        Interaction.service,
        Interaction.agents,
        Interaction.outcome,
        Interaction.disposition,
        Interaction.wait_seconds,
        Interaction.talk_seconds,
        Interaction.ivr_path,
    )
    .where(Interaction.citizen_id == bindparam("citizen"))
    .order_by(Interaction.started_at.desc(), Interaction.id.desc())
    .limit(bindparam("limit"))
)
_RECENT = _RECENT_CALLS.subquery("recent")
_RECENT_WITH_NOTES = (
    select(_RECENT, InteractionNote.agent, InteractionNote.text, InteractionNote.at)
    .outerjoin(InteractionNote, InteractionNote.interaction_id == _RECENT.c.id)
    .order_by(_RECENT.c.started_at.desc(), _RECENT.c.id.desc(), InteractionNote.id)
)


@dataclass(frozen=True)
class _Read:
    """A SELECT compiled once for the database's driver, sent on the thread's reader."""

    sql: str
    defaults: dict[str, Any]  # the statement's own literals ("clos")
    order: tuple[str, ...] | None  # parameter names in order (positional drivers)

    @classmethod
    def of(cls, statement: Any, db: Database) -> _Read:
        compiled = statement.compile(dialect=db.engine.dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(str(compiled), dict(compiled.params), order)

    def params(self, **values: Any) -> Any:
        if self.defaults:
            values = {**self.defaults, **values}
        return tuple(values[name] for name in self.order) if self.order is not None else values


def _moment(value: datetime | str) -> datetime:
    # The driver's own types: SQLite gives the text SQLAlchemy wrote, PostgreSQL a datetime.
    return utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _names(value: list[str] | str | None) -> tuple[str, ...]:
    # A JSON list: text from SQLite, already decoded by PostgreSQL's driver.
    return tuple(json.loads(value) if isinstance(value, str) else value or ())


class Directory(DirectoryWrites):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._by_number = _Read.of(_BY_NUMBER, db)
        self._open_cases = _Read.of(_OPEN_CASES, db)
        self._recent = _Read.of(_RECENT_WITH_NOTES, db)

    def _fetch(self, read: _Read, **values: Any) -> list[Any]:
        """Rows of ``read``, on the thread's own driver connection in autocommit
        (``Database.reader``: a lone SELECT is its own transaction), without the ORM: the
        card's reads run for every incoming call."""
        params = read.params(**values)
        driver_error = self.db.engine.dialect.loaded_dbapi.Error
        try:
            cursor = self.db.reader().cursor()
            try:
                cursor.execute(read.sql, params)
                rows: list[Any] = cursor.fetchall()
            finally:
                cursor.close()
        except driver_error as exc:  # the same exceptions as through SQLAlchemy
            self.db.drop_reader()  # a broken link (server restarted) is not used again
            raise DBAPIError.instance(read.sql, params, exc, driver_error) from exc
        return rows

    # -- citizens -------------------------------------------------------------------------

    def citizens_by_number(self, e164: str) -> list[CitizenView]:
        """Everyone with this number (a household shares a landline), with all their numbers.

        One query on the ``phone_numbers.e164`` index, joined to the citizens and all their
        numbers.
        """
        rows = self._fetch(self._by_number, e164=e164)
        # Rows come sorted by citizen: one per (citizen, own number).
        views: list[CitizenView] = []
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or rows[end][0] != rows[start][0]:
                first = rows[start]
                numbers = tuple(row[9] for row in rows[start:end])
                views.append(CitizenView(*first[:9], phones=numbers))  # type: ignore[misc]
                start = end
        return views

    def citizen(self, citizen_id: int) -> CitizenView | None:
        with self.db.session() as session, session.begin():
            row = session.get(Citizen, citizen_id, options=[selectinload(Citizen.phones)])
            return citizen_view(row) if row is not None else None

    def search(self, query: str, limit: int = 20) -> list[CitizenView]:
        """By a phone number in any format, a case reference, or a name in either order
        (``screenpop.search``)."""
        number = normalise(query)
        if number.e164 is not None:
            found = self.citizens_by_number(number.e164)[:limit]
            if found:
                return found
        statement = matching_citizens(query, limit)
        if statement is None:
            return []
        with self.db.session() as session, session.begin():
            rows = session.scalars(statement.options(selectinload(Citizen.phones)))
            return [citizen_view(c) for c in rows]

    def create_citizen(
        self,
        civility: str | None,
        last_name: str,
        first_name: str | None,
        phone_e164: str | None,
        **fields: Any,
    ) -> CitizenView:
        with self.db.session() as session, session.begin():
            citizen = Citizen(
                civility=civility,
                last_name=last_name,
                first_name=first_name,
                search_name=search_key(last_name, first_name),
                **{k: v for k, v in fields.items() if v is not None},
            )
            if phone_e164:
                citizen.phones.append(PhoneNumber(e164=phone_e164))
            session.add(citizen)
            session.flush()
            return citizen_view(citizen)

    # -- cases ----------------------------------------------------------------------------

    def open_cases(self, citizen_id: int) -> list[CaseView]:
        return [
            CaseView(
                reference=reference,
                service=service,
                subject=subject,
                status=status,
                owner_agent=owner,
                opened_at=_moment(opened),
                updated_at=_moment(updated),
            )
            for reference, service, subject, status, owner, opened, updated in self._fetch(
                self._open_cases, citizen=citizen_id
            )
        ]

    def case_status(self, reference: str) -> CaseView | None:
        """For the voice menu's "où en est mon dossier": the case by its reference, or by the
        digits a caller keys for it (``screenpop.case_keys``: "1202600012" for EC-2026-00012)."""
        if is_key(reference):
            where = Case.dtmf_key == reference.strip().rstrip("#")
        else:
            where = Case.reference == reference.strip().upper()
        with self.db.session() as session, session.begin():
            row = session.scalar(select(Case).where(where))
            return _case_view(row) if row is not None else None

    # -- calls ----------------------------------------------------------------------------

    def recent_interactions(self, citizen_id: int, limit: int = 5) -> list[InteractionView]:
        """The last ``limit`` calls of a citizen, newest first, each with its notes."""
        rows = self._fetch(self._recent, citizen=citizen_id, limit=limit)
        calls: dict[int, tuple[Any, list[NoteView]]] = {}  # in the rows' order
        for row in rows:
            call = calls.setdefault(row[0], (row, []))
            if row[11] is not None:  # a note (the outer join gives None without one)
                call[1].append(NoteView(agent=row[11], text=row[12], at=_moment(row[13])))
        return [
            InteractionView(
                call_id=row[1],
                started_at=_moment(row[2]),
                caller_e164=row[3],
                service=row[4],
                agents=_names(row[5]),
                outcome=row[6],
                disposition=row[7],
                wait_seconds=row[8],
                talk_seconds=row[9],
                ivr_path=_names(row[10]),
                notes=tuple(notes),
            )
            for row, notes in calls.values()
        ]

    def history(self, citizen_id: int, recent: int) -> tuple[list[CaseView], list[InteractionView]]:
        """A citizen's open cases and ``recent`` last calls with their notes, for her card."""
        return self.open_cases(citizen_id), self.recent_interactions(citizen_id, recent)

    def interaction(self, call_id: str) -> InteractionView | None:
        with self.db.session() as session, session.begin():
            row = session.scalar(
                select(Interaction)
                .where(Interaction.call_id == call_id)
                .options(selectinload(Interaction.notes))
            )
            return _interaction_view(row) if row is not None else None

    def audit_count(self, action: str | None = None) -> int:
        with self.db.session() as session, session.begin():
            query = select(func.count(AuditEntry.id))
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return session.scalar(query) or 0
