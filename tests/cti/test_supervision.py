"""The wallboard's fold: calls, agents' states and the clock in, tiles and alerts out.

Scenario tests assert the whole tile or the alerts after each step; Hypothesis drives random
event sequences and checks the invariants (counters never negative, outcomes never more than
offered calls, waiting calls as the events say, one live alert per condition).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.supervision.alerts import AlertChanged, AlertKind, AlertOver, AlertRaised, UnknownAlert
from cti.supervision.board import PastCall, SupervisionBoard
from cti.supervision.callbacks import PromisedWindow, promised_windows
from cti.supervision.opening_hours import opening_hours
from cti.tracker import events as ev
from ivr_scripts.tree import Tree
from routing.callbacks.request import CallbackRequest, CallbackState, Source, Window
from routing.config import parse_config
from routing.decisions import NO_ANSWER_REASON
from routing.model import EngineConfig

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 10 March 2026, 10:00 in Paris.
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS).timestamp()

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil"},
    "services": {
        "accueil": {
            "label": "Accueil",
            "required_skills": {"accueil": 2},
            "sl_target_pct": 80,
            "sl_threshold_s": 30,
            "max_wait_s": 120,
        },
        "etat-civil": {
            "label": "État civil",
            "required_skills": {"etat-civil": 3},
            "sl_target_pct": 50,
            "sl_threshold_s": 20,
            "max_wait_s": 60,
        },
    },
    "agents": {
        "201": {"name": "Marie Lambert", "skills": {"accueil": 5}},
        "202": {"name": "Paul Girard", "skills": {"etat-civil": 5, "accueil": 2}},
    },
}
SERVICES = list(CONFIG["services"])
AGENTS = list(CONFIG["agents"])


def engine_config() -> EngineConfig:
    return parse_config(CONFIG).to_engine()


def board(**kwargs: Any) -> SupervisionBoard:
    b = SupervisionBoard(engine_config(), default_service="accueil", now=T0, **kwargs)
    for agent in AGENTS:
        b.agent_state(agent, "ready", None, T0)
    return b


def common(call: str, at: float) -> dict[str, Any]:
    return {"call_id": call, "at": at, "caller_number": "0612345678", "caller_withheld": False}


def arrive(call: str, at: float) -> ev.CallArrived:
    return ev.CallArrived(**common(call, at))


def wait(call: str, at: float, service: str | None = "accueil") -> ev.CallWaiting:
    return ev.CallWaiting(**common(call, at), service=service)


def offer(call: str, at: float, agent: str = "201") -> ev.CallOffered:
    return ev.CallOffered(**common(call, at), agent=agent)


def answer(call: str, at: float, agent: str = "201") -> ev.CallAnswered:
    return ev.CallAnswered(**common(call, at), agent=agent)


def no_answer(call: str, at: float, agent: str = "201") -> ev.CallNoAnswer:
    return ev.CallNoAnswer(**common(call, at), agent=agent, reason="noanswer")


def abandon(call: str, at: float) -> ev.CallAbandoned:
    return ev.CallAbandoned(**common(call, at), reason="waiting")


def end(call: str, at: float) -> ev.CallEnded:
    return ev.CallEnded(**common(call, at), reason="caller_hangup", stage="x")


def tile(b: SupervisionBoard, service: str = "accueil") -> dict[str, Any]:
    found = next(t for t in b.board().services if t.service == service)
    return {
        "waiting": found.waiting,
        "longest": round(found.longest_wait_s, 3),
        "offered": found.offered,
        "answered": found.answered,
        "in_time": found.answered_in_time,
        "abandoned": found.abandoned,
        "overflowed": found.overflowed,
        "sl": found.sl_today_pct,
        "sl30": found.sl_30min_pct,
    }


def raised(changes: list[Any]) -> list[tuple[AlertKind, str | None]]:
    return [
        (c.alert.kind, c.alert.service or c.alert.agent)
        for c in changes
        if isinstance(c, AlertRaised)
    ]


def test_a_call_waits_rings_is_answered_in_time_and_ends() -> None:
    b = board()
    b.apply(arrive("c1", T0 + 1))
    assert tile(b)["waiting"] == 0
    b.apply(wait("c1", T0 + 5))
    b.tick(T0 + 15)
    assert tile(b) == {
        "waiting": 1,
        "longest": 10.0,
        "offered": 1,
        "answered": 0,
        "in_time": 0,
        "abandoned": 0,
        "overflowed": 0,
        "sl": None,
        "sl30": None,
    }
    b.apply(offer("c1", T0 + 16))
    assert tile(b)["waiting"] == 0
    marie = b.board().agents[0]
    assert marie.call is not None and marie.call.stage == "ringing"
    assert marie.call.caller_number == "0612345678"
    b.apply(no_answer("c1", T0 + 26))  # back in the queue: its wait goes on
    assert tile(b)["waiting"] == 1 and tile(b)["longest"] == 21.0
    b.apply(wait("c1", T0 + 26.5))
    b.apply(offer("c1", T0 + 27, "202"))
    b.apply(answer("c1", T0 + 30, "202"))
    after = tile(b)
    assert (after["answered"], after["in_time"], after["sl"], after["sl30"]) == (1, 1, 100.0, 100.0)
    paul = b.board().agents[1]
    assert paul.call is not None and paul.call.stage == "connected"
    b.apply(end("c1", T0 + 90))
    assert b.board().agents[1].call is None
    assert tile(b)["offered"] == 1 and tile(b)["answered"] == 1


def test_a_call_rung_on_two_phones_shows_on_both_until_one_answers() -> None:
    b = board()
    b.apply(arrive("c1", T0 + 1))
    b.apply(wait("c1", T0 + 5))
    b.apply(offer("c1", T0 + 6, "201"))
    b.apply(offer("c1", T0 + 6, "202"))
    assert [a.call.stage if a.call else None for a in b.board().agents] == ["ringing", "ringing"]
    b.apply(no_answer("c1", T0 + 7, "201"))  # Marie's phone busy: Paul's still rings
    assert tile(b)["waiting"] == 0
    marie, paul = b.board().agents
    assert marie.call is None and paul.call is not None and paul.call.stage == "ringing"
    b.apply(answer("c1", T0 + 9, "202"))
    marie, paul = b.board().agents
    assert marie.call is None and paul.call is not None and paul.call.stage == "connected"


def test_a_late_answer_and_an_abandon_bring_the_service_level_down() -> None:
    b = board()
    b.apply(wait("c1", T0))
    b.apply(answer("c1", T0 + 45))  # threshold 30 s: late
    b.apply(wait("c2", T0 + 50))
    b.apply(answer("c2", T0 + 55))
    b.apply(wait("c3", T0 + 60))
    b.apply(abandon("c3", T0 + 70))
    b.apply(end("c3", T0 + 70))
    t = tile(b)
    assert (t["offered"], t["answered"], t["in_time"], t["abandoned"]) == (3, 2, 1, 1)
    assert t["sl"] == pytest.approx(100 / 3)


def test_service_level_under_target_raises_one_alert_until_it_recovers() -> None:
    b = board()
    b.apply(wait("c1", T0))
    changes = b.apply(abandon("c1", T0 + 10))
    assert raised(changes) == [(AlertKind.SERVICE_LEVEL, "accueil")]
    alert = next(c.alert for c in changes if isinstance(c, AlertRaised))
    assert "Accueil" in alert.message and "80 %" in alert.message
    assert alert.raised_at == T0 + 10 and alert.cleared_at is None
    # Still under target: not raised again at each tick or event.
    assert b.tick(T0 + 20) == []
    b.apply(wait("c2", T0 + 30))
    assert raised(b.apply(abandon("c2", T0 + 40))) == []
    # 30 minutes later the abandons leave the window: the alert clears.
    changes = b.tick(T0 + 40 + 30 * 60 + 1)
    assert [type(c) for c in changes] == [AlertChanged]
    assert changes[0].alert.id == alert.id and changes[0].alert.cleared_at is not None
    # It can be raised again (a new alert) when the level drops again.
    b.apply(wait("c3", T0 + 3600))
    changes = b.apply(abandon("c3", T0 + 3610))
    again = [c.alert for c in changes if isinstance(c, AlertRaised)]
    assert len(again) == 1 and again[0].id != alert.id


def test_a_wait_longer_than_the_maximum_raises_an_alert_on_the_tick() -> None:
    b = board()
    b.apply(wait("c1", T0, "etat-civil"))
    assert b.tick(T0 + 60) == []  # max 60 s: not beyond yet
    changes = b.tick(T0 + 61)
    assert raised(changes) == [(AlertKind.LONG_WAIT, "etat-civil")]
    assert "1 min 01 s" in changes[0].alert.message
    assert b.tick(T0 + 90) == []
    changes = b.apply(answer("c1", T0 + 95, "202"))
    cleared = [c.alert.kind for c in changes if isinstance(c, AlertChanged)]
    assert cleared == [AlertKind.LONG_WAIT]
    # Answered after 95 s (threshold 20 s): now the service level is under target.
    assert raised(changes) == [(AlertKind.SERVICE_LEVEL, "etat-civil")]


def test_a_service_open_with_nobody_logged_in_raises_an_alert() -> None:
    menu = Tree.model_validate(
        {
            "name": "test",
            "start": "fin",
            "calendars": {"mairie": {"weekly": {"tue": ["08:30-12:00"]}}},
            "nodes": {"fin": {"kind": "hangup"}},
        }
    )
    closed_at_night = opening_hours(lambda: menu)
    b = board(is_open=closed_at_night)
    assert raised(b.agent_state("202", "paused", "Déjeuner", T0 + 1)) == []  # paused: logged in
    changes = b.agent_state("202", "offline", None, T0 + 2)
    assert raised(changes) == [(AlertKind.NO_AGENT, "etat-civil")]
    assert "État civil" in changes[0].alert.message
    # Marie still covers the front desk (accueil); at noon the town hall closes: cleared.
    changes = b.tick(datetime(2026, 3, 10, 12, 0, tzinfo=PARIS).timestamp())
    assert [type(c) for c in changes] == [AlertChanged]


def test_an_agent_paused_for_missed_offers_raises_an_alert_that_is_acknowledged() -> None:
    b = board()
    changes = b.agent_state("201", "paused", NO_ANSWER_REASON, T0 + 5)
    assert raised(changes) == [(AlertKind.MISSED_OFFERS, "201")]
    alert = changes[0].alert
    assert alert.message.startswith("Marie Lambert (201)")
    acked = b.acknowledge(alert.id, "superviseur", T0 + 8)
    assert [(c.alert.acknowledged_by, c.alert.acknowledged_at) for c in acked] == [
        ("superviseur", T0 + 8)
    ]
    assert b.acknowledge(alert.id, "admin", T0 + 9) == []  # the first acknowledgement stays
    with pytest.raises(UnknownAlert, match="999"):
        b.acknowledge(999, "superviseur", T0 + 9)
    cleared = b.agent_state("201", "ready", None, T0 + 20)
    assert [c.alert.cleared_at for c in cleared] == [T0 + 20]
    row = b.board().agents[0]
    assert (row.state, row.since, row.in_state_s) == ("ready", T0 + 20, 0.0)
    b.tick(T0 + 27)
    assert b.board().agents[0].in_state_s == 7.0


def test_counters_restart_at_midnight_in_paris_and_queued_calls_carry_over() -> None:
    late = datetime(2026, 3, 10, 23, 59, 0, tzinfo=PARIS).timestamp()
    b = board()
    b.apply(wait("c1", late - 100))
    b.apply(answer("c1", late - 90))
    b.apply(wait("c2", late))
    assert tile(b)["offered"] == 2
    b.tick(late + 59)  # 23:59:59
    assert tile(b)["offered"] == 2
    b.tick(late + 61)  # 00:00:01 the next day
    assert b.board().day.isoformat() == "2026-03-11"
    assert {k: tile(b)[k] for k in ("offered", "answered", "waiting")} == {
        "offered": 1,
        "answered": 0,
        "waiting": 1,
    }
    b.apply(answer("c2", late + 70))
    assert tile(b)["answered"] == 1 and tile(b)["in_time"] == 0  # waited 70 s


def test_a_restart_refills_todays_counters_without_counting_live_calls_twice() -> None:
    b = board()
    yesterday = T0 - 86400
    b.restore_today(
        [
            PastCall("p1", "accueil", T0 - 3000, "answered", 12.0),
            PastCall("p2", "accueil", T0 - 2000, "answered", 50.0),
            PastCall("p3", "accueil", T0 - 600, "abandoned", 40.0),
            PastCall("p4", "etat-civil", T0 - 500, "overflow", 60.0),
            PastCall("p5", "accueil", T0 - 60, "in_progress", None),
            PastCall("old", "accueil", yesterday, "answered", 1.0),
            PastCall("x", "ailleurs", T0 - 60, "answered", 1.0),
        ]
    )
    assert tile(b) == {
        "waiting": 0,
        "longest": 0.0,
        "offered": 4,
        "answered": 2,
        "in_time": 1,
        "abandoned": 1,
        "overflowed": 0,
        "sl": pytest.approx(100 / 3),
        "sl30": 0.0,  # only the abandon is within the last 30 minutes
    }
    assert tile(b, "etat-civil")["overflowed"] == 1
    # The call in progress comes back with the resync: not offered twice.
    b.apply(arrive("p5", T0 + 1))
    b.apply(wait("p5", T0 + 1))
    b.apply(answer("p5", T0 + 5))
    assert tile(b)["offered"] == 4 and tile(b)["answered"] == 3


def test_a_new_configuration_keeps_known_agents_and_adds_new_ones() -> None:
    b = board()
    b.agent_state("201", "paused", "Réunion", T0 + 3)
    document = {**CONFIG, "agents": {**CONFIG["agents"], "203": {"name": "Sophie Caron"}}}
    del document["agents"]["202"]
    b.configure(parse_config(document).to_engine(), {"203": ("ready", None)}, T0 + 10)
    rows = {r.agent: (r.name, r.state, r.reason, r.since) for r in b.board().agents}
    assert rows == {
        "201": ("Marie Lambert", "paused", "Réunion", T0 + 3),
        "203": ("Sophie Caron", "ready", None, T0 + 10),
    }


def test_unknown_services_fall_back_to_the_default_one() -> None:
    b = board()
    b.apply(wait("c1", T0, "piscine"))
    b.apply(wait("c2", T0, None))
    assert tile(b)["waiting"] == 2


# -- properties ---------------------------------------------------------------------------

CALLS = ["c1", "c2", "c3"]
KINDS = ["arrive", "wait", "offer", "answer", "no_answer", "transfer", "abandon", "overflow", "end"]


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[str, str, str | None, str, float]]:
    count = draw(st.integers(0, 40))
    return [
        (
            draw(st.sampled_from(KINDS + ["agent", "tick"])),
            draw(st.sampled_from(CALLS)),
            draw(st.sampled_from([*SERVICES, None, "piscine"])),
            draw(st.sampled_from(AGENTS)),
            draw(st.floats(0, 4000)),
        )
        for _ in range(count)
    ]


def build(kind: str, call: str, service: str | None, agent: str, at: float) -> ev.DomainEvent:
    base = common(call, at)
    match kind:
        case "arrive":
            return ev.CallArrived(**base)
        case "wait":
            return ev.CallWaiting(**base, service=service)
        case "offer":
            return ev.CallOffered(**base, agent=agent, service=service)
        case "answer":
            return ev.CallAnswered(**base, agent=agent, service=service)
        case "no_answer":
            return ev.CallNoAnswer(**base, agent=agent, reason="noanswer", service=service)
        case "transfer":
            return ev.CallTransferred(**base, agent=agent, kind="blind", service=service)
        case "abandon":
            return ev.CallAbandoned(**base, reason="waiting", service=service)
        case "overflow":
            return ev.CallOverflowed(**base, kind="voicemail", service=service)
    return ev.CallEnded(**base, reason="caller_hangup", stage="x")


@settings(max_examples=300, deadline=None)
@given(steps(), st.integers(1, 3))
def test_invariants_hold_for_any_sequence(
    sequence: list[tuple[str, str, str | None, str, float]], min_outcomes: int
) -> None:
    b = board(sl_min_outcomes=min_outcomes)
    now = T0
    # The model: a call waits for a service from a CallWaiting (or a missed offer once queued)
    # until it rings, is answered, handed on, abandoned, overflowed or gone.
    waiting_in: dict[str, str | None] = {}
    service_of: dict[str, str | None] = {}
    queued: set[str] = set()
    ringing: dict[str, list[str]] = {}  # phones ringing for a call (several: ring_together)
    states = dict.fromkeys(AGENTS, "ready")
    qualified = {"accueil": {"201", "202"}, "etat-civil": {"202"}}  # from CONFIG's skills
    for kind, call, service, agent, dt in sequence:
        now += dt
        known = service if service in SERVICES else None
        if kind == "tick":
            b.tick(now)
        elif kind == "agent":
            states[agent] = "paused" if dt > 2000 else "offline"
            b.agent_state(agent, states[agent], NO_ANSWER_REASON, now)
        else:
            b.apply(build(kind, call, service, agent, now))
            if kind == "arrive":
                continue
            if kind in ("end", "wait"):
                ringing.pop(call, None)
            if kind == "end":
                waiting_in.pop(call, None)
                service_of.pop(call, None)
                queued.discard(call)
                continue
            if kind == "wait":
                service_of[call] = known or (service_of.get(call) if service is None else None)
                service_of[call] = service_of[call] or "accueil"
                queued.add(call)
                waiting_in[call] = service_of[call]
                continue
            if known is not None and kind in ("offer", "answer", "no_answer"):
                service_of[call] = known
            rung = ringing.pop(call, [])
            if kind == "offer":
                ringing[call] = [*rung, agent]
            if kind == "no_answer" and agent in rung:
                rung.remove(agent)
            if kind == "no_answer" and rung:
                ringing[call] = rung  # a colleague's phone still rings for it: not waiting
                waiting_in.pop(call, None)
            elif kind == "no_answer" and call in queued and service_of.get(call):
                waiting_in[call] = service_of[call]
            else:
                waiting_in.pop(call, None)
            if kind in ("answer", "transfer", "abandon", "overflow"):
                queued.discard(call)
        view = b.board()
        for t in view.services:
            counts = (t.offered, t.answered, t.answered_in_time, t.abandoned, t.overflowed)
            assert min(counts) >= 0
            assert t.answered_in_time <= t.answered
            assert t.answered + t.abandoned + t.overflowed <= t.offered
            for pct in (t.sl_today_pct, t.sl_30min_pct):
                assert pct is None or 0.0 <= pct <= 100.0
            expected = sorted(c for c, s in waiting_in.items() if s == t.service)
            assert sorted(b.waiting(t.service)) == expected
            assert t.waiting == len(expected)
            assert t.longest_wait_s >= 0.0
            staffed = {a for a in qualified[t.service] if states[a] != "offline"}
            assert t.agents_logged_in == len(staffed)
        live = [(a.kind, a.service, a.agent) for a in view.alerts if a.cleared_at is None]
        assert len(live) == len(set(live))  # one live alert per condition
        # Agents' states are summed up once per change, not per event: still right after any.
        assert {s for k, s, _ in live if k is AlertKind.NO_AGENT} == {
            name for name, who in qualified.items() if all(states[a] == "offline" for a in who)
        }
        assert {a for k, _, a in live if k is AlertKind.MISSED_OFFERS} == {
            a for a, state in states.items() if state == "paused"
        }
        for a in view.alerts:
            assert a.cleared_at is None or a.cleared_at >= a.raised_at
        for row in view.agents:
            assert row.in_state_s >= 0.0


def test_the_service_level_alert_needs_a_volume_and_clears_above_target_by_a_margin() -> None:
    """Issue 22: five alerts in ten minutes on one to four calls each. A service-level alert
    now needs five calls settled in the window, and holds until the level is five points
    above its target (80 %): a level hovering around the target raises it once."""
    b = board(sl_min_outcomes=5, sl_clear_margin_pct=5.0)
    alerts: list[Any] = []
    at = T0
    # Four calls, three abandoned: 25 % but too few to judge.
    for n, lost in enumerate((True, True, True, False)):
        b.apply(wait(f"a{n}", at))
        alerts += b.apply(abandon(f"a{n}", at + 5) if lost else answer(f"a{n}", at + 5))
        at += 60
    assert raised(alerts) == []
    # A fifth settles it: 1/5 = 20 %, under 80 %.
    b.apply(wait("a5", at))
    alerts += b.apply(abandon("a5", at + 5))
    assert raised(alerts) == [(AlertKind.SERVICE_LEVEL, "accueil")]
    # Answers in time bring it to 80 % then 82 % (under 85 %): the alert holds, no new one.
    for n in range(16):
        at += 30
        b.apply(wait(f"b{n}", at))
        alerts += b.apply(answer(f"b{n}", at + 5))
    # 17 in time out of 21 = 81 %: over target but within the margin, still one alert.
    assert tile(b)["sl30"] == pytest.approx(100 * 17 / 21)
    assert raised(alerts) == [(AlertKind.SERVICE_LEVEL, "accueil")]
    assert not [c for c in alerts if isinstance(c, AlertChanged)]
    for n in range(10):
        at += 30
        b.apply(wait(f"c{n}", at))
        alerts += b.apply(answer(f"c{n}", at + 5))
    # 27 / 31 = 87 %: above 85 %, cleared.
    cleared = [c.alert for c in alerts if isinstance(c, AlertChanged)]
    assert len(cleared) == 1 and cleared[0].cleared_at is not None
    assert len(raised(alerts)) == 1


def test_an_alert_is_acknowledged_only_while_it_holds() -> None:
    b = board()
    b.apply(wait("c1", T0, "etat-civil"))
    (raised_alert,) = [c.alert for c in b.tick(T0 + 61) if isinstance(c, AlertRaised)]
    b.apply(answer("c1", T0 + 70, "202"))  # the long wait is over
    assert b.alerts[raised_alert.id].cleared_at == T0 + 70
    with pytest.raises(AlertOver):
        b.acknowledge(raised_alert.id, "superviseur", T0 + 80)


def test_a_product_running_late_is_told_with_its_lag_then_cleared() -> None:
    b = board()
    assert b.overload(2.0, T0 + 1) == []  # a little behind: nobody needs to know
    (raised,) = b.overload(42.0, T0 + 2)
    assert isinstance(raised, AlertRaised) and raised.alert.kind is AlertKind.OVERLOAD
    assert "40 s de retard" in raised.alert.message
    assert b.overload(43.0, T0 + 3) == []  # the same 5-second step: no news
    (later,) = b.overload(130.0, T0 + 4)
    assert isinstance(later, AlertChanged) and "2 min 10 s de retard" in later.alert.message
    (cleared,) = b.overload(0.1, T0 + 5)
    assert isinstance(cleared, AlertChanged) and cleared.alert.cleared_at == T0 + 5


def test_callbacks_whose_promised_window_ends_soon_are_raised_told_again_and_cleared() -> None:
    b = board()
    noon = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS).timestamp()  # « ce matin »: before noon
    first, second = PromisedWindow("etat-civil", noon), PromisedWindow("etat-civil", noon + 3600)
    assert b.callbacks([first], T0) == []  # two hours before: nobody needs to know yet
    # 11:31, half an hour before the window ends: raised while there is time to call her.
    (raised_alert,) = b.tick(noon - 29 * 60)
    assert isinstance(raised_alert, AlertRaised)
    assert raised_alert.alert.kind is AlertKind.CALLBACK_WINDOW
    assert raised_alert.alert.service == "etat-civil"
    assert raised_alert.alert.message == (
        "« État civil » : 1 rappel promis avant 12:00 n'est pas encore fait"
    )
    assert b.tick(noon - 28 * 60) == []  # no change: no news
    # A second request for the same promise: the count is told again, the same alert.
    (counted,) = b.callbacks([first, PromisedWindow("etat-civil", noon), second], noon - 60)
    assert isinstance(counted, AlertChanged) and counted.alert.id == raised_alert.alert.id
    assert counted.alert.message == (
        "« État civil » : 2 rappels promis avant 12:00 ne sont pas encore faits"
    )
    (late,) = b.tick(noon)  # the window has ended
    assert late.alert.message.endswith("ne sont pas encore faits, dont 2 en retard")
    # Both called back: cleared; the one due at 13:00 is not at risk yet.
    (cleared,) = b.callbacks([second], noon + 60)
    assert isinstance(cleared, AlertChanged) and cleared.alert.cleared_at == noon + 60
    assert b.book.is_active((AlertKind.CALLBACK_WINDOW, "etat-civil")) is False


def test_a_callback_alert_is_per_service_and_names_another_day() -> None:
    b = board()
    yesterday = datetime(2026, 3, 9, 17, 0, tzinfo=PARIS).timestamp()
    changes = b.callbacks(
        [PromisedWindow("accueil", yesterday), PromisedWindow("etat-civil", T0 + 600)], T0
    )
    messages = {c.alert.service: c.alert.message for c in changes if isinstance(c, AlertRaised)}
    assert messages == {
        "accueil": "« Accueil » : 1 rappel promis avant le 09/03 à 17:00 n'est pas encore fait, "
        "en retard",
        "etat-civil": "« État civil » : 1 rappel promis avant 10:10 n'est pas encore fait",
    }


def test_the_windows_promised_are_those_of_callbacks_not_done_yet() -> None:
    asked = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    noon = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)

    def request(rid: str, end: datetime | None, state: CallbackState) -> CallbackRequest:
        window = Window.MORNING if end else Window.REOPENING
        return CallbackRequest(
            rid, "+33612345678", "accueil", asked, window, asked, end, Source.MENU, state=state
        )

    found = promised_windows(
        [
            request("a", noon, CallbackState.PENDING),
            request("b", noon, CallbackState.DIALLING),  # being called: not done yet
            request("c", noon, CallbackState.REACHED),
            request("d", None, CallbackState.PENDING),  # « à la réouverture »: no end promised
        ]
    )
    assert found == [PromisedWindow("accueil", noon.timestamp())] * 2
