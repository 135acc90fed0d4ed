"""History reports and the weekly quality over HTTP, as JSON, CSV and SVG, and their pages.

``/api/reports`` (``from``, ``to``, ``by``=service|agent|day|hour), ``/api/quality``
(``weeks``), each with ``.csv`` (French Excel: ``;``, BOM, decimal comma) and ``.svg``
(the chart). Supervisors and admins. A date-time without zone is Paris time (what the
page's period picker sends); without ``from``/``to`` the period is today until now. The
pages ``/rapports`` and ``/qualite`` are static shells that log in like the agent's page.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict

from cti.db import Database
from cti.reports import query
from cti.reports.bar_chart import bar_chart
from cti.reports.csv_export import (
    GROUP_HEADERS,
    QUALITY_HEADERS,
    REPORT_HEADERS,
    quality_csv,
    quality_filename,
    report_csv,
    report_filename,
    report_values,
)
from cti.reports.errors import ReportError
from cti.reports.figures import ABANDON_LABELS, GroupBy, Report
from cti.reports.quality import MAX_WEEKS, Quality, last_weeks, quality_chart
from cti.reports.records import PARIS
from cti.web.auth import SupervisorUser
from routing.svg_chart import line_chart

router = APIRouter(tags=["reports"])
STATIC = Path(__file__).parent / "static"

Start = Annotated[datetime | None, Query(alias="from")]
End = Annotated[datetime | None, Query(alias="to")]
By = Annotated[GroupBy, Query()]
Weeks = Annotated[int, Query(ge=1, le=MAX_WEEKS)]
# At most this many labels under a chart's x axis; the others are skipped.
MAX_TICKS = 12


def _database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


Db = Annotated[Database, Depends(_database)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RowOut(_Out):
    key: str
    label: str
    calls: int
    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    abandon_delays: list[int]
    overflowed: int
    safety_net: int
    ended_in_menu: int
    self_served: int
    lost: int
    in_progress: int
    transfers: int
    repeats: int
    service_level_pct: float | None
    abandon_rate_pct: float | None
    avg_answer_s: float | None
    avg_handling_s: float | None
    top_dispositions: list[tuple[str, int]]
    top_menu_choices: list[tuple[str, int]]


class ReportOut(BaseModel):
    start: datetime
    end: datetime
    by: GroupBy
    abandon_delay_labels: list[str]
    rows: list[RowOut]
    total: RowOut
    # The table as the page and the CSV show it: same headers, same order.
    headers: list[str]
    cells: list[list[Any]]


class QualityRowOut(_Out):
    week: str
    week_label: str
    service: str
    label: str
    target_pct: float
    threshold_s: float
    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    service_level_pct: float | None
    abandon_rate_pct: float | None
    met: bool | None


class TrendOut(_Out):
    service: str
    label: str
    target_pct: float
    last_pct: float | None
    change_points: float | None


class WeekOut(BaseModel):
    key: str
    label: str
    start: datetime
    end: datetime


class QualityOut(BaseModel):
    weeks: list[WeekOut]
    rows: list[QualityRowOut]
    trends: list[TrendOut]
    headers: list[str]


def _paris(value: datetime) -> datetime:
    return value.replace(tzinfo=PARIS) if value.tzinfo is None else value.astimezone(PARIS)


def _period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    now = datetime.now(UTC).astimezone(PARIS)
    end = _paris(end) if end is not None else now
    if start is None:
        day = end.date()
        start = datetime(day.year, day.month, day.day, tzinfo=PARIS)
    return _paris(start), end


async def _report(
    db: Database, start: datetime | None, end: datetime | None, by: GroupBy
) -> Report:
    begin, finish = _period(start, end)
    try:
        return await asyncio.to_thread(query.report, db, begin, finish, by)
    except ReportError as exc:
        raise HTTPException(422, str(exc)) from exc


async def _quality(db: Database, weeks: int) -> Quality:
    return await asyncio.to_thread(query.quality, db, last_weeks(datetime.now(UTC), weeks))


def _csv(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _svg(text: str) -> Response:
    return Response(text, media_type="image/svg+xml")


@router.get("/api/reports")
async def reports(
    user: SupervisorUser, db: Db, start: Start = None, end: End = None, by: By = GroupBy.SERVICE
) -> ReportOut:
    report = await _report(db, start, end, by)
    rows = [*report.rows, report.total]
    return ReportOut(
        start=report.start,
        end=report.end,
        by=report.by,
        abandon_delay_labels=list(ABANDON_LABELS),
        rows=[RowOut.model_validate(r) for r in report.rows],
        total=RowOut.model_validate(report.total),
        headers=[GROUP_HEADERS[report.by], *REPORT_HEADERS],
        cells=[[r.label, *report_values(r)] for r in rows],
    )


@router.get("/api/reports.csv")
async def reports_csv(
    user: SupervisorUser, db: Db, start: Start = None, end: End = None, by: By = GroupBy.SERVICE
) -> Response:
    report = await _report(db, start, end, by)
    return _csv(report_csv(report), report_filename(report))


@router.get("/api/reports.svg")
async def reports_svg(
    user: SupervisorUser, db: Db, start: Start = None, end: End = None, by: By = GroupBy.HOUR
) -> Response:
    """Offered, answered and abandoned calls per group: a line along days or hours, bars
    for services, agents, or a period of one day or hour (a line through one point is none)."""
    report = await _report(db, start, end, by)
    figures = {"Présentés": "offered", "Répondus": "answered", "Abandons": "abandoned"}
    title = f"Appels par {GROUP_HEADERS[report.by].lower()}"
    if report.by in (GroupBy.SERVICE, GroupBy.AGENT) or len(report.rows) < 2:
        groups = [r.label for r in report.rows]
        bars = {name: [float(getattr(r, f)) for r in report.rows] for name, f in figures.items()}
        return _svg(bar_chart(title, "appels", groups, bars))
    series = {
        name: [(float(i), float(getattr(r, field))) for i, r in enumerate(report.rows)]
        for name, field in figures.items()
    }
    step = max(1, -(-len(report.rows) // MAX_TICKS))
    ticks = [(float(i), r.label) for i, r in enumerate(report.rows) if i % step == 0]
    last = float(max(len(report.rows) - 1, 1))
    return _svg(line_chart(title, "appels", series, x_range=(0.0, last), x_ticks=ticks))


@router.get("/api/quality")
async def quality(user: SupervisorUser, db: Db, weeks: Weeks = 8) -> QualityOut:
    result = await _quality(db, weeks)
    return QualityOut(
        weeks=[WeekOut(key=w.key, label=w.label, start=w.start, end=w.end) for w in result.weeks],
        rows=[QualityRowOut.model_validate(r) for r in result.rows],
        trends=[TrendOut.model_validate(t) for t in result.trends],
        headers=list(QUALITY_HEADERS),
    )


@router.get("/api/quality.csv")
async def quality_csv_export(user: SupervisorUser, db: Db, weeks: Weeks = 8) -> Response:
    result = await _quality(db, weeks)
    return _csv(quality_csv(result), quality_filename(result))


@router.get("/api/quality.svg")
async def quality_svg(user: SupervisorUser, db: Db, weeks: Weeks = 8) -> Response:
    return _svg(quality_chart(await _quality(db, weeks)))


@router.get("/rapports", include_in_schema=False)
async def reports_page() -> FileResponse:
    return FileResponse(STATIC / "reports.html")


@router.get("/qualite", include_in_schema=False)
async def quality_page() -> FileResponse:
    return FileResponse(STATIC / "quality.html")
