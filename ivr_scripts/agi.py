"""AGI wire protocol, pure helpers: environment block, replies, argument quoting.

Theory of operation (as recorded on Asterisk 22, see ``ami-captures/agi-0*.jsonl``): on
connect Asterisk sends ``agi_key: value`` lines ending with ``\\n``, then an empty line; the
block may arrive in several TCP reads. Each command is one line; each reply is one line
``<code> result=<value> [(<data>)] [endpos=<n>]`` — ``200 result=1 (0612345678)``,
``200 result= (timeout)``, ``200 result=-1 endpos=28000``. ``result=-1`` only says the
command failed: the caller hung up (agi-01) *or* the sound file does not exist (``STREAM FILE``
of a missing file answers ``200 result=-1 endpos=0`` on a live channel). When the caller hangs
up, Asterisk sends an unsolicited ``HANGUP`` line before the next reply, and commands on the
dead channel answer ``511 Command Not Permitted on a dead channel or intercept routine``;
``CHANNEL STATUS`` on a live channel answers ``200 result=6`` (up, agi-02).
Usage errors are multi-line ``520-...`` ending with a ``520 End of proper usage.`` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ivr_scripts.errors import AgiProtocolError

HANGUP_LINE = "HANGUP"
DEAD_CHANNEL = 511
_REPLY_RE = re.compile(
    r"^(?P<code>\d{3})(?:[ -](?P<rest>.*))?$",
)
_RESULT_RE = re.compile(
    r"^result=(?P<result>\S*)(?:\s+\((?P<data>.*)\))?(?:\s+endpos=(?P<endpos>-?\d+))?\s*$"
)


@dataclass(frozen=True)
class AgiReply:
    """One parsed reply line."""

    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def dead_channel(self) -> bool:
        return self.code == DEAD_CHANNEL

    @property
    def failed(self) -> bool:
        """``result=-1`` on a 200 reply: the caller left, or the sound file is missing."""
        return self.code == 200 and self.result == "-1"


def parse_env(lines: Iterable[str]) -> dict[str, str]:
    """``agi_x: y`` lines (without the final empty line) to a dict."""
    env: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            raise AgiProtocolError(f"ligne d'environnement AGI invalide : {line!r}")
        env[key.strip()] = value[1:] if value.startswith(" ") else value
    return env


def parse_reply(line: str) -> AgiReply:
    """Parse one reply line (without its ``\\n``)."""
    m = _REPLY_RE.match(line.strip())
    if m is None:
        raise AgiProtocolError(f"réponse AGI illisible : {line!r}")
    code, rest = int(m.group("code")), (m.group("rest") or "")
    if code != 200:
        return AgiReply(code, text=rest)
    r = _RESULT_RE.match(rest)
    if r is None:
        return AgiReply(code, text=rest)
    endpos = r.group("endpos")
    return AgiReply(
        code,
        result=r.group("result"),
        data=r.group("data"),
        endpos=int(endpos) if endpos is not None else None,
        text=rest,
    )


def quote(arg: str) -> str:
    """Quote one AGI argument (AGI splits on spaces; backslash escapes)."""
    cleaned = arg.replace("\r", " ").replace("\n", " ")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def app_arg(text: str) -> str:
    """Escape commas so an application receives ``text`` as one argument."""
    return text.replace("\\", " ").replace(",", "\\,")
