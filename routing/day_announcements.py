"""Announcements in the simulated day: what each waiting caller was told, and what followed.

Theory of operation: during a replay through our engine (``routing.day_replay``), every
waiting leg is told its position and expected wait as the shell would tell it
(``routing.caller_forecast`` + ``routing.wait_announce``): on entry and every N seconds, by its
service's ``announce`` rules when they are on, else by the simulator's default rules (the
measure must not depend on whether a scenario switched them on; routing is never changed by
an announcement). Each announcement is recorded with the wait that followed it (answered
legs: from the announcement to the answer; a caller who hung up or overflowed has no
answer to compare with), and with what app_queue would have said at the same instant:
its position (her rank in her own queue) and its hold time (``recalc_holdtime``: an
exponential average, ``(3 × old + new) / 4`` in whole seconds, of the waits of the service's
answered calls; announced as ``|(holdtime + 30 − waited) / 60|`` whole minutes, said only
when at least one, as in ``say_position``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from routing.announce_text import SpokenWait
from routing.caller_forecast import EngineView, Forecast, WaitForecaster
from routing.day_model import DaySpec
from routing.day_records import LegRecord, Outcome
from routing.decisions import Decision
from routing.model import AnnounceRules
from routing.wait_announce import Announcement, Announcer

DEFAULT_RULES = AnnounceRules(on_entry=True, every_s=60.0, position=True, wait=True)


@dataclass(frozen=True, slots=True)
class AnnouncementRecord:
    leg_id: str
    service: str
    at: float
    waited_s: float  # her wait so far
    position: int  # the forecast's
    position_said: int | None
    held_back: bool  # a position was due but would have gone up
    forecast_s: float | None
    said: SpokenWait | None
    app_queue_position: int  # her rank in her own service's line
    app_queue_minutes: int  # what app_queue would say (0: it says no hold time)
    outcome: Outcome | None = None
    remaining_s: float | None = None  # answered legs: from the announcement to the answer


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero), as app_queue computes minutes."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class DayAnnouncer:
    def __init__(
        self, spec: DaySpec, engine: EngineView, default: AnnounceRules = DEFAULT_RULES
    ) -> None:
        self.engine = engine
        self.rules = {
            name: s.announce if s.announce.active else default
            for name, s in spec.routing.services.items()
        }
        self.forecaster = WaitForecaster()
        self.announcer = Announcer()
        self.holdtime: dict[str, int] = {}  # app_queue's, per service
        self.said: list[AnnouncementRecord] = []

    def observe(self, decisions: Iterable[Decision]) -> None:
        self.forecaster.observe(decisions)

    def entered(self, leg_id: str, service: str, at: float) -> float | None:
        """A leg starts waiting: when its first announcement is due."""
        rules = self.rules[service]
        if not self.announcer.due(leg_id, rules, at, at):
            return self.announcer.next_at(leg_id)
        return at

    def announce(
        self, leg_id: str, service: str, queued_at: float, at: float, ringing: bool
    ) -> float | None:
        """Tell the leg (unless an agent's phone rings for it); when the next is due."""
        rules = self.rules[service]
        if self.announcer.due(leg_id, rules, queued_at, at):
            forecast = None if ringing else self.forecaster.forecast(self.engine, leg_id, at)
            if forecast is None:
                self.announcer.skip(leg_id, rules, queued_at, at)
            else:
                said = self.announcer.say(forecast, rules, queued_at)
                self._record(service, queued_at, forecast, said)
        return self.announcer.next_at(leg_id)

    def _record(
        self, service: str, queued_at: float, forecast: Forecast, said: Announcement | None
    ) -> None:
        leg_id, at = forecast.call_id, forecast.at
        waited = at - queued_at
        holdtime = self.holdtime.get(service, 0)
        minutes = abs(_c_div(holdtime + 30 - int(waited), 60))
        self.said.append(
            AnnouncementRecord(
                leg_id,
                service,
                at,
                waited,
                forecast.position,
                None if said is None else said.position,
                False if said is None else said.held_back,
                forecast.wait_s,
                None if said is None else said.wait,
                forecast.same_service_position,
                minutes,
            )
        )

    def left(self, leg_id: str) -> None:
        """The caller hung up while waiting."""
        self.forecaster.left(leg_id)
        self.announcer.forget(leg_id)

    def answered(self, leg_id: str, service: str, waited_s: float) -> None:
        """app_queue's ``recalc_holdtime`` on the answer."""
        old = self.holdtime.get(service, 0)
        self.holdtime[service] = ((old << 2) - old + int(waited_s)) >> 2
        self.announcer.forget(leg_id)

    def records(self, legs: Sequence[LegRecord]) -> tuple[AnnouncementRecord, ...]:
        """Every announcement, with the outcome of its leg and the wait that followed."""
        ends = {leg.leg_id: leg for leg in legs}
        out: list[AnnouncementRecord] = []
        for a in self.said:
            leg = ends.get(a.leg_id)
            if leg is None:
                out.append(a)
                continue
            remaining = leg.ended_at - a.at if leg.outcome is Outcome.ANSWERED else None
            out.append(replace(a, outcome=leg.outcome, remaining_s=remaining))
        return tuple(out)
