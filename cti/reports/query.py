"""Reading what the reports need from the database: calls of a period, services' targets.

The calls are streamed in time order (``yield_per``: a year of calls never sits in memory)
with only the columns the figures use; the fold happens in ``figures``/``quality`` as the
rows come. Calls of the 7 days before the period are read too, for repeat calls only.
Whether the voice menu served a caller by itself comes from its own table ``ivr_runs``
(``call_id``, ``self_served``) when the schema has it, else from the ``menu`` outcome.
Blocking (SQLAlchemy): the web layer runs these in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    exists,
    func,
    inspect,
    literal,
    select,
    table,
    true,
)

from cti import routing_store
from cti.db import Database
from cti.reports.figures import REPEAT_WINDOW, GroupBy, Report, build_report, check_period
from cti.reports.quality import Quality, Target, Week, build_quality
from cti.reports.records import CallRecord
from screenpop.models import Interaction

_IVR_RUNS = table("ivr_runs", column("call_id"), column("self_served"))
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Services:
    """What the routing configuration in force says about services and agents."""

    targets: dict[str, Target] = field(default_factory=dict)
    agent_names: dict[str, str] = field(default_factory=dict)

    @property
    def thresholds(self) -> dict[str, float]:
        return {name: t.threshold_s for name, t in self.targets.items()}

    @property
    def labels(self) -> dict[str, str]:
        return {name: t.label for name, t in self.targets.items()}


def services(db: Database) -> Services:
    stored = routing_store.current(db)
    if stored is None:
        return Services()
    config = stored.config
    return Services(
        targets={
            name: Target(s.label, s.sl_target_pct, s.sl_threshold_s)
            for name, s in config.services.items()
        },
        agent_names={ext: a.name for ext, a in config.agents.items()},
    )


def _aware(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _self_served(db: Database) -> ColumnElement[bool]:
    if inspect(db.engine).has_table("ivr_runs"):
        return exists().where(
            and_(_IVR_RUNS.c.call_id == Interaction.call_id, _IVR_RUNS.c.self_served == true())
        )
    return Interaction.outcome == literal("menu")


def _last_item(db: Database, array: Any) -> ColumnElement[str | None]:
    """The last string of a JSON array column, NULL when it is empty, read by the database.

    Decoding two JSON lists per row in Python was most of a report's time at 100k calls."""
    if db.dialect == "postgresql":
        return cast(ColumnElement[str | None], array.op("->>")(-1))
    return cast(ColumnElement[str | None], func.json_extract(array, "$[#-1]"))


def read_calls(db: Database, start: datetime, end: datetime) -> Iterator[CallRecord]:
    """Calls started in [start, end), in time order (``start``/``end`` timezone-aware)."""
    query = (
        select(
            Interaction.call_id,
            Interaction.started_at,
            Interaction.outcome,
            Interaction.service,
            _last_item(db, Interaction.agents).label("last_agent"),
            func.json_array_length(Interaction.agents).label("agents_reached"),
            Interaction.answered_by,
            Interaction.wait_seconds,
            Interaction.talk_seconds,
            Interaction.caller_e164,
            Interaction.citizen_id,
            _last_item(db, Interaction.ivr_path).label("last_menu_node"),
            Interaction.disposition,
            _self_served(db).label("self_served"),
        )
        .where(
            Interaction.started_at >= start.astimezone(UTC),
            Interaction.started_at < end.astimezone(UTC),
        )
        .order_by(Interaction.started_at, Interaction.id)
        .execution_options(yield_per=_BATCH)
    )
    # Core rather than the ORM: rows of plain values, a third faster to read.
    with db.engine.connect() as conn:
        for (
            call_id,
            started_at,
            outcome,
            service,
            last_agent,
            agents_reached,
            answered_by,
            wait_seconds,
            talk_seconds,
            caller_e164,
            citizen_id,
            last_menu_node,
            disposition,
            self_served,
        ) in conn.execute(query):
            yield CallRecord(
                call_id=call_id,
                started_at=_aware(started_at),
                outcome=outcome,
                service=service,
                last_agent=last_agent,
                agents_reached=agents_reached or 0,
                answered_by=tuple(answered_by or ()),
                wait_seconds=wait_seconds,
                talk_seconds=talk_seconds,
                caller_e164=caller_e164,
                citizen_id=citizen_id,
                last_menu_node=last_menu_node,
                disposition=disposition,
                self_served=bool(self_served),
            )


def report(db: Database, start: datetime, end: datetime, by: GroupBy) -> Report:
    """The history table of [start, end) grouped ``by``; raises ``PeriodError``."""
    check_period(start, end)
    known = services(db)
    names = known.agent_names if by is GroupBy.AGENT else known.labels
    calls = read_calls(db, start - REPEAT_WINDOW, end)
    return build_report(calls, start, end, by, thresholds=known.thresholds, names=names)


def quality(db: Database, weeks: tuple[Week, ...]) -> Quality:
    """Target vs obtained per service over ``weeks`` (oldest first)."""
    calls = read_calls(db, weeks[0].start, weeks[-1].end)
    return build_quality(calls, weeks, services(db).targets)
