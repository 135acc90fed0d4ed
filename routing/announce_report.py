"""How right the announcements of a simulated day were: ours against app_queue's way.

Theory of operation: from a day's ``AnnouncementRecord``s (``routing.day_announcements``),
on the legs that were answered (a caller who hung up or overflowed has no wait to compare
with):

* **our error**: for each wait said, how far the wait that followed was from it
  (``SpokenWait.error_s``: « environ 4 minutes » against the minutes she then waited; 0 for
  « moins d'une minute » answered within the minute), median and 90th percentile, and the
  forecast's own error before rounding;
* **app_queue's error**: the same for the hold time app_queue would have said at the same
  instant (its whole minutes, when it says one: it says none under a minute), with ours on
  those same announcements beside it;
* **positions gone up**: among two announcements in a row to one caller, how often the
  position said was higher than the one before (ours: never, by rule; held back instead,
  counted) and how often app_queue's (her rank in her own queue) was.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from routing.announce_text import SpokenWait, WaitKind
from routing.day_announcements import AnnouncementRecord
from routing.day_records import Outcome


@dataclass(frozen=True, slots=True)
class AnnounceStats:
    announcements: int
    callers: int
    answered_with_wait: int  # our waits said to callers then answered
    median_error_s: float | None
    p90_error_s: float | None
    forecast_median_error_s: float | None  # the forecast before rounding, in seconds
    app_queue_said: int  # app_queue's hold times that would have been said, answered calls
    app_queue_median_error_s: float | None
    ours_where_app_queue_said_s: float | None  # ours, on those same announcements
    position_pairs: int  # two positions said in a row to one caller
    position_up: int  # ours said higher than the one before (0 by rule)
    held_back: int  # positions not said because they went up
    app_queue_pairs: int
    app_queue_up: int


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]


def announce_stats(records: Sequence[AnnouncementRecord]) -> AnnounceStats | None:
    if not records:
        return None
    ours: list[float] = []
    raw: list[float] = []
    theirs: list[float] = []
    ours_there: list[float] = []
    by_leg: dict[str, list[AnnouncementRecord]] = {}
    for a in records:
        by_leg.setdefault(a.leg_id, []).append(a)
        if a.outcome is not Outcome.ANSWERED or a.remaining_s is None:
            continue
        if a.said is not None:
            ours.append(a.said.error_s(a.remaining_s))
        if a.forecast_s is not None:
            raw.append(abs(a.forecast_s - a.remaining_s))
        if a.app_queue_minutes > 0:
            theirs.append(SpokenWait(WaitKind.ABOUT, a.app_queue_minutes).error_s(a.remaining_s))
            if a.said is not None:
                ours_there.append(a.said.error_s(a.remaining_s))
    pairs = up = aq_pairs = aq_up = 0
    for told in by_leg.values():
        said = [a.position_said for a in told if a.position_said is not None]
        pairs += max(0, len(said) - 1)
        up += sum(1 for x, y in zip(said, said[1:], strict=False) if y > x)
        aq = [a.app_queue_position for a in told]
        aq_pairs += max(0, len(aq) - 1)
        aq_up += sum(1 for x, y in zip(aq, aq[1:], strict=False) if y > x)
    return AnnounceStats(
        announcements=len(records),
        callers=len(by_leg),
        answered_with_wait=len(ours),
        median_error_s=statistics.median(ours) if ours else None,
        p90_error_s=_p90(ours),
        forecast_median_error_s=statistics.median(raw) if raw else None,
        app_queue_said=len(theirs),
        app_queue_median_error_s=statistics.median(theirs) if theirs else None,
        ours_where_app_queue_said_s=statistics.median(ours_there) if ours_there else None,
        position_pairs=pairs,
        position_up=up,
        held_back=sum(1 for a in records if a.held_back),
        app_queue_pairs=aq_pairs,
        app_queue_up=aq_up,
    )


def announce_figures(stats: AnnounceStats | None) -> dict[str, float | int | None] | None:
    """The ``--json`` block."""
    if stats is None:
        return None
    return {
        "announcements": stats.announcements,
        "callers": stats.callers,
        "answered_with_wait": stats.answered_with_wait,
        "wait_median_abs_error_s": stats.median_error_s,
        "wait_p90_abs_error_s": stats.p90_error_s,
        "forecast_median_abs_error_s": stats.forecast_median_error_s,
        "app_queue_said": stats.app_queue_said,
        "app_queue_wait_median_abs_error_s": stats.app_queue_median_error_s,
        "wait_median_abs_error_where_app_queue_said_s": stats.ours_where_app_queue_said_s,
        "position_pairs": stats.position_pairs,
        "position_went_up": stats.position_up,
        "position_held_back": stats.held_back,
        "app_queue_position_pairs": stats.app_queue_pairs,
        "app_queue_position_went_up": stats.app_queue_up,
    }


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole}" + (f" ({100 * part / whole:.1f}%)" if whole else "")


def announce_lines(stats: AnnounceStats) -> list[str]:
    ours_up = _share(stats.position_up, stats.position_pairs)
    theirs_up = _share(stats.app_queue_up, stats.app_queue_pairs)
    return [
        f"{stats.announcements} announcements to {stats.callers} callers;"
        f" {stats.answered_with_wait} waits said to callers then answered",
        f"  wait said, |error| against the wait that followed: median {_s(stats.median_error_s)},"
        f" p90 {_s(stats.p90_error_s)} (forecast before rounding:"
        f" median {_s(stats.forecast_median_error_s)})",
        f"  where app_queue would have said a hold time ({stats.app_queue_said}): its median"
        f" {_s(stats.app_queue_median_error_s)}, ours {_s(stats.ours_where_app_queue_said_s)}",
        f"  position said higher than the one before: ours {ours_up},"
        f" {stats.held_back} held back; app_queue's {theirs_up}",
    ]
