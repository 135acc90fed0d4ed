"""Opening hours over HTTP, for the admins' page ``/admin/horaires``.

``GET /api/admin/hours``: the published voice menu's calendars, which service each applies to
and which menu steps check it. ``PUT /api/admin/hours``: new calendars, published at once
(``cti.hours_admin``); refused with 422 and ``fields`` (each field at fault by its dotted path,
``calendars.urbanisme.weekly.wed.0``, and why, in French). ``GET /api/admin/holidays``: the
public holidays of a given year, with or without Alsace-Moselle's two more; the year is always
asked, never taken from today.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cti.hours_admin import HoursAdmin, HoursRefused, menu_uses
from cti.ivr_store import StoredTree
from cti.routing_admin import RoutingAdmin
from cti.web.auth import AdminUser
from cti.web.field_errors import FieldErrors
from ivr_scripts.hours import public_holidays

router = APIRouter(tags=["administration"])

ALSACE_MOSELLE = "Alsace-Moselle"


def _hours(request: Request) -> HoursAdmin:
    hours: HoursAdmin = request.app.state.hours
    return hours


Hours = Annotated[HoursAdmin, Depends(_hours)]


class ServiceHours(BaseModel):
    service: str
    label: str
    calendar: str | None = Field(description="le calendrier qui s'applique (null : aucun)")
    own: bool = Field(description="calendrier propre au service (sinon celui de la mairie)")


class CalendarOut(BaseModel):
    calendar: dict[str, Any]
    used_by: list[str] = Field(description="étapes du menu vocal qui consultent ce calendrier")


class HoursOut(BaseModel):
    version: int
    town_hall: str | None = Field(description="le calendrier de la mairie (le premier)")
    services: list[ServiceHours]
    calendars: dict[str, CalendarOut]


class HoursIn(BaseModel):
    calendars: dict[str, dict[str, Any]] = Field(max_length=200)
    comment: str = Field(default="", max_length=200)


class Holiday(BaseModel):
    date: date
    name: str


class HolidaysOut(BaseModel):
    year: int
    alsace_moselle: bool
    holidays: list[Holiday]


def _labels(request: Request, stored: StoredTree) -> dict[str, str]:
    routing: RoutingAdmin | None = getattr(request.app.state, "routing", None)
    labels = dict(stored.tree.services)
    if routing is not None:
        labels.update(routing.labels)
    return labels


def _out(request: Request, stored: StoredTree) -> HoursOut:
    calendars = stored.tree.calendars
    town_hall = next(iter(calendars), None)
    uses = menu_uses(stored)
    services = [
        ServiceHours(
            service=name,
            label=label,
            calendar=name if name in calendars else town_hall,
            own=name in calendars,
        )
        for name, label in _labels(request, stored).items()
    ]
    return HoursOut(
        version=stored.version,
        town_hall=town_hall,
        services=services,
        calendars={
            name: CalendarOut(
                calendar=calendar.model_dump(mode="json", exclude_none=True),
                used_by=uses.get(name, []),
            )
            for name, calendar in calendars.items()
        },
    )


@router.get("/api/admin/hours")
async def get_hours(user: AdminUser, hours: Hours, request: Request) -> HoursOut:
    return _out(request, await hours.current())


@router.put("/api/admin/hours")
async def put_hours(form: HoursIn, user: AdminUser, hours: Hours, request: Request) -> HoursOut:
    try:
        stored = await hours.change(form.calendars, user.username, form.comment)
    except HoursRefused as exc:
        fields: dict[str, str] = {}
        for problem in exc.problems:
            fields.setdefault(problem.path, problem.message)
        count = len(fields)
        message = f"Horaires non enregistrés : {count} point{'s' * (count > 1)} à corriger."
        raise FieldErrors(422, message, fields) from exc
    return _out(request, stored)


@router.get("/api/admin/holidays")
async def holidays(
    user: AdminUser,
    year: Annotated[int, Query(ge=1990, le=2100, description="l'année, ex. 2026")],
    alsace_moselle: bool = False,
) -> HolidaysOut:
    found = public_holidays(year, ALSACE_MOSELLE if alsace_moselle else None)
    return HolidaysOut(
        year=year,
        alsace_moselle=alsace_moselle,
        holidays=[Holiday(date=day, name=name) for day, name in found],
    )
