"""FastAGI server over real TCP, against a scripted client that speaks like Asterisk 22.

The environment block is taken from the recordings (agi-01/agi-02), sent in the two TCP
writes they show; replies use the recorded formats, including the hangup sequence
``200 result=-1 endpos=28000`` and ``HANGUP`` followed by a 511 reply, and res_agi's answer to
a sound file it does not have (``200 result=-1 endpos=0``, the channel still up). Prompts are
voiced by the product's sound library (real speech synthesis into a temporary directory).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cti.prompts.library import SoundLibrary
from ivr_scripts.commands import Choice, Outcome, RecordCallback
from ivr_scripts.fastagi import AgiConfig, serve
from ivr_scripts.tree import Tree, parse_tree
from ivr_scripts.validate import load_tree, tree_prompts

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
DEAD = "511 Command Not Permitted on a dead channel or intercept routine\n"
Responder = Callable[[str], list[str] | None]  # None: Asterisk closes the connection


@dataclass
class Recorded:
    calls: list[tuple[str, str | None, list[str], Outcome | None, list[Choice]]] = field(
        default_factory=list
    )
    callbacks: list[tuple[str, str | None, str]] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def record(
        self,
        uniqueid: str,
        call_id: str | None,
        path: list[str],
        outcome: Outcome | None,
        choices: list[Choice],
    ) -> None:
        self.calls.append((uniqueid, call_id, path, outcome, choices))
        self.event.set()


def env_chunks(captures_dir: Path, name: str) -> list[str]:
    records = [json.loads(line) for line in (captures_dir / name).read_text().splitlines()]
    chunks = [r["data"] for r in records if r["dir"] == "asterisk"][:2]
    assert chunks[1].endswith("\n\n")
    return chunks


VOICE = SoundLibrary(Path("unused"))  # replaced per test by the ``voice`` fixture


def said(voice: SoundLibrary, line: str) -> str:
    """The words of the sound a STREAM FILE / GET DATA line plays ("" if none of ours)."""
    return voice.words(line.split()[2]) or ""


def normal_replies(digits: dict[str, str], voice: SoundLibrary = VOICE) -> Responder:
    """Recorded-style answers; ``digits`` maps the start of a question's words to the keys
    typed while it is said."""

    def respond(line: str) -> list[str]:
        if line.startswith("GET VARIABLE CHANNEL(linkedid)"):
            return ["200 result=1 (1795378979.12)\n"]
        if line.startswith("STREAM FILE"):
            return ["200 result=0 endpos=8710\n"]
        if line == "CHANNEL STATUS":
            return ["200 result=6\n"]
        if line.startswith("GET DATA"):
            words = said(voice, line)
            typed = next((k for start, k in digits.items() if words.startswith(start)), "")
            return [f"200 result={typed}\n" if typed else "200 result= (timeout)\n"]
        if line.startswith("SET VARIABLE") or line == "HANGUP":
            return ["200 result=1\n"]
        return ["200 result=0\n"]

    return respond


async def asterisk_call(port: int, chunks: list[str], respond: Responder) -> list[str]:
    """Play Asterisk's side of one FastAGI session; return the commands received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk.encode())
        await writer.drain()
    received: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode().rstrip("\n")
        received.append(line)
        replies = respond(line)
        if replies is None:
            break
        for reply in replies:
            writer.write(reply.encode())
            await writer.drain()
    writer.close()
    await writer.wait_closed()
    return received


def set_variables(commands: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in commands:
        if line.startswith("SET VARIABLE "):
            _, _, name, value = line.split(" ", 3)
            out[name] = value.strip('"')
    return out


@pytest.fixture
def tree() -> Tree:
    return load_tree(DEFAULT_TREE)


@pytest.fixture
def voice(sounds_dir: Path) -> SoundLibrary:
    return SoundLibrary(sounds_dir)


MAIN_MENU = "Pour l'état civil"
CASE_PROMPT = "Veuillez saisir le numéro de votre dossier"
CLOSED_MENU = "Pour laisser un message à nos services"


async def start(
    tree_provider: Callable[[], Tree],
    rec: Recorded,
    voice: SoundLibrary,
    config: AgiConfig | None = None,
) -> tuple[asyncio.Server, int]:
    cases = {"12345": "accepté"}
    server = await serve(
        "127.0.0.1",
        0,
        tree_provider,
        lambda ref: cases.get(ref),
        rec.record,
        config=config,
        on_callback=lambda u, n, t: rec.callbacks.append((u, n, t)),
        clock=lambda: OPEN,
        voice=voice,
    )
    port = server.sockets[0].getsockname()[1]
    return server, port


async def test_normal_call_routes_to_urbanisme(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    rec = Recorded()
    server, port = await start(lambda: tree, rec, voice)
    async with server:
        commands = await asterisk_call(
            port,
            env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"),
            normal_replies({MAIN_MENU: "2"}, voice),
        )
        await rec.event.wait()
    assert commands[0] == "GET VARIABLE CHANNEL(linkedid)"
    # Every prompt is a sound file of speech in Asterisk's sounds directory, whole sentences.
    assert commands[1].startswith("STREAM FILE cti/") and commands[1].endswith(' ""')
    assert said(voice, commands[1]) == "Bonjour et bienvenue à la mairie."
    assert commands[2].startswith("GET DATA cti/") and commands[2].endswith(" 5000 1")
    assert said(voice, commands[2]).startswith(MAIN_MENU)
    assert set_variables(commands) == {
        "__CTI_IVR_PATH": "bienvenue/horaires_mairie/menu_principal/horaires_urbanisme/"
        "vers_urbanisme",
        "CTI_IVR_CHOICE": "urbanisme",
        "CTI_PRIORITY": "0",
        "IVR_RESULT": "route",
    }
    assert said(voice, commands[-1]) == "Nous vous mettons en relation avec le service urbanisme."
    assert not [c for c in commands if "SayAlpha" in c]
    [(uniqueid, call_id, path, outcome, choices)] = rec.calls
    assert (uniqueid, call_id) == ("1795378979.13", "1795378979.12")
    assert path[-1] == "vers_urbanisme"
    assert outcome == Outcome("routed", "urbanisme", "vers_urbanisme")
    assert choices == [Choice("menu_principal", "2")]


async def test_case_status_is_said_in_words_and_digits(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    rec = Recorded()
    server, port = await start(lambda: tree, rec, voice)
    replies = normal_replies({MAIN_MENU: "6", CASE_PROMPT: "12345"}, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), replies
        )
        await rec.event.wait()
    asked = [c for c in commands if c.startswith("GET DATA") and c.endswith(" 8000 10")]
    assert len(asked) == 1 and said(voice, asked[0]).startswith(CASE_PROMPT)
    assert 'EXEC SayDigits "12345"' in commands
    streamed = [said(voice, c) for c in commands if c.startswith("STREAM FILE")]
    assert "accepté" in streamed  # the case's status, by speech synthesis
    assert commands[-1] == "HANGUP"
    variables = set_variables(commands)
    assert variables["IVR_RESULT"] == "done"
    assert variables["__CTI_CITIZEN"] == "dossier:12345"
    assert rec.calls[0][3] == Outcome("self_service", None, "merci_dossier")


async def test_caller_hangs_up_during_playback(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    """As recorded in agi-01: STREAM FILE interrupted, result=-1 endpos=28000; the next
    command (our CHANNEL STATUS) gets HANGUP then 511."""
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=28000\n"]
        if line == "CHANNEL STATUS":
            return ["HANGUP\n", DEAD]
        return normal_replies({}, voice)(line)

    server, port = await start(lambda: tree, rec, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-01-caller-hangup-mid-script.jsonl"), respond
        )
        await rec.event.wait()
    assert commands[0] == "GET VARIABLE CHANNEL(linkedid)"
    assert commands[1].startswith("STREAM FILE cti/")
    assert commands[2:] == ["CHANNEL STATUS"]
    [(uniqueid, _, path, outcome, choices)] = rec.calls
    assert uniqueid == "1795379162.72"
    assert path == ["bienvenue"]
    assert outcome == Outcome("caller_hung_up", None, "bienvenue")
    assert choices == []
    assert voice.missing_prompts([]) == []  # a hang-up is not a missing sound


async def test_connection_closed_after_result_minus_one_is_a_hang_up(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    rec = Recorded()

    def respond(line: str) -> list[str] | None:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=12000\n"]
        if line == "CHANNEL STATUS":
            return None  # Asterisk closes the FastAGI connection
        return normal_replies({}, voice)(line)

    server, port = await start(lambda: tree, rec, voice)
    async with server:
        await asterisk_call(
            port, env_chunks(captures_dir, "agi-01-caller-hangup-mid-script.jsonl"), respond
        )
        await rec.event.wait()
    assert rec.calls[0][3] == Outcome("caller_hung_up", None, "bienvenue")


async def test_a_sound_file_asterisk_lacks_is_not_a_hang_up(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    """res_agi answers STREAM FILE of a file it does not have with result=-1 endpos=0 on a
    live channel: the menu goes on, the sound is reported missing."""
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=0\n"]
        return normal_replies({MAIN_MENU: "1"}, voice)(line)

    server, port = await start(lambda: tree, rec, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), respond
        )
        await rec.event.wait()
    assert commands[2] == "CHANNEL STATUS"
    assert set_variables(commands)["CTI_IVR_CHOICE"] == "etat-civil"
    assert rec.calls[0][3] == Outcome("routed", "etat-civil", "vers_etat_civil")
    missing = voice.missing_prompts(tree_prompts(tree))
    assert [m.path for m in missing] == ["nodes.bienvenue.prompt", "nodes.vers_etat_civil.prompt"]
    assert all("Asterisk ne trouve pas" in m.reason for m in missing)


async def test_a_recording_asterisk_lacks_gives_way_to_speech(
    captures_dir: Path, voice: SoundLibrary, sounds_dir: Path
) -> None:
    """A prompt naming one of Asterisk's own files: played by name; when Asterisk says it
    lacks it, the same words are said by speech synthesis and the call goes on."""
    own = sounds_dir / "fr" / "mairie" / "accueil-test.wav"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_bytes(b"RIFF")  # what Asterisk will not read: it answers result=-1
    tree = parse_tree(
        "format_version: 1\nstart: m\nnodes:\n"
        "  m: {kind: message, prompt: {text: Bienvenue., file: mairie/accueil-test}, next: r}\n"
        "  r: {kind: route, service: ccas}\n"
    )
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line == 'STREAM FILE mairie/accueil-test ""':
            return ["200 result=-1 endpos=0\n"]
        return normal_replies({}, voice)(line)

    server, port = await start(lambda: tree, rec, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), respond
        )
        await rec.event.wait()
    assert commands[1:3] == ['STREAM FILE mairie/accueil-test ""', "CHANNEL STATUS"]
    assert commands[3].startswith("STREAM FILE cti/") and said(voice, commands[3]) == "Bienvenue."
    assert rec.calls[0][3] == Outcome("routed", "ccas", "r")
    [missing] = voice.missing_prompts(tree_prompts(tree))
    assert missing.path == "nodes.m.prompt" and missing.file == "mairie/accueil-test"


async def test_hangup_line_then_511_mid_menu(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line.startswith("GET DATA"):
            return ["HANGUP\n", DEAD]
        return normal_replies({}, voice)(line)

    server, port = await start(lambda: tree, rec, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-01-caller-hangup-mid-script.jsonl"), respond
        )
        await rec.event.wait()
    assert commands[-1].startswith("GET DATA cti/") and commands[-1].endswith(" 5000 1")
    assert set_variables(commands) == {}
    _, _, path, outcome, _ = rec.calls[0]
    assert path == ["bienvenue", "horaires_mairie", "menu_principal"]
    assert outcome == Outcome("caller_hung_up", None, "menu_principal")


async def test_new_tree_applies_on_next_call(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    published = [tree]
    rec = Recorded()
    server, port = await start(lambda: published[-1], rec, voice)
    chunks = env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl")
    async with server:
        await asterisk_call(port, chunks, normal_replies({}))
        await rec.event.wait()
        rec.event.clear()
        published.append(
            parse_tree("format_version: 1\nstart: r\nnodes:\n  r: {kind: route, service: ccas}\n")
        )
        commands = await asterisk_call(port, chunks, normal_replies({}))
        await rec.event.wait()
    assert rec.calls[0][3] == Outcome("routed", "accueil", "vers_accueil")
    assert rec.calls[1][3] == Outcome("routed", "ccas", "r")
    assert set_variables(commands)["CTI_IVR_CHOICE"] == "ccas"


async def test_broken_tree_provider_lets_dialplan_default(
    captures_dir: Path, voice: SoundLibrary
) -> None:
    rec = Recorded()

    def broken() -> Tree:
        raise RuntimeError("base indisponible")

    server, port = await start(broken, rec, voice)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), normal_replies({})
        )
        await rec.event.wait()
    assert set_variables(commands) == {}  # dialplan falls back to accueil by itself
    assert rec.calls[0][2:4] == ([], None)


async def callback_call(
    captures_dir: Path, tree: Tree, voice: SoundLibrary, replies: dict[str, str], pres: str = "0"
) -> tuple[list[RecordCallback], list[str]]:
    """One call reaching the closed-hours callback node; what was recorded, what was sent."""
    rec = Recorded()
    records: list[RecordCallback] = []
    server = await serve(
        "127.0.0.1",
        0,
        lambda: tree,
        lambda ref: None,
        rec.record,
        on_callback=lambda u, r: records.append(r),
        clock=lambda: datetime(2026, 12, 25, 10, 0, tzinfo=PARIS),
        voice=voice,
    )
    port = server.sockets[0].getsockname()[1]
    chunks = env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl")
    chunks = [c.replace("agi_callingpres: 0\n", f"agi_callingpres: {pres}\n") for c in chunks]
    async with server:
        commands = await asterisk_call(
            port, chunks, normal_replies({CLOSED_MENU: "2", **replies}, voice)
        )
        await rec.event.wait()
    return records, commands


async def test_callback_is_recorded(captures_dir: Path, tree: Tree, voice: SoundLibrary) -> None:
    # The shown number is said back and confirmed with 1.
    records, commands = await callback_call(captures_dir, tree, voice, {"Tapez 1": "1"})
    assert [(r.number, r.topic, r.service, r.window) for r in records] == [
        ("+33612345678", "rappel à la réouverture", "accueil", "a_la_reouverture")
    ]
    assert records[0].path[-1] == "rappel_reouverture"
    assert any("SayDigits" in c and "0612345678" in c for c in commands)
    assert commands[-1] == "HANGUP"


async def test_a_withheld_caller_keys_her_number(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    records, commands = await callback_call(
        captures_dir, tree, voice, {"Composez le numéro": "0698765432#"}, pres="33"
    )
    assert [r.number for r in records] == ["+33698765432"]
    assert not any("SayDigits" in c for c in commands)  # her number is never said


async def test_a_number_that_does_not_read_is_asked_three_times_then_recorded_without(
    captures_dir: Path, tree: Tree, voice: SoundLibrary
) -> None:
    records, commands = await callback_call(
        captures_dir, tree, voice, {"Tapez 1": "2", "Composez le numéro": "12#"}
    )
    assert [(r.number, r.topic) for r in records] == [(None, "rappel à la réouverture")]
    asked = [said(voice, c) for c in commands if c.startswith("GET DATA")]
    assert sum(words.startswith("Composez le numéro") for words in asked) == 3
    assert commands[-1] == "HANGUP"
