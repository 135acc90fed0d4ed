"""Stopping while the database is behind (a load it cannot keep up with) loses no record:
what the writer had not reached goes to the spool, and the next start writes it first.

Real SQLite file and spool. The writer that is "behind" is one that has not reached the queued
writes when the stop comes: here, one that never got a turn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cti.db import Database
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop
from screenpop.spool import Spool
from screenpop.writer import OrderedWriter

T = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def test_a_stop_before_the_writes_are_done_keeps_them_for_the_next_start(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cti.db'}")
    database.migrate()
    directory = Directory(database)
    writer = OrderedWriter(apply=directory.apply, spool=Spool(tmp_path / "spool"))
    pop = ScreenPop(directory, AgentHub(), writer=writer)
    for n in range(300):  # calls ended, their records still on their way
        pop.records.update(f"c{n}", started_at=T, outcome="answered", talk_seconds=float(n))
        if n % 50 == 49:
            pop.records.flush()
    pop.records.update("c300", started_at=T, outcome="abandoned")  # not even flushed yet

    await pop.close(timeout=0.2)  # the stop: the database never caught up

    assert len(Spool(tmp_path / "spool").load()) == 7  # six batches, and the last call
    # The next start replays the spool before anything else.
    again = OrderedWriter(apply=directory.apply, spool=Spool(tmp_path / "spool"))
    await again.recover()
    assert not again.holding
    outcomes = [directory.interaction(f"c{n}") for n in range(301)]
    assert all(o is not None and o.outcome == "answered" for o in outcomes[:300])
    assert outcomes[300] is not None and outcomes[300].outcome == "abandoned"
    database.close()
