"""The simulated PBX's FastAGI side: Asterisk's replies as recorded, and calls through the menu.

Replays: a tiny FastAGI server sends the recorded commands of agi-01/agi-02 to a simulated call
and the replies must be the recorded ones. Normalised: the values that differ per call or per
lab (channel sequence number, uniqueid, thread id, the server's port, ``agi_priority`` 9 in
the lab's dialplan and 6 in the project's, the lab's extra ``agi_arg_2``) and, in agi-01, the
``endpos`` of the interrupted playback (how far the sound had got when she hung up).

Then the real ivr_scripts FastAGI server with the default tree, a Tuesday morning: the
tracker (through our AMI connection) sees each call wait for the service the keys chose, or
end in the menu.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cti.ami.connection import AmiConnection, AmiParams
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.agi_client import new_env
from cti.pbxsim.agi_commands import env_block, heard, respond, take_keys
from cti.pbxsim.channels import Headers
from cti.pbxsim.pbx import SimCall, Telephony
from cti.pbxsim.sounds import PbxSounds
from cti.pbxsim.traffic import DEFAULT_TREE, DEMO_MENU_TIME, default_menu, schedule, traffic
from cti.prompts.library import SoundLibrary
from cti.service import CallService
from cti.tracker.events import CallWaiting, DomainEvent
from ivr_scripts.commands import Choice, Outcome
from ivr_scripts.fastagi import serve
from ivr_scripts.validate import load_tree, tree_prompts

Recorded = list[tuple[str, str]]  # (dir, data)


def recording(captures_dir: Path, name: str) -> Recorded:
    lines = (captures_dir / name).read_text().splitlines()
    return [(r["dir"], r["data"]) for r in map(json.loads, lines)]


@dataclass
class Script:
    """A FastAGI server that sends the recorded commands, one per reply, and keeps it all."""

    commands: list[str]
    env: list[str] = field(default_factory=list)  # the TCP reads of the environment block
    replies: list[str] = field(default_factory=list)
    sent: dict[str, asyncio.Event] = field(default_factory=dict)  # command -> sent
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        block = ""
        while not block.endswith("\n\n"):
            chunk = (await reader.read(65536)).decode()
            assert chunk, "closed during the environment"
            self.env.append(chunk)
            block += chunk
        for command in self.commands:
            writer.write(command.encode())
            await writer.drain()
            self.sent.setdefault(command, asyncio.Event()).set()
            while True:  # an unsolicited HANGUP line may come before the reply
                line = (await reader.readline()).decode()
                self.replies.append(line)
                if line[:1].isdigit():
                    break
        writer.close()
        await writer.wait_closed()
        self.done.set()

    def when_sent(self, command: str) -> asyncio.Event:
        return self.sent.setdefault(command, asyncio.Event())


async def scripted_server(script: Script) -> tuple[asyncio.Server, tuple[str, int]]:
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    return server, (host, port)


def normalise_env(text: str) -> list[tuple[str, str]]:
    skip = {"agi_uniqueid", "agi_threadid", "agi_priority", "agi_arg_2"}
    pairs = []
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key in skip:
            continue
        value = re.sub(r"-[0-9a-f]{8};", "-N;", value)
        value = re.sub(r"agi://127\.0\.0\.1:\d+/", "agi://127.0.0.1:PORT/", value)
        pairs.append((key, value))
    return pairs


def agi_and_replies(rec: Recorded) -> tuple[list[str], list[str], list[str]]:
    env = [d for w, d in rec if w == "asterisk"][:2]
    commands = [d for w, d in rec if w == "agi"]
    replies = [d for w, d in rec if w == "asterisk"][2:]
    return env, commands, replies


class Events:
    """The simulated PBX's event stream, with a wait on a predicate."""

    def __init__(self) -> None:
        self.seen: list[Headers] = []
        self.changed = asyncio.Event()

    def emit(self, headers: Headers) -> None:
        self.seen.append(headers)
        self.changed.set()

    async def until(self, predicate: Callable[[dict[str, str]], bool]) -> dict[str, str]:
        async def wait() -> dict[str, str]:
            while True:
                for headers in self.seen:
                    if predicate(dict(headers)):
                        return dict(headers)
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), 10)


async def test_replay_of_agi_02_gives_the_recorded_replies(captures_dir: Path) -> None:
    env, commands, replies = agi_and_replies(
        recording(captures_dir, "agi-02-ivr-normal-from-04.jsonl")
    )
    script = Script(commands)
    server, address = await scripted_server(script)
    events = Events()
    tel = Telephony(events.emit, time_scale=0.001, safety_net=10_000, agi_address=address)
    async with server:
        call = tel.place_call("0612345678", "Dupont", talk=None, keys="")
        await asyncio.wait_for(script.done.wait(), 10)
        await events.until(lambda e: e.get("UserEvent") == "CtiWaiting")
    assert script.replies == replies
    # Same keys in the same order, values as normalised above, in the same two writes.
    assert [
        len(c.splitlines())
        for c in env_block(new_env(call.leg, address, "", ("0140000000", "normal")))
    ] == [len(c.splitlines()) for c in env]
    assert normalise_env("".join(script.env)) == normalise_env("".join(env))
    # The AGI() line in asterisk-conf/ (after CtiCallerId; 6 in the lab's dialplan).
    assert "agi_priority: 7\n" in "".join(script.env)
    # The script set IVR_RESULT but no CTI_IVR_CHOICE: the dialplan's default, accueil.
    assert (call.service, call.priority, call.leg.variables["AGISTATUS"]) == (
        "accueil",
        "0",
        "SUCCESS",
    )
    await tel.shutdown()


async def test_replay_of_agi_01_caller_hangs_up_during_the_playback(captures_dir: Path) -> None:
    env, commands, replies = agi_and_replies(
        recording(captures_dir, "agi-01-caller-hangup-mid-script.jsonl")
    )
    script = Script(commands)
    server, address = await scripted_server(script)
    events = Events()
    tel = Telephony(events.emit, time_scale=1.0, safety_net=10_000, agi_address=address)
    async with server:
        call = tel.place_call("0699001122", "Lambert", talk=None, keys="")
        # Playing vm-intro takes 5 s on the channel: she hangs up as soon as it starts.
        await asyncio.wait_for(script.when_sent('STREAM FILE vm-intro ""\n').wait(), 10)
        await events.until(lambda e: e.get("Command") == 'STREAM FILE vm-intro ""')
        tel.hangup_call(call)
        await asyncio.wait_for(script.done.wait(), 10)
        await asyncio.wait_for(call.ended.wait(), 10)

    def endpos(lines: list[str]) -> list[str]:
        return [re.sub(r"endpos=\d+", "endpos=N", line) for line in lines]

    assert endpos(script.replies) == endpos(replies)
    assert "".join(script.replies).count("HANGUP\n") == 1
    # Recording 16's order: her half goes at once, the dialplan's when the script is done.
    wanted = {"SoftHangupRequest", "HangupRequest", "Hangup", "AGIExecEnd"}
    seen = [
        (e["Event"], e["Channel"][-1], e.get("Result", ""))
        for e in map(dict, events.seen)
        if e["Event"] in wanted
    ]
    failed = ("AGIExecEnd", "2", "Failure")
    start = seen.index(failed)
    assert seen[start - 3 : start + 1] == [
        ("SoftHangupRequest", "1", ""),
        ("HangupRequest", "2", ""),
        ("Hangup", "1", ""),
        failed,
    ]
    assert seen[start + 1 :] == [
        ("AGIExecEnd", "2", "Command Not Permitted on a dead channel or intercept routine"),
        ("AGIExecEnd", "2", "Success"),
        ("SoftHangupRequest", "2", ""),
        ("Hangup", "2", ""),
    ]
    assert call.leg.variables["AGISTATUS"] == "HANGUP" and not tel.channels


def test_keys_are_typed_prompt_by_prompt() -> None:
    assert take_keys("1", 1) == ("1", False, "")
    assert take_keys("", 1) == ("", True, "")
    assert take_keys(",9", 1) == ("", True, "9")
    assert take_keys("202600087#1", 10) == ("202600087", False, "1")
    assert take_keys("123", 10) == ("123", True, "")


def test_traffic_types_the_default_trees_keys() -> None:
    assert default_menu() == {
        "etat-civil": "1",
        "urbanisme": "2",
        "ecoles": "3",
        "ccas": "4",
        "techniques": "5",
        "accueil": "9",
    }
    calls = schedule(60, 3600, seed=3)
    keys = [c.keys for c in calls]
    assert all(k is not None for k in keys)
    assert "7" in keys and any(k and k.startswith("6") for k in keys)
    routed = [c for c in calls if c.keys == default_menu()[c.service]]
    assert len(routed) > 0.7 * len(calls)
    assert schedule(60, 600, seed=3, services=["anglais"])[0].keys is None


# ------------------------------------------------------------------ the real voice menu


@dataclass
class MenuLog:
    outcomes: dict[str, Outcome | None] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(
        self,
        uniqueid: str,
        call_id: str | None,
        path: list[str],
        outcome: Outcome | None,
        choices: list[Choice],
    ) -> None:
        self.outcomes[call_id or uniqueid] = outcome
        self.changed.set()


class Desk:
    """Our AMI connection and call service, following the simulated PBX."""

    def __init__(self, pbx: SimulatedPbx) -> None:
        self.service = CallService()
        self.events: list[DomainEvent] = []
        self.changed = asyncio.Event()
        self.service.add_listener(self._on_event)
        params = AmiParams(port=pbx.port, secret="cti-secret", reconnect_min=0.05)
        self.conn = AmiConnection(
            params, self.service.on_ami_event, self.service.on_resync, self.service.on_link_state
        )

    def _on_event(self, event: DomainEvent) -> None:
        self.events.append(event)
        self.changed.set()

    def of(self, call: SimCall, kind: str) -> list[DomainEvent]:
        return [e for e in self.events if e.call_id == call.linkedid and e.type == kind]

    async def until(self, predicate: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), 10)


@pytest.fixture
def voice(sounds_dir: Path) -> SoundLibrary:
    """The product's sounds: speech synthesis written where the simulated PBX reads."""
    return SoundLibrary(sounds_dir)


@pytest.fixture
async def menu(voice: SoundLibrary) -> AsyncIterator[tuple[MenuLog, tuple[str, int]]]:
    log = MenuLog()
    tree = load_tree(DEFAULT_TREE)
    server = await serve(
        "127.0.0.1",
        0,
        lambda: tree,
        lambda ref: "en cours d'instruction" if ref == "202600001" else None,
        log.record,
        clock=lambda: DEMO_MENU_TIME,
        voice=voice,
    )
    async with server:
        yield log, server.sockets[0].getsockname()[:2]


@contextlib.asynccontextmanager
async def desk_on(
    address: tuple[str, int], sounds: PbxSounds | None = None
) -> AsyncIterator[tuple[SimulatedPbx, Desk]]:
    pbx = SimulatedPbx(
        time_scale=0.01, auth_delay=0.05, safety_net=10_000, agi_address=address, sounds=sounds
    )
    await pbx.start()
    desk = Desk(pbx)
    desk.conn.start()
    await desk.conn.wait_ready(10)
    yield pbx, desk
    await desk.conn.close()
    await pbx.close()


@pytest.fixture
async def desk(
    menu: tuple[MenuLog, tuple[str, int]], sounds_dir: Path
) -> AsyncIterator[tuple[SimulatedPbx, Desk]]:
    # Asterisk on the same machine: its sounds directory is where the product writes.
    async with desk_on(menu[1], PbxSounds((sounds_dir,))) as pair:
        yield pair


async def test_keys_for_etat_civil_wait_for_etat_civil(
    desk: tuple[SimulatedPbx, Desk], menu: tuple[MenuLog, tuple[str, int]]
) -> None:
    pbx, d = desk
    call = pbx.place_call("0612345678", "Dupont", talk=None, keys="1")
    await d.until(lambda: bool(d.of(call, "CallWaiting")))
    waiting = d.of(call, "CallWaiting")[0]
    assert isinstance(waiting, CallWaiting)
    assert (waiting.service, waiting.priority) == ("etat-civil", 0)
    assert call.leg.variables["CTI_IVR_PATH"] == "bienvenue/horaires_mairie/menu_principal/" + (
        "vers_etat_civil"
    )
    outcome = menu[0].outcomes[call.linkedid]
    assert outcome is not None and (outcome.kind, outcome.target) == ("routed", "etat-civil")


async def test_case_then_agent_waits_with_priority(desk: tuple[SimulatedPbx, Desk]) -> None:
    pbx, d = desk
    pbx.keep_emitted = True
    call = pbx.place_call("0612345678", "Dupont", talk=None, keys="6202600001#1")
    await d.until(lambda: bool(d.of(call, "CallWaiting")))
    waiting = d.of(call, "CallWaiting")[0]
    assert isinstance(waiting, CallWaiting) and waiting.service == "accueil"
    # The menu's priority reaches the tracker (named CtiPriority: the UserEvent's channel
    # snapshot already has a Priority header, the dialplan's step).
    assert waiting.priority == 1
    announced = [
        h
        for h in pbx.emitted
        if ("UserEvent", "CtiWaiting") in h and ("Linkedid", call.linkedid) in h
    ]
    assert announced[0][-4:] == [
        ("Pres", "allowed_not_screened"),
        ("Since", str(call.wait_start)),
        ("CtiPriority", "1"),
        ("Lang", "fr"),
    ]
    assert call.leg.variables["CTI_CITIZEN"] == "dossier:202600001"


async def test_opening_hours_end_in_the_menu(
    desk: tuple[SimulatedPbx, Desk], menu: tuple[MenuLog, tuple[str, int]], voice: SoundLibrary
) -> None:
    pbx, d = desk
    call = pbx.place_call("0612345678", "Dupont", talk=None, keys="7")
    await d.until(lambda: bool(d.of(call, "CallEnded")))
    await asyncio.wait_for(call.ended.wait(), 10)
    assert not d.of(call, "CallWaiting")
    assert call.leg.variables["IVR_RESULT"] == "done"
    outcome = menu[0].outcomes[call.linkedid]
    assert outcome is not None and outcome.kind == "self_service"
    assert not pbx.telephony.channels
    # What she heard: every prompt, whole sentences in a voice (speech synthesis played from
    # Asterisk's sounds directory), never spelled.
    said = [voice.words(sound) for sound in call.heard]
    assert [s[:40] if s else s for s in said] == [
        "Bonjour et bienvenue à la mairie.",
        "Pour l'état civil, les actes de naissanc",
        "La mairie vous accueille du lundi au ven",
        "Pour revenir au menu principal, tapez ét",
        "Merci de votre appel. Au revoir.",
    ]
    assert all(sound.startswith("cti/") for sound in call.heard)


async def test_a_sound_asterisk_lacks_is_not_a_hang_up(
    menu: tuple[MenuLog, tuple[str, int]], voice: SoundLibrary
) -> None:
    """Asterisk on another machine without CTI_SOUNDS_URL: it has none of the files. Each
    STREAM FILE answers result=-1 endpos=0 on a live channel, each GET DATA result=-1 at once;
    the menu goes on (the question is asked with a beep, the caller keys 1) and the call waits
    for état civil; the sounds are reported."""
    async with desk_on(menu[1], PbxSounds()) as (pbx, d):
        call = pbx.place_call("0612345678", "Dupont", talk=None, keys="1")
        await d.until(lambda: bool(d.of(call, "CallWaiting")))
    waiting = d.of(call, "CallWaiting")[0]
    assert isinstance(waiting, CallWaiting) and waiting.service == "etat-civil"
    outcome = menu[0].outcomes[call.linkedid]
    assert outcome is not None and (outcome.kind, outcome.target) == ("routed", "etat-civil")
    assert call.heard == ["beep"]
    missing = voice.missing_prompts(tree_prompts(load_tree(DEFAULT_TREE)))
    welcome = [m for m in missing if m.path == "nodes.bienvenue.prompt"]
    assert welcome and "Asterisk ne trouve pas" in welcome[0].reason


def test_a_missing_sound_file_fails_on_a_live_channel() -> None:
    """res_agi: a stream that does not open answers at once, endpos 0; the channel is up."""
    step, _ = respond('STREAM FILE mairie/absent ""', lambda _n: None, "", sounds=lambda _n: None)
    assert (step.reply, step.seconds) == ("200 result=-1 endpos=0", 0.0)
    status, _ = respond("CHANNEL STATUS", lambda _n: None, "")
    assert status.reply == "200 result=6"


def test_heard_is_the_file_played_or_the_text_said() -> None:
    assert heard('STREAM FILE mairie/bienvenue ""') == "mairie/bienvenue"
    assert heard("GET DATA mairie/menu-principal 5000 1") == "mairie/menu-principal"
    assert heard('EXEC SayAlpha "Bonjour et bienvenue"') == "Bonjour et bienvenue"
    assert heard('EXEC Flite "Bonjour\\, madame"') == "Bonjour, madame"
    assert heard('EXEC Playback "tt-monkeys,noanswer"') == "tt-monkeys"
    assert heard('EXEC VoiceMail "100@mairie,s"') is None
    assert heard("SET VARIABLE CTI_IVR_CHOICE accueil") is None


async def test_caller_hanging_up_mid_menu_ends_cleanly(
    desk: tuple[SimulatedPbx, Desk], menu: tuple[MenuLog, tuple[str, int]]
) -> None:
    pbx, d = desk
    log = menu[0]
    # Her patience (2 s) runs out early in the menu, while it speaks to her.
    call = pbx.place_call("0612345678", "Dupont", talk=2.0, keys="1")
    await d.until(lambda: bool(d.of(call, "CallEnded")))

    async def recorded() -> None:
        while call.linkedid not in log.outcomes:
            log.changed.clear()
            await log.changed.wait()

    await asyncio.wait_for(recorded(), 10)
    await asyncio.wait_for(call.ended.wait(), 10)
    assert not d.of(call, "CallWaiting")
    outcome = log.outcomes[call.linkedid]
    assert outcome is not None and outcome.kind == "caller_hung_up"
    assert call.leg.variables["AGISTATUS"] == "HANGUP"
    assert not pbx.telephony.channels


async def test_menu_unreachable_the_dialplan_defaults_to_accueil() -> None:
    closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    address = closed.sockets[0].getsockname()[:2]
    closed.close()
    await closed.wait_closed()
    async with desk_on(address) as (pbx, d):
        call = pbx.place_call("0612345678", "Dupont", talk=None, keys="1")
        await d.until(lambda: bool(d.of(call, "CallWaiting")))
        waiting = d.of(call, "CallWaiting")[0]
        assert isinstance(waiting, CallWaiting) and waiting.service == "accueil"
        assert call.leg.variables["AGISTATUS"] == "FAILURE"


def test_the_traffic_is_drawn_as_it_goes_and_is_the_same_as_the_schedule() -> None:
    # A year of calls at 600 a minute is never planned: the first ones come at once.
    endless = traffic(600, seed=3)
    first = list(itertools.islice(endless, 50))
    assert first == schedule(600, first[-1].at + 1e-6, seed=3)
    assert all(a.at <= b.at for a, b in itertools.pairwise(first))
