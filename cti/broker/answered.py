"""Requests the router has answered, by idempotency key: a resend gets the answer, not a rerun.

A web node whose router dies while running a page's request sends it again to the next
router (``cti.broker.feeds``). Every state-changing request carries an ``Idempotency-Key``
(the page's own, one per user action, else one the web node made), and the router keeps,
in the shared database, the answer of each keyed request it ran, for ``KEEP_S``. A request
whose key is there is not run again: the stored answer goes back, marked
``Idempotent-Replayed: true``. The key is taken with the request it came with (method, path,
query, cookies, body): another session presenting it, or another body, is another request.

The same key arriving twice at one router while the first still runs (the web node took a
slow router for gone, then heard it again) waits for the first one's answer.

What remains (README, multi-node section): the answer is stored once the application has
run the request, before it leaves. A router killed between the application's own commit (or
the AMI action it sent) and that store leaves no trace of the answer, and the next router
runs the request again. That window is a few milliseconds per request; closing it would need
the key written in the application's own transaction, route by route, and nothing of the
kind exists for an AMI action. Answers that set a cookie (login, logout) or say
``Cache-Control: no-store`` (a one-time password) are not kept, so that the database never
holds anything a browser could present: such requests run again, which opens a second
session or generates another password, and nothing worse. ``503`` answers (nothing done,
try again) are not kept either.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cti.broker.envelope import ForwardedAnswer, ForwardedRequest
from cti.cluster.lease import NotLeader
from cti.db import Database
from screenpop.models import AnsweredRequest

log = logging.getLogger("cti.broker")
T = TypeVar("T")

KEY_HEADER = "idempotency-key"
REPLAYED = ("Idempotent-Replayed", "true")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Longer than any resend (a web node gives up after about ten seconds), short enough to keep
# the table small.
KEEP_S = 300.0
SWEEP_EVERY_S = 60.0
# The database away must not hold a page's action (its writes wait in the spool, README « When
# the database is away »): kept answers are looked for and stored within STORE_WAIT_S, and
# left alone for STORE_REST_S after a failure (meanwhile a resend would run again).
STORE_WAIT_S = 3.0
STORE_REST_S = 10.0


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def request_key(request: ForwardedRequest) -> str | None:
    """The key ``request``'s answer is kept under, or None (a safe method, or no key)."""
    given = _header(request.headers, KEY_HEADER)
    if request.method.upper() in SAFE_METHODS or not given:
        return None
    digest = hashlib.sha256()
    for part in (given, request.method, request.path, request.query):
        digest.update(part.encode() + b"\0")
    digest.update((_header(request.headers, "cookie") or "").encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def keepable(answer: ForwardedAnswer) -> bool:
    """Whether ``answer`` may be stored and given back (see the module's docstring)."""
    names = {key.lower() for key, _ in answer.headers}
    no_store = "no-store" in (_header(answer.headers, "cache-control") or "").lower()
    return answer.status != 503 and "set-cookie" not in names and not no_store


class AnsweredStore:
    """The ``answered_requests`` table (blocking: called from a thread). ``fence`` (the
    router's lease): an answer is kept only by the router in charge; a deposed one's answer
    (its own writes refused) must not stop its successor from running a resend."""

    def __init__(
        self, database: Database, fence: Callable[[Connection], None] | None = None
    ) -> None:
        self.database = database
        self.fence = fence

    def find(self, key: str) -> ForwardedAnswer | None:
        with self.database.session() as session:
            row = session.scalar(select(AnsweredRequest).where(AnsweredRequest.key_hash == key))
            if row is None:
                return None
            headers = [(str(name), str(value)) for name, value in row.headers]
            return ForwardedAnswer(row.status, headers, bytes(row.body))

    def keep(self, key: str, answer: ForwardedAnswer, now: float) -> None:
        """Store ``answer``; a key already there (another router ran it too) is left as is."""
        row = AnsweredRequest(
            key_hash=key,
            status=answer.status,
            headers=[list(pair) for pair in answer.headers],
            body=answer.body,
            answered_at=now,
        )
        try:
            with self.database.session() as session, session.begin():
                if self.fence is not None:
                    self.fence(session.connection())
                session.add(row)
        except IntegrityError:
            log.warning("courtier : réponse déjà gardée pour la clé %s…", key[:12])

    def sweep(self, before: float) -> int:
        """Forget answers stored before ``before`` (epoch seconds); how many."""
        with self.database.session() as session, session.begin():
            result = session.execute(
                delete(AnsweredRequest).where(AnsweredRequest.answered_at < before)
            )
            return int(getattr(result, "rowcount", 0) or 0)


class Answered:
    """Runs each keyed request once on this router, and once across routers while kept."""

    def __init__(self, store: AnsweredStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.replayed = 0  # answers given back instead of running a request again
        self._running: dict[str, asyncio.Future[ForwardedAnswer]] = {}
        self._swept_at = float("-inf")
        self._rest_until = float("-inf")

    async def once(
        self, key: str, run: Callable[[], Awaitable[ForwardedAnswer]]
    ) -> ForwardedAnswer:
        """``run()``'s answer, or the one already given for ``key``."""
        running = self._running.get(key)
        if running is not None:
            self.replayed += 1
            return _replayed(await asyncio.shield(running))
        future: asyncio.Future[ForwardedAnswer] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            answer = await self._answer(key, run)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody may be waiting for it
            raise
        else:
            future.set_result(answer)
            return answer
        finally:
            del self._running[key]

    async def _answer(
        self, key: str, run: Callable[[], Awaitable[ForwardedAnswer]]
    ) -> ForwardedAnswer:
        stored = await self._stored(self.store.find, key)
        if stored is not None:
            self.replayed += 1
            log.info("courtier : requête déjà traitée (clé %s…) : réponse redonnée", key[:12])
            return _replayed(stored)
        answer = await run()
        if keepable(answer):
            await self._stored(self._keep, key, answer)
        return answer

    async def _stored(self, work: Callable[..., T], *args: object) -> T | None:
        """``work(*args)`` in a thread, or None: the database failed or is slow (then left
        alone for ``STORE_REST_S``)."""
        if self.clock() < self._rest_until:
            return None
        try:
            return await asyncio.wait_for(asyncio.to_thread(work, *args), STORE_WAIT_S)
        except NotLeader as exc:
            log.warning("courtier : réponse non gardée, un renvoi sera traité à nouveau : %s", exc)
            return None
        except (SQLAlchemyError, TimeoutError) as exc:
            self._rest_until = self.clock() + STORE_REST_S
            log.warning(
                "courtier : réponses gardées injoignables (%s) : pendant %g s, un renvoi "
                "au routeur suivant rejouerait la requête",
                str(exc) or "trop lent",
                STORE_REST_S,
            )
            return None

    def _keep(self, key: str, answer: ForwardedAnswer) -> None:
        now = self.clock()
        self.store.keep(key, answer, now)
        if now - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now
            self.store.sweep(now - KEEP_S)


def _replayed(answer: ForwardedAnswer) -> ForwardedAnswer:
    return ForwardedAnswer(answer.status, [*answer.headers, REPLAYED], answer.body)
