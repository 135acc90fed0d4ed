"""Town-hall days drawn from a seed, beyond the shipped samples, to judge routers fairly.

Theory of operation: ``generate_day(seed)`` draws, with one ``random.Random(seed)``, a whole
``DaySpec`` as a town hall could have it, then ``routing.traffic`` draws its callers from
another seed as for any scenario. A rule tuned to the two samples must hold here too, so the
draws cover what the samples do not:

* staff: 4 to 60 agents (log-uniform: small communes are common), each with a home service
  (proficiency 3-5) and, for a *narrow* spread, at most one other skill, for a *broad* one
  two to four (proficiency 1-4); every service has at least one agent meeting its minimum;
* services: accueil and one to five of the demo's others (a 5-agent commune has fewer),
  with the samples' handling times, minimums 2-3, priorities 0-3, wrap-ups, max waits,
  overflows and relaxation steps (a lower floor after 30-90 s, sometimes an extra skill);
* load: the offered work (calls x (talk + wrap-up)) as a share of the staffed time, from
  quiet (0.35) to overloaded (1.1); the day's shape is the samples' two peaks;
* one service surging (two to four times its calls over one to two hours), on half the days;
* patience: short (mean 60-100 s) or long (200-320 s);
* ring: the samples' (15 s timeout, answered after 2-8 s, 4 % not answered).

Shifts are 08:30-12:00 and 13:00-17:30 with staggered lunches, some part-timers, and a
15-minute break per half-day. ``DayShape`` says what was drawn, for the reports.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from routing.day_model import (
    SLOT_S,
    AppQueueSpec,
    Break,
    DaySpec,
    RingSpec,
    ServiceTraffic,
    StaffSchedule,
)
from routing.model import (
    AgentSpec,
    EngineConfig,
    OverflowKind,
    OverflowTarget,
    RelaxationStep,
    ServiceSpec,
)

# service -> (label, mean talk s, weight of its calls in an ordinary day)
SERVICES: dict[str, tuple[str, float, float]] = {
    "accueil": ("Accueil", 90.0, 4.0),
    "etat-civil": ("État civil", 240.0, 2.0),
    "urbanisme": ("Urbanisme", 360.0, 1.0),
    "ecoles": ("Écoles et périscolaire", 180.0, 1.3),
    "ccas": ("CCAS", 300.0, 0.8),
    "techniques": ("Services techniques", 150.0, 0.9),
}
PROFILE = (6, 9, 10, 10, 9, 8, 7, 4, 3, 3, 6, 8, 8, 7, 6, 5, 4, 3)  # 08:30 .. 17:00
OPEN = 8.5 * 3600
LOADS = {
    "quiet": (0.35, 0.5),
    "normal": (0.55, 0.75),
    "busy": (0.8, 0.95),
    "overloaded": (1.0, 1.1),
}


@dataclass(frozen=True, slots=True)
class DayShape:
    """What ``generate_day`` drew, in words and numbers."""

    seed: int
    agents: int
    services: int
    spread: str  # "narrow" or "broad"
    load: str  # a key of LOADS
    load_factor: float
    surge: str | None  # the surging service
    patience: str  # "short" or "long"

    @property
    def label(self) -> str:
        surge = f", {self.surge} surging" if self.surge else ""
        return (
            f"gen-{self.seed}: {self.agents} agents, {self.services} services, {self.spread},"
            f" {self.load} ({self.load_factor:.2f}){surge}, {self.patience} patience"
        )


def _hhmm(h: float) -> float:
    return OPEN + (h - 8.5) * 3600


def _schedule(agent: str, rng: random.Random, index: int) -> StaffSchedule:
    late_lunch = index % 2 == 1
    morning = (_hhmm(8.5), _hhmm(13.0 if late_lunch else 12.0))
    afternoon = (_hhmm(14.0 if late_lunch else 13.0), _hhmm(17.5))
    part = rng.random()
    shifts = [morning] if part < 0.1 else [afternoon] if part < 0.2 else [morning, afternoon]
    breaks = []
    for start, end in shifts:
        middle = (start + end) / 2 + rng.choice((-900.0, 0.0, 900.0))
        breaks.append(Break(middle, middle + 900.0))
    return StaffSchedule(agent, tuple(shifts), tuple(breaks), 0.04)


def _service(name: str, rng: random.Random, names: list[str]) -> ServiceSpec:
    label = SERVICES[name][0]
    minimum = rng.choice((2, 3))
    steps = [RelaxationStep(rng.choice((30.0, 45.0, 60.0, 90.0)), min_proficiency=minimum - 1)]
    others = [n for n in names if n != name]
    if others and rng.random() < 0.3:
        extra = rng.choice(others)
        steps.append(RelaxationStep(steps[0].after_s + 45.0, extra_skills={extra: 3}))
    wrap = rng.choice((0.0, 10.0, 20.0, 30.0, 60.0))
    overflow = OverflowTarget(rng.choice((OverflowKind.VOICEMAIL, OverflowKind.CALLBACK)))
    return ServiceSpec(
        name=name,
        label=label,
        required_skills={name: minimum},
        priority=rng.choice((0, 1, 1, 1, 2, 3)),
        sl_target_pct=80.0,
        sl_threshold_s=rng.choice((20.0, 30.0, 30.0, 45.0)),
        max_wait_s=rng.choice((180.0, 240.0, 300.0)),
        wrap_up_s=wrap,
        overflow=overflow,
        relaxation=tuple(steps),
    )


def _agents(
    count: int, names: list[str], services: dict[str, ServiceSpec], broad: bool, rng: random.Random
) -> dict[str, AgentSpec]:
    weights = [SERVICES[n][2] for n in names]
    agents: dict[str, AgentSpec] = {}
    for i in range(count):
        # the first agents cover every service once, the others follow the traffic
        home = names[i] if i < len(names) else rng.choices(names, weights)[0]
        skills = {home: max(services[home].required_skills[home], rng.randint(3, 5))}
        others = [n for n in names if n != home]
        extra = rng.randint(2, 4) if broad else rng.randint(0, 1)
        for other in rng.sample(others, min(extra, len(others))):
            skills[other] = rng.randint(1, 4)
        ext = str(200 + i + 1)
        agents[ext] = AgentSpec(ext, f"Agent {ext}", skills)
    return agents


def generate_day(seed: int) -> tuple[DaySpec, DayShape]:
    """A town-hall day drawn from ``seed`` (same seed, same day) and what was drawn."""
    rng = random.Random(seed)
    count = round(math.exp(rng.uniform(math.log(4), math.log(60))))
    most = 3 if count <= 8 else 6
    names = ["accueil", *rng.sample(list(SERVICES)[1:], rng.randint(1, most - 1))]
    names = [n for n in SERVICES if n in names]  # a stable order
    services = {n: _service(n, rng, names) for n in names}
    broad = rng.random() < 0.5
    agents = _agents(count, names, services, broad, rng)
    staff = {a: _schedule(a, rng, i) for i, a in enumerate(agents)}
    load = rng.choice(list(LOADS))
    factor = rng.uniform(*LOADS[load])
    patience = rng.choice(("short", "long"))
    mean_patience = rng.uniform(60, 100) if patience == "short" else rng.uniform(200, 320)
    surge = rng.choice(names) if rng.random() < 0.5 else None

    staffed = sum(
        sum(e - s for s, e in sched.shifts) - sum(b.end - b.start for b in sched.breaks)
        for sched in staff.values()
    )
    shares = {n: SERVICES[n][2] * rng.uniform(0.6, 1.4) for n in names}
    total_share = sum(shares.values())
    slots = [OPEN + i * SLOT_S for i in range(len(PROFILE))]
    surge_slots = set(rng.sample(slots[:8], rng.randint(2, 4))) if surge else set()
    surge_factor = rng.uniform(2.0, 4.0)
    transfers = {n: 0.04 for n in names if n != "accueil"}
    traffic: dict[str, ServiceTraffic] = {}
    for n in names:
        work = SERVICES[n][1] + services[n].wrap_up_s
        calls = factor * staffed * shares[n] / total_share / work
        weights = {s: float(w) for s, w in zip(slots, PROFILE, strict=True)}
        if n == surge:
            base = sum(weights.values())
            weights = {
                s: w * (surge_factor if s in surge_slots else 1.0) for s, w in weights.items()
            }
            calls *= sum(weights.values()) / base  # the surge comes on top of the day
        traffic[n] = ServiceTraffic(
            service=n,
            calls_per_day=calls,
            slot_weights=weights,
            handle_mean_s=SERVICES[n][1],
            handle_sigma=0.6,
            patience_mean_s=mean_patience,
            transfers=transfers if n == "accueil" else {},
        )
    shape = DayShape(
        seed, count, len(names), "broad" if broad else "narrow", load, factor, surge, patience
    )
    spec = DaySpec(
        name=shape.label,
        routing=EngineConfig(services, agents),
        traffic=traffic,
        staff=staff,
        ring=RingSpec(15.0, (2.0, 8.0), 60.0),
        app_queue=AppQueueSpec(),
    )
    return spec, shape
