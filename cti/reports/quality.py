"""The weekly quality page: per service and ISO week, the target against what was obtained.

Theory of operation (pure): ``last_weeks`` names the N ISO weeks (Europe/Paris, Monday
00:00 to Monday 00:00) ending with the one holding ``now``. ``build_quality`` folds the calls
of those weeks per (service, week) with the same ``Tally`` as the history tables, so the
service level and abandon rate mean exactly what they mean there. Each service's target and
threshold are those of the routing configuration in force; a service the configuration no
longer knows is shown with the defaults (80 % within 30 s). The trend is the change of the
service level from the previous week to the last one that had calls, in points, and the
chart draws every service's service level over the weeks (``routing.svg_chart``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cti.reports.figures import Tally
from cti.reports.records import PARIS, CallRecord
from routing.svg_chart import line_chart

DEFAULT_TARGET_PCT = 80.0
DEFAULT_THRESHOLD_S = 30.0
MAX_WEEKS = 104


@dataclass(frozen=True, slots=True)
class Week:
    monday: date

    @property
    def key(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02}"

    @property
    def label(self) -> str:
        return f"S{self.monday.isocalendar()[1]:02} ({self.monday:%d/%m})"

    @property
    def start(self) -> datetime:
        return datetime(self.monday.year, self.monday.month, self.monday.day, tzinfo=PARIS)

    @property
    def end(self) -> datetime:
        after = self.monday + timedelta(days=7)
        return datetime(after.year, after.month, after.day, tzinfo=PARIS)


def week_of(moment: datetime) -> Week:
    local = moment.astimezone(PARIS).date()
    return Week(local - timedelta(days=local.weekday()))


def last_weeks(now: datetime, count: int) -> tuple[Week, ...]:
    """The ``count`` weeks ending with the current one, oldest first."""
    current = week_of(now).monday
    return tuple(Week(current - timedelta(weeks=n)) for n in range(count - 1, -1, -1))


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    target_pct: float = DEFAULT_TARGET_PCT
    threshold_s: float = DEFAULT_THRESHOLD_S


@dataclass(frozen=True, slots=True)
class QualityRow:
    week: str
    week_label: str
    service: str
    label: str
    target_pct: float
    threshold_s: float
    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    service_level_pct: float | None
    abandon_rate_pct: float | None

    @property
    def met(self) -> bool | None:
        """Target reached; None for a week without calls."""
        if self.service_level_pct is None:
            return None
        return self.service_level_pct >= self.target_pct


@dataclass(frozen=True, slots=True)
class ServiceTrend:
    service: str
    label: str
    target_pct: float
    last_pct: float | None
    change_points: float | None


@dataclass(frozen=True, slots=True)
class Quality:
    weeks: tuple[Week, ...]
    rows: tuple[QualityRow, ...]  # per service (configuration order), then week
    trends: tuple[ServiceTrend, ...]


def build_quality(
    calls: Iterable[CallRecord], weeks: tuple[Week, ...], targets: Mapping[str, Target]
) -> Quality:
    """Target vs obtained per service and week, for the calls of ``weeks`` (any order)."""
    keys = {w.key for w in weeks}
    tallies: dict[tuple[str, str], Tally] = {}
    seen: set[str] = set()
    for call in calls:
        week = week_of(call.started_at).key
        if call.service is None or week not in keys:
            continue
        seen.add(call.service)
        target = targets.get(call.service) or Target(call.service)
        tallies.setdefault((call.service, week), Tally()).add(call, target.threshold_s, False)
    services = [*targets, *sorted(seen - set(targets))]
    rows: list[QualityRow] = []
    trends: list[ServiceTrend] = []
    for service in services:
        target = targets.get(service) or Target(service)
        mine = [_row(service, target, week, tallies.get((service, week.key))) for week in weeks]
        rows.extend(mine)
        trends.append(_trend(service, target, mine))
    return Quality(weeks, tuple(rows), tuple(trends))


def _row(service: str, target: Target, week: Week, tally: Tally | None) -> QualityRow:
    t = tally or Tally()
    return QualityRow(
        week=week.key,
        week_label=week.label,
        service=service,
        label=target.label,
        target_pct=target.target_pct,
        threshold_s=target.threshold_s,
        offered=t.offered,
        answered=t.answered,
        answered_in_sl=t.answered_in_sl,
        abandoned=t.abandoned,
        service_level_pct=round(100.0 * t.answered_in_sl / t.offered, 1) if t.offered else None,
        abandon_rate_pct=round(100.0 * t.abandoned / t.offered, 1) if t.offered else None,
    )


def _trend(service: str, target: Target, rows: list[QualityRow]) -> ServiceTrend:
    levels = [r.service_level_pct for r in rows if r.service_level_pct is not None]
    last = levels[-1] if levels else None
    change = round(levels[-1] - levels[-2], 1) if len(levels) >= 2 else None
    return ServiceTrend(service, target.label, target.target_pct, last, change)


def quality_chart(quality: Quality) -> str:
    """The service level of each service over the weeks, as an SVG document."""
    series: dict[str, list[tuple[float, float | None]]] = {}
    for row in quality.rows:
        index = float([w.key for w in quality.weeks].index(row.week))
        series.setdefault(row.label, []).append((index, row.service_level_pct))
    ticks = [(float(i), f"S{w.monday.isocalendar()[1]:02}") for i, w in enumerate(quality.weeks)]
    last = max(len(quality.weeks) - 1, 1)
    return line_chart(
        "Niveau de service par semaine",
        "appels répondus dans le seuil (%)",
        series,
        x_range=(0.0, float(last)),
        x_ticks=ticks,
        y_max=100.0,
    )
