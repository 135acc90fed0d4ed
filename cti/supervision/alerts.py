"""The wallboard's alerts: raised when a condition starts holding, one alert while it holds,
cleared when it stops; acknowledged by a supervisor only while it holds. Pure, no clock.

Theory of operation: ``SupervisionBoard`` (``cti.supervision.board``) works out, at each input,
every condition that holds now (a key such as (SERVICE_LEVEL, "accueil") with its French
message) and hands them to ``AlertBook.evaluate``, which raises a new alert for a key not
active yet, clears the active ones whose key no longer holds, and tells the changes. The
service-level condition's hysteresis (a minimum volume to raise it, a margin above target to
clear it) is the board's; the book only asks whether a key is active.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

MAX_ALERTS = 200


class SupervisionError(Exception):
    """A supervisor's request the wallboard cannot carry out."""


class UnknownAlert(SupervisionError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"l'alerte {alert_id} n'existe pas (ou plus) sur le tableau")
        self.alert_id = alert_id


class AlertOver(SupervisionError):
    """Acknowledging an alert whose condition no longer holds: nothing left to act on."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"l'alerte {alert_id} est terminée : plus rien à acquitter")
        self.alert_id = alert_id


class AlertKind(enum.Enum):
    SERVICE_LEVEL = "service_level"  # under target over the last 30 minutes
    LONG_WAIT = "long_wait"  # a call waits longer than the service's maximum
    NO_AGENT = "no_agent"  # open, and nobody logged in can take it
    MISSED_OFFERS = "missed_offers"  # paused by the router for not answering
    DATABASE = "database"  # writes held: the database does not take them
    OVERLOAD = "overload"  # the product runs seconds behind: cards are late
    CALLBACK_WINDOW = "callback_window"  # callbacks not done, their promised window ending


#: Kinds whose message carries a count: a new count is told again, as the same alert.
TOLD_AGAIN = frozenset({AlertKind.DATABASE, AlertKind.OVERLOAD, AlertKind.CALLBACK_WINDOW})


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: AlertKind
    service: str | None
    agent: str | None
    message: str
    raised_at: float
    cleared_at: float | None = None
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None


@dataclass(frozen=True, slots=True)
class AlertRaised:
    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertChanged:
    """Cleared (its condition stopped holding) or acknowledged."""

    alert: Alert


AlertEvent = AlertRaised | AlertChanged
ConditionKey = tuple[AlertKind, str]
# key -> (service, agent, French message)
Conditions = dict[ConditionKey, tuple[str | None, str | None, str]]


class AlertBook:
    def __init__(self) -> None:
        self.alerts: dict[int, Alert] = {}
        self._active: dict[ConditionKey, int] = {}
        self._next_id = 1

    def is_active(self, key: ConditionKey) -> bool:
        return key in self._active

    def evaluate(self, holding: Conditions, now: float) -> list[AlertEvent]:
        """The conditions that hold at ``now``: alerts raised, cleared or told again."""
        changes: list[AlertEvent] = []
        for key, alert_id in list(self._active.items()):
            if key not in holding:
                del self._active[key]
                cleared = replace(self.alerts[alert_id], cleared_at=now)
                self.alerts[alert_id] = cleared
                changes.append(AlertChanged(cleared))
            elif key[0] in TOLD_AGAIN and holding[key][2] != self.alerts[alert_id].message:
                # The count (records, seconds, callbacks) is the news: the same alert, told again.
                counted = replace(self.alerts[alert_id], message=holding[key][2])
                self.alerts[alert_id] = counted
                changes.append(AlertChanged(counted))
        for key, (service, agent, message) in holding.items():
            if key in self._active:
                continue
            alert = Alert(self._next_id, key[0], service, agent, message, now)
            self._next_id += 1
            self.alerts[alert.id] = alert
            self._active[key] = alert.id
            changes.append(AlertRaised(alert))
        self._forget_old()
        return changes

    def acknowledge(self, alert_id: int, user: str, now: float) -> list[AlertEvent]:
        """``user`` saw the alert; twice keeps the first. Raises ``UnknownAlert``, and
        ``AlertOver`` once its condition stopped holding (there is nothing left to act on)."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise UnknownAlert(alert_id)
        if alert.acknowledged_by is not None:
            return []
        if alert.cleared_at is not None:
            raise AlertOver(alert_id)
        alert = replace(alert, acknowledged_by=user, acknowledged_at=now)
        self.alerts[alert_id] = alert
        return [AlertChanged(alert)]

    def _forget_old(self) -> None:
        """Keep the newest alerts; never drop one still holding."""
        excess = len(self.alerts) - MAX_ALERTS
        if excess <= 0:
            return
        active = set(self._active.values())
        for alert_id in list(self.alerts):
            if excess <= 0:
                break
            if alert_id not in active:
                del self.alerts[alert_id]
                excess -= 1
