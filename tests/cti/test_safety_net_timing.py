"""The safety net never fires while the product lives, whatever the timings (issue 17).

A pure model of the two clocks that meet on ``CTI_SAFETY``: the router's heartbeat
(``cti.router.heartbeat_period`` / ``safety_deadline``, pushed for every call it holds) and
the dialplan's ``cti-wait`` (``cti.pbxsim.safety_queue.safety_remaining``, read on entering
``cti-wait`` and after each slice of music, never while the agent's phone rings, counting
whole seconds from ``WAIT_START``). A call alternates waiting and ringing an agent who never
answers; Hypothesis draws the net, the ring time, the no-answer pattern, the heartbeat's
phase and the delays of the events and Setvars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from cti.pbxsim.safety_queue import safety_remaining
from cti.router import heartbeat_period, safety_deadline


@dataclass(frozen=True)
class Timings:
    safety_net: int  # SAFETY_NET in extensions.conf = CTI_SAFETY_NET
    ring: float  # AGENT_RING: how long each offer rings before NOANSWER
    waits: tuple[float, ...]  # time in cti-wait before each offer (the no-answer pattern)
    wait_start: float  # the caller enters cti-wait (the PBX's clock)
    seen_after: float  # the router hears CtiWaiting this much later
    phase: float  # 0..1: where the heartbeat is in its period when the call arrives
    beat_late: float  # each beat may run late (a busy event loop)
    setvar_delay: float  # a push reaches the channel this much after its beat


def segments(t: Timings) -> list[tuple[float, float]]:
    """The call's stays in cti-wait: [start, end) each, ringing in between, then a long wait."""
    out: list[tuple[float, float]] = []
    now = t.wait_start
    for wait in t.waits:
        out.append((now, now + wait))
        now += wait + t.ring
    out.append((now, now + 4 * t.safety_net))
    return out


def pushes(t: Timings, end: float, *, only_while_waiting: bool) -> list[tuple[float, int]]:
    """(arrival, CTI_SAFETY) of each push until ``end``; the router's rule, or the old one."""
    period = heartbeat_period(t.safety_net)
    seen = t.wait_start + t.seen_after
    beat = seen + t.phase * period
    stays = segments(t)
    out: list[tuple[float, int]] = []
    while beat < end:
        beat_at = beat + t.beat_late
        if only_while_waiting:  # before the fix: waiting calls only, from the latest wait
            stay = next(((a, b) for a, b in stays if a <= beat_at < b), None)
            if stay is not None:
                since = max(seen, stay[0] + t.seen_after)
                out.append((beat_at + t.setvar_delay, math.ceil(beat_at - since + t.safety_net)))
        else:
            value = safety_deadline(beat_at, seen, t.safety_net)
            out.append((beat_at + t.setvar_delay, value))
        beat += period
    return out


def falls_back(t: Timings, *, only_while_waiting: bool = False) -> float | None:
    """The first instant cti-wait would send the caller to the fallback queue, if any."""
    stays = segments(t)
    arrived = pushes(t, stays[-1][1], only_while_waiting=only_while_waiting)

    def remain(at: float) -> float:
        pushed = [value for when, value in arrived if when <= at]
        cti_safety = str(pushed[-1]) if pushed else ""
        # The dialplan's EPOCH and WAIT_START are whole seconds.
        epoch, start = math.floor(at), math.floor(t.wait_start)
        return safety_remaining(cti_safety, start, epoch, t.safety_net)

    for a, b in stays:
        # Between two pushes the count only goes down: look just before each push and
        # just before the end of the stay, and on entering.
        checks = [a] + [w - 1e-6 for w, _ in arrived if a < w < b] + [b - 1e-6]
        for at in checks:
            if remain(at) <= 0:
                return at
    return None


timings = st.builds(
    Timings,
    safety_net=st.integers(6, 600),
    ring=st.floats(1.0, 1.0),  # replaced below: a multiple of the net
    waits=st.lists(st.floats(0.0, 2.0), max_size=6).map(tuple),
    wait_start=st.floats(1.7e9, 1.8e9),
    seen_after=st.floats(0.0, 0.5),
    phase=st.floats(0.0, 0.999),
    beat_late=st.floats(0.0, 1.0),
    setvar_delay=st.floats(0.0, 0.5),
)


@st.composite
def scaled(draw: st.DrawFn) -> Timings:
    """Ring time and waits drawn as shares of the net: short rings, rings longer than the
    net, waits from none (re-offered at once) to twice the net."""
    t = draw(timings)
    ring = draw(st.floats(0.05, 3.0)) * t.safety_net
    waits = tuple(w * t.safety_net for w in t.waits)
    return Timings(
        t.safety_net,
        max(ring, 1.0),
        waits,
        t.wait_start,
        t.seen_after,
        t.phase,
        t.beat_late,
        t.setvar_delay,
    )


@settings(max_examples=500, derandomize=True, deadline=None)
@given(scaled())
def test_the_dialplan_never_falls_back_while_the_router_beats(t: Timings) -> None:
    assert falls_back(t) is None


def test_the_model_sees_issue_17_under_the_old_rule() -> None:
    """The reported case: net 60 s, ring 20 s, re-offered at once, three no-answers."""
    t = Timings(60, 20.0, (0.1, 0.1, 0.1), 1.79e9, 0.05, 0.5, 0.0, 0.01)
    fired = falls_back(t, only_while_waiting=True)
    assert fired is not None and fired - t.wait_start < 70
    assert falls_back(t) is None
