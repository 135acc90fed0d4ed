"""A request this node can no longer carry out: it lost the router's lease meanwhile.

Its fenced writes were refused (``cti.cluster.write_fence``) and nothing was done: the answer
is 503, which web nodes do not keep and pages read as « try again », so the action is done
by the router now in charge.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cti.cluster.lease import NotLeader

MESSAGE = "Le serveur vient de passer la main à un autre : rien n'a été enregistré, réessayez."


async def _answer(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotLeader)
    return JSONResponse({"detail": MESSAGE}, status_code=503)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotLeader, _answer)
