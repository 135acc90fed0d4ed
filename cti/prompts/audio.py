"""The programs that make the menu's sound files: espeak-ng speaks, sox converts.

Every file we hand to Asterisk is a WAV of 8 kHz, mono, 16-bit signed samples: Asterisk's
``wav`` format, which it plays without transcoding on a telephone call (``STREAM FILE name``
finds ``name.wav``). These functions block (they wait for a program): call them off the event
loop. Each writes its result to a temporary file and renames it, so a reader never sees half a
file.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from pathlib import Path

from cti.prompts.errors import RecordingRejected, SpeechFailed

RATE = 8000
RUN_TIMEOUT = 60.0  # seconds a program may take on one file
_SOX_OUT = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run a program; raises FileNotFoundError when it is not installed."""
    return subprocess.run(args, capture_output=True, timeout=RUN_TIMEOUT, check=False)


def wav_seconds(path: Path) -> float:
    """Length of a WAV file in seconds (``wave.Error``/``EOFError`` if it is not one)."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def _publish(tmp: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out)


def render_speech(text: str, voice: str, out: Path) -> None:
    """Speak ``text`` in French with espeak-ng's ``voice`` into ``out`` (8 kHz WAV).

    Raises ``SpeechFailed`` (program missing, voice unknown, nothing rendered)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        raw, final = Path(work) / "espeak.wav", Path(work) / "speech.wav"
        try:
            spoken = _run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text])
        except FileNotFoundError:
            raise SpeechFailed(text, "espeak-ng n'est pas installé (paquet espeak-ng)") from None
        if spoken.returncode != 0 or not raw.is_file():
            detail = spoken.stderr.decode("utf-8", "replace").strip() or "sans message"
            raise SpeechFailed(text, f"espeak-ng (voix « {voice} ») a échoué : {detail}")
        _convert(raw, final, text)
        _publish(final, out)


def _convert(source: Path, target: Path, text: str) -> None:
    try:
        done = _run(["sox", str(source), *_SOX_OUT, str(target)])
    except FileNotFoundError:
        raise SpeechFailed(text, "sox n'est pas installé (paquet sox)") from None
    if done.returncode != 0:
        raise SpeechFailed(text, "sox n'a pas converti la voix en 8 kHz")


def convert_recording(data: bytes, filename: str, max_seconds: float, out: Path) -> float:
    """Turn an uploaded recording into ``out`` (8 kHz mono WAV); its length in seconds.

    Raises ``RecordingRejected``: not a sound sox reads, empty, or longer than
    ``max_seconds`` (nothing is written then)."""
    suffix = Path(filename).suffix.lower()
    if not suffix or len(suffix) > 6 or not suffix[1:].isalnum():
        suffix = ""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        source, final = Path(work) / f"upload{suffix}", Path(work) / "recording.wav"
        source.write_bytes(data)
        try:
            done = _run(["sox", str(source), *_SOX_OUT, str(final)])
        except FileNotFoundError:
            raise RecordingRejected(
                filename, "le convertisseur sox n'est pas installé sur le serveur (paquet sox)"
            ) from None
        if done.returncode != 0 or not final.is_file():
            raise RecordingRejected(
                filename,
                "ce n'est pas un fichier son lisible. Déposez un enregistrement WAV, FLAC ou "
                "OGG (de préférence un WAV).",
            )
        try:
            seconds = wav_seconds(final)
        except (wave.Error, EOFError):
            raise RecordingRejected(
                filename, "la conversion n'a pas donné de son lisible"
            ) from None
        if seconds <= 0:
            raise RecordingRejected(filename, "l'enregistrement est vide (aucun son)")
        if seconds > max_seconds:
            raise RecordingRejected(
                filename,
                f"l'enregistrement dure {_duration(seconds)}, le maximum est "
                f"{_duration(max_seconds)}. Raccourcissez-le.",
            )
        _publish(final, out)
        return seconds


def _duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if minutes == 0:
        return f"{rest} s"
    return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
