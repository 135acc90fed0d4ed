"""The menu's sound files: what Asterisk plays for each prompt, made and delivered by us.

Theory of operation: every file is ``<CTI_SOUNDS_DIR>/cti/<key>.wav`` (8 kHz mono WAV), named
by a hash of its content's origin, so a file never changes under a name Asterisk may have
cached: ``key`` = hash of voice + text for speech, hash of the converted sound for a recording
uploaded in the editor (the prompt's ``file`` becomes ``cti/<key>``). Asterisk plays it

* by name, ``cti/<key>``, when it reads the same directory (same machine: ``CTI_SOUNDS_DIR`` is
  its sounds directory, e.g. ``/var/lib/asterisk/sounds``);
* by URL, ``<CTI_SOUNDS_URL>/cti/<key>.wav``, when it runs elsewhere: this product serves the
  directory at ``/sounds/`` and Asterisk fetches through ``res_http_media_cache``.

A prompt's sound (``sound``) is its recording when present, else its speech, rendered once
(on publication or first need) in a worker thread and kept. Another name in ``file`` is one of
Asterisk's own sounds, playable only when Asterisk reads our directory and the file is there.
What could not be played is remembered (``missing``, ``failed``) for the editor and /healthz.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cti.prompts import audio
from cti.prompts.errors import SoundError
from ivr_scripts.prompt import Prompt

log = logging.getLogger(__name__)

PREFIX = "cti/"
KEY_RE = re.compile(r"^[0-9a-f]{24}$")
# Formats Asterisk finds for a name without extension (its own sounds placed by hand).
ASTERISK_FORMATS = ("wav", "WAV", "wav16", "gsm", "ulaw", "alaw", "sln", "sln16", "g722", "ogg")


@dataclass(frozen=True, slots=True)
class Recording:
    """An uploaded recording, ready: the prompt's ``file`` and its length."""

    file: str
    seconds: float


@dataclass(frozen=True, slots=True)
class MissingSound:
    """A prompt whose sound is missing: where, what it should say, why."""

    path: str | None
    file: str | None
    text: str
    reason: str


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]


class SoundLibrary:
    """The ``Voice`` of the product's FastAGI server, and the store of its sound files."""

    def __init__(
        self,
        directory: Path,
        url: str | None = None,
        voice: str = "fr",
        max_recording_seconds: float = 120.0,
        language: str = "fr",
    ) -> None:
        self.directory = directory
        self.url = url.rstrip("/") if url else None
        self.voice = voice
        self.max_recording_seconds = max_recording_seconds
        self.language = language
        self._rendering: dict[str, asyncio.Future[None]] = {}
        self._words: dict[str, str] = {}  # speech key -> text (what a call heard)
        self._failed: dict[str, str] = {}  # speech key -> why synthesis failed
        self._missing: dict[str, str] = {}  # sound Asterisk could not play -> its text

    # -- names and files ----------------------------------------------------------------

    def speech_key(self, text: str) -> str:
        return _key("espeak-ng", self.voice, text)

    def play_name(self, key: str) -> str:
        """What ``STREAM FILE`` gets for ``cti/<key>``."""
        if self.url is not None:
            return f"{self.url}/{PREFIX}{key}.wav"
        return PREFIX + key

    def path_of(self, key: str) -> Path:
        return self.directory / "cti" / f"{key}.wav"

    def served_file(self, key: str) -> Path | None:
        """The file behind ``/sounds/cti/<key>.wav``, if we have it."""
        if not KEY_RE.match(key):
            return None
        path = self.path_of(key)
        return path if path.is_file() else None

    def words(self, sound: str) -> str | None:
        """The text a speech sound says (``cti/<key>`` or its URL), if it is one of ours."""
        name = sound.removesuffix(".wav")
        return self._words.get(name.rsplit("/", 1)[-1])

    def has(self, file: str) -> bool:
        """Whether a prompt's ``file`` can be played: our recording, or Asterisk's own sound
        in the directory it shares with us."""
        if file.startswith(PREFIX):
            key = file[len(PREFIX) :]
            return bool(KEY_RE.match(key)) and self.path_of(key).is_file()
        if self.url is not None or ".." in file.split("/") or file.startswith("/"):
            return False
        for base in (self.directory / self.language, self.directory):
            if any((base / f"{file}.{ext}").is_file() for ext in ASTERISK_FORMATS):
                return True
        return False

    def _file_name(self, file: str) -> str:
        if file.startswith(PREFIX):
            return self.play_name(file[len(PREFIX) :])
        return file

    # -- recordings ---------------------------------------------------------------------

    async def add_recording(self, data: bytes, filename: str) -> Recording:
        """Convert and keep an uploaded recording. Raises ``RecordingRejected``."""
        staging = self.directory / "cti" / f".upload-{uuid.uuid4().hex}.wav"
        seconds = await asyncio.to_thread(
            audio.convert_recording, data, filename, self.max_recording_seconds, staging
        )
        key = _key("recording", hashlib.sha256(staging.read_bytes()).hexdigest())
        await asyncio.to_thread(staging.replace, self.path_of(key))
        log.info("enregistrement « %s » déposé : %s%s (%.1f s)", filename, PREFIX, key, seconds)
        return Recording(PREFIX + key, seconds)

    # -- speech -------------------------------------------------------------------------

    async def render(self, text: str) -> str:
        """Render ``text`` as speech once (concurrent callers wait for the same rendering);
        its key. Raises ``SpeechFailed``."""
        key = self.speech_key(text)
        self._words[key] = text
        if self.path_of(key).is_file():
            return key
        pending = self._rendering.get(key)
        if pending is None:
            pending = asyncio.ensure_future(
                asyncio.to_thread(audio.render_speech, text, self.voice, self.path_of(key))
            )
            self._rendering[key] = pending
            pending.add_done_callback(lambda _f: self._rendering.pop(key, None))
        try:
            await asyncio.shield(pending)
        except SoundError as exc:
            if self._failed.get(key) != str(exc):
                log.error("%s", exc)
            self._failed[key] = str(exc)
            raise
        self._failed.pop(key, None)
        return key

    async def prepare(self, prompts: Iterable[Prompt]) -> None:
        """Render, in advance, the speech of the prompts that need it (failures are logged
        and reported, never raised)."""
        for prompt in prompts:
            if prompt.file is None or not self.has(prompt.file):
                try:
                    await self.render(prompt.text)
                except SoundError:
                    pass

    # -- the Voice protocol (ivr_scripts.sounds) ----------------------------------------

    async def sound(self, text: str, file: str | None) -> str | None:
        if file is not None:
            if self.has(file):
                return self._file_name(file)
            log.warning(
                "enregistrement « %s » introuvable : le texte « %s » est lu par synthèse vocale",
                file,
                text[:60],
            )
        return await self.speech(text)

    async def speech(self, text: str) -> str | None:
        if not text.strip():
            return None
        try:
            return self.play_name(await self.render(text))
        except SoundError:
            return None

    def missing(self, sound: str, text: str) -> None:
        if sound not in self._missing:
            log.error(
                "Asterisk ne trouve pas le son « %s » (message « %s ») : vérifiez "
                "CTI_SOUNDS_DIR (même machine) ou CTI_SOUNDS_URL (autre machine)",
                sound,
                text[:60],
            )
        self._missing[sound] = text

    # -- what is missing ----------------------------------------------------------------

    def missing_prompts(self, prompts: Iterable[tuple[str, Prompt]]) -> list[MissingSound]:
        """The prompts (with their dotted path) whose sound is missing, then the other
        sounds Asterisk said it could not play."""
        out: list[MissingSound] = []
        named: set[str] = set()
        for path, prompt in prompts:
            reasons: list[str] = []
            if prompt.file is not None:
                played = self._file_name(prompt.file)
                named.add(played)
                if not self.has(prompt.file):
                    reasons.append(
                        f"enregistrement « {prompt.file} » introuvable : le texte est lu par "
                        "synthèse vocale"
                    )
                elif played in self._missing:
                    reasons.append(f"Asterisk ne trouve pas « {played} »")
            if prompt.file is None or reasons:
                key = self.speech_key(prompt.text)
                spoken = self.play_name(key)
                named.add(spoken)
                if key in self._failed:
                    reasons.append(self._failed[key])
                if spoken in self._missing:
                    reasons.append(f"Asterisk ne trouve pas la synthèse vocale « {spoken} »")
            if reasons:
                out.append(MissingSound(path, prompt.file, prompt.text, " ; ".join(reasons)))
        for sound, text in self._missing.items():
            if sound not in named:
                out.append(MissingSound(None, sound, text, f"Asterisk ne trouve pas « {sound} »"))
        return out
