"""FastAGI server over real TCP, against a scripted client that speaks like Asterisk 22.

The environment block is taken from the recordings (agi-01/agi-02), sent in the two TCP
writes they show; replies use the recorded formats, including the hangup sequence
``200 result=-1 endpos=28000`` and ``HANGUP`` followed by a 511 reply.
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

from ivr_scripts.commands import Choice, Outcome
from ivr_scripts.fastagi import AgiConfig, serve
from ivr_scripts.tree import Tree, parse_tree
from ivr_scripts.validate import load_tree

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
OPEN = datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
DEAD = "511 Command Not Permitted on a dead channel or intercept routine\n"
Responder = Callable[[str], list[str]]


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


def normal_replies(digits: dict[str, str]) -> Responder:
    """Recorded-style answers; ``digits`` maps a GET DATA prompt file to the keys typed."""

    def respond(line: str) -> list[str]:
        if line.startswith("GET VARIABLE CHANNEL(linkedid)"):
            return ["200 result=1 (1795378979.12)\n"]
        if line.startswith("STREAM FILE"):
            return ["200 result=0 endpos=8710\n"]
        if line.startswith("GET DATA"):
            typed = digits.get(line.split()[2], "")
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
        for reply in respond(line):
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


async def start(
    tree_provider: Callable[[], Tree], rec: Recorded, config: AgiConfig | None = None
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
    )
    port = server.sockets[0].getsockname()[1]
    return server, port


async def test_normal_call_routes_to_urbanisme(captures_dir: Path, tree: Tree) -> None:
    rec = Recorded()
    server, port = await start(lambda: tree, rec)
    async with server:
        commands = await asterisk_call(
            port,
            env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"),
            normal_replies({"mairie/menu-principal": "2"}),
        )
        await rec.event.wait()
    assert commands[:3] == [
        "GET VARIABLE CHANNEL(linkedid)",
        'STREAM FILE mairie/bienvenue ""',
        "GET DATA mairie/menu-principal 5000 1",
    ]
    assert set_variables(commands) == {
        "__CTI_IVR_PATH": "bienvenue/horaires_mairie/menu_principal/horaires_urbanisme/"
        "vers_urbanisme",
        "CTI_IVR_CHOICE": "urbanisme",
        "CTI_PRIORITY": "0",
        "IVR_RESULT": "route",
    }
    assert commands[-1].startswith("EXEC SayAlpha")  # no TTS configured: spelled fallback
    [(uniqueid, call_id, path, outcome, choices)] = rec.calls
    assert (uniqueid, call_id) == ("1795378979.13", "1795378979.12")
    assert path[-1] == "vers_urbanisme"
    assert outcome == Outcome("routed", "urbanisme", "vers_urbanisme")
    assert choices == [Choice("menu_principal", "2")]


async def test_case_status_with_tts(captures_dir: Path, tree: Tree) -> None:
    rec = Recorded()
    server, port = await start(lambda: tree, rec, AgiConfig(tts_application="Flite"))
    replies = normal_replies({"mairie/menu-principal": "6", "mairie/saisir-dossier": "12345"})
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), replies
        )
        await rec.event.wait()
    assert "GET DATA mairie/saisir-dossier 8000 10" in commands
    assert 'EXEC SayDigits "12345"' in commands
    assert 'EXEC Flite "accepté"' in commands
    assert 'EXEC Flite "Merci de votre appel. Au revoir."' not in commands  # recorded file
    assert commands[-1] == "HANGUP"
    variables = set_variables(commands)
    assert variables["IVR_RESULT"] == "done"
    assert variables["__CTI_CITIZEN"] == "dossier:12345"
    assert rec.calls[0][3] == Outcome("self_service", None, "merci_dossier")


async def test_caller_hangs_up_during_playback(captures_dir: Path, tree: Tree) -> None:
    """As recorded in agi-01: STREAM FILE interrupted, result=-1 endpos=28000."""
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=28000\n"]
        if line.startswith("GET DATA"):  # what Asterisk says next: HANGUP, then 511
            return ["HANGUP\n", DEAD]
        return normal_replies({})(line)

    server, port = await start(lambda: tree, rec)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-01-caller-hangup-mid-script.jsonl"), respond
        )
        await rec.event.wait()
    assert commands == ["GET VARIABLE CHANNEL(linkedid)", 'STREAM FILE mairie/bienvenue ""']
    [(uniqueid, _, path, outcome, choices)] = rec.calls
    assert uniqueid == "1795379162.72"
    assert path == ["bienvenue"]
    assert outcome == Outcome("caller_hung_up", None, "bienvenue")
    assert choices == []


async def test_hangup_line_then_511_mid_menu(captures_dir: Path, tree: Tree) -> None:
    rec = Recorded()

    def respond(line: str) -> list[str]:
        if line.startswith("GET DATA"):
            return ["HANGUP\n", DEAD]
        return normal_replies({})(line)

    server, port = await start(lambda: tree, rec)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-01-caller-hangup-mid-script.jsonl"), respond
        )
        await rec.event.wait()
    assert commands[-1] == "GET DATA mairie/menu-principal 5000 1"
    assert set_variables(commands) == {}
    _, _, path, outcome, _ = rec.calls[0]
    assert path == ["bienvenue", "horaires_mairie", "menu_principal"]
    assert outcome == Outcome("caller_hung_up", None, "menu_principal")


async def test_new_tree_applies_on_next_call(captures_dir: Path, tree: Tree) -> None:
    published = [tree]
    rec = Recorded()
    server, port = await start(lambda: published[-1], rec)
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


async def test_broken_tree_provider_lets_dialplan_default(captures_dir: Path) -> None:
    rec = Recorded()

    def broken() -> Tree:
        raise RuntimeError("base indisponible")

    server, port = await start(broken, rec)
    async with server:
        commands = await asterisk_call(
            port, env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"), normal_replies({})
        )
        await rec.event.wait()
    assert set_variables(commands) == {}  # dialplan falls back to accueil by itself
    assert rec.calls[0][2:4] == ([], None)


async def test_callback_is_recorded(captures_dir: Path, tree: Tree) -> None:
    rec = Recorded()
    server = await serve(
        "127.0.0.1",
        0,
        lambda: tree,
        lambda ref: None,
        rec.record,
        on_callback=lambda u, n, t: rec.callbacks.append((u, n, t)),
        clock=lambda: datetime(2026, 12, 25, 10, 0, tzinfo=PARIS),
    )
    port = server.sockets[0].getsockname()[1]
    async with server:
        commands = await asterisk_call(
            port,
            env_chunks(captures_dir, "agi-02-ivr-normal-from-04.jsonl"),
            normal_replies({"mairie/ferme-menu": "2"}),
        )
        await rec.event.wait()
    assert rec.callbacks == [("1795378979.13", "0612345678", "rappel à la réouverture")]
    assert commands[-1] == "HANGUP"
