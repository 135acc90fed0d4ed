"""Whom an agent can pass a call to: each colleague's availability in people's words, and
each service with its free qualified colleagues, the longest idle first."""

from __future__ import annotations

from cti.transfer_targets import Availability, can_wait_for, transfer_targets
from routing.model import ServiceSpec
from routing.states import AgentState
from routing.views import AgentView


def agent(
    ext: str,
    name: str,
    state: AgentState,
    skills: dict[str, int],
    idle: float = 0.0,
    busy: bool = False,
) -> AgentView:
    return AgentView(
        ext, name, state, None, skills, frozenset({"fr"}), idle, 0, busy, None, None, None, None
    )


SERVICES = {
    "etat-civil": ServiceSpec("etat-civil", "État civil", {"etat-civil": 3}),
    "urbanisme": ServiceSpec("urbanisme", "Urbanisme", {"urbanisme": 3}),
    "ccas": ServiceSpec("ccas", "CCAS", {"ccas": 2}),
}


def test_colleagues_by_name_with_their_availability_and_services_by_label() -> None:
    agents = [
        agent("201", "Marie Lambert", AgentState.READY, {"etat-civil": 3}),
        agent("202", "Paul Girard", AgentState.READY, {"etat-civil": 5}, idle=50.0),
        agent("206", "Hugo Renaud", AgentState.READY, {"etat-civil": 3}, idle=10.0),
        agent("203", "Sophie Caron", AgentState.PAUSED, {"urbanisme": 5}),
        agent("204", "Luc Fabre", AgentState.READY, {"urbanisme": 3}, busy=True),
        agent("205", "Claire Morin", AgentState.WRAP_UP, {"ccas": 2}),
    ]
    targets = transfer_targets(agents, SERVICES, "201", lambda a: False)
    shown = [(c.name, c.label) for c in targets.colleagues]
    assert shown == [
        ("Claire Morin", "En communication"),
        ("Hugo Renaud", "Libre"),
        ("Luc Fabre", "En communication"),  # her own call: on the phone, not free
        ("Paul Girard", "Libre"),
        ("Sophie Caron", "En pause"),
    ]
    by_service = {s.label: s.free for s in targets.services}
    assert [s.label for s in targets.services] == ["CCAS", "État civil", "Urbanisme"]
    assert by_service == {"CCAS": (), "État civil": ("206", "202"), "Urbanisme": ()}


def test_a_phone_on_a_call_the_engine_did_not_route_is_not_free() -> None:
    agents = [
        agent("201", "Marie Lambert", AgentState.READY, {"etat-civil": 3}),
        agent("202", "Paul Girard", AgentState.READY, {"etat-civil": 5}),
    ]
    targets = transfer_targets(agents, SERVICES, "201", lambda a: a == "202")
    assert targets.colleagues[0].availability is Availability.ON_CALL
    assert targets.services[1].free == ()


def test_a_service_with_nobody_free_says_who_waits_and_whether_anyone_could_take_her() -> None:
    agents = [
        agent("201", "Marie Lambert", AgentState.ON_CALL, {"etat-civil": 3}),
        agent("203", "Sophie Caron", AgentState.PAUSED, {"urbanisme": 5}),
        agent("205", "Claire Morin", AgentState.OFFLINE, {"ccas": 2}),
    ]
    targets = transfer_targets(
        agents, SERVICES, "201", lambda a: False, {"urbanisme": 2, "ccas": 0}
    )
    by_service = {s.service: (s.free, s.waiting, s.staffed) for s in targets.services}
    assert by_service == {
        "ccas": ((), 0, False),  # Claire is logged out: the wait would overflow at once
        "etat-civil": ((), 0, True),  # Marie herself could take her back
        "urbanisme": ((), 2, True),  # Sophie is on a break: the caller waits for her
    }


def test_only_names_the_dialplan_can_wait_for() -> None:
    assert can_wait_for("etat-civil") and can_wait_for("ccas") and can_wait_for("s1_b")
    assert not can_wait_for("201") and not can_wait_for("Accueil") and not can_wait_for("a")
