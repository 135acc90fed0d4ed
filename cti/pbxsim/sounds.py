"""The sound files the simulated Asterisk has, and how long each one plays.

Asterisk plays a name from its sounds directory (``<dir>/<language>/<name>.<format>``, then
``<dir>/<name>.<format>``) or an http(s) URL fetched by ``res_http_media_cache``; a name it
cannot find is a failed command (``STREAM FILE``: ``200 result=-1 endpos=0``; ``GET DATA``:
``200 result=-1`` at once, as a real Asterisk 22 answered in tests/asterisk/). The simulated
PBX has the core sounds the recordings played, plus the
directories it is given (the product's ``CTI_SOUNDS_DIR`` when they share the machine), plus
what it fetches from URLs (the product's ``/sounds/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import urllib.request
import wave
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_RATE = 8000
# Core sounds (Debian's asterisk-core-sounds) the menu and the recordings use, and their
# lengths: hello-world endpos=8710 (agi-02); vm-intro was cut at endpos=28000 (agi-01).
CORE_SOUNDS = {"hello-world": 8710 / SAMPLE_RATE, "vm-intro": 5.0, "beep": 0.25, "silence/1": 1.0}
FORMATS = ("wav", "WAV", "wav16", "gsm", "ulaw", "alaw", "sln", "sln16", "g722", "ogg")
FETCH_TIMEOUT = 5.0  # seconds


def is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


def _seconds(path: Path) -> float:
    if path.suffix.lower() == ".wav":
        with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
        return 0.0
    return 3.0  # another format: its length does not matter to the simulation


@dataclass
class PbxSounds:
    """Sounds of the simulated PBX: ``seconds(name)`` is None for a missing file."""

    directories: tuple[Path, ...] = ()
    core: dict[str, float] = field(default_factory=lambda: dict(CORE_SOUNDS))
    _fetched: dict[str, float | None] = field(default_factory=dict)

    def seconds(self, name: str, language: str = "fr") -> float | None:
        if is_url(name):
            return self._fetched.get(name)
        if name in self.core:
            return self.core[name]
        if ".." in name.split("/"):
            return None
        for directory in self.directories:
            for base in (directory / language, directory):
                for ext in FORMATS:
                    path = base / f"{name}.{ext}"
                    if path.is_file():
                        return _seconds(path)
        return None

    async def fetch(self, url: str) -> None:
        """Fetch a URL once, as res_http_media_cache does (a failure: the file is missing)."""
        if url not in self._fetched:
            self._fetched[url] = await asyncio.to_thread(_download, url)


def _download(url: str) -> float | None:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            data = response.read()
    except (OSError, ValueError):
        return None
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        tmp.write(data)
        tmp.flush()
        return _seconds(Path(tmp.name)) or None
