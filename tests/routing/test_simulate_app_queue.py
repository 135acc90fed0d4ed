"""The app_queue baseline behaves as Asterisk documents each strategy, step by step."""

from __future__ import annotations

from typing import Any

import pytest

from routing.app_queue_model import AppQueueModel
from routing.config import parse_config
from routing.day_model import AppQueueSpec, Strategy
from routing.decisions import AgentStateChanged, Decision, Offer, Overflow, OverflowReason
from routing.errors import UnexpectedEvent, UnknownService
from routing.events import (
    AgentFinished,
    AgentStateSet,
    CallLeft,
    CallQueued,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import EngineConfig
from routing.states import AgentState

READY, PAUSED, OFFLINE = AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE

# Queue "s": a1, a2, a4 have penalty 0 (proficiency 5), a3 penalty 1 (proficiency 4),
# a5 penalty 3 (proficiency 2). "t" is a lighter queue (lower weight) sharing a1.
CONFIG: dict[str, Any] = {
    "skills": {"x": "X", "y": "Y"},
    "services": {
        "s": {
            "label": "S",
            "required_skills": {"x": 2},
            "priority": 1,
            "max_wait_s": 100,
            "overflow": {"kind": "voicemail"},
        },
        "t": {
            "label": "T",
            "required_skills": {"y": 1},
            "priority": 0,
            "max_wait_s": 100,
            "wrap_up_s": 30,
        },
    },
    "agents": {
        "a1": {"name": "A1", "skills": {"x": 5, "y": 3}},
        "a2": {"name": "A2", "skills": {"x": 5}},
        "a3": {"name": "A3", "skills": {"x": 4}},
        "a4": {"name": "A4", "skills": {"x": 5}},
        "a5": {"name": "A5", "skills": {"x": 2}},
    },
}


def config() -> EngineConfig:
    return parse_config(CONFIG).to_engine()


def model(strategy: Strategy, agents: tuple[str, ...], **options: Any) -> AppQueueModel:
    m = AppQueueModel(config(), strategy, AppQueueSpec(**options))
    for agent in agents:
        m.handle(AgentStateSet(agent, READY, 0.0))
    return m


def offers(decisions: list[Decision]) -> list[str]:
    return [d.agent for d in decisions if isinstance(d, Offer)]


def serve(m: AppQueueModel, call: str, at: float, service: str = "s") -> str:
    """Queue a call; its single offer is answered at once. Returns who took it."""
    (agent,) = offers(m.handle(CallQueued(call, service, at)))
    m.handle(OfferAnswered(call, agent, at))
    return agent


def test_members_and_penalties_follow_proficiency() -> None:
    m = AppQueueModel(config(), Strategy.RINGALL)
    assert m.members("s") == [("a1", 0), ("a2", 0), ("a3", 1), ("a4", 0), ("a5", 3)]
    assert m.members("t") == [("a1", 2)]
    with pytest.raises(UnknownService):
        m.members("nope")


def test_ringall_rings_every_available_member_of_lowest_penalty() -> None:
    m = model(Strategy.RINGALL, ("a1", "a2", "a3", "a4", "a5"))
    assert offers(m.handle(CallQueued("c1", "s", 1.0))) == ["a1", "a2", "a4"]
    out = m.handle(OfferAnswered("c1", "a2", 3.0))
    freed = {d.agent for d in out if isinstance(d, AgentStateChanged) and d.state is READY}
    assert freed == {"a1", "a4"}  # the others stop ringing
    assert offers(m.handle(CallQueued("c2", "s", 4.0))) == ["a1", "a4"]


def test_higher_penalty_only_when_no_lower_penalty_member_is_available() -> None:
    m = model(Strategy.RINGALL, ("a1", "a2", "a3", "a4", "a5"))
    for agent in ("a1", "a2", "a4"):
        m.handle(AgentStateSet(agent, PAUSED, 1.0))
    assert offers(m.handle(CallQueued("c1", "s", 2.0))) == ["a3"]
    assert offers(m.handle(CallQueued("c2", "s", 3.0))) == ["a5"]
    assert offers(m.handle(CallQueued("c3", "s", 4.0))) == []  # nobody left: it waits
    # a penalty-0 member coming back takes the waiting call
    assert offers(m.handle(AgentStateSet("a4", READY, 5.0))) == ["a4"]


def test_leastrecent_picks_the_member_whose_last_call_ended_longest_ago() -> None:
    m = model(Strategy.LEASTRECENT, ("a1", "a2", "a4"))
    assert serve(m, "c1", 1.0) == "a1"  # nobody had a call: configuration order
    assert serve(m, "c2", 2.0) == "a2"
    m.handle(AgentFinished("a2", 5.0))
    m.handle(AgentFinished("a1", 8.0))
    assert serve(m, "c3", 10.0) == "a4"  # never had a call: first
    assert serve(m, "c4", 11.0) == "a2"  # ended at 5, before a1 (8)


def test_fewestcalls_picks_the_member_with_fewest_completed_calls() -> None:
    m = model(Strategy.FEWESTCALLS, ("a1", "a2", "a4"))
    t = 0.0
    for agent_calls, agent in ((2, "a1"), (1, "a2")):
        for _ in range(agent_calls):
            t += 1
            for other in {"a1", "a2", "a4"} - {agent}:
                m.handle(AgentStateSet(other, PAUSED, t))
            assert serve(m, f"c{t:.0f}", t) == agent
            m.handle(AgentFinished(agent, t + 0.5))
            for other in {"a1", "a2", "a4"} - {agent}:
                m.handle(AgentStateSet(other, READY, t + 0.5))
    assert serve(m, "d1", 10.0) == "a4"  # 0 calls
    assert serve(m, "d2", 11.0) == "a2"  # 1 call, before a1's 2 despite the order


def test_rrmemory_round_robins_from_after_the_last_member_rung() -> None:
    m = model(Strategy.RRMEMORY, ("a1", "a2", "a3", "a4"))
    taken = []
    for i in range(4):
        agent = serve(m, f"c{i}", 1.0 + i)
        m.handle(AgentFinished(agent, 1.5 + i))
        taken.append(agent)
    assert taken == ["a1", "a2", "a4", "a1"]  # a3 (penalty 1) skipped, then wraps
    # a2 is next but busy on another call: a4 is rung, and the memory moves past it
    m.handle(AgentStateSet("a2", PAUSED, 10.0))
    assert serve(m, "d1", 11.0) == "a4"
    m.handle(AgentFinished("a4", 12.0))
    m.handle(AgentStateSet("a2", READY, 12.0))
    assert serve(m, "d2", 13.0) == "a1"


def test_unanswered_ring_waits_retry_then_rrmemory_tries_the_next_member() -> None:
    m = model(Strategy.RRMEMORY, ("a1", "a2"), retry_s=5.0)
    assert offers(m.handle(CallQueued("c1", "s", 1.0))) == ["a1"]
    assert offers(m.handle(OfferFailed("c1", "a1", "no answer", 16.0))) == []
    assert m.next_deadline() == 21.0
    assert offers(m.handle(Tick(21.0))) == ["a2"]


def test_timeout_overflows_but_not_during_a_ring() -> None:
    m = model(Strategy.RINGALL, ("a1",))
    m.handle(AgentStateSet("a1", PAUSED, 0.0))
    m.handle(CallQueued("c1", "s", 0.0))
    out = m.handle(Tick(100.0))
    assert [d for d in out if isinstance(d, Overflow)] == [
        Overflow(
            "c1", "s", config().services["s"].overflow.kind, None, OverflowReason.MAX_WAIT, 100.0
        )
    ]
    m.handle(AgentStateSet("a1", READY, 101.0))
    assert offers(m.handle(CallQueued("c2", "s", 110.0))) == ["a1"]
    assert not m.handle(Tick(210.0))  # ringing at its timeout: the ring goes on
    out = m.handle(OfferFailed("c2", "a1", "no answer", 215.0))
    assert [d.reason for d in out if isinstance(d, Overflow)] == [OverflowReason.MAX_WAIT]


def test_no_member_logged_in_overflows_with_no_agent() -> None:
    m = model(Strategy.LEASTRECENT, ())
    out = m.handle(CallQueued("c1", "s", 1.0))
    assert [d.reason for d in out if isinstance(d, Overflow)] == [OverflowReason.NO_AGENT]
    m = model(Strategy.LEASTRECENT, ("a2",))
    m.handle(AgentStateSet("a2", PAUSED, 1.0))
    m.handle(CallQueued("c2", "s", 2.0))
    out = m.handle(AgentStateSet("a2", OFFLINE, 3.0))  # leavewhenempty
    assert [d.call_id for d in out if isinstance(d, Overflow)] == ["c2"]


def test_a_member_busy_in_one_queue_is_not_rung_by_another() -> None:
    m = model(Strategy.RINGALL, ("a1",), shared_lastcall=False)
    assert serve(m, "c1", 1.0, "t") == "a1"
    assert offers(m.handle(CallQueued("c2", "s", 2.0))) == []
    out = m.handle(AgentFinished("a1", 3.0))
    # t's wrap-up (30 s) does not hold her back from s without shared_lastcall
    assert offers(out) == ["a1"]


def test_heavier_queue_with_callers_holds_its_members_back() -> None:
    m = model(Strategy.RINGALL, ("a1",))
    m.handle(CallQueued("c1", "s", 1.0))  # rings a1
    assert offers(m.handle(CallQueued("c2", "s", 1.5))) == []
    assert offers(m.handle(CallQueued("t1", "t", 2.0))) == []
    out = m.handle(OfferFailed("c1", "a1", "no answer", 16.0))
    # a1 is free, but s (weight 1) has callers: t (weight 0) may not ring her; s rings her
    assert [(d.call_id, d.agent) for d in out if isinstance(d, Offer)] == [("c2", "a1")]
    m.handle(CallLeft("c1", 17.0))
    out = m.handle(CallLeft("c2", 18.0))  # s is empty: t may ring her now
    assert [(d.call_id, d.agent) for d in out if isinstance(d, Offer)] == [("t1", "a1")]


@pytest.mark.parametrize("shared", [True, False])
def test_wrapuptime_and_shared_lastcall(shared: bool) -> None:
    m = model(Strategy.RINGALL, ("a1",), shared_lastcall=shared)
    assert serve(m, "t1", 1.0, "t") == "a1"
    m.handle(AgentFinished("a1", 2.0))  # t's wrapuptime: 30 s
    assert offers(m.handle(CallQueued("t2", "t", 3.0))) == []
    rung = offers(m.handle(CallQueued("c1", "s", 4.0)))
    assert rung == ([] if shared else ["a1"])
    if shared:
        assert m.next_deadline() == 32.0
        # s is heavier: it gets a1 first when her wrap-up ends
        assert [d.call_id for d in m.handle(Tick(32.0)) if isinstance(d, Offer)] == ["c1"]


def test_events_that_do_not_fit_are_refused() -> None:
    m = model(Strategy.RINGALL, ("a1",))
    m.handle(CallQueued("c1", "s", 1.0))
    with pytest.raises(UnexpectedEvent):
        m.handle(OfferAnswered("c1", "a2", 2.0))
    with pytest.raises(UnexpectedEvent):
        m.handle(AgentFinished("a2", 2.0))
    with pytest.raises(UnexpectedEvent):
        m.handle(CallQueued("c1", "s", 2.0))
