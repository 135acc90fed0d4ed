"""The history tables: calls of a period folded per service, agent, day or hour (pure).

Theory of operation: ``build_report`` walks the calls once, in time order. ``Repeats``
remembers when each citizen last called (calls of the 7 days before the period are fed in
only for that), so a call is a repeat when its citizen called within 7 days before it.
Each call then lands in its group's ``Tally`` (by agent: that of each agent who answered
it, so a transferred call counts for every agent who took it) and in the total; a ``Tally`` only
counts and sums, and ``ReportRow`` derives the rates and averages from it. Memory grows
with the number of groups and of distinct callers, not of calls: the database can stream.
Definitions of every figure: the package docstring (``cti.reports``).
"""

from __future__ import annotations

import enum
import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cti.reports.errors import PeriodError, ReportError
from cti.reports.records import PARIS, QUEUE_OUTCOMES, CallRecord

REPEAT_WINDOW = timedelta(days=7)
DEFAULT_THRESHOLD_S = 30.0
#: Upper bounds (seconds, excluded) of the abandon-delay buckets; the last one is open.
ABANDON_BOUNDS = (30.0, 60.0, 180.0)
ABANDON_LABELS = ("< 30 s", "30 s à 1 min", "1 à 3 min", "3 min et plus")
TOP = 5
NO_SERVICE = "Sans service"
NO_AGENT = "Aucun agent"


class GroupBy(enum.StrEnum):
    SERVICE = "service"
    AGENT = "agent"
    DAY = "day"
    HOUR = "hour"


def abandon_bucket(wait: float | None) -> int:
    """Index in ``ABANDON_LABELS`` of an abandoned call's wait (unknown wait: 0 s)."""
    seconds = wait or 0.0
    for i, bound in enumerate(ABANDON_BOUNDS):
        if seconds < bound:
            return i
    return len(ABANDON_BOUNDS)


@dataclass(slots=True)
class Tally:
    """Counts and sums of a group of calls; every figure of a row derives from these."""

    calls: int = 0
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    abandon_delays: list[int] = field(default_factory=lambda: [0] * len(ABANDON_LABELS))
    overflowed: int = 0
    safety_net: int = 0
    ended_in_menu: int = 0
    self_served: int = 0
    lost: int = 0
    in_progress: int = 0
    transfers: int = 0
    repeats: int = 0
    answered_wait_s: float = 0.0
    talk_s: float = 0.0
    dispositions: Counter[str] = field(default_factory=Counter)
    menu_choices: Counter[str] = field(default_factory=Counter)

    def add(self, call: CallRecord, threshold_s: float, repeat: bool) -> None:
        self.calls += 1
        outcome = call.outcome
        if outcome in QUEUE_OUTCOMES:
            self.offered += 1
        if outcome == "answered":
            self.answered += 1
            wait = call.wait_seconds or 0.0
            self.answered_wait_s += wait
            self.talk_s += call.talk_seconds or 0.0
            if wait <= threshold_s:
                self.answered_in_sl += 1
            if call.agents_reached > 1:
                self.transfers += 1
        elif outcome == "abandoned":
            self.abandoned += 1
            self.abandon_delays[abandon_bucket(call.wait_seconds)] += 1
        elif outcome == "overflow":
            self.overflowed += 1
        elif outcome == "safety_net":
            self.safety_net += 1
        elif outcome == "menu":
            self.ended_in_menu += 1
        elif outcome == "in_progress":
            self.in_progress += 1
        else:  # "lost", or an outcome this version does not know yet
            self.lost += 1
        if call.self_served:
            self.self_served += 1
        if repeat:
            self.repeats += 1
        if call.disposition:
            self.dispositions[call.disposition] += 1
        if call.last_menu_node:
            self.menu_choices[call.last_menu_node] += 1


def _ratio_pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


@dataclass(frozen=True, slots=True)
class ReportRow:
    key: str
    label: str
    calls: int
    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    abandon_delays: tuple[int, ...]
    overflowed: int
    safety_net: int
    ended_in_menu: int
    self_served: int
    lost: int
    in_progress: int
    transfers: int
    repeats: int
    service_level_pct: float | None
    abandon_rate_pct: float | None
    avg_answer_s: float | None
    avg_handling_s: float | None
    top_dispositions: tuple[tuple[str, int], ...]
    top_menu_choices: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, key: str, label: str, t: Tally) -> ReportRow:
        return cls(
            key=key,
            label=label,
            calls=t.calls,
            offered=t.offered,
            answered=t.answered,
            answered_in_sl=t.answered_in_sl,
            abandoned=t.abandoned,
            abandon_delays=tuple(t.abandon_delays),
            overflowed=t.overflowed,
            safety_net=t.safety_net,
            ended_in_menu=t.ended_in_menu,
            self_served=t.self_served,
            lost=t.lost,
            in_progress=t.in_progress,
            transfers=t.transfers,
            repeats=t.repeats,
            service_level_pct=_ratio_pct(t.answered_in_sl, t.offered),
            abandon_rate_pct=_ratio_pct(t.abandoned, t.offered),
            avg_answer_s=_mean(t.answered_wait_s, t.answered),
            avg_handling_s=_mean(t.talk_s, t.answered),
            # Most frequent first, then alphabetical: the same data gives the same table.
            top_dispositions=tuple(sorted(t.dispositions.items(), key=_by_count)[:TOP]),
            top_menu_choices=tuple(sorted(t.menu_choices.items(), key=_by_count)[:TOP]),
        )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    by: GroupBy
    rows: tuple[ReportRow, ...]
    total: ReportRow


class Repeats:
    """Who called when: tells whether a call comes within 7 days of the same citizen's last."""

    def __init__(self, window: timedelta = REPEAT_WINDOW) -> None:
        self.window = window
        self._last: dict[str, datetime] = {}
        self._latest: datetime | None = None

    def seen(self, call: CallRecord) -> bool:
        """Remember ``call``; True if its citizen called within the window before it.

        Raises ``ReportError`` if calls come out of time order (a query bug: the answer
        would be wrong)."""
        if self._latest is not None and call.started_at < self._latest:
            raise ReportError(
                f"appel {call.call_id} du {call.started_at.isoformat()} lu après un appel "
                f"du {self._latest.isoformat()} : les appels doivent venir dans l'ordre"
            )
        self._latest = call.started_at
        key = call.citizen_key
        if key is None:
            return False
        before = self._last.get(key)
        self._last[key] = call.started_at
        return before is not None and call.started_at - before <= self.window


def group_keys(by: GroupBy, call: CallRecord) -> tuple[str, ...]:
    """The groups a call counts in: one, but by agent each agent who answered it (a call
    transferred from Marie to Claire is in both rows; the total counts it once)."""
    if by is GroupBy.AGENT and call.answered_by:
        return tuple(dict.fromkeys(call.answered_by))
    return (group_key(by, call),)


def group_key(by: GroupBy, call: CallRecord) -> str:
    """The group a call belongs to: service name, last agent, Paris day or Paris hour."""
    if by is GroupBy.SERVICE:
        return call.service or ""
    if by is GroupBy.AGENT:
        return call.last_agent or ""
    day, hour = _paris_keys(int(call.started_at.timestamp() // 3600))
    return day if by is GroupBy.DAY else hour


@functools.lru_cache(maxsize=8192)
def _paris_keys(utc_hour: int) -> tuple[str, str]:
    # Paris is a whole number of hours from UTC: one conversion per hour, not per call.
    local = datetime.fromtimestamp(utc_hour * 3600, PARIS)
    # A clock hour: the two 2 a.m. hours of the autumn's change merge.
    return local.strftime("%Y-%m-%d"), local.strftime("%Y-%m-%dT%H")


def group_label(by: GroupBy, key: str, names: Mapping[str, str]) -> str:
    """What a supervisor reads for a group key (``names``: service labels or agent names)."""
    if by is GroupBy.SERVICE:
        return names.get(key, key) if key else NO_SERVICE
    if by is GroupBy.AGENT:
        if not key:
            return NO_AGENT
        return f"{names[key]} ({key})" if key in names else key
    year, month, day = key[:10].split("-")
    if by is GroupBy.DAY:
        return f"{day}/{month}/{year}"
    return f"{day}/{month}/{year} {key[11:13]}h"


def build_report(
    calls: Iterable[CallRecord],
    start: datetime,
    end: datetime,
    by: GroupBy,
    *,
    thresholds: Mapping[str, float] | None = None,
    names: Mapping[str, str] | None = None,
) -> Report:
    """The table of the calls started in [start, end), one row per group, and the total.

    ``calls`` come in time order and may begin up to 7 days before ``start`` (those only
    count for repeat calls). ``thresholds``: service -> service-level threshold in seconds.
    ``names``: service labels (by service) or agents' names (by agent).
    Raises ``PeriodError`` if ``end`` is not after ``start``, ``ReportError`` if the calls
    are out of order.
    """
    check_period(start, end)
    thresholds = thresholds or {}
    tallies: dict[str, Tally] = {}
    total = Tally()
    repeats = Repeats()
    for call in calls:
        repeat = repeats.seen(call)
        if not start <= call.started_at < end:
            continue
        threshold = _threshold(thresholds, call)
        for key in group_keys(by, call):
            tallies.setdefault(key, Tally()).add(call, threshold, repeat)
        total.add(call, threshold, repeat)
    labels = names or {}
    rows = tuple(
        ReportRow.of(key, group_label(by, key, labels), tallies[key])
        for key in sorted(tallies, key=_row_order)
    )
    return Report(start, end, by, rows, ReportRow.of("", "Total", total))


def _threshold(thresholds: Mapping[str, float], call: CallRecord) -> float:
    return thresholds.get(call.service or "", DEFAULT_THRESHOLD_S)


def _row_order(key: str) -> tuple[bool, str]:
    # Days and hours sort as their ISO keys; the "no service/agent" row comes last.
    return (key == "", key)


MAX_PERIOD = timedelta(days=400)


def check_period(start: datetime, end: datetime) -> None:
    """Raises ``PeriodError`` unless ``start`` < ``end`` and the period is at most 400 days."""
    if end <= start:
        raise PeriodError(start, end, "la fin doit être après le début")
    if end - start > MAX_PERIOD:
        raise PeriodError(start, end, f"au plus {MAX_PERIOD.days} jours")
