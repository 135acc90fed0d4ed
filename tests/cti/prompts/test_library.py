"""The sound library with the real programs: espeak-ng speaks French, sox makes 8 kHz WAV."""

from __future__ import annotations

import asyncio
import subprocess
import wave
from pathlib import Path

import pytest

from cti.prompts.errors import RecordingRejected
from cti.prompts.library import SoundLibrary
from ivr_scripts.prompt import Prompt


def wav_format(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        return rate, w.getnchannels(), w.getsampwidth(), w.getnframes() / rate


def tone(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> bytes:
    args = ["-n", "-r", str(rate), "-c", str(channels), str(path), "synth", str(seconds)]
    subprocess.run(["sox", *args, "sine", "440"], check=True)
    return path.read_bytes()


async def test_speech_is_a_playable_8khz_mono_wav_rendered_once(tmp_path: Path) -> None:
    library = SoundLibrary(tmp_path)
    text = "Bonjour et bienvenue à la mairie."
    first, second = await asyncio.gather(library.speech(text), library.speech(text))
    assert first == second and first is not None and first.startswith("cti/")
    [file] = (tmp_path / "cti").glob("*.wav")
    assert first == f"cti/{file.stem}"  # played by name, without extension
    rate, channels, width, seconds = wav_format(file)
    assert (rate, channels, width) == (8000, 1, 2)
    assert 0.5 < seconds < 10
    assert library.words(first) == text
    assert await library.speech("Au revoir.") != first  # another text, another file


async def test_sounds_over_http_are_named_by_url(tmp_path: Path) -> None:
    library = SoundLibrary(tmp_path, url="http://cti.mairie.local:8000/sounds/")
    name = await library.speech("Bonjour.")
    assert name is not None and name.startswith("http://cti.mairie.local:8000/sounds/cti/")
    assert name.endswith(".wav")
    key = name.rsplit("/", 1)[-1].removesuffix(".wav")
    assert library.served_file(key) == tmp_path / "cti" / f"{key}.wav"
    assert library.served_file("../../etc/passwd") is None


async def test_a_recording_is_converted_for_asterisk(tmp_path: Path) -> None:
    library = SoundLibrary(tmp_path / "sounds")
    data = tone(tmp_path / "studio.wav", 1.5)
    recording = await library.add_recording(data, "studio.wav")
    assert recording.file.startswith("cti/") and 1.4 < recording.seconds < 1.6
    assert library.has(recording.file)
    rate, channels, width, _ = wav_format(library.path_of(recording.file.removeprefix("cti/")))
    assert (rate, channels, width) == (8000, 1, 2)
    # The prompt naming it plays it; the recording's name does not change with its words.
    assert await library.sound("Bonjour.", recording.file) == recording.file


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: b"ceci n'est pas un son", "ce n'est pas un fichier son lisible"),
        (lambda d: tone(d / "long.wav", 3.2, rate=8000, channels=1), "dure 3 s, le maximum"),
    ],
    ids=["not-a-sound", "too-long"],
)
async def test_a_wrong_recording_is_refused_in_french_and_nothing_is_kept(
    tmp_path: Path, make: object, reason: str
) -> None:
    library = SoundLibrary(tmp_path / "sounds", max_recording_seconds=2)
    assert callable(make)
    with pytest.raises(RecordingRejected) as refused:
        await library.add_recording(make(tmp_path), "accueil.wav")
    assert reason in str(refused.value) and "« accueil.wav » refusé" in str(refused.value)
    assert list((tmp_path / "sounds" / "cti").glob("*.wav")) == []


async def test_speech_that_cannot_be_rendered_is_reported(tmp_path: Path) -> None:
    library = SoundLibrary(tmp_path, voice="voix-inexistante")
    prompt = Prompt(text="Bonjour.")
    assert await library.sound(prompt.text, None) is None
    [missing] = library.missing_prompts([("nodes.bienvenue.prompt", prompt)])
    assert missing.path == "nodes.bienvenue.prompt"
    assert "synthèse vocale impossible" in missing.reason and "voix-inexistante" in missing.reason
