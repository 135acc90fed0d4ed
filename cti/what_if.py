"""« Et si… » from the database: a period's recorded calls replayed with a draft and with the
configuration in force (``routing.what_if``), off the event loop and within bounds.

The calls are read in a thread (``interactions``: calls that reached a service queue,
started in the period's Paris days); the replay itself runs in a separate process
(``spawn``: no lock or socket of the service is inherited) so that its computing never
slows the calls' event loop, and is killed when it takes longer than the time allowed.
One replay at a time; the period and the number of calls are bounded. Every refusal is a
``WhatIfError`` whose message, in French, says what to change.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from multiprocessing.connection import Connection

from sqlalchemy import select

from cti.db import Database
from cti.reports.records import PARIS
from routing.day_records import Outcome
from routing.model import EngineConfig
from routing.recorded_days import RecordedCall
from routing.what_if import WhatIf, compare
from screenpop.models import Interaction

_OUTCOMES = {
    "answered": Outcome.ANSWERED,
    "abandoned": Outcome.ABANDONED,
    "overflow": Outcome.OVERFLOWED,
    "safety_net": Outcome.OVERFLOWED,
}
# Time in the voice menu before the queue, read from a record's durations; beyond this it
# is taken for something else (a voicemail after the overflow) and not counted.
_MAX_MENU_S = 300.0


class WhatIfError(Exception):
    """The replay was refused or did not finish; the message says why, in French."""


class PeriodRefused(WhatIfError):
    """The period asked for cannot be replayed as it is (its field is ``field``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class NoRecordedCalls(PeriodRefused):
    def __init__(self) -> None:
        super().__init__("Aucun appel enregistré sur la période choisie.", "from")


class TooManyCalls(PeriodRefused):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Plus de {limit} appels sur la période choisie : choisissez une période plus courte.",
            "from",
        )


class ReplayBusy(WhatIfError):
    def __init__(self) -> None:
        super().__init__("Une simulation est déjà en cours : réessayez dans un instant.")


class ReplayTooLong(WhatIfError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"La simulation a dépassé {seconds:g} s et a été arrêtée : choisissez une période "
            "plus courte."
        )


class ReplayFailed(WhatIfError):
    """The simulation itself broke (a fault of ours, logged with its cause)."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_calls: int = 20_000
    max_days: int = 31
    timeout_s: float = 60.0


def default_period(today: date, days: int = 7) -> tuple[date, date]:
    """The ``days`` whole days before ``today`` (today is not over yet)."""
    return today - timedelta(days=days), today - timedelta(days=1)


def check_period(first: date, last: date, limits: Limits) -> None:
    if last < first:
        raise PeriodRefused("La fin de la période précède son début.", "to")
    if (last - first).days + 1 > limits.max_days:
        raise PeriodRefused(f"La période dépasse {limits.max_days} jours.", "to")


def _recorded(
    call_id: str,
    started_at: datetime,
    service: str,
    outcome: Outcome,
    agents: Sequence[str] | None,
    wait: float | None,
    talk: float | None,
    total: float | None,
) -> RecordedCall:
    wait = max(0.0, wait or 0.0)
    talk = talk if outcome is Outcome.ANSWERED else None
    menu = 0.0
    if total is not None and outcome is not Outcome.OVERFLOWED:
        menu = total - wait - (talk or 0.0)
        menu = menu if 0.0 <= menu <= _MAX_MENU_S else 0.0
    local = started_at.astimezone(PARIS)
    since_midnight = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    agent = agents[-1] if outcome is Outcome.ANSWERED and agents else None
    return RecordedCall(
        call_id, local.date(), since_midnight + menu, service, outcome, wait, talk, agent
    )


def read_recorded(db: Database, first: date, last: date, limit: int) -> list[RecordedCall]:
    """The calls that reached a queue in the Paris days ``first``..``last`` (blocking).

    Raises ``TooManyCalls`` past ``limit``."""
    # In UTC: SQLite compares the stored UTC text with the bound as written.
    start = datetime.combine(first, time(), PARIS).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), PARIS).astimezone(UTC)
    query = (
        select(
            Interaction.call_id,
            Interaction.started_at,
            Interaction.service,
            Interaction.outcome,
            Interaction.agents,
            Interaction.wait_seconds,
            Interaction.talk_seconds,
            Interaction.duration_seconds,
        )
        .where(
            Interaction.started_at >= start,
            Interaction.started_at < end,
            Interaction.service.is_not(None),
            Interaction.outcome.in_(_OUTCOMES),
        )
        .order_by(Interaction.started_at, Interaction.id)
        .limit(limit + 1)
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    if len(rows) > limit:
        raise TooManyCalls(limit)
    return [
        _recorded(call_id, _utc(at), str(service), _OUTCOMES[outcome], agents, wait, talk, total)
        for call_id, at, service, outcome, agents, wait, talk, total in rows
    ]


def _utc(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _replay_child(
    conn: Connection, calls: list[RecordedCall], current: EngineConfig, draft: EngineConfig
) -> None:
    """The separate process: compare, send the result (or what broke) back, exit."""
    try:
        conn.send(("done", compare(calls, current, draft)))
    except Exception as exc:  # the parent reports it; nothing else listens here
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def replay_in_process(
    calls: list[RecordedCall], current: EngineConfig, draft: EngineConfig, timeout_s: float
) -> WhatIf:
    """``routing.what_if.compare`` in a process of its own, killed past ``timeout_s``
    (blocking: the caller runs it in a thread)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_replay_child, args=(sender, calls, current, draft), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise ReplayTooLong(timeout_s)
        kind, value = receiver.recv()
    except EOFError:
        raise ReplayFailed(
            f"La simulation s'est arrêtée sans résultat (code {process.exitcode})."
        ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if kind != "done":
        raise ReplayFailed(f"La simulation a échoué : {value}")
    assert isinstance(value, WhatIf)
    return value


class WhatIfRunner:
    """Replays of recorded calls for the administration page, one at a time."""

    def __init__(self, db: Database, limits: Limits | None = None) -> None:
        self.db = db
        self.limits = limits or Limits()
        self._running = False

    async def run(
        self, first: date, last: date, current: EngineConfig, draft: EngineConfig
    ) -> WhatIf:
        """Raises ``WhatIfError`` (``PeriodRefused``, ``ReplayBusy``, ``ReplayTooLong``...)."""
        check_period(first, last, self.limits)
        if self._running:
            raise ReplayBusy()
        self._running = True
        try:
            calls = await asyncio.to_thread(
                read_recorded, self.db, first, last, self.limits.max_calls
            )
            if not calls:
                raise NoRecordedCalls()
            return await asyncio.to_thread(
                replay_in_process, calls, current, draft, self.limits.timeout_s
            )
        finally:
            self._running = False
