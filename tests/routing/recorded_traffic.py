"""Recorded calls of two fixed days (Monday 3 and Tuesday 4 March 2025), as stored.

État civil is busy (a call every 2.5 min on average, 3 to 7 min of talk, one agent: Paul,
202), Accueil quieter (Marie, 201): some callers gave up. Drawn once from a fixed seed.
``store`` writes them into a database's ``interactions`` as the product would have.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert

from cti.db import Database
from cti.reports.records import PARIS
from routing.day_records import Outcome
from routing.recorded_days import RecordedCall
from screenpop.models import Interaction

DAYS = (date(2025, 3, 3), date(2025, 3, 4))
OPENING = (9 * 3600.0, 12 * 3600.0)
SERVICES = {"etat-civil": (150.0, "202"), "accueil": (400.0, "201")}


def recorded_calls(seed: int = 7) -> list[RecordedCall]:
    rng = random.Random(seed)
    calls: list[RecordedCall] = []
    for day in DAYS:
        for service, (gap, agent) in SERVICES.items():
            t = OPENING[0] + rng.expovariate(1 / gap)
            while t < OPENING[1]:
                n = len(calls) + 1
                if rng.random() < 0.15:
                    call = RecordedCall(
                        f"rec-{n}", day, t, service, Outcome.ABANDONED, rng.uniform(20, 120)
                    )
                else:
                    wait, talk = rng.uniform(2, 90), rng.uniform(180, 420)
                    call = RecordedCall(
                        f"rec-{n}", day, t, service, Outcome.ANSWERED, wait, talk, agent
                    )
                calls.append(call)
                t += rng.expovariate(1 / gap)
    return calls


def store(db: Database, calls: list[RecordedCall], menu_s: float = 12.0) -> None:
    """Write ``calls`` into ``interactions`` as the product records them: the call started
    ``menu_s`` before reaching the queue (the voice menu), times in UTC."""
    rows = []
    for call in calls:
        midnight = datetime.combine(call.day, time(), PARIS)
        started = (midnight + timedelta(seconds=call.queued_at - menu_s)).astimezone(UTC)
        answered = call.outcome is Outcome.ANSWERED
        talk = call.talk_s if answered else None
        rows.append(
            {
                "call_id": call.call_id,
                "started_at": started,
                "service": call.service,
                "outcome": call.outcome.value if answered else _STORED[call.outcome],
                "wait_seconds": call.wait_s,
                "talk_seconds": talk,
                "duration_seconds": menu_s + call.wait_s + (talk or 0.0),
                "agents": [call.agent] if call.agent else [],
                "ivr_path": [],
            }
        )
    with db.engine.begin() as conn:
        conn.execute(insert(Interaction), rows)


_STORED = {Outcome.ABANDONED: "abandoned", Outcome.OVERFLOWED: "overflow"}
