"""An AMI session's output as Asterisk writes it: a client that does not read loses the session.

Asterisk 22 (``main/manager.c``, ``send_string``) writes each event and response to the
session's non-blocking socket, waiting at most ``writetimeout`` (``manager.conf``, 100 ms by
default) for the kernel to take it; a write that does not complete in that time sets the
session's ``write_error`` and its thread ends the session and closes the socket (verbose 2:
``Manager 'cti' logged off from 127.0.0.1``). Nothing of its own piles up for a client that
has stopped reading: what waits is the kernel's socket buffer.

asyncio's transport instead keeps in memory, past the kernel's buffer, whatever it cannot
write yet, without a bound. :class:`SessionOutput` watches that backlog: when for
``writetimeout`` not a byte of it has been taken by the kernel, the session is given up
(``on_stalled``). Asterisk times each write; here a client that takes anything within the
timeout keeps its session, which is what a client reading slowly gets from Asterisk too (each
write finds a little room).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

WRITE_TIMEOUT = 0.1  # manager.conf's writetimeout default, 100 ms


@dataclass(eq=False)
class SessionOutput:
    writer: asyncio.StreamWriter
    on_stalled: Callable[[int], None]  # given the bytes still waiting; drops the session
    timeout: float = WRITE_TIMEOUT
    handed: int = 0  # bytes handed to the transport since the session opened
    _taken: int = 0  # of those, what the kernel had taken at the last look
    _check: asyncio.TimerHandle | None = None
    _last_turn: bool = False

    def write(self, data: bytes) -> None:
        self.writer.write(data)
        self.handed += len(data)
        if self._check is None and self.waiting():
            self._arm(self.timeout)

    def waiting(self) -> int:
        """Bytes the kernel has not taken yet (nothing once the socket is closing)."""
        transport = self.writer.transport
        return 0 if transport.is_closing() else transport.get_write_buffer_size()

    def cancel(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None

    def _arm(self, delay: float) -> None:
        self._taken = self.handed - self.waiting()
        self._check = asyncio.get_running_loop().call_later(delay, self._judge)

    def _judge(self) -> None:
        self._check = None
        waiting = self.waiting()
        if not waiting:
            self._last_turn = False
        elif self.handed - waiting > self._taken:  # the client read some: its time starts again
            self._last_turn = False
            self._arm(self.timeout)
        elif not self._last_turn:
            # One more turn of the loop first: when the reader shares this event loop (the
            # demo), what it read in the turn that ran this check shows as room only at the next.
            self._last_turn = True
            self._arm(0)
        else:
            self.on_stalled(waiting)
