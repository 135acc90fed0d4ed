"""AMI actions sent only under the router's lease.

Asterisk cannot check a fencing token, so the check is made here, on this node's monotonic
clock, immediately before the action's bytes are written (nothing awaits between the two).
A node paused past its lease wakes up, finds its deadline gone and sends nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cti.ami.errors import AmiDisconnected
from cti.cluster.elector import Elector
from cti.cluster.lease import NotLeader

Send = Callable[..., Awaitable[Any]]


class NotDriving(AmiDisconnected):
    """To the router, a node without the lease is a node without a link: nothing is sent, no
    offer counts as missed."""

    def __init__(self, action: str, why: NotLeader) -> None:
        super().__init__(action)
        self.args = (f"action AMI {action} non envoyée : {why}",)


class FencedSend:
    """``send`` (an ``AmiConnection.send``) allowed only while ``elector`` holds the lease."""

    def __init__(self, send: Send, elector: Elector) -> None:
        self._send = send
        self._elector = elector

    async def __call__(self, action: Mapping[str, Any], timeout: float | None = None) -> Any:
        # The check and the write run in one step of the loop (the send writes before its
        # first await): no other task runs between them.
        try:
            self._elector.check()
        except NotLeader as exc:
            raise NotDriving(str(action.get("Action")), exc) from exc
        return await self._send(action, timeout)
