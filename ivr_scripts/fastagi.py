"""FastAGI server: the thin asyncio edge that runs a menu tree on each Asterisk call.

Theory of operation: ``from-pstn`` calls ``AGI(agi://host:4573/ivr,${CTI_DID})``. For each
connection we read the environment block, fetch the *currently published* tree from
``tree_provider()`` (so a newly published tree applies from the next call), start the pure
``Interpreter`` and execute its commands as AGI commands, feeding the answers back:

* ``Play``/``Say`` -> ``STREAM FILE <sound> ""``: the sound comes from the ``Voice``
  (``ivr_scripts.sounds``): the prompt's recording, else its words by speech synthesis
  rendered by the product; ``Say`` of digits -> ``EXEC SayDigits``; ``GetDigits`` ->
  ``GET DATA <sound> <ms> <n>`` (a key pressed during the prompt is taken). Text is never
  spelled letter by letter (SayAlpha took a minute per sentence);
* ``SetVariable`` -> ``SET VARIABLE`` (``__`` prefix when inherited);
* ``LookupCase`` -> ``case_lookup`` (run in a thread: it may query a database);
* ``GotoWait`` -> nothing: we close the connection and the dialplan goes on to ``cti-wait``
  with ``CTI_IVR_CHOICE``/``CTI_PRIORITY`` set (``IVR_RESULT=route``);
* ``Voicemail`` -> ``EXEC VoiceMail``, ``Transfer`` -> ``EXEC Dial``, ``Hangup`` -> ``HANGUP``
  (``IVR_RESULT=done`` was set so the dialplan hangs up too).

A waiting caller who keys 1 (``cti-wait``'s « tapez 1 pour être rappelé ») comes back through
``AGI(agi://host:4573/ivr,${CTI_DID},rappel)``: the script reads her service, menu path and
``WAIT_START`` from the channel and runs the callback dialogue (``WaitCallback``) rather than
the menu; its ``RecordCallback`` carries her place in line. It records no menu path.

A caller hanging up shows as an unsolicited ``HANGUP`` line, a ``511`` reply or EOF: the
interpreter is fed ``CallerHungUp`` and the script ends cleanly. ``result=-1`` alone is not a
hang-up: a missing sound file gives it too (``200 result=-1 endpos=0``), so the edge asks
``CHANNEL STATUS``. A hung-up channel answers with ``HANGUP``/``511``/EOF; a live one with
its state: the sound was missing, the voice is told (``missing``, for the log, the editor and
/healthz), the speech of the same words is tried instead, and the menu goes on. In every case
``on_path_recorded(uniqueid, call_id, path, outcome, choices)`` is called once per call.
If anything fails before the menu sets its variables, the dialplan's defaults route the
call to ``accueil``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr_scripts.agi import HANGUP_LINE, AgiReply, app_arg, parse_env, parse_reply, quote
from ivr_scripts.callback_dialog import WaitCallback, readable
from ivr_scripts.commands import (
    CallContext,
    CallerHungUp,
    CaseFound,
    CaseLookup,
    CaseNotFound,
    Choice,
    Command,
    DigitsEntered,
    GetDigits,
    GotoWait,
    Hangup,
    Input,
    LookupCase,
    Outcome,
    Play,
    PlaybackDone,
    RecordCallback,
    Say,
    SetVariable,
    Timeout,
    Transfer,
    Voicemail,
)
from ivr_scripts.errors import IvrError
from ivr_scripts.interpreter import Interpreter
from ivr_scripts.sounds import FilesOnly, Voice
from ivr_scripts.tree import Tree
from ivr_scripts.validate import load_tree

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
MAX_ENV_LINES = 200
WAIT_CALLBACK_ARG = "rappel"  # cti-wait's key 1: AGI(${AGI_URL},${CTI_DID},rappel)

TreeProvider = Callable[[], Tree]
PathRecorder = Callable[[str, str | None, list[str], Outcome | None, list[Choice]], None]
CallbackRecorder = Callable[[str, RecordCallback], None]  # uniqueid, the request
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AgiConfig:
    """How commands become AGI commands on this PBX."""

    silent_prompt: str = "beep"  # what GET DATA plays for a question with no sound at all
    transfer_dial: str = "PJSIP/{number}@trunk"
    transfer_timeout_s: int = 60
    voicemail_options: str = "s"


def _paris_now() -> datetime:
    return datetime.now(PARIS)


class CallerGone(Exception):
    """The channel is dead (HANGUP line, 511 or EOF)."""


class AgiChannel:
    """One FastAGI connection: send a command line, read its reply."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.hung_up = False

    async def read_env(self) -> dict[str, str]:
        lines: list[str] = []
        while len(lines) < MAX_ENV_LINES:
            raw = await self._reader.readline()
            if not raw:
                raise CallerGone("connexion fermée pendant l'environnement AGI")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                return parse_env(lines)
            lines.append(line)
        raise IvrError("environnement AGI trop long")

    async def _read_line(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            self.hung_up = True
            raise CallerGone("connexion fermée par Asterisk")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def command(self, line: str) -> AgiReply:
        """Send one command; raise ``CallerGone`` when the channel is dead."""
        if self.hung_up:
            raise CallerGone("canal déjà raccroché")
        self._writer.write((line + "\n").encode())
        await self._writer.drain()
        text = await self._read_line()
        while text == HANGUP_LINE or text.startswith("520-"):
            if text == HANGUP_LINE:
                self.hung_up = True
            text = await self._read_line()
        reply = parse_reply(text)
        if reply.dead_channel:
            self.hung_up = True
            raise CallerGone(f"canal mort : {text}")
        if not reply.ok:
            log.warning("AGI %r -> %s", line, text)
        return reply

    async def check_alive(self) -> None:
        """After a ``result=-1``: raise ``CallerGone`` unless the channel is still up.

        A hung-up channel makes Asterisk send ``HANGUP`` before the next reply (then ``511``),
        or close the connection; a live one answers ``CHANNEL STATUS`` with its state."""
        reply = await self.command("CHANNEL STATUS")
        if self.hung_up or not reply.ok or reply.failed:
            self.hung_up = True
            raise CallerGone(f"canal raccroché (CHANNEL STATUS : {reply.text})")

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass


class CallSession:
    """Runs one call: interpreter commands <-> AGI commands."""

    def __init__(
        self,
        channel: AgiChannel,
        config: AgiConfig,
        case_lookup: CaseLookup,
        on_callback: CallbackRecorder | None,
        uniqueid: str,
        voice: Voice,
    ) -> None:
        self.channel, self.config = channel, config
        self.case_lookup, self.on_callback = case_lookup, on_callback
        self.uniqueid = uniqueid
        self.voice = voice

    async def run(self, interp: Interpreter | WaitCallback, batch: list[Command]) -> None:
        while batch:
            answer: Input | None = None
            try:
                for cmd in batch:
                    answer = await self.execute(cmd)
            except CallerGone:
                answer = CallerHungUp()
            if answer is None:
                return
            batch = interp.feed(answer)

    async def execute(self, cmd: Command) -> Input | None:
        chan, cfg = self.channel, self.config
        if isinstance(cmd, Play):
            await self._say(cmd.text, cmd.file)
            return PlaybackDone()
        if isinstance(cmd, Say):
            if cmd.mode == "digits":
                digits = "".join(c for c in cmd.text if c.isdigit() or c in "*#")
                await chan.command(f"EXEC SayDigits {quote(digits)}")
            else:
                await self._say(cmd.text, None)
            return PlaybackDone()
        if isinstance(cmd, GetDigits):
            return await self._get_digits(cmd)
        if isinstance(cmd, SetVariable):
            name = ("__" if cmd.inherit else "") + cmd.name
            await chan.command(f"SET VARIABLE {name} {quote(cmd.value)}")
            return None
        if isinstance(cmd, LookupCase):
            return await self._lookup(cmd.reference)
        if isinstance(cmd, RecordCallback):
            if self.on_callback is not None:
                self.on_callback(self.uniqueid, cmd)
            return None
        if isinstance(cmd, GotoWait):
            return None
        if isinstance(cmd, Voicemail):
            arg = app_arg(cmd.box) + "," + cfg.voicemail_options
            await chan.command(f"EXEC VoiceMail {quote(arg)}")
            return None
        if isinstance(cmd, Transfer):
            dial = cfg.transfer_dial.format(number=cmd.number)
            await chan.command(f"EXEC Dial {quote(f'{dial},{cfg.transfer_timeout_s}')}")
            return None
        if isinstance(cmd, Hangup):
            await chan.command("HANGUP")
            return None
        raise IvrError(f"commande inconnue {cmd!r}")

    async def _get_digits(self, cmd: GetDigits) -> Input:
        """``GET DATA``: Asterisk answers ``result=-1`` at once when the prompt's file is
        missing (app.c, ast_app_getdata_full), so the question is asked again with its speech,
        then with a beep: the caller can always answer. Raises ``CallerGone``."""
        cfg, chan = self.config, self.channel
        sound = await self.voice.sound(cmd.text, cmd.file) if cmd.text else None
        speech = await self.voice.speech(cmd.text) if cmd.text and sound else None
        prompts = [p for p in (sound, speech) if p] + [cfg.silent_prompt]
        for prompt in dict.fromkeys(prompts):
            reply = await chan.command(f"GET DATA {prompt} {cmd.timeout_s * 1000} {cmd.max_digits}")
            if not reply.failed:
                digits = reply.result if reply.ok else ""
                return DigitsEntered(digits) if digits else Timeout()
            await chan.check_alive()  # raises CallerGone: the caller left
            if prompt != cfg.silent_prompt:
                self.voice.missing(prompt, cmd.text)
        return Timeout()

    async def _say(self, text: str, file: str | None) -> None:
        """Play a prompt; a sound Asterisk lacks is reported and its speech tried instead.
        Raises ``CallerGone``."""
        sound = await self.voice.sound(text, file)
        if sound is None:
            log.warning("appel %s : rien à faire entendre pour « %s »", self.uniqueid, text[:60])
            return
        if await self._stream(sound):
            return
        self.voice.missing(sound, text)
        speech = await self.voice.speech(text)
        if speech is not None and speech != sound and not await self._stream(speech):
            self.voice.missing(speech, text)

    async def _stream(self, sound: str) -> bool:
        """``STREAM FILE``; False when the file is missing. Raises ``CallerGone``."""
        reply = await self.channel.command(f'STREAM FILE {sound} ""')
        if not reply.failed:
            return True
        await self.channel.check_alive()
        return False

    async def _lookup(self, reference: str) -> Input:
        try:
            status = await asyncio.to_thread(self.case_lookup, reference)
        except Exception:
            log.exception("recherche du dossier %s en échec", reference)
            status = None
        return CaseNotFound() if status is None else CaseFound(status)


async def serve(
    host: str,
    port: int,
    tree_provider: TreeProvider,
    case_lookup: CaseLookup,
    on_path_recorded: PathRecorder,
    *,
    config: AgiConfig | None = None,
    on_callback: CallbackRecorder | None = None,
    clock: Clock = _paris_now,
    voice: Voice | None = None,
) -> asyncio.Server:
    """Start the FastAGI server (``port=0``: any free port, see ``server.sockets``)."""
    cfg = config or AgiConfig()
    sounds: Voice = voice or FilesOnly()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = AgiChannel(reader, writer)
        uniqueid, call_id = "", None
        interp = Interpreter()
        started = False
        menu_run = True  # False for the wait's callback dialogue: no menu path to record
        try:
            env = await channel.read_env()
            uniqueid = env.get("agi_uniqueid", "")
            ctx = _context(env)
            linked = await channel.command("GET VARIABLE CHANNEL(linkedid)")
            call_id = linked.data
            session = CallSession(channel, cfg, case_lookup, on_callback, uniqueid, sounds)
            if env.get("agi_arg_2") == WAIT_CALLBACK_ARG:
                menu_run = False
                await _wait_callback(channel, session, ctx, call_id)
                return
            tree = tree_provider()
            batch = interp.start(tree, ctx, clock())
            started = True
            await session.run(interp, batch)
        except CallerGone:
            if started and not interp.finished:
                interp.feed(CallerHungUp())
        except Exception:
            log.exception("appel %s : erreur du menu vocal", uniqueid or "?")
        finally:
            if menu_run:
                _record_path(on_path_recorded, interp, started, uniqueid, call_id)
            await channel.close()

    return await asyncio.start_server(handle, host, port)


async def _wait_callback(
    channel: AgiChannel, session: CallSession, ctx: CallContext, call_id: str | None
) -> None:
    """The callback dialogue for a caller who keyed 1 in ``cti-wait``. Raises
    ``CallerGone`` (she hung up: nothing is recorded) and ``IvrError`` (no WAIT_START)."""

    async def variable(name: str) -> str:
        reply = await channel.command(f"GET VARIABLE {name}")
        return reply.data or "" if reply.ok and reply.result == "1" else ""

    since = await variable("WAIT_START")
    try:
        waited_since = float(since)
    except ValueError:
        raise IvrError(f"rappel depuis l'attente : WAIT_START illisible ({since!r})") from None
    service = await variable("CTI_IVR_CHOICE")
    path = tuple(p for p in (await variable("CTI_IVR_PATH")).split("/") if p)
    shown = None if ctx.caller_withheld else readable(ctx.caller)
    withheld = ctx.caller_withheld or ctx.caller is None
    dialog = WaitCallback.for_caller(service, shown, waited_since, call_id, path, withheld=withheld)
    try:
        await session.run(dialog, dialog.start())
    except CallerGone:
        pass


def _record_path(
    on_path_recorded: PathRecorder,
    interp: Interpreter,
    started: bool,
    uniqueid: str,
    call_id: str | None,
) -> None:
    outcome = interp.outcome
    if started and outcome is None:
        outcome = Outcome("caller_hung_up", None, interp.path[-1] if interp.path else None)
    try:
        on_path_recorded(uniqueid, call_id, list(interp.path), outcome, interp.choices)
    except Exception:
        log.exception("appel %s : enregistrement du parcours en échec", uniqueid)


def _context(env: dict[str, str]) -> CallContext:
    caller = env.get("agi_callerid", "")
    did = env.get("agi_arg_1") or env.get("agi_extension") or None
    return CallContext(
        uniqueid=env.get("agi_uniqueid", ""),
        caller=None if caller in ("", "unknown", "anonymous") else caller,
        caller_withheld=_restricted(env.get("agi_callingpres", "")),
        did=did,
        language=env.get("agi_language", "fr") or "fr",
    )


def _restricted(pres: str) -> bool:
    """``agi_callingpres`` (Q.931 presentation, e.g. 0 allowed, 33 restricted): restricted
    when bits 0x60 say 0x20 (a trunk's ``Privacy: id``)."""
    try:
        return int(pres) & 0x60 == 0x20
    except ValueError:
        return False


class FileTreeProvider:
    """Tree from a YAML file, reloaded when the file changes; keeps the last good tree."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._tree = load_tree(path)
        self._mtime = path.stat().st_mtime

    def __call__(self) -> Tree:
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                self._mtime = mtime
                self._tree = load_tree(self.path)
                log.info("nouveau menu vocal chargé depuis %s", self.path)
        except (OSError, IvrError) as exc:
            log.error("menu %s non rechargé, l'ancien reste en service : %s", self.path, exc)
        return self._tree


def _log_path(
    uniqueid: str, call_id: str | None, path: list[str], outcome: Outcome | None, _: list[Choice]
) -> None:
    log.info("appel %s (%s) : %s -> %s", uniqueid, call_id, "/".join(path), outcome)


async def _main(args: argparse.Namespace) -> None:
    # The product's sound library (speech synthesis, Asterisk's sounds directory or a URL).
    from cti.prompts.library import SoundLibrary

    provider = FileTreeProvider(Path(args.tree))
    voice = SoundLibrary(Path(args.sounds_dir), args.sounds_url, args.voice)
    server = await serve(args.host, args.port, provider, lambda ref: None, _log_path, voice=voice)
    log.info("FastAGI en écoute sur %s:%s", args.host, args.port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ivr_scripts.fastagi")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4573)
    parser.add_argument("--tree", required=True, help="fichier YAML du menu vocal")
    parser.add_argument(
        "--sounds-dir", default="/var/lib/asterisk/sounds", help="répertoire des sons d'Asterisk"
    )
    parser.add_argument("--sounds-url", default=None, help="URL des sons si Asterisk est ailleurs")
    parser.add_argument("--voice", default="fr", help="voix espeak-ng de la synthèse vocale")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
