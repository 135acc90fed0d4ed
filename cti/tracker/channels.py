"""Reading Asterisk channel names: Local channel halves and agents' interfaces.

``Local/201@agents-00000007;1`` is half 1 of the Local pair ``Local/201@agents-00000007``;
half 2 runs the dialplan at ``201@agents``. A real phone is one channel, ``PJSIP/201-0000000a``:
the endpoint name followed by a sequence number.
"""

from __future__ import annotations

import re

_SEQUENCE = re.compile(r"-[0-9a-fA-F]{8}$")


def local_half(name: str) -> tuple[str, int] | None:
    """``("Local/201@agents-00000007", 1)`` for a Local channel name, else None."""
    if not name.startswith("Local/") or len(name) < 3 or name[-2] != ";":
        return None
    half = name[-1]
    if half not in "12":
        return None
    return name[:-2], int(half)


def interface_id(name: str) -> str:
    """The agent's extension or endpoint behind a dialled channel name.

    ``Local/201@agents-00000007;1`` -> ``201``; ``PJSIP/201-0000000a`` -> ``201``;
    anything unexpected is returned whole rather than guessed at.
    """
    tech, sep, rest = name.partition("/")
    if not sep:
        return name
    if tech == "Local":
        exten, at, _ = rest.partition("@")
        return exten if at else rest
    rest = _SEQUENCE.sub("", rest)
    return rest.split("/", 1)[0] or name
