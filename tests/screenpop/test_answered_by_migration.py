"""Migration 0009: the calls recorded before 0007 count, in the reports by agent, for the
agents the database shows took them (a note written on the call, its last agent), on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from alembic import command
from cti.db import Database
from cti.reports.figures import GroupBy, group_keys
from cti.reports.query import read_calls
from tests.screenpop.test_ivr_migration import alembic_config

# call_id, agents offered in order, outcome, agents who wrote a note
BEFORE_0007 = [
    # Marie took it, wrote a note, passed it to Claire: both took it.
    ("c1", ["201", "205"], "answered", ["201"]),
    # Paul's phone rang unanswered, Marie took it: only Marie (no note from Paul).
    ("c2", ["202", "201"], "answered", []),
    # Marie passed it on without a note: the database cannot tell, the last agent only.
    ("c3", ["201", "205"], "answered", ["205"]),
    # Never answered: left as it was.
    ("c4", ["202"], "abandoned", []),
]


def test_calls_before_0007_count_for_every_agent_who_wrote_on_them(database_url: str) -> None:
    db = Database(database_url)
    config = alembic_config(db)
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    try:
        command.upgrade(config, "0008")
        with db.engine.begin() as conn:
            for number, (call_id, agents, outcome, writers) in enumerate(BEFORE_0007, 1):
                conn.execute(
                    text(
                        "INSERT INTO interactions (id, call_id, started_at, caller_withheld,"
                        " ivr_path, service, agents, outcome) VALUES (:i, :c, :t, false, '[]',"
                        " 'etat-civil', :a, :o)"
                    ),
                    {"i": number, "c": call_id, "t": at, "a": json.dumps(agents), "o": outcome},
                )
                for agent in writers:
                    conn.execute(
                        text(
                            "INSERT INTO interaction_notes (interaction_id, agent, text, at)"
                            " VALUES (:i, :a, 'note', :t)"
                        ),
                        {"i": number, "a": agent, "t": at},
                    )
            # A call recorded since 0007 keeps what it says (Marie only, then a ring).
            conn.execute(
                text(
                    "INSERT INTO interactions (id, call_id, started_at, caller_withheld, ivr_path,"
                    " service, agents, answered_by, outcome) VALUES (5, 'c5', :t, false, '[]',"
                    " 'etat-civil', :a, :b, 'answered')"
                ),
                {"t": at, "a": json.dumps(["201", "202"]), "b": json.dumps(["201"])},
            )
        command.upgrade(config, "head")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT call_id, answered_by FROM interactions ORDER BY id"))
            stored = {
                call_id: json.loads(value) if isinstance(value, str) else value
                for call_id, value in rows
            }
        assert stored == {
            "c1": ["201", "205"],
            "c2": ["201"],
            "c3": ["205"],
            "c4": None,
            "c5": ["201"],
        }
        calls = {
            c.call_id: group_keys(GroupBy.AGENT, c)
            for c in read_calls(
                db, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
            )
        }
        assert calls == {
            "c1": ("201", "205"),
            "c2": ("201",),
            "c3": ("205",),
            "c4": ("202",),
            "c5": ("201",),
        }
        command.downgrade(config, "0008")
        command.upgrade(config, "head")
    finally:
        db.close()
