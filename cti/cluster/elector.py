"""Which node drives the PBX: tries for the router's lease, renews it, steps down when lost.

Standbys try to acquire every ``ttl / 3``; the holder renews at the same pace. The holder is
deposed (``on_deposed``) when a renewal is refused, or when its local deadline passes without
one (database unreachable, process paused): after that it must send nothing to Asterisk,
and ``check`` raises for anyone who tries. Database calls run in a thread: the event loop
never waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from cti.cluster.lease import Lease, NotLeader
from cti.cluster.lease_store import LeaseStore

log = logging.getLogger("cti.cluster")


def node_identity() -> str:
    """This process's name in the lease: host, pid and a nonce, new at every start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Elector:
    def __init__(
        self,
        store: LeaseStore,
        *,
        ttl: float = 3.0,
        holder: str | None = None,
        on_elected: Callable[[int], None] = lambda _token: None,
        on_deposed: Callable[[int], None] = lambda _token: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.holder = holder or node_identity()
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.clock = clock
        self.lease: Lease | None = None
        self.elected = asyncio.Event()
        #: Why the lease was lost while held (None: never lost, or given up at a clean stop).
        self.lost: str | None = None
        self._waiting_said = False
        self._task: asyncio.Task[None] | None = None
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def token(self) -> int | None:
        return self.lease.token if self.lease is not None else None

    def may_act(self) -> bool:
        return self.lease is not None and self.lease.may_act(self.clock())

    def check(self) -> int:
        """The token under which to act now; ``NotLeader`` if this node may not act."""
        lease = self.lease
        if lease is None:
            raise NotLeader("ce nœud est en attente : un autre nœud pilote l'autocommutateur")
        lease.check(self.clock())
        return lease.token

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router-lease")

    async def close(self) -> None:
        """Stop trying; a holder releases the lease so that a standby takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        lease = self.lease
        if lease is not None:
            self._depose("arrêt du nœud", lost=False)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.release, self.holder, lease.token)

    async def _run(self) -> None:
        while True:
            sent_at = self.clock()
            try:
                if self.lease is None:
                    token = await asyncio.to_thread(self.store.acquire, self.holder, self.ttl)
                    if token is not None:
                        self._elected(Lease(token, sent_at, self.ttl))
                    elif not self._waiting_said:
                        self._waiting_said = True
                        log.warning(
                            "nœud en attente : un autre nœud pilote l'autocommutateur "
                            "(bail « %s »)",
                            self.store.name,
                        )
                elif await asyncio.to_thread(
                    self.store.renew, self.holder, self.lease.token, self.ttl
                ):
                    self._renewed(sent_at)
                else:
                    self._depose("bail repris par un autre nœud")
            except Exception as exc:  # the database is away: the local deadline decides
                log.warning("bail du routeur : base de données injoignable (%s)", exc)
            await asyncio.sleep(self.ttl / 3)

    def _elected(self, lease: Lease) -> None:
        self.lease = lease
        self.elected.set()
        self._arm()
        log.warning("ce nœud pilote l'autocommutateur (jeton %d)", lease.token)
        self.on_elected(lease.token)

    def _renewed(self, sent_at: float) -> None:
        if self.lease is None:  # deposed by the timer while the renewal was on its way
            return
        if not self.lease.may_act(self.clock()):
            # Renewed after the local deadline: others may have seen it lapse. Step down and
            # start again as a standby rather than act on a lease that looked lost.
            self._depose("bail renouvelé trop tard")
            return
        self.lease = self.lease.renewed(sent_at)
        self._arm()

    def _arm(self) -> None:
        # Deposed at the local deadline even if no renewal ever answers.
        if self._expiry is not None:
            self._expiry.cancel()
        assert self.lease is not None
        delay = max(0.0, self.lease.deadline - self.clock())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, self._depose, "bail non renouvelé à temps"
        )

    def _depose(self, why: str, lost: bool = True) -> None:
        lease, self.lease = self.lease, None
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if lease is None:
            return
        self.elected.clear()
        if lost:
            self.lost = why
        log.warning("ce nœud cesse de piloter l'autocommutateur (jeton %d) : %s", lease.token, why)
        self.on_deposed(lease.token)
