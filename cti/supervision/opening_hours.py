"""Whether a service is open, for the wallboard: the published voice menu's calendars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ivr_scripts import hours
from ivr_scripts.tree import Tree

#: ``is_open(service, at)``: whether the service takes calls at epoch second ``at``.
IsOpen = Callable[[str, float], bool]


def always_open(service: str, at: float) -> bool:
    return True


def opening_hours(
    tree: Callable[[], Tree], moment: Callable[[float], datetime] | None = None
) -> IsOpen:
    """``is_open`` from the published voice menu's calendars (``tree`` gives the tree in
    force): the calendar named like the service, else the menu's first one (the town hall's),
    else always open. ``moment`` turns the instant into the menu's time: the demo's menu lives
    on a fixed Tuesday morning, and so must its wallboard."""

    # Asked for every service at every event: hours are whole minutes, so one answer per
    # calendar and minute (a newly published menu brings new calendar objects).
    known: dict[str, tuple[hours.Calendar, int, bool]] = {}

    def is_open(service: str, at: float) -> bool:
        calendars = tree().calendars
        calendar = calendars.get(service) or next(iter(calendars.values()), None)
        if calendar is None:
            return True
        minute = int(at // 60)
        cached = known.get(service)
        if cached is not None and cached[0] is calendar and cached[1] == minute:
            return cached[2]
        when = moment(at) if moment is not None else datetime.fromtimestamp(at, UTC)
        answer = hours.is_open(calendar, when).open
        known[service] = (calendar, minute, answer)
        return answer

    return is_open
