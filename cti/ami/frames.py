"""AMI framing: text in, header lists out, and back.

An AMI message is a block of ``Key: Value`` lines ended by ``\\r\\n``, closed by an empty
line. Keys may repeat (``Variable:`` in Originate, Status, Setvar...), so a frame is kept
as an ordered list of pairs; ``Frame.get`` returns the first value, ``Frame.get_all`` all.

``collapse`` turns a frame into the one mapping the service reads, deciding once what a
repeated header means: ``ChanVariable`` lines (manager.conf ``channelvars``; also
``DestChanVariable`` and the like) become a dict of variables, ``Output`` lines (``Command``)
one text, and any other repeated header keeps its first value and is reported, so that
nothing behind the edge ever meets a list where it expects a string.

``FrameSplitter`` is incremental: feed it whatever a TCP read returned (one message, ten,
or half of one) and it yields the complete frames. It never raises on bad input: lines
without ``": "`` (the banner, garbage) are kept apart in ``Frame.junk`` so the caller can
log them, and an oversized pending buffer is cut and reported instead of growing forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

EOL = "\r\n"
END = "\r\n\r\n"

# A real frame is a few kB at most; CoreShowChannels items are ~600 bytes.
MAX_FRAME_CHARS = 256 * 1024


@dataclass(slots=True)
class Frame:
    """One AMI message: ordered headers plus any lines that were not headers."""

    headers: list[tuple[str, str]]
    junk: list[str] = field(default_factory=list)
    text: str = field(default="", compare=False, repr=False)  # as received, for the log

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.headers:
            if k == key:
                return v
        lower = key.lower()
        for k, v in self.headers:
            if k.lower() == lower:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        lower = key.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def as_dict(self) -> dict[str, str]:
        """First value of each key, original case: for actions (the simulated PBX reads
        what our client sends). Events go through ``collapse``, live and in replays."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out.setdefault(k, v)
        return out

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action(self) -> str | None:
        return self.get("Action")


def parse_frame(block: str) -> Frame:
    """Parse one message block (without its closing empty line)."""
    headers: list[tuple[str, str]] = []
    junk: list[str] = []
    for line in block.split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if sep and key and " " not in key:
            headers.append((key, value))
        elif line.endswith(":") and " " not in line:
            # "Value:" with nothing after it: some Asterisk builds drop the space.
            headers.append((line[:-1], ""))
        else:
            junk.append(line)
    return Frame(headers, junk, block)


#: Headers Asterisk legitimately repeats, joined into one text (``Command`` output lines).
JOINED_HEADERS = frozenset({"output"})


def is_variables_header(key: str) -> bool:
    """``ChanVariable``, ``DestChanVariable``...: one ``NAME=value`` per line."""
    return key.lower().endswith("chanvariable")


@dataclass(frozen=True, slots=True)
class Collapsed:
    """A frame as one mapping, and the headers that were repeated without reason."""

    headers: dict[str, object]
    repeated: tuple[str, ...]


def collapse(frame: Frame) -> Collapsed:
    """One value per header: see the module's docstring for what a repeated header becomes."""
    out: dict[str, object] = {}
    seen: dict[str, str] = {}  # lower-case key -> key as first written
    repeated: list[str] = []
    for key, value in frame.headers:
        lower = key.lower()
        if is_variables_header(key):
            name, _, var_value = value.partition("=")
            variables = out.setdefault(seen.setdefault(lower, key), {})
            assert isinstance(variables, dict)
            variables.setdefault(name, var_value)
        elif lower not in seen:
            seen[lower] = key
            out[key] = value
        elif lower in JOINED_HEADERS:
            out[seen[lower]] = f"{out[seen[lower]]}\n{value}"
        elif key not in repeated:
            repeated.append(key)
    return Collapsed(out, tuple(repeated))


def describe(frame: Frame) -> str:
    """A frame named for the log: its Event or Response, and what identifies it."""
    parts = []
    for key in ("Event", "Response", "ActionID", "Channel", "Uniqueid"):
        value = frame.get(key)
        if value:
            parts.append(f"{key}: {value[:80]}")
    return ", ".join(parts) or "frame without Event or Response"


def encode_frame(headers: Iterable[tuple[str, str]]) -> bytes:
    """Encode headers as one AMI message, closing empty line included."""
    return ("".join(f"{k}: {v}{EOL}" for k, v in headers) + EOL).encode("utf-8")


SkipCallback = Callable[[str, str], None]


class FrameSplitter:
    """Incremental splitter: ``feed(text)`` yields every frame completed by ``text``.

    The live link and the replays split with this one class. A frame past ``max_frame_chars``
    is never parsed: it is reported to ``on_skip`` (its text, why) and skipped up to its
    end, which may come any number of reads later, the closing empty line itself split
    across two of them (while skipping, the last 3 characters are kept to see it)."""

    def __init__(
        self, max_frame_chars: int = MAX_FRAME_CHARS, on_skip: SkipCallback | None = None
    ) -> None:
        self._buffer = ""
        self._max = max_frame_chars
        self._on_skip = on_skip
        self._skipping = False
        self.dropped_chars = 0

    def feed(self, text: str) -> Iterator[Frame]:
        if self._skipping:
            text = self._buffer + text
            end = text.find(END)
            if end < 0:
                self.dropped_chars += len(text) - len(self._buffer)
                self._buffer = text[-(len(END) - 1) :]
                return
            text = text[end + len(END) :]
            self._buffer = ""
            self._skipping = False
        buffer = self._buffer + text
        self._buffer = ""
        start = 0
        while (end := buffer.find(END, start)) >= 0:
            block = buffer[start:end]
            start = end + len(END)
            if len(block) > self._max:
                self._skip(block)
            elif block.strip():
                yield parse_frame(block)
        rest = buffer[start:]
        if len(rest) > self._max:
            # A frame that never ends is garbage, not a message worth waiting for.
            self._skip(rest)
            rest = rest[-(len(END) - 1) :]
            self._skipping = True
        self._buffer = rest

    def _skip(self, text: str) -> None:
        self.dropped_chars += len(text)
        if self._on_skip is not None:
            self._on_skip(text, "frame larger than the limit")

    @property
    def pending(self) -> str:
        """Text received after the last complete frame (a cut frame at disconnect); empty
        while an oversized frame is being skipped (it was reported already)."""
        return "" if self._skipping else self._buffer
