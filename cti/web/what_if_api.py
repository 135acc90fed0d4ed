"""« Et si… » over HTTP: ``POST /api/routing/what-if`` (admins only).

The services page sends its draft (``config``, as ``PUT /api/routing/admin`` takes it) and a
period (``from``, ``to``: Paris days, ``2026-03-02``; both absent: the 7 days before today).
The recorded calls of the period are replayed with the draft and with the configuration in
force (``cti.what_if``); nothing is saved or applied. A draft that does not validate is
refused by field as on save (422); a period that cannot be replayed too (``from``/``to``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from cti.reports.records import PARIS
from cti.web.auth import AdminUser
from cti.web.field_errors import FieldErrors
from cti.web.routing_api import Admin, config_fields
from cti.what_if import (
    PeriodRefused,
    ReplayBusy,
    ReplayFailed,
    WhatIfError,
    WhatIfRunner,
    default_period,
)
from routing.errors import ConfigError
from routing.what_if import Figures
from routing.what_if_text import notes, rows, service_sentence, summary

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/routing", tags=["routing"])


def _runner(request: Request) -> WhatIfRunner:
    runner: WhatIfRunner = request.app.state.what_if
    return runner


Runner = Annotated[WhatIfRunner, Depends(_runner)]


class WhatIfIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    config: dict[str, Any]
    start: str | None = Field(default=None, alias="from", max_length=10)
    end: str | None = Field(default=None, alias="to", max_length=10)


class FiguresOut(BaseModel):
    calls: int
    answered: int
    abandoned: int
    overflowed: int
    sl_pct: float | None
    sl_target_pct: float
    sl_threshold_s: float
    avg_wait_s: float
    p90_wait_s: float
    abandon_pct: float
    overflow_pct: float


class RowOut(BaseModel):
    """One line of the service's table, as the page shows it (French, rounded)."""

    what: str
    current: str
    draft: str


class ServiceOut(BaseModel):
    service: str
    label: str
    sentence: str | None
    rows: list[RowOut]
    current: FiguresOut
    draft: FiguresOut


class WhatIfOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    calls: int
    days: int
    left_out: int
    identical: bool
    summary: list[str]
    notes: list[str]
    services: list[ServiceOut]


def _figures(f: Figures) -> FiguresOut:
    return FiguresOut(
        calls=f.calls,
        answered=f.answered,
        abandoned=f.abandoned,
        overflowed=f.overflowed,
        sl_pct=f.sl_pct,
        sl_target_pct=f.sl_target_pct,
        sl_threshold_s=f.sl_threshold_s,
        avg_wait_s=f.avg_wait_s,
        p90_wait_s=f.p90_wait_s,
        abandon_pct=f.abandon_pct,
        overflow_pct=f.overflow_pct,
    )


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldErrors(
            422, "Période illisible.", {field: "date attendue (jj/mm/aaaa)"}
        ) from None


def _period(form: WhatIfIn) -> tuple[date, date]:
    start, end = _day(form.start, "from"), _day(form.end, "to")
    if start is None and end is None:
        return default_period(datetime.now(PARIS).date())
    if start is None or end is None:
        missing = "from" if start is None else "to"
        raise FieldErrors(422, "Période incomplète.", {missing: "à renseigner"})
    return start, end


@router.post("/what-if", response_model_by_alias=True)
async def what_if(form: WhatIfIn, user: AdminUser, admin: Admin, runner: Runner) -> WhatIfOut:
    """The period's recorded calls replayed with the draft and with the configuration in
    force, per service; nothing is applied."""
    try:
        draft = admin.validate(form.config)
    except ConfigError as exc:
        raise FieldErrors(422, str(exc), config_fields(exc)) from exc
    start, end = _period(form)
    current = (await admin.current()).config
    try:
        result = await runner.run(start, end, current.to_engine(), draft.to_engine())
    except PeriodRefused as exc:
        raise FieldErrors(422, str(exc), {exc.field: str(exc)}) from exc
    except ReplayBusy as exc:
        raise FieldErrors(409, str(exc), {}) from exc
    except ReplayFailed as exc:
        log.error("« Et si… » du %s au %s : %s", start, end, exc)
        raise FieldErrors(500, str(exc), {}) from exc
    except WhatIfError as exc:  # took too long
        raise FieldErrors(422, str(exc), {}) from exc
    names = {ext: a.name for ext, a in draft.agents.items()}
    return WhatIfOut(
        start=start,
        end=end,
        calls=result.calls,
        days=result.days,
        left_out=result.left_out,
        identical=result.identical,
        summary=summary(result),
        notes=notes(result, names),
        services=[
            ServiceOut(
                service=s.service,
                label=s.label,
                sentence=service_sentence(s),
                rows=[RowOut(what=w, current=a, draft=b) for w, a, b in rows(s)],
                current=_figures(s.current),
                draft=_figures(s.draft),
            )
            for s in result.services
        ],
    )
