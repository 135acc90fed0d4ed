"""Who is calling the web app: sessions, roles and CSRF (login limits: ``login_limits``).

A login (argon2-checked by ``screenpop.accounts``) opens a server-side session: the browser
holds only a random token in an HttpOnly, SameSite=Strict cookie. Sessions live in memory and,
given a ``SessionStore``, in the database too: a token this node does not know (after a
failover or a restart) is taken back from there if it may go on (``cti.web.session_store``).
Sessions expire after ``ttl`` seconds without use. State-changing requests must also carry
the session's CSRF token in the ``X-CSRF-Token`` header (the page reads it from
``/api/me``), so that another site cannot make an agent's browser act for them.

Dependencies for routes: ``CurrentUser`` (any logged-in user), ``require(*roles)``, and
``websocket_session`` for sockets (which also checks the ``Origin``: browsers do not apply
SameSite to WebSocket handshakes the same way everywhere); ``socket_guard(websocket, session)``
closes a socket when its session ends (``cti.web.socket_guard``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from cti.web.session_ends import SessionsEnded
from cti.web.session_store import SessionStore, token_hash
from cti.web.socket_guard import (
    CLOSED_BY_ADMIN,
    EXPIRED,
    LOGGED_OUT,
    RIGHTS_CHANGED,
    SessionEnd,
    SocketGuard,
)
from screenpop.accounts import Role, UserView

log = logging.getLogger("cti.web")

COOKIE = "cti_session"
PASSWORD_CHANGE_HEADER = "X-CTI-Password-Change"
CSRF_HEADER = "X-CSRF-Token"
# What a session holding a one-time password may do: change it (or read who it is, log out).
PASSWORD_CHANGE_PATHS = frozenset({"/api/password", "/api/me", "/api/logout"})


@dataclass(slots=True)
class Session:
    token: str
    user: UserView
    csrf: str
    expires_at: float
    # Its sockets close when told (``cti.web.socket_guard``); replaced after a rights change.
    end: SessionEnd = field(default_factory=SessionEnd)


class Sessions:
    """Sessions in memory, and in ``store`` when given one (see the module's docstring).

    What the store must learn (a session opened or ended) is written in the background, in
    the order it happened, off the event loop; ``flush`` waits for it. Sliding expiry reaches
    the store by ``keep``, the periodic sweep.
    """

    def __init__(
        self,
        ttl: float = 8 * 3600,
        clock: Callable[[], float] = time.monotonic,
        store: SessionStore | None = None,
        wall: Callable[[], float] = time.time,
    ):
        self.ttl = ttl
        self.clock = clock
        self.store = store
        self.wall = wall
        self._by_token: dict[str, Session] = {}
        self._used: set[str] = set()  # tokens used since the store last heard of their expiry
        self._writes: asyncio.Queue[Callable[[], None]] | None = None
        self._writer: asyncio.Task[None] | None = None
        #: Told of every end decided here, for the other nodes (``cti.web.session_ends``).
        self.on_end: Callable[[SessionsEnded], None] | None = None

    def _tell(self, notice: SessionsEnded) -> None:
        if self.on_end is not None:
            self.on_end(notice)

    def open(self, user: UserView) -> Session:
        session = Session(
            secrets.token_urlsafe(32), user, secrets.token_urlsafe(24), self.clock() + self.ttl
        )
        self._by_token[session.token] = session
        if self.store is not None:
            store, expires = self.store, self._wall_of(session.expires_at)
            self._write(lambda: store.save(session.token, user.id, session.csrf, expires))
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._by_token.get(token)
        if session is None:
            return None
        if self.check(session) is not None:
            return None
        session.expires_at = self.clock() + self.ttl  # sliding: a working agent stays in
        self._used.add(token)
        return session

    async def find(self, token: str | None) -> Session | None:
        """``get``, or the session taken back from the store (another node opened it, or
        this one before a restart)."""
        session = self.get(token)
        if session is not None or not token or self.store is None:
            return session
        try:
            revived = await asyncio.to_thread(self.store.revive, token, self.wall())
        except Exception as exc:  # the database is away: log in again
            log.warning("session inconnue de ce nœud, base de données injoignable : %s", exc)
            return None
        if revived is None or token in self._by_token:
            return self.get(token)
        session = Session(
            token, revived.user, revived.csrf, self.clock() + (revived.expires_at - self.wall())
        )
        self._by_token[token] = session
        return self.get(token)

    def _wall_of(self, deadline: float) -> float:
        return self.wall() + (deadline - self.clock())

    def _write(self, write: Callable[[], None]) -> None:
        if self._writes is None:
            self._writes = asyncio.Queue()
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        self._writes.put_nowait(write)

    async def _write_all(self) -> None:
        assert self._writes is not None
        while True:
            write = await self._writes.get()
            try:
                await asyncio.to_thread(write)
            except Exception as exc:
                # Only the second tier is missing: this node still knows the session.
                log.warning("session non enregistrée en base (connue de ce nœud seul) : %s", exc)
            finally:
                self._writes.task_done()

    async def flush(self) -> None:
        """Until the store has everything said so far."""
        if self._writes is not None:
            await self._writes.join()

    async def keep(self) -> None:
        """Sweep expired sessions; tell the store how long the used ones live now."""
        self.sweep()
        used = [
            (token, self._wall_of(session.expires_at))
            for token in self._used
            if (session := self._by_token.get(token)) is not None
        ]
        self._used.clear()
        if self.store is not None and used:
            store = self.store
            self._write(lambda: store.extend(used))
        await self.flush()

    async def close_store(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()

    def check(self, session: Session) -> str | None:
        """Why ``session`` has ended (its sockets close), or None while it lives; an expired
        session ends here. Does not extend it: only the user's own requests do."""
        if session.end.reason is None and session.expires_at <= self.clock():
            self._end(session, EXPIRED)
        return session.end.reason

    def sweep(self) -> int:
        """End every expired session (abandoned ones too); how many."""
        expired = [s for s in self._by_token.values() if s.expires_at <= self.clock()]
        for session in expired:
            self._end(session, EXPIRED)
        return len(expired)

    def _end(self, session: Session, reason: str) -> None:
        self._by_token.pop(session.token, None)
        self._used.discard(session.token)
        session.end.end(reason)

    def close(self, token: str | None, reason: str = LOGGED_OUT) -> None:
        session = self._by_token.get(token) if token else None
        if session is not None:
            self._end(session, reason)
        if token and self.store is not None:  # known here or not: no node may take it back
            store = self.store
            self._write(lambda: store.end(token, reason))
        if token:
            self._tell(SessionsEnded("token", token_hash(token), reason))

    def close_user(self, user_id: int, reason: str = CLOSED_BY_ADMIN) -> int:
        """Close every session of a user (account disabled, password reset) and its sockets;
        how many."""
        tokens = [t for t, s in self._by_token.items() if s.user.id == user_id]
        for token in tokens:
            self._end(self._by_token[token], reason)
        if self.store is not None:
            store = self.store
            self._write(lambda: store.end_user(user_id, reason))
        self._tell(SessionsEnded("user", str(user_id), reason))
        return len(tokens)

    def close_extension(self, extension: str, reason: str) -> int:
        """Close every session of the account holding the phone ``extension`` (a session a
        supervisor ends: the agent left without logging out); how many."""
        tokens = [t for t, s in self._by_token.items() if s.user.agent_extension == extension]
        for token in tokens:
            self._end(self._by_token[token], reason)
        if self.store is not None:
            store = self.store
            self._write(lambda: store.end_extension(extension, reason))
        self._tell(SessionsEnded("extension", extension, reason))
        return len(tokens)

    def refresh_user(self, user: UserView) -> None:
        """Open sessions of ``user`` hold its new role, extension, password state; a new role
        or extension closes the sockets opened under the old one (they reopen with the new)."""
        for session in self._by_token.values():
            if session.user.id == user.id:
                old, session.user = session.user, user
                if (old.role, old.agent_extension) != (user.role, user.agent_extension):
                    session.end.end(RIGHTS_CHANGED)
                    session.end = SessionEnd()
        self._tell(SessionsEnded("refresh", str(user.id)))

    # -- a web node: sessions decided elsewhere ---------------------------------------------

    def end_where(self, notice: SessionsEnded) -> None:
        """Apply an end told by another node, here only (that node wrote the store)."""

        def told(session: Session) -> bool:
            if notice.which == "token":
                return token_hash(session.token) == notice.key
            if notice.which == "user":
                return str(session.user.id) == notice.key
            if notice.which == "extension":
                return session.user.agent_extension == notice.key
            return False

        for session in [s for s in self._by_token.values() if told(s)]:
            self._end(session, notice.reason or LOGGED_OUT)

    async def reread(self) -> int:
        """Read every session held here back from the store: ended or expired there, it ends
        here (its sockets close); alive, it takes the store's expiry and user. How many ended.

        A web node's sessions are extended by the requests its router's node runs: this keeps
        them in step, and catches an end whose notice the broker lost."""
        if self.store is None:
            return 0
        store, now, ended = self.store, self.wall(), 0
        for session in list(self._by_token.values()):
            try:
                revived = await asyncio.to_thread(store.revive, session.token, now)
            except Exception as exc:  # the database is away: keep them until it is back
                log.warning("sessions non relues, base de données injoignable : %s", exc)
                return ended
            if self._by_token.get(session.token) is not session:
                continue  # ended meanwhile
            if revived is None:
                self._end(session, EXPIRED)
                ended += 1
                continue
            session.expires_at = self.clock() + (revived.expires_at - self.wall())
            if revived.user != session.user:
                self.refresh_user(revived.user)
        return ended


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


async def current_session(request: Request) -> Session:
    session = await _sessions(request).find(request.cookies.get(COOKIE))
    if session is None:
        raise HTTPException(401, "Session absente ou expirée : reconnectez-vous.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, session.csrf):
            raise HTTPException(403, "Jeton CSRF absent ou invalide.")
    if session.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise HTTPException(
            403,
            "Mot de passe à usage unique : changez-le d'abord (POST /api/password).",
            headers={PASSWORD_CHANGE_HEADER: "required"},  # pages take the user to the form
        )
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def current_user(session: CurrentSession) -> UserView:
    return session.user


CurrentUser = Annotated[UserView, Depends(current_user)]


# Roles as the staff name them (the same words as the administration page's list).
ROLE_NAMES = {
    Role.AGENT: "agent d'accueil",
    Role.SUPERVISOR: "superviseur",
    Role.TELECOM: "télécom",
    Role.ADMIN: "administrateur",
}


def require(*roles: Role) -> Callable[[UserView], UserView]:
    """Dependency: the user must hold one of ``roles`` (admin holds them all)."""
    allowed = frozenset(roles) | {Role.ADMIN}
    names = " ou ".join(ROLE_NAMES[r] for r in sorted(allowed, key=list(Role).index))

    def check(user: CurrentUser) -> UserView:
        if user.role not in allowed:
            raise HTTPException(403, f"Accès réservé aux comptes {names}.")
        return user

    return check


# The guards most routes use, declared once.
AdminUser = Annotated[UserView, Depends(require(Role.ADMIN))]
SupervisorUser = Annotated[UserView, Depends(require(Role.SUPERVISOR))]
AgentUser = Annotated[UserView, Depends(require(Role.AGENT, Role.SUPERVISOR))]


def agent_of(user: UserView) -> str:
    """The extension of an agent's phone; a user without one cannot take calls."""
    if user.agent_extension is None:
        raise HTTPException(403, "Ce compte n'est associé à aucun poste téléphonique.")
    return user.agent_extension


class SocketRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def refuse_socket(websocket: WebSocket, refused: SocketRefused) -> None:
    """Close a refused socket with its code (4401: log in, 4403: not allowed).

    The handshake is accepted first: a handshake refused with HTTP 403 reaches the page as a
    bare close 1006, and the page could not tell "log in again" from "network down".
    """
    await websocket.accept()
    await websocket.close(code=refused.code, reason=refused.reason)


async def websocket_user(websocket: WebSocket, *roles: Role) -> UserView:
    """The user behind a WebSocket handshake; raises ``SocketRefused`` (close code 4401/4403)."""
    return (await websocket_session(websocket, *roles)).user


async def websocket_session(websocket: WebSocket, *roles: Role) -> Session:
    """The session behind a WebSocket handshake (its socket must close with it, see
    ``cti.web.socket_guard``); raises ``SocketRefused`` (close code 4401/4403)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is not None and origin.split("://", 1)[-1] != host:
        raise SocketRefused(4403, "origine refusée")
    sessions: Sessions = websocket.app.state.sessions
    session = await sessions.find(websocket.cookies.get(COOKIE))
    if session is None:
        raise SocketRefused(4401, "session absente ou expirée")
    if session.user.must_change_password:
        raise SocketRefused(4403, "mot de passe à changer")
    if roles and session.user.role not in frozenset(roles) | {Role.ADMIN}:
        raise SocketRefused(4403, "rôle insuffisant")
    return session


async def websocket_agent(websocket: WebSocket) -> tuple[Session, str]:
    """The session and phone behind an agent's page's socket; raises ``SocketRefused``
    (4401/4403, or 4403 for an account with no phone)."""
    session = await websocket_session(websocket, Role.AGENT, Role.SUPERVISOR)
    if session.user.agent_extension is None:
        raise SocketRefused(4403, "aucun poste associé")
    return session, session.user.agent_extension


def socket_guard(websocket: WebSocket, session: Session) -> SocketGuard:
    """The watch that closes ``websocket`` when ``session`` ends (give it to ``relay``)."""
    sessions: Sessions = websocket.app.state.sessions
    return SocketGuard(sessions, session)
