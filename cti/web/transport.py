"""Where a request came from: the client's real address, and whether it travelled over TLS.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the reverse proxies
named in ``CTI_TRUSTED_PROXIES`` (addresses or CIDR networks; none by default): anyone else
could write any address there, escape the login limits and sign the audit trail with it.
uvicorn's own proxy handling (which trusts loopback) is switched off in ``serve.py``; its
middleware is used here with our list instead.

The session cookie's ``Secure`` flag (``CTI_COOKIE_SECURE``): ``true`` always, ``false``
never (a lab on plain HTTP), ``auto`` (default) always except for a plain-HTTP request from
this very machine (``make demo``, the tests): a browser sends a ``Secure`` cookie over HTTPS
only, and an install reached over the network is meant to be reached over HTTPS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Literal

from fastapi import FastAPI
from starlette.requests import HTTPConnection
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

CookieSecure = Literal["true", "false", "auto"]


def trust_proxies(app: FastAPI, proxies: Sequence[str]) -> None:
    """Believe forwarded headers from ``proxies`` only (none: the socket's peer is the client)."""
    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))


def client_address(conn: HTTPConnection) -> str:
    """The client's address: the socket's peer, or what a trusted proxy says it is."""
    return conn.client.host if conn.client else "?"


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def cookie_secure(conn: HTTPConnection, mode: CookieSecure) -> bool:
    """Whether the session cookie set in answer to ``conn`` carries ``Secure``."""
    if mode == "auto":
        return conn.url.scheme in ("https", "wss") or not _loopback(client_address(conn))
    return mode == "true"
