"""Whom an agent can pass a call to: her colleagues and the services, with who is free.

Theory of operation: a pure function of the routing engine's agents (``routing.views``), the
services' requirements and whether a phone is on a call the engine did not route. Each
colleague gets one *availability* a person reads at a glance (free, on the phone, paused, at
the front desk, logged out); each service lists the free colleagues who qualify for it at
its strictest requirement, the longest idle first: a transfer "to a service" goes to the
first of them (the one the router would have picked). With nobody free the citizen is put
in the service's wait instead (``waiting``: the callers already there; ``staffed``: someone
logged in could take her, with every relaxation step; if nobody could, the wait gives her
at once to the service's overflow, voicemail or callback request, as it would any caller).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from routing.model import OverflowKind, ServiceSpec
from routing.requirements import requirements
from routing.states import AgentState
from routing.views import AgentView


class Availability(enum.Enum):
    FREE = "free"
    ON_CALL = "on_call"
    PAUSED = "paused"
    FRONT_DESK = "front_desk"
    OFFLINE = "offline"


LABELS = {
    Availability.FREE: "Libre",
    Availability.ON_CALL: "En communication",
    Availability.PAUSED: "En pause",
    Availability.FRONT_DESK: "Au guichet",
    Availability.OFFLINE: "Déconnecté",
}

_BY_STATE = {
    AgentState.READY: Availability.FREE,
    AgentState.RINGING: Availability.ON_CALL,
    AgentState.ON_CALL: Availability.ON_CALL,
    AgentState.WRAP_UP: Availability.ON_CALL,
    AgentState.PAUSED: Availability.PAUSED,
    AgentState.FRONT_DESK: Availability.FRONT_DESK,
    AgentState.OFFLINE: Availability.OFFLINE,
}


@dataclass(frozen=True, slots=True)
class Colleague:
    agent: str
    name: str
    availability: Availability
    services: tuple[str, ...]  # labels of the services she can take

    @property
    def label(self) -> str:
        return LABELS[self.availability]


# The service names ``[transfer]`` can wait for (asterisk-conf/extensions.conf: ``_[a-z].``);
# agents' extensions are digits.
_WAITABLE = re.compile(r"^[a-z][a-z0-9_-]+$")


def can_wait_for(service: str) -> bool:
    """A blind transfer can put a caller in ``service``'s wait (its name fits ``[transfer]``)."""
    return _WAITABLE.match(service) is not None


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    service: str
    label: str
    free: tuple[str, ...]  # free qualified colleagues, longest idle first
    waiting: int = 0  # callers waiting for it now
    staffed: bool = True  # someone logged in could take a caller (else: its overflow at once)
    overflow: OverflowKind = OverflowKind.VOICEMAIL  # where a wait past its limit ends


@dataclass(frozen=True, slots=True)
class TransferTargets:
    colleagues: tuple[Colleague, ...]
    services: tuple[ServiceTarget, ...]


def _alphabetical(text: str) -> str:
    """« État civil » between « CCAS » and « Urbanisme », as a French reader looks for it."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def availability(view: AgentView, on_foreign_call: bool) -> Availability:
    """A READY agent whose phone is busy (her own call, a transfer) is on the phone."""
    shown = _BY_STATE[view.state]
    if shown is Availability.FREE and (view.phone_busy or on_foreign_call):
        return Availability.ON_CALL
    return shown


def transfer_targets(
    agents: Iterable[AgentView],
    services: Mapping[str, ServiceSpec],
    me: str,
    on_foreign_call: Callable[[str], bool],
    waiting: Mapping[str, int] | None = None,
) -> TransferTargets:
    """Everyone but ``me``, by name; every service by label, with ``waiting`` its callers
    waiting now."""
    agents = list(agents)
    logged_in = [a for a in agents if a.state is not AgentState.OFFLINE]
    loosest = {name: requirements(spec)[-1] for name, spec in services.items()}
    others = [a for a in agents if a.agent != me]
    shown = {a.agent: availability(a, on_foreign_call(a.agent)) for a in others}
    strictest = {name: requirements(spec)[0] for name, spec in services.items()}
    serves = {
        a.agent: tuple(
            spec.label
            for name, spec in sorted(services.items(), key=lambda s: _alphabetical(s[1].label))
            if strictest[name].accepts(a.skills)
        )
        for a in others
    }
    colleagues = tuple(
        Colleague(a.agent, a.name or a.agent, shown[a.agent], serves[a.agent])
        for a in sorted(others, key=lambda a: _alphabetical(a.name or a.agent))
    )
    idle_first = sorted(
        (a for a in others if shown[a.agent] is Availability.FREE), key=lambda a: a.idle_since
    )
    targets = tuple(
        ServiceTarget(
            name,
            spec.label,
            tuple(a.agent for a in idle_first if strictest[name].accepts(a.skills)),
            (waiting or {}).get(name, 0),
            any(loosest[name].accepts(a.skills) for a in logged_in),
            spec.overflow.kind,
        )
        for name, spec in sorted(services.items(), key=lambda s: _alphabetical(s[1].label))
    )
    return TransferTargets(colleagues, targets)
