"""Routing decisions: our indexed engine vs a naive router that scans every agent and call.

Set-up (seeded random): 40 services, each requiring one skill (sometimes two) with a minimum
proficiency and one relaxation step (any proficiency after 45 s); agents with 4 to 7 random
skills. Half the services (group A) have the 5,000 waiting calls, spread over 100 s so that
they sit at both relaxation levels; the agents with group-A skills are all paused, so the
calls wait. The other agents (group-B skills only) are READY. We then time:

(a) an arriving call for a group-B service: ``handle(CallQueued)``, which offers it to the
    best ready agent (undone with ``CallLeft``, not timed);
(b) an agent becoming free: a paused group-A agent sets READY, ``handle(AgentStateSet)``
    offers her the best of the 5,000 waiting calls (then she answers and a new call takes
    its place, not timed).

The naive baseline keeps the same state in plain lists and, for each decision, scans every
agent (a) or every waiting call (b) with the same ordering rules; every choice is checked to
be the same as the engine's. Timings are medians over the samples.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from routing.agent_rank import agent_tables
from routing.decisions import Decision, Offer
from routing.engine import RoutingEngine
from routing.events import AgentStateSet, CallLeft, CallQueued, OfferAnswered, Tick
from routing.model import AgentSpec, EngineConfig, RelaxationStep, ServiceSpec
from routing.requirements import Requirement, level_at, requirements
from routing.states import AgentState

SERVICES = 40
CALLS = 5_000
SAMPLES = 200
SIZES = (500, 1_000, 2_000)
GROUP_A = range(0, SERVICES // 2)  # services (and skills) with waiting calls
GROUP_B = range(SERVICES // 2, SERVICES)  # services (and skills) with ready agents


def build_config(n_agents: int, seed: int = 42) -> EngineConfig:
    rng = random.Random(seed)
    services: dict[str, ServiceSpec] = {}
    for k in range(SERVICES):
        group = GROUP_A if k in GROUP_A else GROUP_B
        required = {f"s{k:02}": rng.randint(2, 3)}
        if rng.random() < 0.3:
            required[f"s{rng.choice([g for g in group if g != k]):02}"] = rng.randint(1, 2)
        services[f"svc{k:02}"] = ServiceSpec(
            name=f"svc{k:02}",
            label=f"Service {k}",
            required_skills=required,
            priority=rng.randint(0, 3),
            max_wait_s=100_000.0,
            relaxation=(RelaxationStep(45.0, min_proficiency=1),),
        )
    agents: dict[str, AgentSpec] = {}
    for i in range(n_agents):
        group = GROUP_A if i % 2 == 0 else GROUP_B
        skills = {f"s{k:02}": rng.randint(1, 5) for k in rng.sample(group, rng.randint(4, 7))}
        languages = frozenset({"fr", "en"} if rng.random() < 0.2 else {"fr"})
        agent = str(10_000 + i)
        agents[agent] = AgentSpec(agent, f"Agent {i}", skills, languages)
    return EngineConfig(services, agents)


@dataclass
class NaiveAgent:
    agent: str
    skills: dict[str, int]
    ready: bool
    idle_since: float


@dataclass
class NaiveCall:
    call_id: str
    service: str
    priority: int
    since: float


class NaiveRouter:
    """Same rules, no index: every decision scans every agent or every waiting call."""

    def __init__(self, config: EngineConfig) -> None:
        self.services = dict(config.services)
        self.levels: dict[str, tuple[Requirement, ...]] = {
            name: requirements(spec) for name, spec in self.services.items()
        }
        self.agents = [
            NaiveAgent(a.agent, dict(a.skills), False, 0.0) for a in config.agents.values()
        ]
        self.by_id = {a.agent: a for a in self.agents}
        self.calls: list[NaiveCall] = []
        # The same fixed ranks and first levels as the engine (routing.agent_rank): computed
        # once per (agent, service) as the engine does; every decision still scans everything.
        tables = agent_tables(config.services, config.agents)
        self.rank = {(a, s): rank for a, rows in tables.entries.items() for s, _, rank in rows}
        self.first = tables.first_level

    def agent_for(self, call: NaiveCall, now: float) -> str | None:
        spec = self.services[call.service]
        requirement = self.levels[call.service][level_at(spec, call.since, now)]
        best: tuple[float | str, ...] | None = None
        for agent in self.agents:
            if agent.ready and requirement.accepts(agent.skills):
                key = (*self.rank[(agent.agent, spec.name)], agent.idle_since, agent.agent)
                if best is None or key < best:
                    best = key
        return None if best is None else str(best[-1])

    def call_for(self, agent_id: str, now: float) -> NaiveCall | None:
        skills = self.by_id[agent_id].skills
        best: tuple[bool, int, int, float, str] | None = None
        found: NaiveCall | None = None
        for call in self.calls:
            spec = self.services[call.service]
            level = level_at(spec, call.since, now)
            if self.levels[call.service][level].accepts(skills):
                own = self.first[(agent_id, call.service)] == 0  # her own work first
                key = (not own, -spec.priority, -call.priority, call.since, call.call_id)
                if best is None or key < best:
                    best, found = key, call
        return found


def offer_of(decisions: list[Decision]) -> Offer:
    offers = [d for d in decisions if isinstance(d, Offer)]
    assert len(offers) == 1, decisions
    return offers[0]


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter_ns()
    result = action()
    return (time.perf_counter_ns() - start) / 1_000, result


def measure(n_agents: int) -> dict[str, float]:
    rng = random.Random(7)
    config = build_config(n_agents)
    engine = RoutingEngine(config)
    naive = NaiveRouter(config)
    group_a = [a for i, a in enumerate(config.agents) if i % 2 == 0]
    group_b = [a for i, a in enumerate(config.agents) if i % 2 == 1]
    now = 0.0
    for agent in group_a:
        engine.handle(AgentStateSet(agent, AgentState.PAUSED, now))
    for j, agent in enumerate(group_b):
        at = j * 0.01
        engine.handle(AgentStateSet(agent, AgentState.READY, at))
        naive.by_id[agent].ready = True
        naive.by_id[agent].idle_since = at
    a_services = [f"svc{k:02}" for k in GROUP_A]
    b_services = [f"svc{k:02}" for k in GROUP_B]
    serial = 0

    def new_call(service: str, at: float) -> NaiveCall:
        nonlocal serial
        serial += 1
        return NaiveCall(f"call{serial:06}", service, rng.choice((0, 0, 0, 1)), at)

    for i in range(CALLS):
        call = new_call(rng.choice(a_services), 100.0 + 100.0 * i / CALLS)
        assert not engine.handle(CallQueued(call.call_id, call.service, call.since, call.priority))
        naive.calls.append(call)
    now = 200.0

    # (a) an arriving call, offered to the best of the ready agents.
    ours_a: list[float] = []
    naive_a: list[float] = []
    for _ in range(SAMPLES):
        now += 0.01
        engine.handle(Tick(now))  # due relaxation steps: not part of this decision
        call = new_call(rng.choice(b_services), now)
        event = CallQueued(call.call_id, call.service, now, call.priority)
        spent, decisions = timed(lambda e=event: engine.handle(e))  # type: ignore[misc]
        ours_a.append(spent)
        spent_naive, chosen = timed(lambda c=call, t=now: naive.agent_for(c, t))  # type: ignore[misc]
        naive_a.append(spent_naive)
        assert isinstance(decisions, list)
        assert offer_of(decisions).agent == chosen, (offer_of(decisions), chosen)
        engine.handle(CallLeft(call.call_id, now))  # back to READY, same idle time

    # (b) an agent becoming free, offered the best of the waiting calls.
    ours_b: list[float] = []
    naive_b: list[float] = []
    for agent in rng.sample(group_a, min(SAMPLES, len(group_a))):
        now += 0.01
        engine.handle(Tick(now))
        freed = AgentStateSet(agent, AgentState.READY, now)
        spent, decisions = timed(lambda e=freed: engine.handle(e))  # type: ignore[misc]
        ours_b.append(spent)
        spent_naive, chosen = timed(lambda a=agent, t=now: naive.call_for(a, t))  # type: ignore[misc]
        naive_b.append(spent_naive)
        assert isinstance(decisions, list)
        if chosen is None:
            assert not any(isinstance(d, Offer) for d in decisions)
            engine.handle(AgentStateSet(agent, AgentState.PAUSED, now))
            continue
        assert isinstance(chosen, NaiveCall)
        assert offer_of(decisions).call_id == chosen.call_id, (offer_of(decisions), chosen)
        engine.handle(OfferAnswered(chosen.call_id, agent, now))
        naive.calls.remove(chosen)
        replacement = new_call(rng.choice(a_services), now)
        event_q = CallQueued(replacement.call_id, replacement.service, now, replacement.priority)
        assert not engine.handle(event_q)
        naive.calls.append(replacement)
    return {
        "ours_a": statistics.median(ours_a),
        "naive_a": statistics.median(naive_a),
        "ours_b": statistics.median(ours_b),
        "naive_b": statistics.median(naive_b),
        "waiting": float(len(naive.calls)),
    }


def pair(ours: float, naive: float) -> str:
    return f"{ours:8.1f} µs / {naive:8.1f} µs = {naive / ours:5.0f}x"


def run() -> Iterator[str]:
    yield (
        f"{SERVICES} services, {CALLS} waiting calls, median of {SAMPLES} decisions "
        "(same choices as the naive scan checked for every one)"
    )
    head_a, head_b = "(a) arriving call: ours / naive", "(b) agent freed: ours / naive"
    yield f"{'agents':>7} | {head_a:>34} | {head_b:>34}"
    results: dict[int, dict[str, float]] = {}
    for n in SIZES:
        r = results[n] = measure(n)
        yield f"{n:>7} | {pair(r['ours_a'], r['naive_a'])} | {pair(r['ours_b'], r['naive_b'])}"
    small, large = results[SIZES[0]], results[SIZES[-1]]
    factor = SIZES[-1] / SIZES[0]
    growth = {key: large[key] / small[key] for key in ("ours_a", "ours_b", "naive_a", "naive_b")}
    yield (
        f"growth {SIZES[0]} -> {SIZES[-1]} agents (x{factor:.0f}): "
        f"ours (a) x{growth['ours_a']:.2f}, (b) x{growth['ours_b']:.2f}; "
        f"naive (a) x{growth['naive_a']:.2f}, (b) x{growth['naive_b']:.2f}"
    )
    r = results[SIZES[-1]]
    ok = min(r["naive_a"] / r["ours_a"], r["naive_b"] / r["ours_b"]) >= 50
    yield f"goal >= 50x at {SIZES[-1]} agents: {'met' if ok else 'NOT met'}"
