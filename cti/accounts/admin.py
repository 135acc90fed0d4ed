"""Account operations: create, list, disable and enable, reset a password, set role and phone.

Each operation is one transaction that also writes its audit entry (``by`` is who asked: an
admin's name, or ``console:<system user>`` for the command line), so the trail never misses a
change that happened. A password set by someone else than its user (creation, reset, the first
admin) is one-time: the account must change it at its next login. An operation that would leave
the install without an active admin is refused (``LastAdmin``): nobody could manage accounts
from the web any more.

Raises the errors of ``cti.accounts.errors``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cti.accounts.errors import (
    ExtensionTaken,
    InvalidField,
    LastAdmin,
    UnknownUser,
    UsernameTaken,
    WrongPassword,
)
from cti.accounts.passwords import check_new_password, one_time_password
from cti.db import Database
from screenpop.accounts import Role, UserView, hash_password, password_matches, view
from screenpop.models import AuditEntry, User

FIRST_ADMIN = "admin"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_EXTENSION = re.compile(r"^[0-9]{2,8}$")


@dataclass(frozen=True, slots=True)
class Account:
    """An account as listed to whoever manages them (never its password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    extension: str | None
    active: bool
    must_change_password: bool
    created_at: datetime

    def as_user(self) -> UserView:
        """What an open session of this account holds."""
        return UserView(
            self.id,
            self.username,
            self.display_name,
            self.role,
            self.extension,
            self.must_change_password,
        )


@dataclass(frozen=True, slots=True)
class WithPassword:
    """An account and the one-time password just given to it (shown once, never stored)."""

    account: Account
    password: str
    generated: bool  # False: the technician or admin chose it (not to be echoed back)


def _account(user: User) -> Account:
    created = user.created_at
    return Account(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        user.agent_extension,
        bool(user.active),
        bool(user.must_change_password),
        created if created.tzinfo is not None else created.replace(tzinfo=UTC),
    )


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidField(
            "identifiant",
            f"« {username} » : 2 à 80 caractères, minuscules sans accent, chiffres, . _ -",
        )
    return username


def check_extension(extension: str | None) -> str | None:
    if extension is not None and not _EXTENSION.match(extension):
        raise InvalidField("poste", f"« {extension} » : 2 à 8 chiffres attendus")
    return extension


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidField("rôle", f"« {role} » inconnu ({names})") from None


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UnknownUser(username)
    return user


def _extension_free(session: Session, extension: str | None, username: str) -> None:
    if extension is None:
        return
    owner = session.scalar(select(User.username).where(User.agent_extension == extension))
    if owner is not None and owner != username:
        raise ExtensionTaken(extension, owner)


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to take away the last active admin (``user`` is about to stop being one)."""
    if user.role != Role.ADMIN or not user.active:
        return
    others = session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise LastAdmin(user.username)


def _given_or_generated(password: str | None) -> str:
    if password is None:
        return one_time_password()
    check_new_password(password)
    return password


def _audit(session: Session, by: str, action: str, detail: str) -> None:
    session.add(AuditEntry(username=by, action=action, citizen_id=None, detail=detail))


def create(
    db: Database,
    by: str,
    username: str,
    display_name: str,
    role: Role,
    extension: str | None = None,
    password: str | None = None,
) -> WithPassword:
    """A new account; its password (``password``, else generated) is to change at first login."""
    check_username(username)
    check_extension(extension)
    generated = password is None
    password = _given_or_generated(password)
    display_name = display_name.strip() or username
    try:
        with db.session() as session, session.begin():
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise UsernameTaken(username)
            _extension_free(session, extension, username)
            user = User(
                username=username,
                display_name=display_name[:120],
                password_hash=hash_password(password),
                role=Role(role).value,
                agent_extension=extension,
                must_change_password=True,
            )
            session.add(user)
            poste = f", poste {extension}" if extension else ""
            _audit(session, by, "user.create", f"{username} ({Role(role).value}{poste})")
            session.flush()
            return WithPassword(_account(user), password, generated)
    except IntegrityError as exc:  # created by someone else between the check and the insert
        raise UsernameTaken(username) from exc


def accounts(db: Database) -> list[Account]:
    with db.session() as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.username))]


def set_active(db: Database, by: str, username: str, active: bool) -> Account:
    with db.session() as session, session.begin():
        user = _user(session, username)
        if user.active != active:
            if not active:
                _keep_an_admin(session, user)
            user.active = active
            _audit(session, by, "user.enable" if active else "user.disable", username)
        return _account(user)


def reset_password(
    db: Database, by: str, username: str, password: str | None = None
) -> WithPassword:
    """A one-time password for ``username`` (given, else generated), to change at next login."""
    generated = password is None
    password = _given_or_generated(password)
    with db.session() as session, session.begin():
        user = _user(session, username)
        user.password_hash = hash_password(password)
        user.must_change_password = True
        _audit(session, by, "user.password.reset", username)
        return WithPassword(_account(user), password, generated)


def set_role(db: Database, by: str, username: str, role: Role) -> Account:
    role = check_role(role)
    with db.session() as session, session.begin():
        user = _user(session, username)
        if user.role != role.value:
            if role != Role.ADMIN:
                _keep_an_admin(session, user)
            _audit(session, by, "user.role", f"{username} : {user.role} → {role.value}")
            user.role = role.value
        return _account(user)


def set_extension(db: Database, by: str, username: str, extension: str | None) -> Account:
    check_extension(extension)
    try:
        with db.session() as session, session.begin():
            user = _user(session, username)
            if user.agent_extension != extension:
                _extension_free(session, extension, username)
                before = user.agent_extension or "aucun"
                _audit(
                    session, by, "user.extension", f"{username} : {before} → {extension or 'aucun'}"
                )
                user.agent_extension = extension
            return _account(user)
    except IntegrityError as exc:
        raise ExtensionTaken(extension or "", "un autre compte") from exc


def change_own_password(db: Database, username: str, current: str, new: str) -> UserView:
    """The user replaces their password (``current`` checked first); ends a one-time password."""
    with db.session() as session, session.begin():
        user = _user(session, username)
        if not user.active or not password_matches(user, current):
            raise WrongPassword()
        check_new_password(new, current)
        user.password_hash = hash_password(new)
        user.must_change_password = False
        _audit(session, username, "password.change", username)
        return view(user)


def ensure_first_admin(db: Database, by: str) -> WithPassword | None:
    """An active admin with a one-time password when the install has none; else None.

    The account is ``admin``: created, or (when it exists but was disabled or demoted)
    re-enabled as admin with a new one-time password.
    """
    with db.session() as session, session.begin():
        active_admins = session.scalar(
            select(func.count(User.id)).where(User.role == Role.ADMIN.value, User.active.is_(True))
        )
        if active_admins:
            return None
        password = one_time_password()
        user = session.scalar(select(User).where(User.username == FIRST_ADMIN))
        if user is None:
            user = User(username=FIRST_ADMIN, display_name="Administrateur", agent_extension=None)
            session.add(user)
        user.role = Role.ADMIN.value
        user.active = True
        user.password_hash = hash_password(password)
        user.must_change_password = True
        _audit(session, by, "user.first_admin", FIRST_ADMIN)
        session.flush()
        return WithPassword(_account(user), password, True)
