"""``GET /metrics`` for Prometheus.

Who may scrape: with ``CTI_METRICS_TOKEN`` set, whoever sends ``Authorization: Bearer
<token>`` (Prometheus' ``authorization`` setting); without it, only the machine itself
(loopback), which suits a Prometheus or an agent on the same host. No personal data is
exposed (counts only), but queue sizes are nobody else's business.
"""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from cti.metrics import BrokerGauges, Gauges, Metrics, render, waiting_by_service
from cti.service import CallService

router = APIRouter(tags=["observability"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_scraper(request: Request) -> None:
    """403/401 unless the scraper may read the metrics (see the module's docstring)."""
    token: str | None = getattr(request.app.state, "metrics_token", None)
    if token:
        sent = request.headers.get("authorization", "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "Jeton de métriques absent ou invalide.")
    elif not _loopback(request.client.host if request.client else None):
        raise HTTPException(
            403, "Métriques lisibles depuis cette machine seulement (ou définir CTI_METRICS_TOKEN)."
        )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    check_scraper(request)
    state = request.app.state
    service: CallService = state.service
    collected: Metrics = state.metrics
    routing = getattr(state, "routing", None)
    services = list(routing.labels) if routing is not None else []
    hub = getattr(state, "hub", None)
    pop = getattr(state, "pop", None)
    db = pop.writer.health() if pop is not None else None
    link = getattr(state, "broker", None)
    answered = getattr(state, "answered", None)
    broker = (
        BrokerGauges(
            link.state == "up",
            link.reconnects,
            link.backlog,
            link.dropped,
            answered.replayed if answered is not None else 0,
        )
        if link is not None
        else None
    )
    gauges = Gauges(
        calls_waiting=waiting_by_service(service.view, services),
        websocket_clients=service.bus.subscriber_count + (hub.page_count if hub else 0),
        ami_reconnects=collected.ami_reconnects(),
        db_pending_writes=db.pending_writes if db is not None else 0,
        db_down=db is not None and db.state == "down",
        db_fenced_writes=fenced.refused if (fenced := getattr(state, "write_fence", None)) else 0,
        loop_lag=watch.lag if (watch := getattr(state, "loop_watch", None)) else None,
        role="router" if link is not None else "all",
        broker=broker,
    )
    return PlainTextResponse(render(collected, gauges), media_type=CONTENT_TYPE)
