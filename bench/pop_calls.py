"""The call the screen-pop bench feeds: recording ``04-inbound-answered`` as a template.

The recorded call's event frames, chunk by chunk as Asterisk sent them, with what differs
between two calls (ids, channels, caller, agent) turned into placeholders; ``call_values``
gives call ``n`` its own, ``instantiate`` fills a frame in. ``ring`` is the agent's
``DialBegin``, the frame whose card ``pop_bench`` times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cti.ami.frames import FrameSplitter
from cti.replay import read_server_chunks

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT.parent / "shared" / "ami-captures"
RECORDING = CAPTURES / "04-inbound-answered.jsonl"

# What differs between two calls of the recording, and the placeholder standing for it.
_TEMPLATE_IDS = {
    "1795378979.12": "{u0}",  # the caller's Local pair, ;1 (Linkedid: the call's id)
    "1795378979.13": "{u1}",  # ;2, in the dialplan
    "1795378985.14": "{u2}",  # the agent's Local pair
    "1795378985.15": "{u3}",
    "from-pstn-00000006": "from-pstn-{n}",
    "agents-00000007": "agents-{n}",
    "0612345678": "{caller}",
}
_TEMPLATE_AGENT = re.compile(r"\b201\b")
# Session-level events of the recording, not part of a call.
_SESSION_EVENTS = {"FullyBooted", "SuccessfulAuth", "Goodbye", "Shutdown"}

# A frame: (header, value, value is a format string)
Frame = tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True)
class Burst:
    """Frames Asterisk sent in one go (one chunk of the recording), ``at`` seconds into it."""

    at: float
    frames: list[Frame]


@dataclass(frozen=True)
class CallTemplate:
    bursts: list[Burst]  # the call's event frames, chunk by chunk as recorded
    ring_burst: int  # the chunk holding the agent's DialBegin (the tracker's CallOffered)
    ring_frame: int  # its place in that chunk

    @property
    def ring(self) -> Frame:
        return self.bursts[self.ring_burst].frames[self.ring_frame]

    @property
    def before(self) -> list[Frame]:
        """Every frame up to the agent's DialBegin."""
        earlier = [f for b in self.bursts[: self.ring_burst] for f in b.frames]
        return earlier + self.bursts[self.ring_burst].frames[: self.ring_frame]

    @property
    def after(self) -> list[Frame]:
        later = [f for b in self.bursts[self.ring_burst + 1 :] for f in b.frames]
        return self.bursts[self.ring_burst].frames[self.ring_frame + 1 :] + later


def _placeholders(value: str) -> tuple[str, bool]:
    """``value`` as a format string if it holds something of the call's own, else as is."""
    escaped = out = value.replace("{", "{{").replace("}", "}}")
    for old, new in _TEMPLATE_IDS.items():
        out = out.replace(old, new)
    out = _TEMPLATE_AGENT.sub("{agent}", out)
    return (out, True) if out != escaped else (value, False)


def call_template(path: Path = RECORDING) -> CallTemplate:
    """The recorded call's event frames in their chunks, and where the agent's phone rings."""
    bursts: list[Burst] = []
    ring: tuple[int, int] | None = None
    splitter = FrameSplitter()
    start: float | None = None
    for t, data in read_server_chunks(path):
        frames: list[Frame] = []
        for raw in splitter.feed(data):
            headers = raw.as_dict()
            name = headers.get("Event")
            # Replies to the recorder's own actions (ActionID) reach no other AMI session.
            if name is None or name in _SESSION_EVENTS or "ActionID" in headers:
                continue
            if name == "DialBegin" and "@agents-" in headers.get("DestChannel", ""):
                ring = (len(bursts), len(frames))
            frames.append(tuple((k, *_placeholders(str(v))) for k, v in headers.items()))
        if frames:
            start = t if start is None else start
            bursts.append(Burst(t - start, frames))
    if ring is None:
        raise ValueError(f"{path}: no DialBegin to an agent's channel")
    return CallTemplate(bursts, *ring)


def instantiate(frame: Frame, values: dict[str, str]) -> dict[str, str]:
    return {k: v.format_map(values) if templated else v for k, v, templated in frame}


def call_values(n: int, agent: str, caller: str) -> dict[str, str]:
    ids = {f"u{k}": f"1800000000.{4 * n + k}" for k in range(4)}
    return {**ids, "n": f"{n:08x}", "agent": agent, "caller": caller}


def call_id(n: int) -> str:
    return call_values(n, "", "")["u0"]
