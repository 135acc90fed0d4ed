"""Sessions ended on one node, told to the others (web nodes hold their sockets).

The router's node runs the requests that end sessions (logout, an account disabled or reset,
a supervisor closing an agent's session, a new role or extension). Each end is told as a
``SessionsEnded`` over the broker; every web node closes the sockets it holds for them at
once. A token is never sent: only its SHA-256, as the database keeps it. The database stays
the reference: web nodes also read their sessions back from it every minute
(``Sessions.reread``), so a notice lost with the broker costs a minute, not a leak.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

Which = Literal["token", "user", "extension", "refresh"]


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    #: ``token``: one session (``key`` its token's SHA-256); ``user``: every session of a user
    #: id; ``extension``: of the account holding a phone; ``refresh``: a user's role,
    #: extension or password changed (read it again; sockets close if rights changed).
    which: Which
    key: str
    reason: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()


def decode(data: bytes) -> SessionsEnded | None:
    """The notice, or None for a message that is not one (logged by the caller)."""
    try:
        raw = json.loads(data)
        which = raw["which"]
        if which not in ("token", "user", "extension", "refresh"):
            return None
        return SessionsEnded(which, str(raw["key"]), str(raw.get("reason", "")))
    except (ValueError, KeyError, TypeError):
        return None
