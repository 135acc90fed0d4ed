"""Measures of the voice menu, computed from the calls' runs through it (pure).

Theory of operation: each call that went through the menu leaves one ``MenuRun`` (the nodes
it entered in order, how it ended, the nodes where the caller let a question time out).
``menu_run`` builds it from what the FastAGI edge reports; ``node_measures`` counts, per
node, the calls that passed through it, hung up there and timed out there (each call once
per node), and flags the nodes where a high share of callers hang up; ``day_measures``
gives, per local day, the calls and the share the menu answered fully by itself
(self-service: the call ended in the menu after the caller got what they
wanted, e.g. the opening hours or a case's status, without going to an agent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr_scripts.commands import Choice, Outcome

PARIS = ZoneInfo("Europe/Paris")
# The caller hung up while in the menu (no Outcome at all is counted the same way).
CALLER_HUNG_UP = "caller_hung_up"
SELF_SERVICE = "self_service"
# A node where at least this share of the callers hang up (out of at least that many calls)
# is pointed out to telecom staff: a prompt too long, a choice missing, a wait too long.
HIGH_HANG_UP_SHARE = 0.2
HIGH_HANG_UP_MIN_CALLS = 5


@dataclass(frozen=True, slots=True)
class MenuRun:
    """One call's way through the menu."""

    at: datetime
    uniqueid: str
    call_id: str | None
    path: tuple[str, ...]
    outcome: str  # an ``OutcomeKind``: routed, self_service, ..., caller_hung_up
    last_node: str | None
    timed_out_nodes: tuple[str, ...]
    self_served: bool
    service: str | None = None  # where a routed call went
    version: int | None = None  # the tree version that ran


@dataclass(frozen=True, slots=True)
class NodeMeasure:
    node: str
    passed: int
    hung_up: int
    timed_out: int

    @property
    def hang_up_share(self) -> float:
        """Callers who hung up here / calls that passed (0.0 when none passed)."""
        return self.hung_up / self.passed if self.passed else 0.0

    @property
    def high_hang_up(self) -> bool:
        """Worth a look: many of the callers who reached the node hung up there. A handful
        of calls says nothing yet, hence the minimum."""
        return self.passed >= HIGH_HANG_UP_MIN_CALLS and self.hang_up_share >= HIGH_HANG_UP_SHARE


@dataclass(frozen=True, slots=True)
class DayMeasure:
    day: date
    calls: int
    self_served: int

    @property
    def share(self) -> float:
        """Self-served calls / calls (0.0 on a day without calls)."""
        return self.self_served / self.calls if self.calls else 0.0


def menu_run(
    at: datetime,
    uniqueid: str,
    call_id: str | None,
    path: Sequence[str],
    outcome: Outcome | None,
    choices: Sequence[Choice],
    version: int | None = None,
) -> MenuRun:
    """The run of one call from what the FastAGI server reports at its end."""
    kind = outcome.kind if outcome is not None else CALLER_HUNG_UP
    last = (outcome.node if outcome is not None else None) or (path[-1] if path else None)
    timed_out = tuple(dict.fromkeys(c.node for c in choices if c.digits is None))
    return MenuRun(
        at=at,
        uniqueid=uniqueid,
        call_id=call_id,
        path=tuple(path),
        outcome=kind,
        last_node=last,
        timed_out_nodes=timed_out,
        self_served=kind == SELF_SERVICE,
        service=outcome.target if outcome is not None and kind == "routed" else None,
        version=version,
    )


def node_measures(runs: Iterable[MenuRun]) -> list[NodeMeasure]:
    """Per node: calls that passed, hung up there, timed out there; busiest node first."""
    passed: Counter[str] = Counter()
    hung_up: Counter[str] = Counter()
    timed_out: Counter[str] = Counter()
    for run in runs:
        passed.update(set(run.path))
        timed_out.update(set(run.timed_out_nodes))
        if run.outcome == CALLER_HUNG_UP and run.last_node is not None:
            hung_up[run.last_node] += 1
    nodes = set(passed) | set(hung_up) | set(timed_out)
    return [
        NodeMeasure(node, passed[node], hung_up[node], timed_out[node])
        for node in sorted(nodes, key=lambda n: (-passed[n], n))
    ]


def day_measures(
    runs: Iterable[MenuRun], last_day: date, days: int, tz: ZoneInfo = PARIS
) -> list[DayMeasure]:
    """The ``days`` local days ending with ``last_day`` (oldest first), days without calls
    included; runs outside them are ignored."""
    first_day = last_day - timedelta(days=days - 1)
    calls: Counter[date] = Counter()
    served: Counter[date] = Counter()
    for run in runs:
        day = run.at.astimezone(tz).date()
        if first_day <= day <= last_day:
            calls[day] += 1
            served[day] += run.self_served
    return [
        DayMeasure(day, calls[day], served[day])
        for day in (first_day + timedelta(days=i) for i in range(max(days, 0)))
    ]
