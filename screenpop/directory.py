"""The citizen directory as the rest of the product sees it: plain views, one transaction each.

``Directory`` hides SQLAlchemy: each method opens a session, does its work in one transaction
and returns frozen views (no lazy loading behind the caller's back). The hot path is
``citizens_by_number``: one query on the ``phone_numbers.e164`` index joined to the citizens
and to all their numbers, whatever the size of the household, read without the ORM.
Writes to a call's record create it if needed with INSERT .. ON CONFLICT DO NOTHING, so that
two threads reporting the same call never make two; ``save_interactions`` writes many calls'
changes in one transaction (the screen pop's bulk path).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, selectinload

from cti.db import Database
from screenpop.case_keys import is_key
from screenpop.errors import CitizenNotFound
from screenpop.models import AuditEntry, Case, Citizen, Interaction, InteractionNote, PhoneNumber
from screenpop.phones import normalise


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
class NoteView:
    agent: str
    text: str
    at: datetime


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


_INTERACTION_FIELDS = frozenset(
    {
        "started_at",
        "caller_raw",
        "caller_e164",
        "caller_withheld",
        "citizen_id",
        "did",
        "ivr_path",
        "service",
        "wait_seconds",
        "talk_seconds",
        "duration_seconds",
        "outcome",
        "disposition",
    }
)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who did what, about which citizen: one line of the audit trail."""

    username: str
    action: str
    citizen_id: int | None = None
    detail: str = ""


@dataclass(slots=True)
class InteractionUpdate:
    """What the database must learn about one call: the fields to set (``None`` leaves a
    field as it is) and the agents it was offered to, in order, each once."""

    call_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)

    def add(self, add_agent: str | None = None, **fields: Any) -> None:
        """Merge a later change in: its fields win, its agent joins the list."""
        unknown = set(fields) - _INTERACTION_FIELDS
        if unknown:
            raise TypeError(f"unknown interaction fields: {sorted(unknown)}")
        self.fields.update((name, value) for name, value in fields.items() if value is not None)
        if add_agent and add_agent not in self.agents:
            self.agents.append(add_agent)


SAVE_SLICE = 8  # calls per statement in save_interactions
_UPDATED = tuple(f"new_{name}" for name in sorted(_INTERACTION_FIELDS | {"agents"}))


def _unchanged_if_null(name: str) -> Any:
    column = Interaction.__table__.c[name]
    # JSON's None is the JSON null by default: here it must be SQL NULL, "no change".
    kind = JSON(none_as_null=True) if isinstance(column.type, JSON) else column.type
    return func.coalesce(bindparam(f"new_{name}", type_=kind), column)


# One statement for any change: a column given NULL keeps its value (None means "unchanged").
_UPDATE_RECORD = (
    update(Interaction)
    .where(Interaction.call_id == bindparam("the_call"))
    .values({name: _unchanged_if_null(name) for name in sorted(_INTERACTION_FIELDS | {"agents"})})
)


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


def _utc(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything we store is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
        opened_at=_utc(case.opened_at),
        updated_at=_utc(case.updated_at),
    )


def _note_view(note: InteractionNote) -> NoteView:
    return NoteView(agent=note.agent, text=note.text, at=_utc(note.at))


def _interaction_view(row: Interaction) -> InteractionView:
    return InteractionView(
        call_id=row.call_id,
        started_at=_utc(row.started_at),
        caller_e164=row.caller_e164,
        service=row.service,
        agents=tuple(row.agents or ()),
        outcome=row.outcome,
        disposition=row.disposition,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        ivr_path=tuple(row.ivr_path or ()),
        notes=tuple(_note_view(n) for n in row.notes),
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
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _names(value: list[str] | str | None) -> tuple[str, ...]:
    # A JSON list: text from SQLite, already decoded by PostgreSQL's driver.
    return tuple(json.loads(value) if isinstance(value, str) else value or ())


class Directory:
    def __init__(self, db: Database) -> None:
        self.db = db
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
        """By a phone number in any format, else by the start of a last or full name."""
        number = normalise(query)
        if number.e164 is not None:
            return self.citizens_by_number(number.e164)[:limit]
        key = search_key(query)
        if not key:
            return []
        with self.db.session() as session, session.begin():
            rows = session.scalars(
                select(Citizen)
                .where(Citizen.search_name.like(f"{_escape(key)}%", escape="\\"))
                .options(selectinload(Citizen.phones))
                .order_by(Citizen.search_name, Citizen.id)
                .limit(limit)
            )
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

    def upsert_interaction(
        self, call_id: str, *, add_agent: str | None = None, **fields: Any
    ) -> None:
        """Create the record of ``call_id`` or update the given fields; ``add_agent`` appends
        an agent who was offered the call (each agent once)."""
        change = InteractionUpdate(call_id)
        change.add(add_agent, **fields)
        self.save_interactions([change])

    def save_interactions(self, changes: Sequence[InteractionUpdate]) -> None:
        """Create or update the records of several calls in one transaction.

        Per slice of ``SAVE_SLICE`` calls, three statements: one INSERT .. ON CONFLICT DO
        NOTHING (two threads reporting the same call cannot both create it, and on SQLite it
        takes the write lock before anything is read), the agents lists read back locked
        (when some call was offered), one UPDATE where each column keeps its value unless the
        change gives one. The screen pop writes its calls this way, in bulk. Slices, because
        preparing a statement's rows is Python holding the GIL: short stretches let the event
        loop's thread in between.
        """
        if not changes:
            return
        with self.db.engine.begin() as conn:
            for start in range(0, len(changes), SAVE_SLICE):
                self._save_slice(conn, changes[start : start + SAVE_SLICE])

    def _save_slice(self, conn: Connection, changes: Sequence[InteractionUpdate]) -> None:
        conn.execute(self._create_records, [{"call_id": c.call_id} for c in changes])
        offered = {c.call_id: c.agents for c in changes if c.agents}
        agents: dict[str, list[str]] = {}
        if offered:
            stored = conn.execute(
                select(Interaction.call_id, Interaction.agents)
                .where(Interaction.call_id.in_(offered))
                .with_for_update()
            )
            for call_id, known in stored:
                known = list(known or [])
                agents[call_id] = known + [a for a in offered[call_id] if a not in known]
        rows = []
        for change in changes:
            row: dict[str, Any] = dict.fromkeys(_UPDATED, None)
            row.update((f"new_{name}", value) for name, value in change.fields.items())
            row["new_agents"] = agents.get(change.call_id)
            row["the_call"] = change.call_id
            rows.append(row)
        conn.execute(_UPDATE_RECORD, rows)

    @functools.cached_property
    def _create_records(self) -> Any:
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        return (
            insert(Interaction)
            .values(call_id=bindparam("call_id"), ivr_path=[], agents=[], caller_withheld=False)
            .on_conflict_do_nothing(index_elements=["call_id"])
        )

    def _interaction_row(self, session: Session, call_id: str) -> Interaction:
        """The row of ``call_id``, created if needed, locked for this transaction."""
        session.execute(self._create_records, {"call_id": call_id})
        row = session.scalars(
            select(Interaction)
            .where(Interaction.call_id == call_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        return row

    def add_note(self, call_id: str, agent: str, text: str, at: datetime | None = None) -> NoteView:
        with self.db.session() as session, session.begin():
            row = self._interaction_row(session, call_id)
            session.flush()
            note = InteractionNote(
                interaction_id=row.id, agent=agent, text=text, at=at or datetime.now(UTC)
            )
            session.add(note)
            session.flush()
            return _note_view(note)

    def set_disposition(self, call_id: str, disposition: str) -> None:
        self.upsert_interaction(call_id, disposition=disposition)

    def attach_citizen(self, call_id: str, citizen_id: int) -> None:
        with self.db.session() as session, session.begin():
            if session.get(Citizen, citizen_id) is None:
                raise CitizenNotFound(citizen_id)
            self._interaction_row(session, call_id).citizen_id = citizen_id

    def forget_caller(self, call_id: str, *, keep_citizen: bool = False) -> None:
        """The caller turned out to withhold her number: her call keeps no number, and no
        citizen found by it (one the agent picked herself stays, with ``keep_citizen``)."""
        with self.db.session() as session, session.begin():
            row = self._interaction_row(session, call_id)
            row.caller_raw = row.caller_e164 = None
            row.caller_withheld = True
            if not keep_citizen:
                row.citizen_id = None

    def record_ivr_path(self, call_id: str, path: Sequence[str]) -> None:
        self.upsert_interaction(call_id, ivr_path=list(path))

    # -- audit ----------------------------------------------------------------------------

    def audit(
        self, username: str, action: str, citizen_id: int | None = None, detail: str = ""
    ) -> None:
        self.audit_many([AuditRecord(username, action, citizen_id, detail)])

    def audit_many(self, entries: Sequence[AuditRecord]) -> None:
        """Several audit entries in one statement (the screen pop's opened cards, in bulk)."""
        if not entries:
            return
        with self.db.engine.begin() as conn:
            conn.execute(insert(AuditEntry), [dataclasses.asdict(e) for e in entries])

    def audit_count(self, action: str | None = None) -> int:
        with self.db.session() as session, session.begin():
            query = select(func.count(AuditEntry.id))
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return session.scalar(query) or 0


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
