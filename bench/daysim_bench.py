"""Day simulator: time to replay a 10,000-call day through our engine and each app_queue model.

Set-up: ``routing/scenarios/mairie.yaml`` rescaled to about 10,000 calls (seed 1) with its
twenty agents unchanged, so the day is heavily overloaded (long queues: the hard case for
the routers' indexes). The traffic is drawn once; each router replays the same day
``REPEATS`` times and the median wall time is printed with the day's outcome, so a speed-up
that changes decisions shows. The goal is a few seconds per router (routing alone: the
announcements of position and wait, measured by the simulator's report, are timed apart on
the last line).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from routing.day_records import DayRecord, Outcome
from routing.scenario import load_scenario
from routing.simulate import ROUTERS, simulate_day
from routing.traffic import generate_calls

SCENARIO = Path(__file__).resolve().parent.parent / "routing" / "scenarios" / "mairie.yaml"
CALLS = 10_000
REPEATS = 3
GOAL_S = 5.0


def _outcome(record: DayRecord) -> str:
    legs = record.legs
    answered = sum(1 for leg in legs if leg.outcome is Outcome.ANSWERED)
    return f"{len(legs):>6} legs, {answered:>5} answered"


def run() -> Iterator[str]:
    spec = load_scenario(SCENARIO)
    start = time.perf_counter()
    calls = generate_calls(spec, 1, CALLS)
    yield f"{len(calls)} calls drawn in {time.perf_counter() - start:.2f} s; median of {REPEATS}"
    worst = 0.0
    for name in ROUTERS:
        walls: list[float] = []
        record: DayRecord | None = None
        for _ in range(REPEATS):
            start = time.perf_counter()
            record = simulate_day(spec, calls, name, announce_every=0)
            walls.append(time.perf_counter() - start)
        assert record is not None
        wall = statistics.median(walls)
        worst = max(worst, wall)
        yield f"{name:<12} {wall:6.2f} s  ({_outcome(record)})"
    yield f"goal <= {GOAL_S:.0f} s per router: {'met' if worst <= GOAL_S else 'NOT met'}"
    # What measuring the announcements costs on top (every waiting caller told every 60 s).
    start = time.perf_counter()
    record = simulate_day(spec, calls, "engine")
    told = len(record.announcements)
    yield f"engine with announcements measured: {time.perf_counter() - start:.2f} s ({told} told)"
