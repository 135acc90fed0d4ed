"""A page's HTTP request and its answer as broker messages (pure).

A web node does not run the desk: it hands each HTTP request, as it came (method, path,
query, headers, the client's address, the body), to the router holding the lease, which
runs it through its own application and sends the answer back. One line of JSON says
what the request or the answer is; the body follows as it is, after a newline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


class BadEnvelope(ValueError):
    """A broker message that is not a request or an answer of ours."""


Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class ForwardedRequest:
    method: str
    path: str
    query: str
    headers: Headers
    client: tuple[str, int] | None
    scheme: str
    body: bytes


@dataclass(frozen=True, slots=True)
class ForwardedAnswer:
    status: int
    headers: Headers
    body: bytes


def _split(data: bytes) -> tuple[dict[str, object], bytes]:
    head, sep, body = data.partition(b"\n")
    if not sep:
        raise BadEnvelope("message sans en-tête JSON")
    try:
        meta = json.loads(head)
    except ValueError as exc:
        raise BadEnvelope(f"en-tête illisible : {exc}") from exc
    if not isinstance(meta, dict):
        raise BadEnvelope("en-tête qui n'est pas un objet JSON")
    return meta, body


def _headers(raw: object) -> Headers:
    if not isinstance(raw, list):
        raise BadEnvelope("en-têtes HTTP absents")
    return [(str(name), str(value)) for name, value in raw]


def encode_request(request: ForwardedRequest) -> bytes:
    meta = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "client": list(request.client) if request.client else None,
        "scheme": request.scheme,
    }
    return json.dumps(meta).encode() + b"\n" + request.body


def decode_request(data: bytes) -> ForwardedRequest:
    meta, body = _split(data)
    client = meta.get("client")
    try:
        return ForwardedRequest(
            method=str(meta["method"]),
            path=str(meta["path"]),
            query=str(meta.get("query", "")),
            headers=_headers(meta.get("headers")),
            client=(str(client[0]), int(client[1])) if isinstance(client, list) else None,
            scheme=str(meta.get("scheme", "http")),
            body=body,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadEnvelope(f"requête incomplète : {exc}") from exc


def encode_answer(answer: ForwardedAnswer) -> bytes:
    meta = {"status": answer.status, "headers": answer.headers}
    return json.dumps(meta).encode() + b"\n" + answer.body


def decode_answer(data: bytes) -> ForwardedAnswer:
    meta, body = _split(data)
    status = meta.get("status")
    if not isinstance(status, int):
        raise BadEnvelope("réponse sans statut")
    return ForwardedAnswer(status, _headers(meta.get("headers")), body)
