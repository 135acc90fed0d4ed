"""What the FastAGI edge needs to voice a prompt: the ``Voice`` protocol.

Theory of operation: the interpreter hands over a prompt's words and, if it has one, the name
of its recording. A ``Voice`` turns that into a sound Asterisk plays (``STREAM FILE``/``GET
DATA`` argument: a name in its sounds directory, without extension, or an http(s) URL): the
recording when it is there, else the words rendered by speech synthesis. When Asterisk still
cannot play it (``result=-1`` on a live channel) the edge tells the voice (``missing``) and
asks for the speech instead. ``FilesOnly`` is the voice of a bare FastAGI server: recordings
as named, no speech.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Voice(Protocol):
    async def sound(self, text: str, file: str | None) -> str | None:
        """The sound to play for a prompt: its recording if present, else its speech;
        None when there is nothing to play."""
        ...

    async def speech(self, text: str) -> str | None:
        """The words rendered by speech synthesis; None when synthesis is not possible."""
        ...

    def missing(self, sound: str, text: str) -> None:
        """Asterisk could not play ``sound`` (which was to say ``text``)."""
        ...


class FilesOnly:
    """Plays recordings by the name the menu gives; nothing for a prompt without one."""

    async def sound(self, text: str, file: str | None) -> str | None:
        return file

    async def speech(self, text: str) -> str | None:
        return None

    def missing(self, sound: str, text: str) -> None:
        log.warning("son « %s » introuvable sur Asterisk (message « %s »)", sound, text[:60])
