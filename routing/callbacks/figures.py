"""Callback figures for the wallboard and the reports (pure: requests and the time in).

* **Board** (open requests, per service): how many wait, the oldest (when she asked), and
  how many promised windows are missed or about to be (``soon`` before their end): the
  supervisors' alert before a citizen is let down.
* **Report** (requests asked in a period, per service): requested, reached, failed,
  cancelled, expired, still open, and the mean delay from request to the call that reached
  her (``rules.delay_seconds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.callbacks.request import FINAL, CallbackRequest, CallbackState
from routing.callbacks.rules import delay_seconds

S = CallbackState
SOON = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class BoardRow:
    service: str
    waiting: int
    oldest_asked_at: datetime | None
    windows_missed: int
    windows_ending_soon: int


@dataclass(frozen=True, slots=True)
class ReportRow:
    service: str
    requested: int
    reached: int
    failed: int
    cancelled: int
    expired: int
    open: int
    mean_delay_s: float | None


def board(
    requests: Iterable[CallbackRequest], at: datetime, soon: timedelta = SOON
) -> list[BoardRow]:
    rows: dict[str, list[CallbackRequest]] = {}
    for request in requests:
        if request.state not in FINAL:
            rows.setdefault(request.service, []).append(request)
    out = []
    for service in sorted(rows):
        found = rows[service]
        ends = [r.window_end for r in found if r.window_end is not None]
        out.append(
            BoardRow(
                service,
                len(found),
                min(r.asked_at for r in found),
                sum(1 for end in ends if at >= end),
                sum(1 for end in ends if end - soon <= at < end),
            )
        )
    return out


def report(requests: Iterable[CallbackRequest]) -> list[ReportRow]:
    by_service: dict[str, list[CallbackRequest]] = {}
    for request in requests:
        by_service.setdefault(request.service, []).append(request)
    out = []
    for service in sorted(by_service):
        found = by_service[service]
        delays = [d for d in map(delay_seconds, found) if d is not None]
        count = {state: sum(1 for r in found if r.state is state) for state in S}
        out.append(
            ReportRow(
                service,
                len(found),
                count[S.REACHED],
                count[S.FAILED],
                count[S.CANCELLED],
                count[S.EXPIRED],
                count[S.PENDING] + count[S.OFFERED] + count[S.DIALLING],
                sum(delays) / len(delays) if delays else None,
            )
        )
    return out
