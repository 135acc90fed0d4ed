"""The wallboard's callback alert: promised windows about to be missed, or missed. Pure.

Theory of operation: the shell hands the board the promised windows of the callbacks not
done yet (``PromisedWindow``: service, end of the window); at each evaluation the board asks
``conditions`` which services have some ending within ``SOON`` (the wallboard's 30 minutes,
``routing.callbacks.figures``) or already ended. One condition per service, its message
naming how many and the earliest end, so a change of count is told again (``AlertBook``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cti.supervision.alerts import AlertKind, Conditions
from routing.callbacks.figures import SOON
from routing.callbacks.request import CallbackRequest

SOON_S = SOON.total_seconds()


@dataclass(frozen=True, slots=True)
class PromisedWindow:
    service: str
    ends_at: float  # epoch seconds


def promised_windows(requests: Iterable[CallbackRequest]) -> list[PromisedWindow]:
    """The windows of the requests not done yet (a request without an end promises none)."""
    return [
        PromisedWindow(r.service, r.window_end.timestamp())
        for r in requests
        if not r.final and r.window_end is not None
    ]


def ordered(windows: Iterable[PromisedWindow]) -> list[PromisedWindow]:
    """Earliest end first: ``conditions`` stops at the first window not at risk."""
    return sorted(windows, key=lambda w: w.ends_at)


def conditions(
    windows: list[PromisedWindow],
    now: float,
    tz: ZoneInfo,
    label: Callable[[str], str],
) -> Conditions:
    """Per service, the callbacks whose window ends within ``SOON_S`` or has ended.
    ``windows`` must be ``ordered``."""
    at_risk: dict[str, list[PromisedWindow]] = {}
    for window in windows:
        if window.ends_at - SOON_S > now:
            break
        at_risk.setdefault(window.service, []).append(window)
    out: Conditions = {}
    today = datetime.fromtimestamp(now, tz).date()
    for service, found in at_risk.items():
        count = len(found)
        late = sum(1 for w in found if w.ends_at <= now)
        before = _when(found[0].ends_at, tz, today)
        if count > 1:
            text = f"{count} rappels promis avant {before} ne sont pas encore faits"
        else:
            text = f"1 rappel promis avant {before} n'est pas encore fait"
        if late:
            text += f", dont {late} en retard" if count > 1 else ", en retard"
        message = f"« {label(service)} » : {text}"
        out[(AlertKind.CALLBACK_WINDOW, service)] = (service, None, message)
    return out


def _when(at: float, tz: ZoneInfo, today: date) -> str:
    moment = datetime.fromtimestamp(at, tz)
    if moment.date() == today:
        return moment.strftime("%H:%M")
    return moment.strftime("le %d/%m à %H:%M")
