"""Liveness and readiness, for a load balancer or a service manager (no login).

``/livez``: the process answers (its event loop turns). ``/readyz``: this node can take agents'
pages now — its link to Asterisk is up. A standby node under a router lease does not serve at
all until it holds the lease, so a balancer sending pages to ready nodes only follows failover.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cti.service import CallService

router = APIRouter()


@router.get("/livez")
async def live() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz")
async def ready(request: Request) -> JSONResponse:
    service: CallService = request.app.state.service
    if service.link_state == "ready":
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        {"status": "not_ready", "reason": f"lien AMI avec Asterisk : {service.link_state}"},
        status_code=503,
    )
