"""The directory's write side: calls' records, notes, the audit trail, agents' states.

Writes to a call's record create it if needed with INSERT .. ON CONFLICT DO NOTHING, so that
two threads reporting the same call never make two; ``save_interactions`` writes many calls'
changes in one transaction (the screen pop's bulk path).

What the screen pop and the router must record goes through ``screenpop.writer`` as
``Write``s (data that can wait in the spool while the database is away); ``apply`` carries
one out. Every write can be applied twice with the same result, because a write held during
an outage may have been committed just before the link dropped (or before a crash, without
its mark in the spool): a call's changes and an agent's state set values; an audit entry and
a note carry the moment they were made, and a replay (``replay=True``) first looks for the
same entry or note at that moment and adds it only if it is missing.

Several nodes (the router's lease): a deposed router that wakes up (paused, cut off) must not
overwrite what its successor wrote since. The writes of what the active router *owns* (calls'
records, agents' states, calls closed as lost) check the lease's fencing token in their own
transaction (``fence``, ``cti.cluster.write_fence``) and fail whole with ``NotLeader`` once
another node took over. Facts that stay true whoever writes them are not fenced: an audit
entry (someone saw a citizen's file: it happened), a note an agent typed and was told was
saved, a call's way through the voice menu; each is an insert that overwrites nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cti.cluster.lease import NotLeader
from cti.db import Database
from ivr_scripts.measures import MenuRun
from screenpop.errors import CitizenNotFound, ScreenPopError
from screenpop.models import (
    AgentStateRow,
    AuditEntry,
    Citizen,
    Interaction,
    InteractionNote,
    IvrRun,
)
from screenpop.spool import Write
from screenpop.writer import is_unreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NoteView:
    agent: str
    text: str
    at: datetime


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
    """Who did what, about which citizen: one line of the audit trail (``at``: now when
    not given; given, it also tells a replayed entry from a new one)."""

    username: str
    action: str
    citizen_id: int | None = None
    detail: str = ""
    at: datetime | None = None


@dataclass(slots=True)
class InteractionUpdate:
    """What the database must learn about one call: the fields to set (``None`` leaves a
    field as it is) and the agents it was offered to, in order, each once."""

    call_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    agents: list[str] = field(default_factory=list)
    answered_by: list[str] = field(default_factory=list)  # who took it (spool: may be absent)

    def add(
        self, add_agent: str | None = None, *, answered_by: str | None = None, **fields: Any
    ) -> None:
        """Merge a later change in: its fields win, its agents join the lists."""
        unknown = set(fields) - _INTERACTION_FIELDS
        if unknown:
            raise TypeError(f"unknown interaction fields: {sorted(unknown)}")
        self.fields.update((name, value) for name, value in fields.items() if value is not None)
        if add_agent and add_agent not in self.agents:
            self.agents.append(add_agent)
        if answered_by and answered_by not in self.answered_by:
            self.answered_by.append(answered_by)


class RecordsNotSaved(ScreenPopError):
    """Some calls' records could not be written (the others were)."""

    def __init__(self, call_ids: list[str]) -> None:
        super().__init__(f"fiches d'appel non enregistrées : {', '.join(call_ids)}")
        self.call_ids = call_ids


SAVE_SLICE = 8  # calls per statement in save_interactions
_LISTS = {"agents", "answered_by"}  # merged with what is stored, each agent once
_UPDATED = tuple(f"new_{name}" for name in sorted(_INTERACTION_FIELDS | _LISTS))


def _merged(known: list[str] | None, new: list[str]) -> list[str]:
    stored = list(known or [])
    return stored + [a for a in new if a not in stored]


def _unchanged_if_null(name: str) -> Any:
    column = Interaction.__table__.c[name]
    # JSON's None is the JSON null by default: here it must be SQL NULL, "no change".
    kind = JSON(none_as_null=True) if isinstance(column.type, JSON) else column.type
    return func.coalesce(bindparam(f"new_{name}", type_=kind), column)


# One statement for any change: a column given NULL keeps its value (None means "unchanged").
_UPDATE_RECORD = (
    update(Interaction)
    .where(Interaction.call_id == bindparam("the_call"))
    .values({name: _unchanged_if_null(name) for name in sorted(_INTERACTION_FIELDS | _LISTS)})
)


def utc(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything we store is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def note_view(note: InteractionNote) -> NoteView:
    return NoteView(agent=note.agent, text=note.text, at=utc(note.at))


# -- writes as data (what the writer queues and the spool keeps) ------------------------------


def calls_write(changes: Sequence[InteractionUpdate]) -> Write:
    data = {"changes": [dataclasses.asdict(c) for c in changes]}
    return Write("calls", data, size=len(changes))


def audits_write(entries: Sequence[AuditRecord]) -> Write:
    now = datetime.now(UTC)  # fixed here: a replay must find the same moment
    dated = [dataclasses.asdict(e if e.at else dataclasses.replace(e, at=now)) for e in entries]
    return Write("audits", {"entries": dated}, size=len(entries))


def note_write(call_id: str, note: NoteView) -> Write:
    data = {"call_id": call_id, "agent": note.agent, "text": note.text, "at": note.at}
    return Write("note", data)


def forget_caller_write(call_id: str, *, keep_citizen: bool) -> Write:
    return Write("forget_caller", {"call_id": call_id, "keep_citizen": keep_citizen})


def agent_state_write(agent: str, state: str, reason: str | None) -> Write:
    return Write("agent_state", {"agent": agent, "state": state, "reason": reason})


def menu_run_write(run: MenuRun) -> Write:
    """One call's way through the voice menu (``ivr_runs``)."""
    data = dataclasses.asdict(run)
    data["at"] = run.at.astimezone(UTC)  # SQLite keeps no zone: all in UTC
    data["path"], data["timed_out_nodes"] = list(run.path), list(run.timed_out_nodes)
    return Write("ivr_run", data)


def stale_calls_write(live: Sequence[str]) -> Write:
    """Calls recorded in progress that Asterisk no longer has (``live``: its calls now)."""
    return Write("stale_calls", {"live": sorted(live)})


#: Inside a write's transaction: raise ``NotLeader`` unless the write, made under the token
#: given (None: this process's own), may still land (``cti.cluster.write_fence.WriteFence``).
Fence = Callable[[Connection, int | None], None]


class DirectoryWrites:
    """What the directory records; ``Directory`` adds the reads. ``fence`` (several nodes):
    the lease's check, made by the writes of ``FENCED_KINDS``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.fence: Fence | None = None

    def _fenced(self, conn: Connection, under: int | None) -> None:
        if self.fence is not None:
            self.fence(conn, under)

    def apply(self, write: Write, replay: bool = False) -> None:
        """Carry out ``write`` (see ``screenpop.writer``); ``replay``: it may be there already."""
        data, under = write.data, write.token
        if write.kind == "calls":
            self._save_calls([InteractionUpdate(**c) for c in data["changes"]], under)
        elif write.kind == "audits":
            self.audit_many([AuditRecord(**e) for e in data["entries"]], replay=replay)
        elif write.kind == "note":
            self.add_note(data["call_id"], data["agent"], data["text"], data["at"], replay=replay)
        elif write.kind == "forget_caller":
            self.forget_caller(data["call_id"], keep_citizen=data["keep_citizen"], under=under)
        elif write.kind == "agent_state":
            self.save_agent_state(data["agent"], data["state"], data["reason"], under=under)
        elif write.kind == "ivr_run":
            self.record_menu_run(data, replay=replay)
        elif write.kind == "stale_calls":
            self.close_stale_calls(data["live"], under=under)
        else:
            raise ValueError(f"unknown write {write.kind!r} (spool of a newer version?)")

    def _save_calls(self, changes: list[InteractionUpdate], under: int | None) -> None:
        try:
            self.save_interactions(changes, under=under)
        except Exception as exc:
            if len(changes) == 1 or is_unreachable(exc) or isinstance(exc, NotLeader):
                raise
            # One bad record (a citizen deleted meanwhile...) must not lose the others.
            log.warning("écriture groupée de %d fiches d'appel refusée : une par une", len(changes))
            failed = []
            for change in changes:
                try:
                    self.save_interactions([change], under=under)
                except Exception as one:
                    if is_unreachable(one):
                        raise
                    log.exception("fiche de l'appel %s non enregistrée", change.call_id)
                    failed.append(change.call_id)
            if failed:
                raise RecordsNotSaved(failed) from None

    # -- calls ----------------------------------------------------------------------------

    def upsert_interaction(
        self, call_id: str, *, add_agent: str | None = None, **fields: Any
    ) -> None:
        """Create the record of ``call_id`` or update the given fields; ``add_agent`` appends
        an agent who was offered the call (each agent once)."""
        change = InteractionUpdate(call_id)
        change.add(add_agent, **fields)
        self.save_interactions([change])

    def save_interactions(
        self, changes: Sequence[InteractionUpdate], *, under: int | None = None
    ) -> None:
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
            self._fenced(conn, under)
            for start in range(0, len(changes), SAVE_SLICE):
                self._save_slice(conn, changes[start : start + SAVE_SLICE])

    def _save_slice(self, conn: Connection, changes: Sequence[InteractionUpdate]) -> None:
        conn.execute(self._create_records, [{"call_id": c.call_id} for c in changes])
        offered = {c.call_id: c.agents for c in changes if c.agents}
        took = {c.call_id: c.answered_by for c in changes if c.answered_by}
        agents: dict[str, list[str]] = {}
        answered: dict[str, list[str]] = {}
        if offered or took:
            stored = conn.execute(
                select(Interaction.call_id, Interaction.agents, Interaction.answered_by)
                .where(Interaction.call_id.in_(offered.keys() | took.keys()))
                .with_for_update()
            )
            for call_id, known, known_took in stored:
                if call_id in offered:
                    agents[call_id] = _merged(known, offered[call_id])
                if call_id in took:
                    answered[call_id] = _merged(known_took, took[call_id])
        rows = []
        for change in changes:
            row: dict[str, Any] = dict.fromkeys(_UPDATED, None)
            row.update((f"new_{name}", value) for name, value in change.fields.items())
            row["new_agents"] = agents.get(change.call_id)
            row["new_answered_by"] = answered.get(change.call_id)
            row["the_call"] = change.call_id
            rows.append(row)
        conn.execute(_UPDATE_RECORD, rows)

    @functools.cached_property
    def _create_records(self) -> Any:
        insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
        return (
            insert(Interaction)
            .values(
                call_id=bindparam("call_id"),
                ivr_path=[],
                agents=[],
                answered_by=[],
                caller_withheld=False,
            )
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

    def add_note(
        self,
        call_id: str,
        agent: str,
        text: str,
        at: datetime | None = None,
        *,
        replay: bool = False,
    ) -> NoteView:
        """``replay``: the same note (agent, text, moment) may be there already: kept once."""
        with self.db.session() as session, session.begin():
            row = self._interaction_row(session, call_id)
            session.flush()
            at = at or datetime.now(UTC)
            if replay:
                there = session.scalar(
                    select(InteractionNote).where(
                        InteractionNote.interaction_id == row.id,
                        InteractionNote.agent == agent,
                        InteractionNote.at == at,
                        InteractionNote.text == text,
                    )
                )
                if there is not None:
                    return note_view(there)
            note = InteractionNote(interaction_id=row.id, agent=agent, text=text, at=at)
            session.add(note)
            session.flush()
            return note_view(note)

    def set_disposition(self, call_id: str, disposition: str) -> None:
        self.upsert_interaction(call_id, disposition=disposition)

    def attach_citizen(self, call_id: str, citizen_id: int) -> None:
        with self.db.session() as session, session.begin():
            if session.get(Citizen, citizen_id) is None:
                raise CitizenNotFound(citizen_id)
            self._interaction_row(session, call_id).citizen_id = citizen_id

    def forget_caller(
        self, call_id: str, *, keep_citizen: bool = False, under: int | None = None
    ) -> None:
        """The caller turned out to withhold her number: her call keeps no number, and no
        citizen found by it (one the agent picked herself stays, with ``keep_citizen``)."""
        with self.db.session() as session, session.begin():
            self._fenced(session.connection(), under)
            row = self._interaction_row(session, call_id)
            row.caller_raw = row.caller_e164 = None
            row.caller_withheld = True
            if not keep_citizen:
                row.citizen_id = None

    def record_ivr_path(self, call_id: str, path: Sequence[str]) -> None:
        self.upsert_interaction(call_id, ivr_path=list(path))

    # -- agents ---------------------------------------------------------------------------

    def save_agent_state(
        self, agent: str, state: str, reason: str | None, *, under: int | None = None
    ) -> None:
        """The state ``agent`` chose last (``cti.agent_states``)."""
        with self.db.session() as session, session.begin():
            self._fenced(session.connection(), under)
            row = session.get(AgentStateRow, agent)
            if row is None:
                session.add(AgentStateRow(agent=agent, state=state, reason=reason))
            else:
                row.state, row.reason = state, reason

    def record_menu_run(self, run: dict[str, Any], *, replay: bool = False) -> None:
        """A row of ``ivr_runs`` (``menu_run_write``'s data); a replay finds it once."""
        at = run["at"]
        with self.db.session() as session, session.begin():
            if replay:
                same = select(IvrRun.id).where(
                    IvrRun.uniqueid == run["uniqueid"][:64], IvrRun.at == at
                )
                if session.scalar(same.limit(1)) is not None:
                    return
            fields = {k: v for k, v in run.items() if k != "uniqueid"}
            session.add(IvrRun(**fields, uniqueid=run["uniqueid"][:64]))

    def close_stale_calls(self, live: Sequence[str], *, under: int | None = None) -> int:
        """Calls still recorded in progress that are not among ``live``: they ended while the
        product was not there to see it (stopped, killed), before anyone answered them (an
        answer records the outcome at once). Their end is unknown: ``lost``, as the tracker
        ends a call that vanished during a link cut. Returns how many."""
        statement = update(Interaction).where(Interaction.outcome == "in_progress")
        if live:
            statement = statement.where(Interaction.call_id.not_in(list(live)))
        with self.db.session() as session, session.begin():
            self._fenced(session.connection(), under)
            result = session.execute(statement.values(outcome="lost"))
            closed = int(getattr(result, "rowcount", 0) or 0)
        if closed:
            log.warning(
                "%d appel(s) enregistré(s) en cours, terminé(s) pendant l'arrêt du service : "
                "clos comme perdus",
                closed,
            )
        return closed

    # -- audit ----------------------------------------------------------------------------

    def audit(
        self, username: str, action: str, citizen_id: int | None = None, detail: str = ""
    ) -> None:
        self.audit_many([AuditRecord(username, action, citizen_id, detail)])

    def audit_many(self, entries: Sequence[AuditRecord], *, replay: bool = False) -> None:
        """Several audit entries in one statement (the screen pop's opened cards, in bulk);
        ``replay``: those already there (same moment, who, what) are not added again."""
        if not entries:
            return
        now = datetime.now(UTC)
        rows = [dataclasses.asdict(e) | {"at": e.at or now} for e in entries]
        with self.db.engine.begin() as conn:
            if replay:
                rows = self._missing_audits(conn, rows)
            if rows:
                conn.execute(insert(AuditEntry), rows)

    def _missing_audits(self, conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        moments = sorted({row["at"] for row in rows})
        there = {
            (utc(at), username, action, detail)
            for at, username, action, detail in conn.execute(
                select(
                    AuditEntry.at, AuditEntry.username, AuditEntry.action, AuditEntry.detail
                ).where(AuditEntry.at.in_(moments))
            )
        }
        return [
            row
            for row in rows
            if (utc(row["at"]), row["username"], row["action"], row["detail"]) not in there
        ]
