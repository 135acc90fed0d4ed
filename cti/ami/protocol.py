"""panoramisk's AMI protocol with its rough edges filed off.

What panoramisk 1.4 does with bad input, and what this subclass does instead:

- it decodes every TCP read on its own with ``errors='ignore'``: invalid UTF-8 vanishes
  silently from names, and a character split across two reads is lost. We decode with an
  incremental decoder and ``errors='replace'`` (U+FFFD shows where bytes were bad) and log it;
- its buffer of not-yet-terminated text grows without bound (a peer that never sends the
  empty line eats memory). We cap a frame at ``max_frame_chars``; a longer one is logged,
  truncated in the log, and skipped up to its end;
- a block with neither ``Event`` nor ``Response`` is dropped silently; we log it;
- a header repeated within a frame becomes a list, which the code behind (and panoramisk's
  own ``handle_message``: ``Event: Hangup`` twice) meets as a TypeError inside
  ``data_received``, and asyncio drops the link with the rest of the read. Frames are parsed
  once, by ``cti.ami.frames``, and ``collapse`` decides what a repeated header means
  (``ChanVariable`` lines: a dict of variables; others: the first value, with a warning);
- any exception while handling one frame (parsing it, matching it to an action, the service
  behind) is logged with the frame and that frame is skipped: the link and the frames after
  it in the same read go on;
- text left in the buffer when the link drops (a frame cut by the disconnect) is forgotten
  silently; we log it.
"""

from __future__ import annotations

import codecs
import logging
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from cti.ami.frames import MAX_FRAME_CHARS, collapse, describe, parse_frame

log = logging.getLogger("cti.ami")

EOL2 = "\r\n\r\n"
BANNER = "Asterisk Call Manager/"


def shorten(text: str, limit: int = 200) -> str:
    text = text.replace("\r\n", "\\r\\n")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


class RobustAMIProtocol(AMIProtocol):  # type: ignore[misc]
    max_frame_chars = MAX_FRAME_CHARS
    version: str | None  # set by panoramisk, read here before it is

    def __init__(self, manager: Any = None) -> None:
        super().__init__()
        self._manager = manager

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # Bound before the first byte arrives (panoramisk binds it later, in a callback).
        self.factory = self._manager
        self.encoding = "utf-8"
        self.log = log
        if self._manager is not None:
            self.config = self._manager.config
            self._manager.protocol = self
            self._manager.responses = self.responses
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._discarding = False
        self.frames_skipped = 0

    def data_received(self, data: bytes) -> None:
        if self.factory is not None:
            self.factory.bytes_received += len(data)
        text = self._decoder.decode(data)
        if self.version is None and text.startswith(BANNER):
            banner, _, text = text.partition("\r\n")
            self.version = banner[len(BANNER) :].strip()
        if self._discarding:
            # While skipping, ``_pending`` keeps only the last 3 characters: the end of the
            # oversized frame may be split across reads ("\r\n\r" | "\n").
            text = self._pending + text
            end = text.find(EOL2)
            if end < 0:
                self._pending = text[-(len(EOL2) - 1) :]
                return
            text = text[end + len(EOL2) :]
            self._pending = ""
            self._discarding = False
        blocks = (self._pending + text).split(EOL2)
        self._pending = blocks.pop()
        for block in blocks:
            self._handle_block(block)
        if len(self._pending) > self.max_frame_chars:
            self._skip(self._pending, "frame larger than the limit")
            self._pending = self._pending[-(len(EOL2) - 1) :]
            self._discarding = True

    def _handle_block(self, block: str) -> None:
        block = block.strip()
        if not block:
            return
        if len(block) > self.max_frame_chars:
            self._skip(block, "frame larger than the limit")
            return
        if "\ufffd" in block:
            log.warning(
                "AMI frame with bytes that are not UTF-8 (shown as U+FFFD): %s", shorten(block)
            )
        try:
            self._handle_frame(block)
        except Exception:
            self._count_skipped()
            log.exception("AMI frame skipped, it could not be handled: %s", shorten(block))

    def _handle_frame(self, block: str) -> None:
        frame = parse_frame(block)
        collapsed = collapse(frame)
        if collapsed.repeated:
            log.warning(
                "AMI frame (%s) repeats %s: the first value is kept",
                describe(frame),
                ", ".join(collapsed.repeated),
            )
        headers = collapsed.headers
        if "Event" not in headers and "Response" not in headers:
            self._skip(block, "neither Event nor Response")
            return
        self.handle_message(Message(headers))

    def _skip(self, block: str, why: str) -> None:
        self._count_skipped()
        log.warning("skipped AMI input (%s): %s", why, shorten(block))

    def _count_skipped(self) -> None:
        self.frames_skipped += 1
        if self.factory is not None:
            self.factory.frames_skipped += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self._pending.strip() and not self._discarding:  # a skipped frame is told once
            self._skip(self._pending, "frame cut by the disconnect")
            self._pending = ""
        super().connection_lost(exc)
