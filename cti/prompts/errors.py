"""Errors of the voice menu's sounds, in words a telecom technician reads.

::

    SoundError
    ├── RecordingRejected   an uploaded recording is refused (unreadable, empty, too long)
    └── SpeechFailed        speech synthesis could not render a text (program missing...)
"""

from __future__ import annotations


class SoundError(Exception):
    """Base class of the voice menu's sound errors."""


class RecordingRejected(SoundError):
    """The uploaded file cannot become a prompt; the message says why, in French."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"« {filename} » refusé : {reason}")
        self.filename = filename
        self.reason = reason


class SpeechFailed(SoundError):
    """The text could not be rendered as speech."""

    def __init__(self, text: str, reason: str) -> None:
        short = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(f"synthèse vocale impossible pour « {short} » : {reason}")
        self.text = text
        self.reason = reason
