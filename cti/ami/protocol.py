"""panoramisk's AMI protocol with its rough edges filed off.

What panoramisk 1.4 does with bad input, and what this subclass does instead:

- it decodes every TCP read on its own with ``errors='ignore'``: invalid UTF-8 vanishes
  silently from names, and a character split across two reads is lost. We decode with an
  incremental decoder and ``errors='replace'`` (U+FFFD shows where bytes were bad) and log it;
- its buffer of not-yet-terminated text grows without bound (a peer that never sends the
  empty line eats memory). We cap a frame at ``max_frame_chars``; a longer one is logged,
  truncated in the log, and skipped up to its end. Frames are split by
  ``cti.ami.frames.FrameSplitter`` and decoded by ``frame_message``, as in the replays;
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

from cti.ami.frames import MAX_FRAME_CHARS, Frame, FrameSplitter, collapse, describe

log = logging.getLogger("cti.ami")

BANNER = "Asterisk Call Manager/"


def shorten(text: str, limit: int = 200) -> str:
    text = text.replace("\r\n", "\\r\\n")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def frame_message(frame: Frame) -> Message | None:
    """The one mapping the service reads for a frame, on the live link and in replays
    (``cti.replay``) alike: repeated headers collapsed (``frames.collapse``; a repeat without
    a meaning is logged), keys case-insensitive as panoramisk's. ``None`` for a frame with
    neither Event nor Response (the banner's line, garbage)."""
    collapsed = collapse(frame)
    if collapsed.repeated:
        log.warning(
            "AMI frame (%s) repeats %s: the first value is kept",
            describe(frame),
            ", ".join(collapsed.repeated),
        )
    headers = collapsed.headers
    if "Event" not in headers and "Response" not in headers:
        return None
    return Message(headers)


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
        self._splitter = FrameSplitter(self.max_frame_chars, on_skip=self._skip)
        self.frames_skipped = 0

    def data_received(self, data: bytes) -> None:
        if self.factory is not None:
            self.factory.bytes_received += len(data)
        text = self._decoder.decode(data)
        if self.version is None and text.startswith(BANNER):
            banner, _, text = text.partition("\r\n")
            self.version = banner[len(BANNER) :].strip()
        for frame in self._splitter.feed(text):
            self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        if "\ufffd" in frame.text:
            log.warning(
                "AMI frame with bytes that are not UTF-8 (shown as U+FFFD): %s",
                shorten(frame.text.strip()),
            )
        try:
            message = frame_message(frame)
            if message is None:
                self._skip(frame.text.strip(), "neither Event nor Response")
                return
            self.handle_message(message)
        except Exception:
            self._count_skipped()
            log.exception(
                "AMI frame skipped, it could not be handled: %s", shorten(frame.text.strip())
            )

    def _skip(self, block: str, why: str) -> None:
        self._count_skipped()
        log.warning("skipped AMI input (%s): %s", why, shorten(block))

    def _count_skipped(self) -> None:
        self.frames_skipped += 1
        if self.factory is not None:
            self.factory.frames_skipped += 1

    def connection_lost(self, exc: Exception | None) -> None:
        pending = self._splitter.pending
        if pending.strip():
            self._skip(pending, "frame cut by the disconnect")
        super().connection_lost(exc)
