"""Failover of the router lease: how long agents are without a router after ``kill -9``.

Two ``cti.app`` nodes (active and standby) against the simulated PBX, sharing one database
(a SQLite file, or ``CTI_BENCH_DATABASE_URL``). Each round places calls, kills the active node
with ``kill -9`` while they talk, places more calls, and times until the standby answers
``/readyz``; the killed node is started again as the next standby. Counted over all rounds:
calls rung once, rung more than once (an offer replayed), never rung (lost).

Baseline, in the same run: one node alone, killed and started again at once (a service
manager's restart), timed the same way.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.cluster_lab import ClusterLab, Node, all_rung, cluster_lab
from cti.pbxsim.pbx import SimCall

TTL = 1.5


@dataclass
class Measured:
    takeovers: list[float] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)
    calls: list[SimCall] = field(default_factory=list)
    lost: int = 0
    rung_twice: int = 0


async def _round_calls(lab: ClusterLab, measured: Measured) -> list[SimCall]:
    calls = lab.calls(talk=60.0)  # the citizen stays on the line; the agent hangs up
    measured.calls += calls
    return calls


async def _rung_or_lost(lab: ClusterLab, calls: list[SimCall], measured: Measured) -> None:
    try:
        await lab.until(lambda: all_rung(calls), timeout=90)
    except TimeoutError:
        measured.lost += sum(1 for call in calls if call.agent is None)


async def _standby(lab: ClusterLab, name: str) -> Node:
    node = await lab.node(name)
    await node.until(lambda: node.said("nœud en attente"))
    return node


async def measure(kills: int, restarts: int, workdir: Path) -> Measured:
    measured = Measured()
    url = os.environ.get("CTI_BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'pair.db'}"
    async with cluster_lab(url, workdir, ttl=TTL, talk=1.0) as lab:
        active = await lab.node("n0")
        await lab.ready(active)
        standby = await _standby(lab, "n1")
        for round_ in range(kills):
            await _rung_or_lost(lab, await _round_calls(lab, measured), measured)
            killed_at = time.monotonic()
            active.proc.kill()
            waiting = await _round_calls(lab, measured)
            await lab.ready(standby)
            measured.takeovers.append(time.monotonic() - killed_at)
            await _rung_or_lost(lab, waiting, measured)
            await active.stop()
            active, standby = standby, await _standby(lab, f"n{round_ + 2}")
        await lab.until(lambda: all_rung(measured.calls), timeout=90)
        measured.rung_twice = sum(1 for call in measured.calls if lab.dials[call.linkedid] > 1)
    single = f"sqlite:///{workdir / 'single.db'}"
    # No lease: a lone node restarted by its service manager takes the PBX at once.
    async with cluster_lab(single, workdir / "single", ttl=0, talk=1.0) as lab:
        node = await lab.node("s0")
        await lab.ready(node)
        for round_ in range(restarts):
            killed_at = time.monotonic()
            node.proc.kill()
            await node.stop()
            node = await lab.node(f"s{round_ + 1}")
            await lab.ready(node)
            measured.restarts.append(time.monotonic() - killed_at)
    return measured


def run(kills: int = 20, restarts: int = 5) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "single").mkdir()
        m = asyncio.run(measure(kills, restarts, Path(tmp)))
    yield (
        f"standby ready after kill -9 of the active node ({len(m.takeovers)} kills, lease "
        f"{TTL:g} s): median {statistics.median(m.takeovers):.2f} s, "
        f"max {max(m.takeovers):.2f} s"
    )
    yield (
        f"baseline, one node killed and restarted at once ({len(m.restarts)} restarts): "
        f"median {statistics.median(m.restarts):.2f} s, max {max(m.restarts):.2f} s"
    )
    yield (
        f"calls placed {len(m.calls)}: never rung (lost) {m.lost}, "
        f"offered more than once {m.rung_twice}"
    )
