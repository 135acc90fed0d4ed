"""One writer for the product's database work: in order, off the event loop, in batches, and
nothing lost while the database is away.

The pop must never wait for the database: cards are built from memory the moment the phone
rings. What the database must learn (a call's record, who was offered it, the audit trail,
notes, agents' states) is queued here as ``Write``s (data, see ``screenpop.spool``) and
written by one task, in the order it was queued, so that a call's record is created before
it is updated and a note lands after the offer that allows it. Each wake-up runs everything
queued so far in one worker thread: under load the cost of handing work to a thread is paid
per batch, not per write.

When the database cannot be reached (``is_unreachable``: connection refused or lost, an
SQLite file locked or read-only), the write it refused and every write behind it are *held*:
kept in memory (up to ``memory_bound`` writes) and in the spool file, and tried again, in
order, with a growing delay (``retry_min`` doubling up to ``retry_max``). Writes that arrive
meanwhile join the held ones without being tried: order is kept. Once the database takes
them all the spool is emptied. At start-up, writes left in the spool by a crash are replayed
before anything else. A held write may have been committed just before the link dropped:
replays are applied with ``replay=True`` and the write side makes them idempotent. A write
the database refuses for its content (not for being away) is logged and dropped, as before:
retrying it would block everything behind it for ever.

Under the router's lease (several nodes), each write is stamped with this node's fencing
token (``token``) when queued, and the writes the active router owns check it in their own
transaction (``cti.cluster.write_fence``). One refused (``NotLeader``: another node took over)
is never retried nor silently dropped: it is logged at WARNING, set aside in the spool's
refused file for inspection, and counted (``fenced``, ``cti_db_writes_fenced``); the writes
behind it go on (facts such as the audit trail still land, the owned ones are refused too).

``submit`` queues a write and forgets it; ``write`` queues one and says whether it is in the
database (True) or held for later (False); ``settled`` waits until everything queued before
it is one or the other (what a user is told is saved waits for it); ``call`` runs a read
after every earlier write (the agent's requests) and raises ``DatabaseUnavailable`` while
writes are held, since it could not see them. ``health`` is what /healthz, /metrics and the
wallboard show.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from cti.cluster.lease import NotLeader
from screenpop.errors import DatabaseUnavailable
from screenpop.spool import Spool, SpoolError, Write

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Applies a write to the database; ``replay`` says it may already be there.
Apply = Callable[[Write, bool], object]
_Work = Callable[[], Any] | Write
_Job = tuple[_Work, "asyncio.Future[Any] | None"]

MEMORY_BOUND = 10_000  # held writes kept in memory; beyond, on disk only
ACK_EVERY = 100  # held writes replayed between two marks in the spool


def is_unreachable(exc: BaseException) -> bool:
    """The database is away (or locked), not refusing this write for what it says."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)


@dataclass(frozen=True, slots=True)
class WriterHealth:
    state: str  # "up" or "down"
    pending_writes: int  # records held, waiting for the database
    since: float | None  # when the database stopped taking writes (epoch seconds)
    error: str | None  # what it answered last


class OrderedWriter:
    def __init__(
        self,
        name: str = "screen pop",
        max_batch: int = 200,
        *,
        apply: Apply | None = None,
        spool: Spool | None = None,
        memory_bound: int = MEMORY_BOUND,
        retry_min: float = 0.5,
        retry_max: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name  # for the log
        self.max_batch = max_batch
        self.apply = apply
        self.spool = spool
        self.memory_bound = memory_bound
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.clock = clock
        self._jobs: list[_Job] = []
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.errors = 0
        self.batches = 0
        self.lost = 0  # records given up (memory full and no spool): should stay 0
        self.replayed = 0  # held writes written once the database came back
        #: This node's fencing token under the router's lease, stamped on each write queued.
        self.token: int | None = None
        self.fenced = 0  # records refused by the lease: set aside, never written
        # Held writes, oldest first: the first ones in memory, the rest only in the spool.
        self._held: deque[tuple[int, Write]] = deque()
        self._held_count = 0
        self._held_size = 0
        self._on_disk_only = 0
        self._seq = 0
        self._done_seq = -1  # the last held write done (the spool's next ones come after)
        self._delay = retry_min
        self._recovered = False
        self.down_since: float | None = None
        self.last_error: str | None = None

    # -- the event loop's side ----------------------------------------------------------------

    @property
    def holding(self) -> bool:
        return self._held_count > 0

    @property
    def held_in_memory(self) -> int:
        """Held writes kept in memory (at most ``memory_bound``); the others wait in the
        spool only and are read back from it, in order, as the first ones are written."""
        return len(self._held)

    @property
    def pending_writes(self) -> int:
        """Records the database has not taken yet (held, in memory or on disk)."""
        return self._held_size

    def health(self) -> WriterHealth:
        down = self.holding or self.down_since is not None
        return WriterHealth(
            "down" if down else "up",
            self._held_size,
            self.down_since,
            self.last_error,
        )

    def submit(self, write: Write | Callable[[], object]) -> None:
        """Queue ``write`` and forget it. A plain function (``ivr_admin``'s runs) is run in
        order too but cannot wait on disk: the database away, it is tried once, as before."""
        self._queue((write, None))

    async def write(self, write: Write) -> bool:
        """Queue ``write`` and wait: True once in the database, False once held for later
        (kept on disk); raises if the database refuses it for its content."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue((write, future))
        return await future

    async def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` after every write queued before it; its exception is raised here
        (``DatabaseUnavailable`` while the database is away)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue((work, future))
        return await future

    async def settled(self) -> bool:
        """Wait until every write queued so far is safe from a crash: True once in the
        database, False once held for later (in the spool, fsynced). What a user is told
        is saved waits for this (write-ahead): a SIGKILL after the answer loses none of it.
        Requests that come together share one trip: the writer runs what is queued in one
        batch."""
        try:
            return await self.call(_written)
        except DatabaseUnavailable:
            return False

    def _queue(self, job: _Job) -> None:
        work, future = job
        if isinstance(work, Write) and work.token is None and self.token is not None:
            job = (dataclasses.replace(work, token=self.token), future)
        self._jobs.append(job)
        self.idle.clear()
        self._wake.set()

    async def spill(self) -> int:
        """The product stops before the writes queued are done (the database is slow under
        load): keep them in the spool for the next start, which writes them first. Returns
        how many records. Without a spool they are lost, and said so."""
        jobs = [job for job in self._jobs if isinstance(job[0], Write)]
        self._jobs = []
        if not jobs:
            return 0
        await asyncio.to_thread(self._hold, jobs, None)
        return sum(write.size for write, _ in jobs if isinstance(write, Write))

    async def recover(self) -> None:
        """Take back the writes a crash left in the spool and try them, before anything
        else (``run`` does it if not done yet; the product does it before reading states)."""
        if self._recovered:
            return
        self._recovered = True
        if self.spool is not None:
            await asyncio.to_thread(self._load_spool)
        if self.holding:
            await self._retry()

    async def run(self) -> None:
        await self.recover()
        while True:
            if self.holding:
                await self._retry()
                if self.holding:
                    await self._pause()
                    continue
            if not self._jobs:
                self.idle.set()
                await self._wake.wait()
            self._wake.clear()
            while self._jobs and not self.holding:
                batch = self._jobs[: self.max_batch]
                del self._jobs[: self.max_batch]
                outcomes = await asyncio.to_thread(self._run_batch, batch)
                self.batches += 1
                _settle(batch, outcomes)
            if self.holding and self._jobs:
                await self._hold_queued()

    async def _retry(self) -> None:
        written, refused = await asyncio.to_thread(self._drain)
        self.replayed += written
        if refused is None:
            if self.down_since is not None:
                log.warning(
                    "%s : base de données de nouveau joignable après %.0f s, "
                    "%d écritures rattrapées",
                    self.name,
                    self.clock() - self.down_since,
                    written,
                )
            self.down_since, self.last_error, self._delay = None, None, self.retry_min
        else:
            self._down(refused)

    async def _pause(self) -> None:
        """Wait before the next try; writes queued meanwhile join the held ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._delay
        while True:
            self._wake.clear()
            if self._jobs:
                await self._hold_queued()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                break
        self._delay = min(self._delay * 2, self.retry_max)

    async def _hold_queued(self) -> None:
        batch, self._jobs = self._jobs, []
        outcomes = await asyncio.to_thread(self._hold, batch, None)
        _settle(batch, outcomes)

    def _down(self, exc: BaseException) -> None:
        first = self.down_since is None
        if first:
            self.down_since = self.clock()
        self.last_error = _reason(exc)
        if first:
            log.error(
                "%s : base de données injoignable (%s) : écritures gardées en attente%s",
                self.name,
                self.last_error,
                f" dans {self.spool.path}" if self.spool is not None else "",
            )

    # -- the worker thread's side -------------------------------------------------------------

    def _run_batch(self, batch: list[_Job]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for index, (work, future) in enumerate(batch):
            try:
                value = self._apply(work, replay=False) if isinstance(work, Write) else work()
                outcomes.append((True, value))
            except Exception as exc:  # one failed write must not stop the ones behind it
                if isinstance(work, Write) and isinstance(exc, NotLeader):
                    self._refuse(work, exc)
                    outcomes.append((False, exc))
                    continue
                if isinstance(work, Write) and is_unreachable(exc):
                    self._down(exc)
                    return outcomes + self._hold(batch[index:], exc)
                if future is None:
                    self.errors += 1
                    log.exception("%s: database write failed", self.name)
                outcomes.append((False, exc))
        return outcomes

    def _apply(self, write: Write, *, replay: bool) -> bool:
        if self.apply is None:
            raise TypeError(f"{self.name}: no way to apply a {write.kind!r} write")
        self.apply(write, replay)
        return True

    def _refuse(self, write: Write, exc: NotLeader) -> None:
        """``write`` came from a router that lost the lease: keep it aside, never write it."""
        self.fenced += write.size
        kept = ""
        if self.spool is not None:
            try:
                self.spool.set_aside(write, str(exc), datetime.now(UTC))
                kept = f" ; gardée pour examen dans {self.spool.refused_path}"
            except SpoolError as failed:
                kept = f" ; impossible de la garder ({failed})"
        log.warning(
            "%s : écriture « %s » (%d enregistrement(s), jeton %s) non faite : %s%s",
            self.name,
            write.kind,
            write.size,
            write.token,
            exc,
            kept,
        )

    def _hold(self, jobs: Sequence[_Job], exc: BaseException | None) -> list[tuple[bool, Any]]:
        """Keep ``jobs``' writes for later, in order; reads cannot run before them."""
        reason = _reason(exc) if exc is not None else self.last_error or "indisponible"
        outcomes: list[tuple[bool, Any]] = []
        fresh: list[tuple[int, Write]] = []
        for work, future in jobs:
            if not isinstance(work, Write):
                if future is None:  # a plain function: nobody to tell, so try it anyway
                    try:
                        outcomes.append((True, work()))
                    except Exception as failed:
                        self.errors += 1
                        log.error("%s : écriture non gardée (%s)", self.name, _reason(failed))
                        outcomes.append((False, failed))
                    continue
                outcomes.append((False, DatabaseUnavailable(reason)))
                continue
            fresh.append((self._seq, work))
            self._seq += 1
            outcomes.append((True, False))
        if self.spool is not None:
            try:
                self.spool.append(fresh)
            except SpoolError:
                log.exception("%s : écritures en attente gardées en mémoire seulement", self.name)
                self.spool = None  # memory only from now on (its bound applies)
        for seq, write in fresh:
            self._held_count += 1
            self._held_size += write.size
            if self._on_disk_only or len(self._held) >= self.memory_bound:
                if self.spool is not None:
                    self._on_disk_only += 1
                    continue
                self._held_count -= 1
                self._held_size -= write.size
                self.lost += write.size
                self.errors += 1
                log.error("%s : mémoire pleine, écriture %s perdue", self.name, write.kind)
                continue
            self._held.append((seq, write))
        return outcomes

    def _drain(self) -> tuple[int, BaseException | None]:
        """Write the held writes in order until the database refuses one."""
        written = 0
        last: int | None = None
        try:
            while self._held_count:
                if not self._held:
                    self._refill()
                seq, write = self._held[0]
                try:
                    self._apply(write, replay=True)
                except NotLeader as exc:
                    self._refuse(write, exc)
                except Exception as exc:
                    if is_unreachable(exc):
                        return written, exc
                    self.errors += 1
                    log.exception("%s : écriture en attente refusée par la base", self.name)
                self._held.popleft()
                self._held_count -= 1
                self._held_size -= write.size
                written, last, self._done_seq = written + 1, seq, seq
                if self.spool is not None and written % ACK_EVERY == 0:
                    self.spool.ack(seq)
            if self.spool is not None:
                self.spool.clear()
            return written, None
        finally:
            if self._held_count and self.spool is not None and last is not None:
                self.spool.ack(last)

    def _refill(self) -> None:
        """The writes in memory are done: read the next ones from the spool."""
        assert self.spool is not None  # writes are only on disk when there is a spool
        loaded = self.spool.load(limit=self.memory_bound, after=self._done_seq)
        self._held.extend(loaded)
        self._on_disk_only -= len(loaded)

    def _load_spool(self) -> None:
        assert self.spool is not None
        left = self.spool.load()
        self._seq = self.spool.last_seq() + 1
        if not left:
            self.spool.clear()
            return
        log.warning(
            "%s : %d écritures laissées en attente par l'arrêt précédent (%s) : rejouées "
            "avant tout le reste",
            self.name,
            len(left),
            self.spool.path,
        )
        for seq, write in left:
            self._held_count += 1
            self._held_size += write.size
            if len(self._held) < self.memory_bound:
                self._held.append((seq, write))
            else:
                self._on_disk_only += 1


def _written() -> bool:
    return True


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def _settle(batch: Sequence[_Job], outcomes: Sequence[tuple[bool, Any]]) -> None:
    for (_work, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future is None or future.done():
            continue
        if ok:
            future.set_result(value)
        elif is_unreachable(value):
            future.set_exception(DatabaseUnavailable(_reason(value)))
        else:
            future.set_exception(value)
