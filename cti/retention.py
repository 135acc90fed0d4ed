"""RGPD retention: anonymise what is older than its category's retention period.

``python -m cti.retention [--dry-run]`` is meant to run daily (cron, systemd timer). Three
categories, each with its own period (``CTI_RETENTION_CALLS_DAYS``, ``..._NOTES_DAYS``,
``..._IVR_DAYS``):

- call records: the caller's number (raw and E.164) and the link to the citizen are removed;
- notes: the text is replaced by a fixed mention (the note's author and time stay);
- voice-menu paths: the keys pressed are cleared (on the call and in the menu's own log).

Callback requests follow the same three periods, counted from the moment she asked, once the
request is closed (reached, failed, cancelled, expired: an open one is still someone's work):
the number and the citizen go with the calls' period, the note with the notes', the menu path
with the menu's.

What reports count stays: service, times, durations, outcome, disposition, agents. The
decision is pure (``plan``: rows and the time in, what to clear out); the database step only
reads candidates and writes the plan. Running it twice clears nothing more the second time:
a row already anonymised is no longer a candidate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from cti.audit_trail import SYSTEM_USER
from cti.db import Database
from cti.settings import Settings
from routing.callbacks.request import FINAL
from screenpop.directory import Directory
from screenpop.models import CallbackRow, Interaction, InteractionNote, IvrRun

NOTE_CLEARED = "[note effacée : durée de conservation dépassée]"
_CHUNK = 500  # ids per UPDATE: well under SQLite's bound-parameter limit
_K = TypeVar("_K", int, str)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    calls_days: int
    notes_days: int
    ivr_days: int


@dataclass(frozen=True, slots=True)
class CallRow:
    id: int
    started_at: datetime
    identifies_caller: bool  # a number or a citizen is still attached
    has_ivr_path: bool


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    at: datetime
    cleared: bool


@dataclass(frozen=True, slots=True)
class MenuRunRow:
    id: int
    at: datetime
    has_path: bool


@dataclass(frozen=True, slots=True)
class ClosedCallbackRow:
    """A callback request as retention sees it (only closed ones are candidates)."""

    id: str
    asked_at: datetime
    identifies_caller: bool  # a number or a citizen is still attached
    has_note: bool  # a note not cleared yet
    has_menu_path: bool


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    calls: tuple[int, ...]  # interactions whose caller is forgotten
    ivr_paths: tuple[int, ...]  # interactions whose menu path is cleared
    menu_runs: tuple[int, ...]  # voice-menu runs whose path is cleared
    notes: tuple[int, ...]
    callbacks: tuple[str, ...] = ()  # callback requests whose number and citizen are forgotten
    callback_notes: tuple[str, ...] = ()
    callback_paths: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.calls
            or self.ivr_paths
            or self.menu_runs
            or self.notes
            or self.callbacks
            or self.callback_notes
            or self.callback_paths
        )

    def summary(self) -> str:
        return (
            f"appels anonymisés (numéro, administré) : {len(self.calls)} ; "
            f"notes effacées : {len(self.notes)} ; "
            f"parcours du menu effacés : {len(self.ivr_paths)} appel(s), "
            f"{len(self.menu_runs)} passage(s) dans le menu ; "
            f"demandes de rappel anonymisées : {len(self.callbacks)}, "
            f"leurs notes effacées : {len(self.callback_notes)}, "
            f"leurs parcours du menu effacés : {len(self.callback_paths)}"
        )


def cutoffs(policy: RetentionPolicy, now: datetime) -> tuple[datetime, datetime, datetime]:
    """Calls, notes and menu paths strictly older than these are anonymised."""
    return (
        now - timedelta(days=policy.calls_days),
        now - timedelta(days=policy.notes_days),
        now - timedelta(days=policy.ivr_days),
    )


def plan(
    policy: RetentionPolicy,
    now: datetime,
    calls: Iterable[CallRow],
    notes: Iterable[NoteRow],
    menu_runs: Iterable[MenuRunRow] = (),
    callbacks: Iterable[ClosedCallbackRow] = (),
) -> RetentionPlan:
    """What to anonymise among these rows at ``now`` (pure). ``callbacks`` holds closed
    requests only: the caller does not offer open ones."""
    calls_before, notes_before, ivr_before = cutoffs(policy, now)
    calls = list(calls)
    callbacks = list(callbacks)
    return RetentionPlan(
        calls=tuple(c.id for c in calls if c.identifies_caller and c.started_at < calls_before),
        ivr_paths=tuple(c.id for c in calls if c.has_ivr_path and c.started_at < ivr_before),
        menu_runs=tuple(r.id for r in menu_runs if r.has_path and r.at < ivr_before),
        notes=tuple(n.id for n in notes if not n.cleared and n.at < notes_before),
        callbacks=tuple(
            c.id for c in callbacks if c.identifies_caller and c.asked_at < calls_before
        ),
        callback_notes=tuple(c.id for c in callbacks if c.has_note and c.asked_at < notes_before),
        callback_paths=tuple(
            c.id for c in callbacks if c.has_menu_path and c.asked_at < ivr_before
        ),
    )


# -- database edge ---------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def candidates(
    db: Database, policy: RetentionPolicy, now: datetime
) -> tuple[list[CallRow], list[NoteRow], list[MenuRunRow], list[ClosedCallbackRow]]:
    """Rows old enough for at least one category (the plan decides exactly)."""
    calls_before, notes_before, ivr_before = cutoffs(policy, now)
    closed = [state.value for state in FINAL]
    with db.session() as session, session.begin():
        call_rows = session.execute(
            select(
                Interaction.id,
                Interaction.started_at,
                Interaction.caller_raw,
                Interaction.caller_e164,
                Interaction.citizen_id,
                Interaction.ivr_path,
            ).where(Interaction.started_at < max(calls_before, ivr_before))
        ).all()
        note_rows = session.execute(
            select(InteractionNote.id, InteractionNote.at, InteractionNote.text).where(
                InteractionNote.at < notes_before
            )
        ).all()
        run_rows = session.execute(
            select(IvrRun.id, IvrRun.at, IvrRun.path, IvrRun.timed_out_nodes).where(
                IvrRun.at < ivr_before
            )
        ).all()
        callback_rows = session.execute(
            select(
                CallbackRow.id,
                CallbackRow.asked_at,
                CallbackRow.number,
                CallbackRow.citizen_id,
                CallbackRow.note,
                CallbackRow.menu_path,
            ).where(
                CallbackRow.state.in_(closed),
                CallbackRow.asked_at < max(calls_before, notes_before, ivr_before),
            )
        ).all()
    return (
        [
            CallRow(
                r.id,
                _utc(r.started_at),
                identifies_caller=bool(r.caller_raw or r.caller_e164 or r.citizen_id is not None),
                has_ivr_path=bool(r.ivr_path),
            )
            for r in call_rows
        ],
        [NoteRow(r.id, _utc(r.at), cleared=r.text == NOTE_CLEARED) for r in note_rows],
        [
            MenuRunRow(r.id, _utc(r.at), has_path=bool(r.path or r.timed_out_nodes))
            for r in run_rows
        ],
        [
            ClosedCallbackRow(
                r.id,
                _utc(r.asked_at),
                identifies_caller=bool(r.number or r.citizen_id is not None),
                has_note=bool(r.note) and r.note != NOTE_CLEARED,
                has_menu_path=bool(r.menu_path),
            )
            for r in callback_rows
        ],
    )


def _chunks(ids: Sequence[_K]) -> Iterable[Sequence[_K]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def apply(db: Database, todo: RetentionPlan) -> None:
    """Write ``todo`` in one transaction."""
    with db.session() as session, session.begin():
        for ids in _chunks(todo.calls):
            session.execute(
                update(Interaction)
                .where(Interaction.id.in_(ids))
                .values(caller_raw=None, caller_e164=None, citizen_id=None)
            )
        for ids in _chunks(todo.ivr_paths):
            session.execute(update(Interaction).where(Interaction.id.in_(ids)).values(ivr_path=[]))
        for ids in _chunks(todo.menu_runs):
            session.execute(
                update(IvrRun).where(IvrRun.id.in_(ids)).values(path=[], timed_out_nodes=[])
            )
        for ids in _chunks(todo.notes):
            session.execute(
                update(InteractionNote).where(InteractionNote.id.in_(ids)).values(text=NOTE_CLEARED)
            )
        for keys in _chunks(todo.callbacks):
            session.execute(
                update(CallbackRow)
                .where(CallbackRow.id.in_(keys))
                .values(number=None, citizen_id=None)
            )
        for keys in _chunks(todo.callback_notes):
            session.execute(
                update(CallbackRow).where(CallbackRow.id.in_(keys)).values(note=NOTE_CLEARED)
            )
        for keys in _chunks(todo.callback_paths):
            session.execute(
                update(CallbackRow).where(CallbackRow.id.in_(keys)).values(menu_path=[])
            )


def run(db: Database, policy: RetentionPolicy, now: datetime, *, dry_run: bool) -> RetentionPlan:
    """Plan and (unless ``dry_run``) apply, with an audit entry for a real run."""
    todo = plan(policy, now, *candidates(db, policy, now))
    if not dry_run:
        apply(db, todo)
        Directory(db).audit(
            SYSTEM_USER,
            "retention.run",
            None,
            f"{todo.summary()} (durées : appels {policy.calls_days} j, notes "
            f"{policy.notes_days} j, menu {policy.ivr_days} j)",
        )
    return todo


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cti.retention",
        description="Anonymise les données plus anciennes que leur durée de conservation.",
    )
    parser.add_argument("--dry-run", action="store_true", help="afficher sans rien modifier")
    parser.add_argument("--database", help="URL de la base (défaut : CTI_DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = Settings()
    policy = RetentionPolicy(
        settings.retention_calls_days, settings.retention_notes_days, settings.retention_ivr_days
    )
    db = Database(args.database or settings.database_url)
    try:
        todo = run(db, policy, datetime.now(UTC), dry_run=args.dry_run)
    finally:
        db.close()
    prefix = "Simulation, rien n'est modifié — " if args.dry_run else ""
    print(f"{prefix}{todo.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
