"""When a waiting caller is told her position and expected wait, and what she is told.

Theory of operation (pure: rules, forecasts and the time in; announcements out):

* **When**: per service (``AnnounceRules``), on entry (as soon as she waits, counted from
  her first entry in the wait, the dialplan's ``WAIT_START``), then every ``every_s``
  seconds of her wait: at ``first + k × every_s``. A moment missed (she was ringing an
  agent) is not made up: the next one comes at the next multiple.
* **Position, never backwards**: the position said is the forecast's
  (``routing.caller_forecast``: the calls a capable agent takes before hers). It may grow —
  an offer nobody answered puts its call back ahead of her, a call of a higher-priority
  service arrives — and a caller told « troisième » then « cinquième » stops believing the
  line moves. So a position is said only when it is not above the last one said to her;
  otherwise this announcement gives the wait alone (the wait is the truth of the moment,
  said even when longer). Positions above 999 are not said.
* **Wait**: rounded as a person says it (``routing.announce_text.spoken_wait``); not said
  when no agent able to take her call is working (nobody knows when one comes back).
* Nothing to say (position held back and no wait): no announcement, she hears the music.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from routing.announce_text import SpokenWait, announcement_text, spoken_wait
from routing.caller_forecast import Forecast
from routing.model import AnnounceRules

MAX_POSITION_SAID = 999


@dataclass(frozen=True, slots=True)
class Announcement:
    call_id: str
    service: str
    at: float
    position: int | None  # said, or None (held back, or not asked for)
    wait: SpokenWait | None  # said, or None
    text: str
    forecast: Forecast
    held_back: bool  # a position was due but would have gone up


@dataclass(slots=True)
class _Told:
    next_at: float
    position: int | None = None


class Announcer:
    """What each waiting caller was told, and when she is told again."""

    def __init__(self) -> None:
        self._told: dict[str, _Told] = {}

    def due(self, call_id: str, rules: AnnounceRules, first_wait_at: float, now: float) -> bool:
        """Whether ``call_id`` should hear an announcement now."""
        if not rules.active:
            return False
        told = self._told.get(call_id)
        if told is None:
            told = self._told[call_id] = _Told(self._first(rules, first_wait_at))
        return now >= told.next_at

    def next_at(self, call_id: str) -> float | None:
        told = self._told.get(call_id)
        return None if told is None or math.isinf(told.next_at) else told.next_at

    @staticmethod
    def _first(rules: AnnounceRules, first_wait_at: float) -> float:
        if rules.on_entry:
            return first_wait_at
        return first_wait_at + rules.every_s if rules.every_s > 0 else math.inf

    def skip(self, call_id: str, rules: AnnounceRules, first_wait_at: float, now: float) -> None:
        """The moment due passes unsaid (she is ringing an agent): wait for the next one."""
        told = self._told.setdefault(call_id, _Told(now))
        told.next_at = self._after(rules, first_wait_at, now)

    @staticmethod
    def _after(rules: AnnounceRules, first_wait_at: float, now: float) -> float:
        if rules.every_s <= 0:
            return math.inf
        k = math.floor((now - first_wait_at) / rules.every_s) + 1
        while first_wait_at + k * rules.every_s <= now:  # (now - first) / every rounded down
            k += 1
        return first_wait_at + k * rules.every_s

    def say(
        self, forecast: Forecast, rules: AnnounceRules, first_wait_at: float
    ) -> Announcement | None:
        """The announcement for this forecast (None: nothing to say), and the next one's
        time set. Call it when ``due``."""
        now = forecast.at
        told = self._told.setdefault(forecast.call_id, _Told(now))
        told.next_at = self._after(rules, first_wait_at, now)
        position: int | None = None
        held_back = False
        if rules.position and forecast.position <= MAX_POSITION_SAID:
            if told.position is None or forecast.position <= told.position:
                position = told.position = forecast.position
            else:
                held_back = True
        wait = spoken_wait(forecast.wait_s) if rules.wait and forecast.wait_s is not None else None
        text = announcement_text(position, wait)
        if not text:
            return None
        return Announcement(
            forecast.call_id, forecast.service, now, position, wait, text, forecast, held_back
        )

    def forget(self, call_id: str) -> None:
        """She left the wait for good (answered, gone, overflowed)."""
        self._told.pop(call_id, None)

    def keep_only(self, call_ids: set[str]) -> None:
        for call_id in [c for c in self._told if c not in call_ids]:
            del self._told[call_id]
