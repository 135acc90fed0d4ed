"""AMI actions sent only under the router's lease.

Asterisk cannot check a fencing token, so the check is made here, on this node's monotonic
clock, immediately before the action's bytes are written (nothing awaits between the two).
A node paused past its lease wakes up, finds its deadline gone and sends nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cti.cluster.elector import Elector

Send = Callable[..., Awaitable[Any]]


class FencedSend:
    """``send`` (an ``AmiConnection.send``) allowed only while ``elector`` holds the lease."""

    def __init__(self, send: Send, elector: Elector) -> None:
        self._send = send
        self._elector = elector

    async def __call__(self, action: Mapping[str, Any], timeout: float | None = None) -> Any:
        # The check and the write run in one step of the loop (the send writes before its
        # first await): no other task runs between them.
        self._elector.check()
        return await self._send(action, timeout)
