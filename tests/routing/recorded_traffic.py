"""Recorded calls of two fixed days (2 and 3 March 2026), as the product would have stored them.

État civil is busy (a call every 2.5 min on average, 3 to 7 min of talk, one agent: Paul,
202), Accueil quieter (Marie, 201): some callers gave up. Drawn once from a fixed seed.
"""

from __future__ import annotations

import random
from datetime import date

from routing.day_records import Outcome
from routing.recorded_days import RecordedCall

DAYS = (date(2026, 3, 2), date(2026, 3, 3))
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
