"""The routing configuration and the router's live state over HTTP.

Supervisors and admins change services, skills and agents; telecom staff may read them. A
configuration that does not validate is refused with 422 and a message naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from cti.routing_admin import RoutingAdmin
from cti.routing_store import StoredConfig
from cti.web.auth import AdminUser, require
from cti.web.field_errors import FieldErrors, french_fields
from routing.errors import ConfigError
from screenpop.accounts import Role, UserView

router = APIRouter(prefix="/api/routing", tags=["routing"])

Reader = Annotated[UserView, Depends(require(Role.SUPERVISOR, Role.TELECOM))]
Editor = Annotated[UserView, Depends(require(Role.SUPERVISOR))]


def _admin(request: Request) -> RoutingAdmin:
    admin: RoutingAdmin = request.app.state.routing
    return admin


Admin = Annotated[RoutingAdmin, Depends(_admin)]


class VersionOut(BaseModel):
    version: int
    created_at: datetime
    author: str
    comment: str


class ConfigOut(VersionOut):
    config: dict[str, Any]


class ConfigIn(BaseModel):
    config: dict[str, Any]
    comment: str = Field(default="", max_length=200)


def _version(stored: StoredConfig) -> VersionOut:
    return VersionOut(
        version=stored.version,
        created_at=stored.created_at,
        author=stored.author,
        comment=stored.comment,
    )


def _config(stored: StoredConfig) -> ConfigOut:
    return ConfigOut(**_version(stored).model_dump(), config=stored.config.model_dump(mode="json"))


@router.get("/config")
async def get_config(user: Reader, admin: Admin) -> ConfigOut:
    return _config(await admin.current())


@router.put("/config")
async def put_config(form: ConfigIn, user: Editor, admin: Admin) -> ConfigOut:
    return await _update(form, user, admin)


# The admins' page /admin/services (admins only, like every administration page).
@router.put("/admin")
async def put_config_as_admin(form: ConfigIn, user: AdminUser, admin: Admin) -> ConfigOut:
    """Same as ``PUT /api/routing/config``, for the administration page."""
    return await _update(form, user, admin)


async def _update(form: ConfigIn, user: UserView, admin: RoutingAdmin) -> ConfigOut:
    try:
        stored = await admin.update(form.config, user.username, form.comment)
    except ConfigError as exc:
        raise FieldErrors(422, str(exc), config_fields(exc)) from exc
    return _config(stored)


def config_fields(exc: ConfigError) -> dict[str, str]:
    """The failures by field under ``config``, as the page sent them."""
    if exc.validation is not None:
        return french_fields(exc.validation, ("config",))
    if exc.field is not None:
        return {f"config.{exc.field}": str(exc).split(": ", 2)[-1]}
    return {}


@router.get("/versions")
async def versions(user: Reader, admin: Admin) -> list[VersionOut]:
    return [_version(v) for v in await admin.versions()]


@router.post("/versions/{version}/restore")
async def restore(version: int, user: Editor, admin: Admin) -> ConfigOut:
    try:
        stored = await admin.restore(version, user.username)
    except KeyError:
        raise HTTPException(404, f"La version {version} n'existe pas.") from None
    return _config(stored)


@router.get("/agents")
async def agents(user: Reader, admin: Admin) -> list[dict[str, Any]]:
    return admin.agents()


@router.get("/queues")
async def queues(user: Reader, admin: Admin) -> dict[str, list[dict[str, Any]]]:
    return admin.queues()
