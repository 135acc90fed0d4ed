"""A WebSocket lives no longer than its session.

A socket is opened once, with the session's cookie; what it carries afterwards (citizens'
cards, callers' numbers) must stop the moment the session does: logout, expiry, an account
disabled or reset, a new role or extension. Each session holds a ``SessionEnd``, told once
why its sockets must close; every socket of the session waits on it (``SocketGuard.wait``)
and also asks before each message it sends (``SocketGuard.closing``), so nothing leaves after
the end even when the close and a card are queued in the same instant. Expiry has no event
of its own: the guard wakes when the session's time is up and asks the session store. The
page is told with close code 4401 and the reason in French (log in again).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cti.web.auth import Session, Sessions

CLOSE_CODE = 4401
LOGGED_OUT = "déconnexion : session fermée"
EXPIRED = "session expirée : reconnectez-vous"
CLOSED_BY_ADMIN = "session fermée par un administrateur : reconnectez-vous"
RIGHTS_CHANGED = "rôle ou poste modifié : reconnectez-vous"
# A guard re-reads the session's deadline at least this often (a clock that jumps, a test's).
_LONGEST_NAP = 60.0


class SessionEnd:
    """Told once, with the reason, when the sockets opened so far must close."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason: str | None = None

    def end(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            self._event.set()

    async def wait(self) -> str:
        await self._event.wait()
        assert self.reason is not None  # set before the event
        return self.reason


class SocketGuard:
    """One socket's watch over its session (the ``SessionEnd`` current when it opened)."""

    def __init__(self, sessions: Sessions, session: Session) -> None:
        self._sessions = sessions
        self._session = session
        self._end = session.end

    def closing(self) -> str | None:
        """Why the socket must close now, or None while its session lives."""
        if self._end.reason is None:
            self._sessions.check(self._session)
        return self._end.reason

    async def wait(self) -> str:
        """Returns the reason once the socket must close."""
        while (reason := self.closing()) is None:
            left = self._session.expires_at - self._sessions.clock()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._end.wait(), max(0.0, min(left, _LONGEST_NAP)))
        return reason
