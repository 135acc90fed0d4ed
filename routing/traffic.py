"""A day's traffic, drawn once from a seed, so every router replays exactly the same day.

Theory of operation: ``generate_calls`` draws, with one ``random.Random(seed)``, the arrivals
of every service in every half-hour slot (a Poisson process of constant rate within the
slot), then for each call everything the caller will do whoever answers: her patience
(exponential), a standard normal ``z`` that fixes her talk time for whichever service
answers (log-normal: ``exp(mu + sigma * z)`` with ``mu`` chosen so the mean is the
service's), whether she is transferred after the talk and where (with her own patience and
``z`` for that second leg), and a seed for her ring outcomes. Ring outcomes are drawn on
demand from that per-call seed, in offer order (``RingDraws``): the k-th phone rung for a
caller answers or not the same way under every router.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from routing.day_model import SLOT_S, DaySpec, ServiceTraffic

MIN_TALK_S = 5.0


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One caller of the day and every random draw about her."""

    call_id: str
    service: str
    arrival: float
    patience_s: float
    handle_z: float
    ring_seed: int
    transfer_to: str | None = None
    transfer_patience_s: float = 0.0
    transfer_handle_z: float = 0.0
    transfer_ring_seed: int = 0
    # A recorded call's talk time (``routing.recorded_days``): used instead of the
    # service's log-normal draw for her first leg and its overflow legs.
    talk_s: float | None = None


def talk_time(traffic: ServiceTraffic, z: float) -> float:
    """The log-normal talk time of a call with normal draw ``z`` (never under 5 s)."""
    sigma = traffic.handle_sigma
    mu = math.log(traffic.handle_mean_s) - sigma * sigma / 2
    return max(MIN_TALK_S, math.exp(mu + sigma * z))


class RingDraws:
    """The successive ring outcomes of one caller: (answered?, ring delay if answered)."""

    __slots__ = ("_rng",)

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def next(self, no_answer: float, delay: tuple[float, float]) -> tuple[bool, float]:
        u, v = self._rng.random(), self._rng.random()
        return (u >= no_answer, delay[0] + v * (delay[1] - delay[0]))


def scale_for(spec: DaySpec, calls: int | None) -> float:
    """The scale factor giving about ``calls`` first-leg calls (the scenario's if None)."""
    if calls is None:
        return spec.scale
    base = sum(t.calls_per_day for t in spec.traffic.values())
    return calls / base if base > 0 else spec.scale


def generate_calls(spec: DaySpec, seed: int, calls: int | None = None) -> tuple[CallPlan, ...]:
    """Draw the day's callers, sorted by arrival; ids are ``c00001``... in that order."""
    rng = random.Random(seed)
    scale = scale_for(spec, calls)
    arrivals: list[tuple[float, str]] = []
    for name in sorted(spec.traffic):
        traffic = spec.traffic[name]
        total = sum(traffic.slot_weights.values())
        for start, weight in traffic.slot_weights.items():
            rate = traffic.calls_per_day * scale * weight / total / SLOT_S
            if rate <= 0:
                continue
            t = start + rng.expovariate(rate)
            while t < start + SLOT_S:
                arrivals.append((t, name))
                t += rng.expovariate(rate)
    arrivals.sort()
    width = max(5, len(str(len(arrivals))))
    plans: list[CallPlan] = []
    for index, (at, name) in enumerate(arrivals, start=1):
        traffic = spec.traffic[name]
        patience = rng.expovariate(1 / traffic.patience_mean_s)
        z = rng.gauss(0.0, 1.0)
        ring_seed = rng.getrandbits(64)
        target = _transfer_target(traffic, rng.random())
        plan = CallPlan(f"c{index:0{width}}", name, at, patience, z, ring_seed)
        if target is not None:
            target_traffic = spec.traffic.get(target)
            mean = (target_traffic or traffic).patience_mean_s
            plan = CallPlan(
                plan.call_id,
                name,
                at,
                patience,
                z,
                ring_seed,
                target,
                rng.expovariate(1 / mean),
                rng.gauss(0.0, 1.0),
                rng.getrandbits(64),
            )
        plans.append(plan)
    return tuple(plans)


def _transfer_target(traffic: ServiceTraffic, u: float) -> str | None:
    for target, share in traffic.transfers.items():
        if u < share:
            return target
        u -= share
    return None
