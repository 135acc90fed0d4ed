"""Logged-in browsers in the database, so that a session outlives the node that opened it.

Pages are served from memory (``cti.web.auth.Sessions``); this is the second tier, read only
when a browser brings a token its node does not know: after a failover to the standby, or a
restart. A session is taken back only if it has not ended (logout, closed by an admin or a
supervisor, password reset), has not expired, and its account is still active; its user is
read afresh (role, extension, one-time password). Only the token's SHA-256 is stored: the
database holds nothing a browser could present.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update

from cti.db import Database
from screenpop.accounts import UserView, view
from screenpop.models import User, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Revived:
    user: UserView
    csrf: str
    expires_at: float  # seconds since the epoch


class SessionStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def save(self, token: str, user_id: int, csrf: str, expires_at: float) -> None:
        with self.database.session() as session, session.begin():
            session.add(
                WebSession(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    csrf=csrf,
                    expires_at=expires_at,
                    ended=None,
                )
            )

    def extend(self, expiries: Iterable[tuple[str, float]]) -> None:
        """Push living sessions' expiries forward (tokens and seconds since the epoch)."""
        rows = [{"h": token_hash(token), "e": at} for token, at in expiries]
        if not rows:
            return
        with self.database.engine.begin() as conn:
            for row in rows:
                conn.execute(
                    update(WebSession)
                    .where(WebSession.token_hash == row["h"], WebSession.ended.is_(None))
                    .values(expires_at=row["e"])
                )

    def end(self, token: str, reason: str) -> None:
        self._end(WebSession.token_hash == token_hash(token), reason)

    def end_user(self, user_id: int, reason: str) -> None:
        self._end(WebSession.user_id == user_id, reason)

    def end_extension(self, extension: str, reason: str) -> None:
        holders = select(User.id).where(User.agent_extension == extension)
        self._end(WebSession.user_id.in_(holders), reason)

    def _end(self, which: ColumnElement[bool], reason: str) -> None:
        with self.database.session() as session, session.begin():
            session.execute(
                update(WebSession).where(which, WebSession.ended.is_(None)).values(ended=reason)
            )

    def revive(self, token: str, now: float) -> Revived | None:
        """The session behind ``token`` if it may go on at ``now`` (epoch seconds), else None."""
        with self.database.session() as session:
            row = session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.token_hash == token_hash(token))
            ).first()
            if row is None:
                return None
            stored, user = row
            if stored.ended is not None or stored.expires_at <= now or not user.active:
                return None
            return Revived(view(user), stored.csrf, stored.expires_at)
