"""The supervisors' wallboard at the edge: its shell, its messages and its routes.

``SupervisionFeed`` is the imperative shell around the pure ``cti.supervision`` fold: it feeds
it the tracker's events, the router's agent states and the clock (a tick every second: times
in state, waits past the maximum, the 30-minute window, opening hours), follows the routing
configuration as it changes, refills today's counters from the interactions table at start,
and publishes typed, versioned messages on a bus of its own. Pages get a ``snapshot``, then
``board`` updates and ``alert.raised`` / ``alert.updated``.

Routes: ``/supervision`` (the page), ``/ws/supervision`` (supervisors and admins),
``/api/supervision`` (the same snapshot over HTTP), ``POST
/api/supervision/alerts/{id}/ack`` (CSRF), ``/api/schema/supervision-messages.json``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field
from sqlalchemy import select

from cti.bus import Bus
from cti.db import Database
from cti.periodic import Periodic
from cti.supervision.alerts import Alert, AlertEvent, AlertOver, AlertRaised, UnknownAlert
from cti.supervision.board import PastCall, SupervisionBoard
from cti.supervision.callbacks import PromisedWindow
from cti.supervision.opening_hours import IsOpen
from cti.supervision.view import Board
from cti.tracker.events import DomainEvent
from cti.web.auth import (
    SocketRefused,
    SupervisorUser,
    refuse_socket,
    socket_guard,
    websocket_session,
)
from cti.web.relay import relay
from routing.engine import RoutingEngine
from routing.explain import CallExplanation, explain_call
from screenpop.accounts import Role
from screenpop.card import caller_item
from screenpop.models import Interaction
from screenpop.phones import normalise

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PROTOCOL_VERSION: Literal[1] = 1

# -- messages -------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class ServiceOut(_Model):
    service: str
    label: str
    open: bool = Field(description="within its opening hours")
    waiting: int
    longest_wait_s: float
    offered: int
    answered: int
    answered_in_time: int
    abandoned: int
    overflowed: int
    sl_today_pct: float | None = Field(description="None before any outcome today")
    sl_30min_pct: float | None
    sl_target_pct: float
    sl_threshold_s: float
    max_wait_s: float
    agents_logged_in: int


class CallOut(_Model):
    call_id: str
    caller_number: str | None
    caller_withheld: bool
    service: str | None
    stage: str = Field(description="ringing, connected, ... (the page says it in French)")
    since: float
    # The citizen on the agent's card, by name (« madame Jeanne Dupont »), when it has one.
    citizen_name: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def caller_display(self) -> str:
        """The caller as people write her number: "06 12 34 56 78", or why there is none."""
        return caller_item(normalise(self.caller_number, withheld=self.caller_withheld)).display


class AgentOut(_Model):
    agent: str
    name: str
    state: str
    reason: str | None
    since: float = Field(description="epoch seconds, on the server's clock")
    in_state_s: float
    call: CallOut | None


class AlertOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    kind: Literal[
        "service_level",
        "long_wait",
        "no_agent",
        "missed_offers",
        "database",
        "overload",
        "callback_window",
    ]
    service: str | None
    agent: str | None
    message: str
    raised_at: float
    cleared_at: float | None
    acknowledged_by: str | None
    acknowledged_at: float | None


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)
    v: Literal[1] = PROTOCOL_VERSION


class BoardUpdated(_Message):
    type: Literal["board"] = "board"
    now: float = Field(description="the server's time: durations on the page count from it")
    day: str
    services: list[ServiceOut]
    agents: list[AgentOut]
    queue: list[CallOut] = Field(
        default_factory=list, description="calls waiting for an agent, longest wait first"
    )


class Snapshot(BoardUpdated):
    type: Literal["snapshot"] = "snapshot"  # type: ignore[assignment]
    alerts: list[AlertOut]


class AlertRaisedOut(_Message):
    type: Literal["alert.raised"] = "alert.raised"
    alert: AlertOut


class AlertUpdated(_Message):
    """Cleared (the condition stopped holding) or acknowledged."""

    type: Literal["alert.updated"] = "alert.updated"
    alert: AlertOut


SupervisionMessage = Annotated[
    Snapshot | BoardUpdated | AlertRaisedOut | AlertUpdated, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(SupervisionMessage)


def parse_supervision_message(data: str | bytes) -> _Message:
    """Parse a message received by a page (tests use it to hold the server to its schema)."""
    message: _Message = _ADAPTER.validate_json(data)
    return message


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        kind=alert.kind.value,
        service=alert.service,
        agent=alert.agent,
        message=alert.message,
        raised_at=alert.raised_at,
        cleared_at=alert.cleared_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
    )


CitizenOf = Callable[[str], str | None]  # call id -> the citizen her card shows, by name


def _agent_out(row: Any, citizen_of: CitizenOf) -> AgentOut:
    out = AgentOut.model_validate(row)
    if out.call is None or out.call.caller_withheld:
        return out
    named = out.call.model_copy(update={"citizen_name": citizen_of(out.call.call_id)})
    return out.model_copy(update={"call": named})


def _board_fields(board: Board, citizen_of: CitizenOf = lambda _call: None) -> dict[str, Any]:
    return {
        "now": board.now,
        "day": board.day.isoformat(),
        "services": [ServiceOut.model_validate(t) for t in board.services],
        "agents": [_agent_out(a, citizen_of) for a in board.agents],
    }


def queue_out(board: SupervisionBoard, citizen_of: CitizenOf) -> list[CallOut]:
    """Every call waiting for an agent, service by service, longest wait first."""
    out = []
    for service in board.config.services:
        for call_id in board.waiting(service):
            call = board.calls[call_id]
            since = call.queued_at if call.queued_at is not None else call.since
            named = None if call.caller_withheld else citizen_of(call_id)
            out.append(
                CallOut(
                    call_id=call_id,
                    caller_number=call.caller_number,
                    caller_withheld=call.caller_withheld,
                    service=service,
                    stage=call.stage.value,
                    since=since,
                    citizen_name=named,
                )
            )
    return out


# -- the shell ------------------------------------------------------------------------------


def today_calls(db: Database, since: datetime) -> list[PastCall]:
    """Calls recorded since ``since`` (today's local midnight) with a service: the refill."""
    since = since.astimezone(UTC)  # rows hold UTC; SQLite compares them as naive text
    with db.session() as session:
        rows = session.execute(
            select(
                Interaction.call_id,
                Interaction.service,
                Interaction.started_at,
                Interaction.outcome,
                Interaction.wait_seconds,
            ).where(Interaction.started_at >= since, Interaction.service.is_not(None))
        ).all()
    out = []
    for call_id, service, started_at, outcome, wait in rows:
        if service is None:
            continue
        if started_at.tzinfo is None:  # SQLite gives back naive UTC
            started_at = started_at.replace(tzinfo=UTC)
        out.append(PastCall(call_id, service, started_at.timestamp(), outcome, wait))
    return out


class SupervisionFeed(Periodic):
    def __init__(
        self,
        engine: Callable[[], RoutingEngine],
        clock: Callable[[], float],
        *,
        default_service: str | None = None,
        is_open: IsOpen | None = None,
        interval: float = 1.0,
        pending_writes: Callable[[], int] = lambda: 0,
        sl_min_calls: int = 1,
        citizen_of: CitizenOf = lambda _call: None,
        sl_clear_margin_pct: float = 0.0,
        why: Callable[[str], CallExplanation | None] | None = None,
        lag: Callable[[], float] = lambda: 0.0,
        callback_windows: Callable[[], Iterable[PromisedWindow]] = lambda: (),
        bus: Bus | None = None,
    ) -> None:
        self._engine = engine
        # The router's memory also explains answered calls; else the engine's calls only.
        self.why = why or (lambda call_id: explain_call(self._engine(), call_id))
        self.pending_writes = pending_writes  # records the database has not taken yet
        self.citizen_of = citizen_of
        self.lag = lag  # seconds the product runs behind (AMI events, event loop)
        # The callbacks not done yet (set once the callbacks desk exists, built after us).
        self.callback_windows = callback_windows
        self.clock = clock
        self.bus = bus or Bus()  # a ``BrokerBus`` when web nodes serve the wallboards
        current = engine()
        self._config = current.config
        self.board = SupervisionBoard(
            current.config,
            states=self._states(current),
            default_service=default_service,
            is_open=is_open,
            now=clock(),
            sl_min_outcomes=sl_min_calls,
            sl_clear_margin_pct=sl_clear_margin_pct,
        )
        self._flush_pending = False
        super().__init__(interval, self.tick, "wallboard")

    @staticmethod
    def _states(engine: RoutingEngine) -> dict[str, tuple[str, str | None]]:
        return {view.agent: (view.state.value, view.reason) for view in engine.agents()}

    async def refill(self, db: Database) -> None:
        """Today's counters from the calls recorded before a restart."""
        now = datetime.fromtimestamp(self.clock(), self.board.tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        past = await asyncio.to_thread(today_calls, db, midnight)
        self.board.restore_today(past)
        log.info("wallboard: %d calls of today read back", len(past))

    def names(self) -> dict[str, dict[str, str]]:
        """Services and agents as people name them (the routing configuration in force):
        for pages that otherwise see identifiers only (the live calls board)."""
        config = self._engine().config
        return {
            "services": {name: spec.label for name, spec in config.services.items()},
            "agents": {agent: spec.name for agent, spec in config.agents.items()},
        }

    # inputs

    def on_event(self, event: DomainEvent) -> None:
        self._publish(self.board.apply(event))

    def on_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        self._publish(self.board.agent_state(agent, state, reason, self.clock()))

    def acknowledge(self, alert_id: int, user: str) -> Alert:
        """Raises ``UnknownAlert``, and ``AlertOver`` once its condition stopped holding."""
        self._publish(self.board.acknowledge(alert_id, user, self.clock()))
        return self.board.alerts[alert_id]

    def tick(self) -> None:
        engine = self._engine()
        if engine.config is not self._config:  # the routing configuration changed
            self._config = engine.config
            self._publish(self.board.configure(engine.config, self._states(engine), self.clock()))
        self._publish(self.board.database(self.pending_writes(), self.clock()))
        self._publish(self.board.overload(self.lag(), self.clock()))
        self._publish(self.board.callbacks(self.callback_windows(), self.clock()))
        self._publish(self.board.tick(self.clock()))  # and the board, times moved on

    # outputs

    def snapshot(self) -> Snapshot:
        board = self.board.board()
        return Snapshot(
            **_board_fields(board, self.citizen_of),
            queue=queue_out(self.board, self.citizen_of),
            alerts=[alert_out(a) for a in board.alerts],
        )

    def _publish(self, changes: Sequence[AlertEvent]) -> None:
        for change in changes:
            message: _Message
            if isinstance(change, AlertRaised):
                message = AlertRaisedOut(alert=alert_out(change.alert))
            else:
                message = AlertUpdated(alert=alert_out(change.alert))
            self.bus.publish(message.model_dump(mode="json"))
        # A burst of events makes one board message, sent once the burst is handled.
        if not self._flush_pending:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a test feeding it by hand): the tick sends it
                return
            self._flush_pending = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self.bus.wanted:
            message = BoardUpdated(
                **_board_fields(self.board.board(), self.citizen_of),
                queue=queue_out(self.board, self.citizen_of),
            )
            self.bus.publish(message.model_dump(mode="json"))

    async def close(self) -> None:
        await super().close()
        self.bus.close()


# -- routes ---------------------------------------------------------------------------------

router = APIRouter(tags=["supervision"])


def _feed(request: Request) -> SupervisionFeed:
    feed: SupervisionFeed = request.app.state.supervision
    return feed


Feed = Annotated[SupervisionFeed, Depends(_feed)]


@router.get("/supervision", include_in_schema=False)
async def supervision_page() -> FileResponse:
    return FileResponse(STATIC / "supervision.html")


@router.get("/api/supervision")
async def supervision_snapshot(user: SupervisorUser, feed: Feed) -> Snapshot:
    return feed.snapshot()


@router.post("/api/supervision/alerts/{alert_id}/ack")
async def acknowledge(alert_id: int, user: SupervisorUser, feed: Feed) -> AlertOut:
    try:
        return alert_out(feed.acknowledge(alert_id, user.username))
    except UnknownAlert as exc:
        raise HTTPException(404, f"L'alerte {alert_id} n'existe pas (ou plus).") from exc
    except AlertOver as exc:
        raise HTTPException(409, "Cette alerte est terminée : plus rien à acquitter.") from exc


@router.get("/api/schema/supervision-messages.json", tags=["schema"])
async def supervision_messages_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _ADAPTER.json_schema()
    schema["title"] = f"Messages du tableau de supervision, version {PROTOCOL_VERSION}"
    return schema


@router.websocket("/ws/supervision")
async def supervision_socket(websocket: WebSocket) -> None:
    try:
        session = await websocket_session(websocket, Role.SUPERVISOR)
    except SocketRefused as exc:
        await refuse_socket(websocket, exc)
        return
    feed: SupervisionFeed = websocket.app.state.supervision
    await websocket.accept()
    sub = feed.bus.subscribe()  # before the snapshot: nothing falls between the two
    try:
        await websocket.send_json(feed.snapshot().model_dump(mode="json"))
        await relay(websocket, sub, socket_guard(websocket, session))
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()
