"""Callback requests routed as virtual callers who entered when they asked (engine + queue)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from routing.callbacks.queueing import CallbackQueue, engine_call_id, request_id_of
from routing.callbacks.request import CallbackRequest, Source, Window
from routing.config import parse_config
from routing.decisions import Offer, Overflow
from routing.engine import RoutingEngine
from routing.events import AgentStateSet, CallLeft, CallQueued, OfferAnswered, OfferFailed, Tick
from routing.states import AgentState

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}, "max_wait_s": 60},
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "max_wait_s": 60,
            "overflow": {"kind": "callback"},
        },
    },
    "agents": {
        "201": {"name": "Sophie", "skills": {"accueil": 5}},
        "205": {"name": "Nathalie", "skills": {"urbanisme": 4}},
    },
}
T0 = 1_800_000_000.0


def request(rid: str, asked: float, service: str = "urbanisme") -> CallbackRequest:
    at = datetime.fromtimestamp(asked, UTC)
    window = Window.REOPENING
    return CallbackRequest(rid, "+33612345678", service, at, window, at, None, Source.MENU)


def offers(decisions: list[Any]) -> list[tuple[str, str]]:
    return [(d.call_id, d.agent) for d in decisions if isinstance(d, Offer)]


def test_ids() -> None:
    assert request_id_of(engine_call_id("abc")) == "abc"
    assert request_id_of("1700000000.12") is None


def test_callback_keeps_its_place_among_live_callers_and_never_overflows() -> None:
    engine = RoutingEngine(parse_config(CONFIG))
    queue = CallbackQueue()
    # Asked long before anyone calls, and before any agent is there: far past max wait.
    engine.handle(CallQueued("live-1", "urbanisme", T0 + 500))  # nobody: overflows at once
    for event in queue.sync([request("cb1", T0)], T0 + 1000, CONFIG["services"]):
        assert not [d for d in engine.handle(event) if isinstance(d, Overflow)]
    engine.handle(AgentStateSet("201", AgentState.READY, T0 + 1001))  # not qualified
    engine.handle(AgentStateSet("205", AgentState.PAUSED, T0 + 1001))  # qualified, on a break
    assert [w.call_id for w in engine.waiting("urbanisme")] == ["rappel:cb1"]
    decisions = engine.handle(CallQueued("live-2", "urbanisme", T0 + 1010, since=T0 + 1010))
    assert [w.call_id for w in engine.waiting("urbanisme")] == ["rappel:cb1", "live-2"]
    # Past every max wait: the live caller overflows (callback), the request stays.
    decisions = engine.handle(Tick(T0 + 1100))
    assert [d.call_id for d in decisions if isinstance(d, Overflow)] == ["live-2"]
    # The qualified agent arrives: the callback is hers first, in its place.
    engine.handle(CallQueued("live-3", "urbanisme", T0 + 1101))
    decisions = engine.handle(AgentStateSet("205", AgentState.READY, T0 + 1102))
    assert offers(decisions) == [("rappel:cb1", "205")]
    # « Reporter » / no answer: not a miss when the page says so, back in place.
    decisions = engine.handle(OfferFailed("rappel:cb1", "205", "declined", T0 + 1103, missed=False))
    assert offers(decisions) == [("rappel:cb1", "205")]  # still the oldest: hers again
    decisions = engine.handle(OfferAnswered("rappel:cb1", "205", T0 + 1104))
    queue.taken("cb1")
    assert engine.agent("205").state is AgentState.ON_CALL
    assert [w.call_id for w in engine.waiting("urbanisme")] == ["live-3"]


def test_sync_withdraws_requests_no_longer_due_and_ignores_unknown_services() -> None:
    engine = RoutingEngine(parse_config(CONFIG))
    queue = CallbackQueue()
    due = [request("a", T0), request("b", T0 + 5), request("c", T0, service="disparu")]
    events = queue.sync(due, T0 + 10, CONFIG["services"])
    assert [(type(e).__name__, e.call_id) for e in events] == [
        ("CallQueued", "rappel:a"),
        ("CallQueued", "rappel:b"),
    ]
    for event in events:
        engine.handle(event)
    assert queue.sync(due, T0 + 11, CONFIG["services"]) == []  # nothing new
    events = queue.sync(due[1:2], T0 + 12, CONFIG["services"])  # the service closed for "a"
    assert events == [CallLeft("rappel:a", T0 + 12)]
    engine.handle(events[0])
    assert [w.call_id for w in engine.waiting("urbanisme")] == ["rappel:b"]
    assert queue.withdraw("b", T0 + 13) == [CallLeft("rappel:b", T0 + 13)]
    assert queue.withdraw("b", T0 + 14) == []


def test_nobody_left_overflows_live_callers_but_not_callbacks() -> None:
    engine = RoutingEngine(parse_config(CONFIG))
    engine.handle(AgentStateSet("205", AgentState.PAUSED, T0))
    engine.handle(CallQueued("rappel:x", "urbanisme", T0 + 1, since=T0, keeps_place=True))
    engine.handle(CallQueued("live", "urbanisme", T0 + 2))
    decisions = engine.handle(AgentStateSet("205", AgentState.OFFLINE, T0 + 3))
    assert [d.call_id for d in decisions if isinstance(d, Overflow)] == ["live"]
    assert [w.call_id for w in engine.waiting("urbanisme")] == ["rappel:x"]
