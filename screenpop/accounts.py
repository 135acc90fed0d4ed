"""Users of the web app and their roles; passwords hashed with argon2.

Roles: ``agent`` (takes calls; has a phone extension), ``supervisor`` (watches queues and
agents), ``telecom`` (edits voice menus and routing), ``admin`` (everything).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cti.db import Database
from screenpop.errors import UserExists
from screenpop.models import User

_HASHER = PasswordHasher()
# Checked against when the user does not exist, so that the answer takes as long.
_DUMMY_HASH = _HASHER.hash("utilisateur inconnu")


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TELECOM = "telecom"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    agent_extension: str | None
    # A one-time password is in use: only the password change is allowed (cti.web.auth).
    must_change_password: bool = False


def view(user: User) -> UserView:
    return UserView(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        user.agent_extension,
        bool(user.must_change_password),
    )


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(user: User, password: str) -> bool:
    """True when ``password`` is ``user``'s (rehashed in place when argon2's settings moved)."""
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return True


def create_user(
    db: Database,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    agent_extension: str | None = None,
    *,
    must_change_password: bool = False,
) -> UserView:
    try:
        with db.session() as session, session.begin():
            user = User(
                username=username,
                display_name=display_name,
                password_hash=_HASHER.hash(password),
                role=Role(role).value,
                agent_extension=agent_extension,
                must_change_password=must_change_password,
            )
            session.add(user)
            session.flush()
            return view(user)
    except IntegrityError as exc:
        raise UserExists(username, agent_extension) from exc


def find_user(db: Database, username: str) -> UserView | None:
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        return view(user) if user is not None else None


def names_by_extension(db: Database) -> dict[str, str]:
    """Each phone extension's holder by name (« Marie Lambert »): how cards name colleagues
    the routing configuration does not (a case's owner who takes no calls)."""
    with db.session() as session:
        rows = session.execute(
            select(User.agent_extension, User.display_name).where(User.agent_extension.is_not(None))
        )
        return {extension: name for extension, name in rows if extension and name}


def authenticate(db: Database, username: str, password: str) -> UserView | None:
    """The user if the password is right and the account active, else None."""
    with db.session() as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            try:
                _HASHER.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            return None
        return view(user) if password_matches(user, password) else None
