"""The dispatcher turns the tracker's domain events into the engine's, and completes decisions."""

from __future__ import annotations

from typing import Any

from cti.ami.events import DeviceStateChanged
from cti.dispatch import Dispatcher
from cti.service import CallService
from cti.tracker import events as ev
from routing.config import parse_config
from routing.decisions import AgentStateChanged, Offer, Overflow, PauseAgent, SupervisorAlert
from routing.engine import RoutingEngine
from routing.states import AgentState

S = AgentState

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "max_missed_offers": 2,
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}, "wrap_up_s": 5},
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 3},
            "max_wait_s": 100,
            "overflow": {"kind": "service", "target": "accueil"},
        },
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "overflow": {"kind": "voicemail", "target": "urba"},
        },
    },
    "agents": {
        "201": {"name": "Marie", "skills": {"accueil": 5, "etat-civil": 4}},
        "202": {"name": "Paul", "skills": {"etat-civil": 5}},
        "203": {"name": "Sophie", "skills": {"urbanisme": 4}},
    },
}


def dispatcher(config: dict[str, Any] = CONFIG) -> Dispatcher:
    return Dispatcher(RoutingEngine(parse_config(config)), "accueil")


def base(call: str, at: float) -> dict[str, Any]:
    return {"call_id": call, "at": at, "caller_number": "0612345678", "caller_withheld": False}


def waiting(call: str, at: float, service: str | None = "etat-civil") -> ev.CallWaiting:
    return ev.CallWaiting(**base(call, at), service=service)


def offers(decisions: list[Any]) -> list[tuple[str, str]]:
    return [(d.call_id, d.agent) for d in decisions if isinstance(d, Offer)]


def ready(d: Dispatcher, *agents: str, at: float = 0.0) -> None:
    for agent in agents:
        d.set_state(agent, S.READY, None, at)


def test_a_waiting_call_goes_to_the_best_qualified_ready_agent() -> None:
    d = dispatcher()
    ready(d, "201", "202", "203")
    assert offers(d.on_event(waiting("c1", 1.0), 1.0)) == [("c1", "202")]  # proficiency 5
    # The same call announced again (position changed) is not queued twice.
    assert d.on_event(waiting("c1", 1.5), 1.5) == []


def test_an_unknown_service_goes_to_the_default_one() -> None:
    d = dispatcher()
    ready(d, "201")
    assert offers(d.on_event(waiting("c1", 1.0, "cimetiere"), 1.0)) == [("c1", "201")]
    assert d.engine.agent("201").service == "accueil"


def test_answer_then_hangup_is_a_call_then_wrap_up() -> None:
    d = dispatcher()
    ready(d, "201")
    d.on_event(waiting("c1", 1.0, "accueil"), 1.0)
    d.on_event(ev.CallOffered(**base("c1", 1.1), agent="201"), 1.1)
    assert d.engine.agent("201").state is S.RINGING
    d.on_event(ev.CallAnswered(**base("c1", 3.0), agent="201"), 3.0)
    assert d.engine.agent("201").state is S.ON_CALL
    out = d.on_event(
        ev.CallEnded(**base("c1", 60.0), reason="caller_hangup", stage="connected", agent="201"),
        60.0,
    )
    assert AgentStateChanged("201", S.WRAP_UP, None, 60.0) in out
    assert d.next_deadline() == 65.0
    assert AgentStateChanged("201", S.READY, None, 65.0) in d.tick(65.0)


def test_after_a_miss_the_next_offer_waits_for_the_caller_back_in_cti_wait() -> None:
    d = dispatcher()
    ready(d, "201", "202")
    d.on_event(waiting("c1", 1.0), 1.0)  # to 202
    out = d.on_event(ev.CallNoAnswer(**base("c1", 21.0), agent="202", reason="noanswer"), 21.0)
    assert offers(out) == []  # 201 is chosen, but the caller is still in cti-connect
    assert d.engine.agent("201").state is S.RINGING
    assert offers(d.on_event(waiting("c1", 21.1), 21.1)) == [("c1", "201")]


def test_missed_offers_pause_the_agent_and_tell_the_supervisor() -> None:
    d = dispatcher()
    ready(d, "202")
    d.on_event(waiting("c1", 1.0), 1.0)
    d.on_event(ev.CallNoAnswer(**base("c1", 21.0), agent="202", reason="noanswer"), 21.0)
    assert offers(d.on_event(waiting("c1", 21.1), 21.1)) == [("c1", "202")]
    out = d.on_event(ev.CallNoAnswer(**base("c1", 41.0), agent="202", reason="noanswer"), 41.0)
    assert PauseAgent("202", "absence de réponse", 41.0) in out
    assert any(isinstance(x, SupervisorAlert) for x in out)
    assert d.engine.agent("202").state is S.PAUSED
    assert offers(d.on_event(waiting("c1", 41.1), 41.1)) == []


def test_a_ring_the_engine_did_not_decide_makes_the_phone_busy() -> None:
    d = dispatcher()
    ready(d, "201", "202")
    d.on_event(waiting("c1", 1.0), 1.0)  # to 202
    d.on_event(ev.CallAnswered(**base("c1", 2.0), agent="202"), 2.0)
    # 202 hands the call to 201 (blind transfer): 202 finishes, 201's phone is busy.
    d.on_event(ev.CallTransferred(**base("c1", 30.0), agent="202", kind="blind"), 30.0)
    d.on_event(ev.CallOffered(**base("c1", 30.1), agent="201"), 30.1)
    assert d.engine.agent("202").state is S.READY
    assert d.engine.agent("201").phone_busy
    assert offers(d.on_event(waiting("c2", 31.0), 31.0)) == [("c2", "202")]
    d.on_event(ev.CallAnswered(**base("c1", 32.0), agent="201"), 32.0)
    d.on_event(
        ev.CallEnded(**base("c1", 90.0), reason="caller_hangup", stage="connected", agent="201"),
        90.0,
    )
    assert not d.engine.agent("201").phone_busy


def test_hang_up_while_ringing_frees_the_agent_without_a_miss() -> None:
    d = dispatcher()
    ready(d, "202")
    d.on_event(waiting("c1", 1.0), 1.0)
    d.on_event(ev.CallAbandoned(**base("c1", 5.0), reason="ringing", agent="202"), 5.0)
    view = d.engine.agent("202")
    assert (view.state, view.missed_offers) == (S.READY, 0)
    assert d.held == set() and d.ringing == {}


def test_overflow_to_a_service_queues_the_call_there() -> None:
    d = dispatcher()
    d.set_state("202", S.PAUSED, "déjeuner", 0.0)  # logged in: etat-civil can be served later
    ready(d, "203")
    assert d.on_event(waiting("c1", 1.0), 1.0) == []
    d.set_state("201", S.FRONT_DESK, None, 2.0)
    out = d.tick(101.0)
    assert [type(x) for x in out] == [Overflow]
    ready(d, "201", at=102.0)
    assert d.engine.agent("201").call_id == "c1"
    assert d.engine.agent("201").service == "accueil"


def test_overflow_to_voicemail_is_left_to_the_shell() -> None:
    d = dispatcher()
    out = d.on_event(waiting("c1", 1.0, "urbanisme"), 1.0)  # nobody logged in can take it
    assert [(type(x), x.target) for x in out] == [(Overflow, "urba")]
    assert d.held == set()
    out = d.on_event(ev.CallEnded(**base("c1", 20.0), reason="overflow", stage="waiting"), 20.0)
    assert out == []


def test_reload_keeps_states_waits_and_calls_in_progress() -> None:
    d = dispatcher()
    d.set_state("203", S.PAUSED, "réunion", 0.0)
    ready(d, "202")
    d.on_event(waiting("c1", 1.0), 1.0)
    d.on_event(ev.CallAnswered(**base("c1", 2.0), agent="202"), 2.0)
    d.on_event(waiting("c2", 10.0), 10.0, since=8.0)  # waits: 202 is busy
    config = {**CONFIG, "agents": {**CONFIG["agents"], "204": {"name": "Luc", "skills": {}}}}
    d.reload(RoutingEngine(parse_config(config)), 20.0)
    assert d.engine.agent("203").state is S.PAUSED
    assert d.engine.agent("203").reason == "réunion"
    assert d.engine.agent("204").state is S.OFFLINE
    paul = d.engine.agent("202")
    assert (paul.state, paul.phone_busy) == (S.READY, True)
    [still] = d.engine.waiting("etat-civil")
    assert (still.call_id, still.since) == ("c2", 8.0)
    # The call in progress ends as a call the new engine did not route: 202 takes c2.
    out = d.on_event(
        ev.CallEnded(**base("c1", 30.0), reason="caller_hangup", stage="connected", agent="202"),
        30.0,
    )
    assert offers(out) == [("c2", "202")]


def test_time_going_back_on_the_wall_clock_is_absorbed() -> None:
    d = dispatcher()
    ready(d, "201", at=100.0)
    assert offers(d.on_event(waiting("c1", 99.0, "accueil"), 99.0)) == [("c1", "201")]


def test_a_phone_in_use_gets_no_offer_until_it_is_free() -> None:
    d = dispatcher()
    ready(d, "202")
    d.on_device("PJSIP/202", "INUSE", 1.0)  # Paul calls the prefecture himself
    assert d.engine.agent("202").phone_busy
    assert offers(d.on_event(waiting("c1", 2.0), 2.0)) == []
    d.on_device("PJSIP/202", "RINGING", 3.0)  # not in use: a ring is what an offer looks like
    assert offers(d.on_device("PJSIP/202", "NOT_INUSE", 3.5)) == []  # already offered at 3.0
    assert d.engine.agent("202").call_id == "c1"


def test_the_phone_is_busy_while_the_device_or_a_foreign_call_says_so() -> None:
    d = dispatcher()
    ready(d, "201", "202")
    d.on_event(ev.CallOffered(**base("x", 1.0), agent="201"), 1.0)  # a transfer to 201
    d.on_device("PJSIP/201", "INUSE", 1.5)
    d.on_event(
        ev.CallEnded(**base("x", 9.0), reason="caller_hangup", stage="connected", agent="201"),
        9.0,
    )
    assert d.engine.agent("201").phone_busy  # the device still says in use
    d.on_device("PJSIP/201", "NOT_INUSE", 9.5)
    assert not d.engine.agent("201").phone_busy
    # Devices that are not agents' phones are ignored.
    assert d.on_device("PJSIP/trunk-orange", "INUSE", 10.0) == []
    assert d.on_device("Local/201@agents", "INUSE", 10.0) == []


def test_the_service_hands_device_states_to_the_router_not_to_the_tracker() -> None:
    service = CallService()
    seen: list[tuple[DeviceStateChanged, float]] = []
    service.add_device_listener(lambda device, at: seen.append((device, at)))
    frame = {"Event": "DeviceStateChange", "Privilege": "call,all", "Device": "PJSIP/201"}
    service.on_ami_event({**frame, "State": "inuse"}, 5.0)
    service.on_ami_event({"Event": "DeviceStateChange", "State": "INUSE"}, 6.0)  # no device
    assert seen == [(DeviceStateChanged("PJSIP/201", "INUSE"), 5.0)]
    assert service.tracker.active_calls == []


def test_a_call_in_the_dialplans_safety_net_is_left_to_asterisk() -> None:
    d = dispatcher()
    d.set_state("202", S.PAUSED, None, 0.0)
    d.on_event(waiting("c1", 1.0), 1.0)
    d.on_event(ev.CallSafetyNet(**base("c1", 61.0), service="etat-civil"), 61.0)
    assert d.engine.waiting("etat-civil") == []
    # The fallback queue announces the call waiting again: not queued, never offered.
    assert d.on_event(waiting("c1", 61.0, "accueil"), 61.0) == []
    ready(d, "201", "202", at=62.0)
    assert d.engine.agent("201").call_id is None and d.engine.agent("202").call_id is None


def test_a_call_found_in_progress_after_a_restart_shows_its_agent_on_the_phone() -> None:
    """After a restart mid-call the agent's chosen state (ready) is restored, and the resync
    finds her talking: she is on the phone for her page and the wallboard, and not offered."""
    d = dispatcher()
    ready(d, "201", "202")
    d.phones_changed.clear()
    d.on_event(ev.CallAnswered(**base("c1", 1.0), agent="201", service="accueil"), 1.0)
    assert d.on_foreign_call("201") and not d.on_foreign_call("202")
    assert d.phones_changed == ["201"]
    assert offers(d.on_event(waiting("c2", 2.0, "accueil"), 2.0)) == []  # Paul lacks accueil
    ended = ev.CallEnded(**base("c1", 3.0), reason="caller_hangup", stage="connected")
    assert offers(d.on_event(ended, 3.0)) == [("c2", "201")]  # free again: the next caller
    assert not d.on_foreign_call("201")
    assert d.phones_changed == ["201", "201"]


def test_a_call_found_at_the_resync_after_a_restart_shows_its_agent_on_the_phone() -> None:
    """At start the link is down (every phone busy for the engine) when the resync finds her
    talking: the engine's view does not change, what her page and the wallboard show does."""
    d = dispatcher()
    ready(d, "201", "202")
    d.link_changed(False, 0.5)
    d.phones_changed.clear()
    d.on_event(ev.CallAnswered(**base("c1", 1.0), agent="201", service="accueil"), 1.0)
    d.link_changed(True, 1.5)
    assert d.on_foreign_call("201")
    assert "201" in d.phones_changed  # the shell shows her on the phone
    assert offers(d.on_event(waiting("c2", 2.0, "accueil"), 2.0)) == []  # and offers nothing


def test_rung_together_the_first_answer_takes_the_call_and_frees_the_other() -> None:
    d = dispatcher(CONFIG | {"ring_together": 2})
    ready(d, "201", "202")
    assert offers(d.on_event(waiting("c1", 1.0), 1.0)) == [("c1", "202"), ("c1", "201")]
    assert d.ringing == {"c1": ["202", "201"]}
    d.on_event(ev.CallOffered(**base("c1", 1.1), agent="202"), 1.1)
    d.on_event(ev.CallOffered(**base("c1", 1.1), agent="201"), 1.1)
    assert d.foreign == {}  # both rings are the engine's own
    d.on_event(ev.CallAnswered(**base("c1", 4.0), agent="201"), 4.0)
    assert d.engine.agent("201").state is S.ON_CALL
    paul = d.engine.agent("202")
    assert (paul.state, paul.missed_offers) == (S.READY, 0)
    assert d.ringing == {} and d.talking == {"c1": "201"}


def test_rung_together_one_no_answer_leaves_the_call_with_the_other_ring() -> None:
    d = dispatcher(CONFIG | {"ring_together": 2})
    ready(d, "201", "202")
    d.on_event(waiting("c1", 1.0), 1.0)
    assert (
        offers(d.on_event(ev.CallNoAnswer(**base("c1", 2.0), agent="202", reason="busy"), 2.0))
        == []
    )
    assert d.engine.agent("202").missed_offers == 1
    assert d.ringing == {"c1": ["201"]} and d.away == set()  # Marie's phone still rings
    d.on_event(ev.CallNoAnswer(**base("c1", 21.0), agent="201", reason="noanswer"), 21.0)
    assert d.away == {"c1"}  # the Dial returned: back to cti-wait before any new offer


def test_rung_together_an_offer_not_placed_is_no_miss_for_any_of_them() -> None:
    d = dispatcher(CONFIG | {"ring_together": 2})
    ready(d, "201", "202")
    d.on_event(waiting("c1", 1.0), 1.0)
    out = d.offer_not_placed("c1", "202", 1.2) + d.offer_not_placed("c1", "201", 1.2)
    assert {d.engine.agent(a).missed_offers for a in ("201", "202")} == {0}
    assert "c1" not in d.away  # still in cti-wait: offered again at once
    assert offers(out) != []


def test_a_caller_gone_before_her_ring_leaves_the_line_and_nobody_missed_her() -> None:
    """Issue 23: Asterisk answered « No such channel » to the offer's Setvar before its Hangup
    event came. Offering her again would only be refused again until the event comes."""
    d = dispatcher(CONFIG | {"ring_together": 2})
    ready(d, "201", "202")
    assert offers(d.on_event(waiting("c1", 1.0), 1.0)) == [("c1", "202"), ("c1", "201")]
    out = d.caller_gone("c1", 1.2)
    assert offers(out) == []
    for agent in ("201", "202"):
        view = d.engine.agent(agent)
        assert (view.state, view.missed_offers) == (S.READY, 0)
    assert d.holding() == set() and d.ringing == {} and d.waiting() == set()
    # Her hang-up, when it comes, finds nothing left to do; the next caller is offered.
    gone = ev.CallAbandoned(**base("c1", 1.3), reason="waiting", service="etat-civil")
    assert d.on_event(gone, 1.3) == []
    assert offers(d.on_event(waiting("c2", 2.0), 2.0)) == [("c2", "202"), ("c2", "201")]


def test_phones_listed_at_the_resync_keep_an_agent_on_her_own_call_from_offers() -> None:
    """Issue 18: after a restart the link comes up with Marie on a call she placed herself
    (no citizen's call: the tracker has nothing to restore). The phones' states Asterisk
    lists before the link is ready make her busy; she gets the caller once she hangs up."""
    d = dispatcher()
    ready(d, "201", "202")  # restored from the database, as after a restart
    d.link_changed(False, 0.5)
    d.phones_changed.clear()
    d.devices_listed({"PJSIP/201": "INUSE", "PJSIP/202": "NOT_INUSE", "Queue:accueil": "X"}, 1.0)
    assert offers(d.link_changed(True, 1.5)) == []
    assert d.on_foreign_call("201") and not d.on_foreign_call("202")
    assert "201" in d.phones_changed  # her page and the wallboard show her on the phone
    assert offers(d.on_event(waiting("c1", 2.0, "accueil"), 2.0)) == []  # Paul lacks accueil
    assert offers(d.on_device("PJSIP/201", "NOT_INUSE", 3.0)) == [("c1", "201")]


def test_phones_listed_replace_what_was_known_before_the_link_went_down() -> None:
    """A phone in use when the link went down and not in use (or not listed at all: no state
    since Asterisk started) when it is back is free again."""
    d = dispatcher()
    ready(d, "201", "202")
    d.on_device("PJSIP/201", "INUSE", 1.0)
    d.on_device("PJSIP/202", "INUSE", 1.0)
    d.link_changed(False, 2.0)
    d.devices_listed({"PJSIP/201": "NOT_INUSE"}, 3.0)
    d.link_changed(True, 3.5)
    assert not d.on_foreign_call("201") and not d.on_foreign_call("202")
    assert offers(d.on_event(waiting("c1", 4.0), 4.0)) == [("c1", "202")]
