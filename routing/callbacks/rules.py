"""When a callback may be placed, and what each fact does to it (pure: the time is an input).

Theory of operation:

* **Window.** « ce matin » runs from the request to noon, « cet après-midi » from noon (or
  the request) to the end of the day, « à la réouverture » from the service's next opening.
  A window asked for a closed service, or already over, becomes « à la réouverture » with
  the next opening as its start; with no opening in sight (no calendar: always open) it
  starts at once.
* **Due.** A pending request is due when its window has started, ``not_before`` has passed
  and the service is open (``calendar`` None: always open). It is then routed as a caller
  who entered at ``asked_at`` (``queueing``); it is never placed outside opening hours.
* **Attempts.** Each Originate is one attempt. Reached ends it; no answer, busy or a failed
  dial puts it back in line after ``spacing`` (moved to the next opening if that falls when
  the service is closed) until ``attempts`` are used, then it has FAILED. Declining an offer
  (« Reporter ») or an offer the agent's phone never took is no attempt: the request keeps
  its place, not offered again to anyone before ``postpone``.
* **Cancelled** when the citizen called again and was served (an agent answered a call from
  the same number for the same service after she asked). **Expired** ``expiry`` after the
  request if still not done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr_scripts.hours import Calendar, is_open, local_time, parse_range
from routing.callbacks.request import FINAL, CallbackRequest, CallbackState, Window, move

S = CallbackState
NOON = time(12, 0)
#: How far ``next_opening`` looks ahead (a town hall closed longer than this has no callbacks).
HORIZON_DAYS = 45


@dataclass(frozen=True, slots=True)
class RetryRules:
    """A service's callback rules (routing configuration, ``callback:`` of a service)."""

    attempts: int = 3
    spacing: timedelta = timedelta(minutes=15)
    postpone: timedelta = timedelta(minutes=10)
    expiry: timedelta = timedelta(days=5)
    offer_timeout: timedelta = timedelta(seconds=60)
    dialling_grace: timedelta = timedelta(hours=2)
    # « tapez 1 pour être rappelé » offered to callers waiting this long (None: never).
    offer_in_wait_after: timedelta | None = None


#: What the dialplan says of the citizen's leg (``DIALSTATUS``) and what it means here.
REACHED = "ANSWER"
RETRY_STATUSES = frozenset({"NOANSWER", "BUSY", "CONGESTION", "CHANUNAVAIL", "CANCEL"})
#: The agent's own phone did not answer the Originate (or it could not be sent): the
#: citizen was not dialled, so it is no attempt of hers.
AGENT_MISSED = "AGENT"
#: A restart found the attempt and could not learn how it ended: never dialled again.
INTERRUPTED = "INTERRUPTED"


def next_opening(calendar: Calendar | None, at: datetime) -> datetime | None:
    """The first instant at or after ``at`` when the calendar is open (None: not in sight).

    Without a calendar the service is always open: ``at`` itself."""
    if calendar is None:
        return at
    if is_open(calendar, at).open:
        return at
    local = local_time(calendar, at)
    tz = ZoneInfo(calendar.timezone)
    for offset in range(HORIZON_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        starts = sorted(
            parse_range(text)[0] for text in _ranges_of(calendar, day.isoformat(), day.weekday())
        )
        for start in starts:
            candidate = datetime.combine(day, start, tz)
            if candidate >= local and is_open(calendar, candidate).open:
                return candidate
    return None


def _ranges_of(calendar: Calendar, iso_day: str, weekday: int) -> list[str]:
    """Every range that may open the day (the weekly ones and a special opening's)."""
    ranges = list(calendar.weekly.for_weekday(weekday))
    for special in calendar.special_openings:
        if special.date.isoformat() == iso_day:
            ranges.extend(special.hours)
    return ranges


def window_for(
    asked: Window, calendar: Calendar | None, at: datetime
) -> tuple[Window, datetime, datetime | None]:
    """The window actually promised for ``asked`` at ``at``: (window, start, end)."""
    tz = ZoneInfo(calendar.timezone if calendar is not None else "Europe/Paris")
    local = at.astimezone(tz)
    noon = datetime.combine(local.date(), NOON, tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0, 0), tz)
    open_now = calendar is None or is_open(calendar, at).open
    if asked is Window.MORNING and local < noon and open_now:
        return asked, at, noon
    if asked is Window.AFTERNOON:
        opening = next_opening(calendar, max(at, noon))
        if opening is not None and opening < midnight:
            return asked, opening, midnight
    opening = next_opening(calendar, at)
    return Window.REOPENING, opening if opening is not None else at, None


def is_due(request: CallbackRequest, calendar: Calendar | None, at: datetime) -> bool:
    """Whether the request may be offered to an agent now."""
    if request.state is not S.PENDING or request.number is None:
        return False
    if at < request.window_start or (request.not_before is not None and at < request.not_before):
        return False
    return calendar is None or is_open(calendar, at).open


def window_missed(request: CallbackRequest, at: datetime) -> bool:
    """Still not called back though the window promised is over (the supervisors' alert)."""
    return (
        request.state in (S.PENDING, S.OFFERED)
        and request.window_end is not None
        and at >= request.window_end
    )


def offered(request: CallbackRequest, agent: str, at: datetime) -> CallbackRequest:
    return move(request, S.OFFERED, at, agent=agent)


def postponed(request: CallbackRequest, rules: RetryRules, at: datetime) -> CallbackRequest:
    """« Reporter », or an offer that never reached the agent: same place, a little later."""
    return move(request, S.PENDING, at, agent=None, not_before=at + rules.postpone)


def dialling(request: CallbackRequest, agent: str, action_id: str, at: datetime) -> CallbackRequest:
    """An attempt starts: stored before the Originate is sent (never dialled twice)."""
    return move(
        request,
        S.DIALLING,
        at,
        agent=agent,
        action_id=action_id,
        attempts=request.attempts + 1,
        outcome=None,
    )


def attempt_ended(
    request: CallbackRequest,
    status: str,
    rules: RetryRules,
    calendar: Calendar | None,
    at: datetime,
) -> CallbackRequest:
    """The attempt's outcome (``status``: the dialplan's DIALSTATUS of the citizen's leg)."""
    if status == AGENT_MISSED:
        return move(
            request,
            S.PENDING,
            at,
            outcome=status,
            agent=None,
            attempts=request.attempts - 1,
            not_before=at + rules.postpone,
        )
    if status == REACHED:
        return move(request, S.REACHED, at, outcome=status)
    if request.attempts >= rules.attempts or status not in RETRY_STATUSES:  # INTERRUPTED too
        return move(request, S.FAILED, at, outcome=status, agent=None)
    later = next_opening(calendar, at + rules.spacing)
    if later is None:
        return move(request, S.FAILED, at, outcome=status, agent=None)
    return move(request, S.PENDING, at, outcome=status, agent=None, not_before=later)


def cancelled_if_served(
    request: CallbackRequest, number: str | None, service: str | None, served_at: datetime
) -> CallbackRequest | None:
    """The request cancelled because its citizen called again and was served, else None."""
    if (
        request.final
        or request.state is S.DIALLING
        or number is None
        or number != request.number
        or served_at < request.asked_at
        or (service is not None and service != request.service)
    ):
        return None
    return move(request, S.CANCELLED, served_at, outcome="servi", agent=None)


def expired(request: CallbackRequest, rules: RetryRules, at: datetime) -> CallbackRequest | None:
    """The request expired (``rules.expiry`` after it was asked, not done), else None."""
    if request.state not in (S.PENDING, S.OFFERED) or at < request.asked_at + rules.expiry:
        return None
    return move(request, S.EXPIRED, at, agent=None)


def offer_timed_out(request: CallbackRequest, rules: RetryRules, at: datetime) -> bool:
    """An offer nobody answered on the page (away from the desk): it is postponed."""
    return (
        request.state is S.OFFERED
        and request.updated_at is not None
        and at >= request.updated_at + rules.offer_timeout
    )


def dialling_lost(request: CallbackRequest, rules: RetryRules, at: datetime) -> bool:
    """An attempt whose end never came (the product restarted mid-call): closed, not redialled."""
    return (
        request.state is S.DIALLING
        and request.updated_at is not None
        and at >= request.updated_at + rules.dialling_grace
    )


def delay_seconds(request: CallbackRequest) -> float | None:
    """From the request to the call that reached her (reports), None if not reached."""
    if request.state is not S.REACHED or request.updated_at is None:
        return None
    return (request.updated_at - request.asked_at).total_seconds()


__all__ = [
    "AGENT_MISSED",
    "FINAL",
    "INTERRUPTED",
    "REACHED",
    "RetryRules",
    "attempt_ended",
    "cancelled_if_served",
    "delay_seconds",
    "dialling",
    "dialling_lost",
    "expired",
    "is_due",
    "next_opening",
    "offer_timed_out",
    "offered",
    "postponed",
    "window_for",
    "window_missed",
]
