"""Staff accounts over HTTP: admins manage them, everyone changes their own password.

``/api/admin/users...`` (admins): list, create, disable and enable, reset a password, set the
role or the phone extension; the work and its audit entry are ``cti.accounts.admin``'s. Open
sessions follow at once: a disabled account's sessions (and a reset one's) are closed, a new
role or extension is what the next request sees. ``POST /api/password`` (any logged-in user,
also one holding a one-time password): the current password, then the new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from cti.accounts import admin
from cti.accounts.admin import Account, WithPassword
from cti.accounts.errors import (
    AccountError,
    ExtensionTaken,
    InvalidField,
    LastAdmin,
    UnknownUser,
    UsernameTaken,
    WeakPassword,
    WrongPassword,
)
from cti.db import Database
from cti.web.auth import AdminUser, CurrentSession, Sessions
from cti.web.field_errors import FieldErrors
from screenpop.accounts import Role, UserView

router = APIRouter(tags=["accounts"])
T = TypeVar("T")
# A one-time password in the answer: neither a cache nor the router's kept answers hold it
# (cti.broker.answered).
NO_STORE = "no-store"


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: Role
    extension: str | None
    active: bool
    must_change_password: bool
    created_at: datetime


class NewAccount(BaseModel):
    username: str = Field(max_length=80, description="minuscules, chiffres, . _ -")
    display_name: str = Field(default="", max_length=120)
    role: Role
    extension: str | None = Field(default=None, max_length=20)
    password: str | None = Field(
        default=None, max_length=200, description="absent : généré et rendu une seule fois"
    )


class AccountWithPassword(BaseModel):
    account: AccountOut
    one_time_password: str | None = Field(
        description="le mot de passe généré, montré cette fois seulement (null s'il était fourni)"
    )


class RoleForm(BaseModel):
    role: Role


class ExtensionForm(BaseModel):
    extension: str | None = Field(max_length=20, description="null retire le poste")


class ResetForm(BaseModel):
    password: str | None = Field(default=None, max_length=200)


class PasswordForm(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


def _out(account: Account) -> AccountOut:
    return AccountOut(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        extension=account.extension,
        active=account.active,
        must_change_password=account.must_change_password,
        created_at=account.created_at,
    )


def _with_password(given: WithPassword) -> AccountWithPassword:
    return AccountWithPassword(
        account=_out(given.account),
        one_time_password=given.password if given.generated else None,
    )


def _status(exc: AccountError) -> int:
    if isinstance(exc, UnknownUser):
        return 404
    if isinstance(exc, UsernameTaken | ExtensionTaken | LastAdmin):
        return 409
    if isinstance(exc, WrongPassword):
        return 400
    return 422  # InvalidField, WeakPassword


def _database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


Db = Annotated[Database, Depends(_database)]


# The form field each refusal is about (the pages show it there).
_FIELD_OF = {"identifiant": "username", "poste": "extension", "rôle": "role"}


def _field(exc: AccountError, password_field: str) -> str | None:
    if isinstance(exc, UsernameTaken):
        return "username"
    if isinstance(exc, ExtensionTaken):
        return "extension"
    if isinstance(exc, InvalidField):
        return _FIELD_OF.get(exc.field)
    if isinstance(exc, WeakPassword):
        return password_field
    if isinstance(exc, WrongPassword):
        return "current_password"
    return None


async def _apply(work: Callable[[], T], password_field: str = "password") -> T:
    """Run ``work`` off the event loop; its refusal becomes the HTTP status that says why,
    with the form field it is about (``fields``) when there is one."""
    try:
        return await asyncio.to_thread(work)
    except AccountError as exc:
        message = f"Refusé : {exc}."
        field = _field(exc, password_field)
        if field is None:
            raise HTTPException(_status(exc), message) from exc
        reason = exc.reason if isinstance(exc, InvalidField | WeakPassword) else str(exc)
        raise FieldErrors(_status(exc), message, {field: reason}) from exc


def _follow(request: Request, account: Account, *, close: bool = False) -> None:
    """Open sessions of ``account`` see the change now (closed when it may no longer log in)."""
    sessions: Sessions = request.app.state.sessions
    if close or not account.active:
        sessions.close_user(account.id)
    else:
        sessions.refresh_user(account.as_user())


@router.get("/api/admin/users")
async def list_accounts(user: AdminUser, db: Db) -> list[AccountOut]:
    return [_out(a) for a in await asyncio.to_thread(admin.accounts, db)]


@router.post("/api/admin/users", status_code=201)
async def create_account(
    form: NewAccount, user: AdminUser, db: Db, response: Response
) -> AccountWithPassword:
    given: WithPassword = await _apply(
        lambda: admin.create(
            db,
            user.username,
            form.username,
            form.display_name,
            form.role,
            form.extension,
            form.password,
        )
    )
    response.headers["Cache-Control"] = NO_STORE
    return _with_password(given)


@router.post("/api/admin/users/{username}/disable")
async def disable_account(username: str, user: AdminUser, db: Db, request: Request) -> AccountOut:
    account: Account = await _apply(lambda: admin.set_active(db, user.username, username, False))
    _follow(request, account)
    return _out(account)


@router.post("/api/admin/users/{username}/enable")
async def enable_account(username: str, user: AdminUser, db: Db) -> AccountOut:
    account: Account = await _apply(lambda: admin.set_active(db, user.username, username, True))
    return _out(account)


@router.post("/api/admin/users/{username}/password")
async def reset_password(
    username: str, form: ResetForm, user: AdminUser, db: Db, request: Request, response: Response
) -> AccountWithPassword:
    given: WithPassword = await _apply(
        lambda: admin.reset_password(db, user.username, username, form.password)
    )
    _follow(request, given.account, close=True)
    response.headers["Cache-Control"] = NO_STORE
    return _with_password(given)


@router.put("/api/admin/users/{username}/role")
async def set_role(
    username: str, form: RoleForm, user: AdminUser, db: Db, request: Request
) -> AccountOut:
    account: Account = await _apply(lambda: admin.set_role(db, user.username, username, form.role))
    _follow(request, account)
    return _out(account)


@router.put("/api/admin/users/{username}/extension")
async def set_extension(
    username: str, form: ExtensionForm, user: AdminUser, db: Db, request: Request
) -> AccountOut:
    account: Account = await _apply(
        lambda: admin.set_extension(db, user.username, username, form.extension)
    )
    _follow(request, account)
    return _out(account)


@router.post("/api/password", tags=["session"], status_code=204)
async def change_password(
    form: PasswordForm, session: CurrentSession, db: Db, request: Request
) -> Response:
    fresh: UserView = await _apply(
        lambda: admin.change_own_password(
            db,
            session.user.username,
            form.current_password,
            form.new_password,
        ),
        "new_password",
    )
    sessions: Sessions = request.app.state.sessions
    sessions.refresh_user(fresh)
    return Response(status_code=204)
