"""Who is calling the web app: sessions, roles and CSRF (login limits: ``login_limits``).

A login (argon2-checked by ``screenpop.accounts``) opens a server-side session: the browser
holds only a random token in an HttpOnly, SameSite=Strict cookie. Sessions expire after
``ttl`` seconds without use. State-changing requests must also carry the session's CSRF token
in the ``X-CSRF-Token`` header (the page reads it from ``/api/me``), so that another site
cannot make an agent's browser act for them.

Dependencies for routes: ``CurrentUser`` (any logged-in user), ``require(*roles)``, and
``websocket_user`` for sockets (which also checks the ``Origin``: browsers do not apply
SameSite to WebSocket handshakes the same way everywhere).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from screenpop.accounts import Role, UserView

COOKIE = "cti_session"
CSRF_HEADER = "X-CSRF-Token"
# What a session holding a one-time password may do: change it (or read who it is, log out).
PASSWORD_CHANGE_PATHS = frozenset({"/api/password", "/api/me", "/api/logout"})


@dataclass(slots=True)
class Session:
    token: str
    user: UserView
    csrf: str
    expires_at: float


class Sessions:
    """In-memory sessions: one process serves the pages (see DESIGN.md for several)."""

    def __init__(self, ttl: float = 8 * 3600, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._by_token: dict[str, Session] = {}

    def open(self, user: UserView) -> Session:
        session = Session(
            secrets.token_urlsafe(32), user, secrets.token_urlsafe(24), self.clock() + self.ttl
        )
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._by_token.get(token)
        if session is None:
            return None
        now = self.clock()
        if session.expires_at <= now:
            del self._by_token[token]
            return None
        session.expires_at = now + self.ttl  # sliding: a working agent is not logged out
        return session

    def close(self, token: str | None) -> None:
        if token:
            self._by_token.pop(token, None)

    def close_user(self, user_id: int) -> int:
        """Close every session of a user (account disabled, password reset); how many."""
        tokens = [t for t, s in self._by_token.items() if s.user.id == user_id]
        for token in tokens:
            self.close(token)
        return len(tokens)

    def refresh_user(self, user: UserView) -> None:
        """Open sessions of ``user`` hold its new role, extension, password state."""
        for session in self._by_token.values():
            if session.user.id == user.id:
                session.user = user


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def current_session(request: Request) -> Session:
    session = _sessions(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise HTTPException(401, "Session absente ou expirée : reconnectez-vous.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, session.csrf):
            raise HTTPException(403, "Jeton CSRF absent ou invalide.")
    if session.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise HTTPException(
            403, "Mot de passe à usage unique : changez-le d'abord (POST /api/password)."
        )
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def current_user(session: CurrentSession) -> UserView:
    return session.user


CurrentUser = Annotated[UserView, Depends(current_user)]


def require(*roles: Role) -> Callable[[UserView], UserView]:
    """Dependency: the user must hold one of ``roles`` (admin holds them all)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(user: CurrentUser) -> UserView:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in roles))
            raise HTTPException(403, f"Accès réservé aux rôles : {names}.")
        return user

    return check


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


def websocket_user(websocket: WebSocket, *roles: Role) -> UserView:
    """The user behind a WebSocket handshake; raises ``SocketRefused`` (close code 4401/4403)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if origin is not None and origin.split("://", 1)[-1] != host:
        raise SocketRefused(4403, "origine refusée")
    sessions: Sessions = websocket.app.state.sessions
    session = sessions.get(websocket.cookies.get(COOKIE))
    if session is None:
        raise SocketRefused(4401, "session absente ou expirée")
    if session.user.must_change_password:
        raise SocketRefused(4403, "mot de passe à changer")
    if roles and session.user.role not in frozenset(roles) | {Role.ADMIN}:
        raise SocketRefused(4403, "rôle insuffisant")
    return session.user
