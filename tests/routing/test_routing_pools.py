"""The ready-agent index keeps exact answers through lazy removal and compaction."""

from __future__ import annotations

import random

from routing.pools import ReadyAgents


def test_ready_agents_stays_exact_through_many_removals() -> None:
    agents = [f"{200 + i}" for i in range(40)]
    entries = {a: [("accueil", i % 2, (-(i % 5), -(i % 7)))] for i, a in enumerate(agents)}
    pool = ReadyAgents({"accueil": 2}, entries, {a: {"fr", "en"} for a in agents})
    rng = random.Random(3)
    ready: dict[str, float] = {}
    for step in range(20_000):  # far more removals than the compaction threshold
        agent = rng.choice(agents)
        if agent in ready:
            pool.remove(agent)
            del ready[agent]
        else:
            ready[agent] = float(step % 50)  # idle times repeat: stale entries come back
            pool.add(agent, ready[agent])
        if step % 97 == 0:
            for level in (0, 1):
                candidates = [
                    (-(i % 5), -(i % 7), ready[a], a)
                    for i, a in enumerate(agents)
                    if a in ready and i % 2 <= level
                ]
                expected = min(candidates)[3] if candidates else None
                assert pool.best("accueil", level, "en", None) == expected
