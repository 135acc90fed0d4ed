"""RGPD retention: what is older than its period is anonymised, what reports count stays.

The decision (``plan``) is tested on rows built by hand; the command on a real database
(SQLite, and PostgreSQL when CTI_TEST_DATABASE_URL is set), twice to show it is idempotent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cti import callback_store
from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from cti.retention import (
    NOTE_CLEARED,
    CallRow,
    ClosedCallbackRow,
    MenuRunRow,
    NoteRow,
    RetentionPolicy,
    plan,
    run,
)
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from screenpop.directory import Directory
from screenpop.models import Interaction, IvrRun

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(calls_days=365, notes_days=180, ivr_days=90)


def days_ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def test_each_category_is_cut_at_its_own_period_and_cleared_rows_are_left_alone() -> None:
    calls = [
        CallRow(1, days_ago(400), identifies_caller=True, has_ivr_path=True),
        CallRow(2, days_ago(200), identifies_caller=True, has_ivr_path=True),
        CallRow(3, days_ago(30), identifies_caller=True, has_ivr_path=True),
        CallRow(4, days_ago(500), identifies_caller=False, has_ivr_path=False),  # done before
        CallRow(5, days_ago(365), identifies_caller=True, has_ivr_path=False),  # exactly: kept
    ]
    notes = [
        NoteRow(10, days_ago(181), cleared=False),
        NoteRow(11, days_ago(179), cleared=False),
        NoteRow(12, days_ago(900), cleared=True),
    ]
    runs = [MenuRunRow(20, days_ago(91), has_path=True), MenuRunRow(21, days_ago(89), True)]
    todo = plan(POLICY, NOW, calls, notes, runs)
    assert todo.calls == (1,)
    assert todo.ivr_paths == (1, 2)
    assert todo.notes == (10,)
    assert todo.menu_runs == (20,)
    assert plan(POLICY, NOW, [calls[3]], [notes[2]]).empty


def test_closed_callback_requests_follow_the_same_three_periods() -> None:
    callbacks = [
        ClosedCallbackRow(
            "a", days_ago(400), identifies_caller=True, has_note=True, has_menu_path=True
        ),
        ClosedCallbackRow(
            "b", days_ago(181), identifies_caller=True, has_note=True, has_menu_path=True
        ),
        ClosedCallbackRow(
            "c", days_ago(30), identifies_caller=True, has_note=True, has_menu_path=True
        ),
        ClosedCallbackRow(
            "d", days_ago(900), identifies_caller=False, has_note=False, has_menu_path=False
        ),
    ]
    todo = plan(POLICY, NOW, [], [], [], callbacks)
    assert (todo.callbacks, todo.callback_notes, todo.callback_paths) == (
        ("a",),
        ("a", "b"),
        ("a", "b"),
    )
    assert not todo.empty
    assert plan(POLICY, NOW, [], [], [], [callbacks[3]]).empty


def _callback(
    rid: str, asked: datetime, state: CallbackState, citizen_id: int | None
) -> CallbackRequest:
    return CallbackRequest(
        rid,
        "+33612345678",
        "etat-civil",
        asked,
        Window.REOPENING,
        asked,
        None,
        Source.AGENT,
        menu_path=("menu_principal", "etat-civil"),
        citizen_id=citizen_id,
        note="Rappeler pour son acte de mariage",
        requested_by="marie",
        state=state,
        updated_at=asked,
    )


def _seed(database: Database, now: datetime = NOW) -> tuple[int, Directory]:
    directory = Directory(database)
    jeanne = directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    for call_id, age in (("old", 400), ("middle", 120), ("new", 10)):
        directory.upsert_interaction(
            call_id,
            started_at=days_ago(age, now),
            caller_raw="0612345678",
            caller_e164="+33612345678",
            citizen_id=jeanne.id,
            ivr_path=["menu_principal", "etat-civil"],
            service="etat-civil",
            wait_seconds=12.0,
            talk_seconds=95.0,
            duration_seconds=110.0,
            outcome="answered",
            disposition="Renseignement donné",
            add_agent="201",
        )
        directory.add_note(
            call_id, "201", f"Acte de naissance demandé ({call_id})", days_ago(age, now)
        )
    with database.session() as session, session.begin():
        session.add(
            IvrRun(
                at=days_ago(120, now),
                uniqueid="u1",
                call_id="middle",
                path=["1"],
                outcome="queued",
                timed_out_nodes=["menu_principal"],
            )
        )
    # Callback requests: an old closed one, an old one still open (someone's work), a recent one.
    for rid, age, state in (
        ("cb-old", 400, CallbackState.REACHED),
        ("cb-open", 400, CallbackState.PENDING),
        ("cb-new", 10, CallbackState.CANCELLED),
    ):
        callback_store.add(database, _callback(rid, days_ago(age, now), state, jeanne.id))
    return jeanne.id, directory


def test_the_command_anonymises_old_data_keeps_statistics_and_is_idempotent(
    database: Database,
) -> None:
    jeanne, directory = _seed(database)
    dry = run(database, POLICY, NOW, dry_run=True)
    assert (len(dry.calls), len(dry.notes), len(dry.ivr_paths), len(dry.menu_runs)) == (1, 1, 2, 1)
    assert directory.interaction("old") is not None
    assert directory.interaction("old").caller_e164 == "+33612345678"  # type: ignore[union-attr]

    done = run(database, POLICY, NOW, dry_run=False)
    assert done == dry
    old, middle, new = (directory.interaction(c) for c in ("old", "middle", "new"))
    assert old is not None and middle is not None and new is not None
    # The oldest call no longer says who called, nor what was said or keyed...
    assert old.caller_e164 is None and old.ivr_path == () and old.notes[0].text == NOTE_CLEARED
    # ...but reports still count it: service, times, outcome, agents.
    assert (old.service, old.outcome, old.wait_seconds, old.talk_seconds, old.agents) == (
        "etat-civil",
        "answered",
        12.0,
        95.0,
        ("201",),
    )
    assert old.disposition == "Renseignement donné"
    # 120 days: past the menu's 90, within the calls' 365 and the notes' 180.
    assert middle.caller_e164 == "+33612345678" and middle.ivr_path == ()
    assert middle.notes[0].text.startswith("Acte de naissance")
    assert new.ivr_path == ("menu_principal", "etat-civil") and new.caller_e164 is not None
    with database.session() as session:
        row = session.scalar(select(Interaction).where(Interaction.call_id == "old"))
        assert row is not None and row.citizen_id is None and row.caller_raw is None
        menu = session.scalar(select(IvrRun))
        assert menu is not None and menu.path == [] and menu.timed_out_nodes == []
        assert menu.outcome == "queued"
    assert [c.call_id for c in directory.recent_interactions(jeanne)] == ["new", "middle"]
    # The old closed callback request no longer says whom, what for, nor her menu path; its
    # service, times and outcome stay for the reports. Open and recent ones are untouched.
    assert (done.callbacks, done.callback_notes, done.callback_paths) == (
        ("cb-old",),
        ("cb-old",),
        ("cb-old",),
    )
    old_cb, open_cb, new_cb = (
        callback_store.get(database, r) for r in ("cb-old", "cb-open", "cb-new")
    )
    assert old_cb is not None and open_cb is not None and new_cb is not None
    assert (old_cb.number, old_cb.citizen_id, old_cb.note, old_cb.menu_path) == (
        None,
        None,
        NOTE_CLEARED,
        (),
    )
    assert (old_cb.service, old_cb.state, old_cb.asked_at) == (
        "etat-civil",
        CallbackState.REACHED,
        days_ago(400),
    )
    for kept in (open_cb, new_cb):
        assert kept.number == "+33612345678" and kept.citizen_id == jeanne
        assert kept.note.startswith("Rappeler") and kept.menu_path != ()

    again = run(database, POLICY, NOW, dry_run=False)
    assert again.empty
    runs = entries(database, AuditFilter(action="retention.run"))
    assert len(runs) == 2 and "appels anonymisés (numéro, administré) : 1" in runs[1].detail


def test_python_m_cti_retention_prints_what_it_did(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    db.migrate()
    try:
        _seed(db, datetime.now(UTC))
    finally:
        db.close()
    env = {
        **os.environ,
        "CTI_DATABASE_URL": database_url,
        "CTI_RETENTION_CALLS_DAYS": "30",
        "CTI_RETENTION_NOTES_DAYS": "30",
        "CTI_RETENTION_IVR_DAYS": "30",
    }

    def retention(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cti.retention", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    # 400 and 120 days old go, 10 days old stays.
    said = (
        "appels anonymisés (numéro, administré) : 2 ; notes effacées : 2 ; "
        "parcours du menu effacés : 2 appel(s), 1 passage(s) dans le menu ; "
        "demandes de rappel anonymisées : 1, leurs notes effacées : 1, "
        "leurs parcours du menu effacés : 1"
    )
    assert retention("--dry-run") == f"Simulation, rien n'est modifié — {said}\n"
    assert retention() == said + "\n"
    assert retention().startswith("appels anonymisés (numéro, administré) : 0 ; notes effacées : 0")
