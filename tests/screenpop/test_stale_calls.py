"""Calls recorded in progress when the product stopped, closed at the next start."""

from __future__ import annotations

from sqlalchemy import select

from cti.db import Database
from screenpop.directory import Directory
from screenpop.directory_writes import stale_calls_write
from screenpop.models import Interaction


def test_calls_asterisk_no_longer_has_are_closed_as_lost_the_others_kept(
    database: Database,
) -> None:
    with database.session() as session, session.begin():
        session.add_all(
            [
                Interaction(call_id="gone-waiting", outcome="in_progress"),
                Interaction(call_id="still-up", outcome="in_progress"),
                Interaction(call_id="gone-answered", outcome="answered", agents=["201"]),
            ]
        )
    directory = Directory(database)
    directory.apply(stale_calls_write(["still-up"]))
    directory.apply(stale_calls_write(["still-up"]), replay=True)  # from the spool: the same
    with database.session() as session:
        outcomes = dict(session.execute(select(Interaction.call_id, Interaction.outcome)).all())
    assert outcomes == {
        "gone-waiting": "lost",
        "still-up": "in_progress",
        "gone-answered": "answered",
    }
