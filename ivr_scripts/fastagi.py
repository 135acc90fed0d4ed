"""FastAGI server: the thin asyncio edge that runs a menu tree on each Asterisk call.

Theory of operation: ``from-pstn`` calls ``AGI(agi://host:4573/ivr,${CTI_DID})``. For each
connection we read the environment block, fetch the *currently published* tree from
``tree_provider()`` (so a newly published tree applies from the next call), start the pure
``Interpreter`` and execute its commands as AGI commands, feeding the answers back:

* ``Play`` -> ``STREAM FILE f ""``; ``Say`` -> ``EXEC <tts app>`` or ``EXEC SayAlpha`` /
  ``EXEC SayDigits``; ``GetDigits`` -> ``GET DATA <file|beep> <ms> <n>``;
* ``SetVariable`` -> ``SET VARIABLE`` (``__`` prefix when inherited);
* ``LookupCase`` -> ``case_lookup`` (run in a thread: it may query a database);
* ``GotoWait`` -> nothing: we close the connection and the dialplan goes on to ``cti-wait``
  with ``CTI_IVR_CHOICE``/``CTI_PRIORITY`` set (``IVR_RESULT=route``);
* ``Voicemail`` -> ``EXEC VoiceMail``, ``Transfer`` -> ``EXEC Dial``, ``Hangup`` -> ``HANGUP``
  (``IVR_RESULT=done`` was set so the dialplan hangs up too).

A caller hanging up shows as ``result=-1``, an unsolicited ``HANGUP`` line, a ``511`` reply
or EOF: the interpreter is fed ``CallerHungUp`` and the script ends cleanly. In every case
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

from ivr_scripts.agi import (
    HANGUP_LINE,
    AgiReply,
    alpha_text,
    app_arg,
    parse_env,
    parse_reply,
    quote,
)
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
from ivr_scripts.tree import Tree
from ivr_scripts.validate import load_tree

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
MAX_ENV_LINES = 200

TreeProvider = Callable[[], Tree]
PathRecorder = Callable[[str, str | None, list[str], Outcome | None, list[Choice]], None]
CallbackRecorder = Callable[[str, str | None, str], None]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AgiConfig:
    """How commands become AGI commands on this PBX."""

    tts_application: str | None = None  # e.g. "Flite"; None: no TTS, spell with SayAlpha
    prompt_after_speech: str = "beep"  # file GET DATA plays after a spoken (TTS) prompt
    transfer_dial: str = "PJSIP/{number}@trunk"
    transfer_timeout_s: int = 60
    voicemail_options: str = "s"
    recordings: frozenset[str] | None = None  # sound files on the PBX; None: assume all


def _paris_now() -> datetime:
    return datetime.now(PARIS)


class CallerGone(Exception):
    """The channel is dead (HANGUP line, 511, result=-1 or EOF)."""


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
        if reply.dead_channel or reply.hung_up:
            self.hung_up = True
            raise CallerGone(f"canal mort : {text}")
        if not reply.ok:
            log.warning("AGI %r -> %s", line, text)
        return reply

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
    ) -> None:
        self.channel, self.config = channel, config
        self.case_lookup, self.on_callback = case_lookup, on_callback
        self.uniqueid = uniqueid

    async def run(self, interp: Interpreter, batch: list[Command]) -> None:
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
            await chan.command(f'STREAM FILE {cmd.file} ""')
            return PlaybackDone()
        if isinstance(cmd, Say):
            await chan.command(self._say_line(cmd))
            return PlaybackDone()
        if isinstance(cmd, GetDigits):
            prompt = cmd.file or cfg.prompt_after_speech
            reply = await chan.command(f"GET DATA {prompt} {cmd.timeout_s * 1000} {cmd.max_digits}")
            digits = reply.result if reply.ok else ""
            return DigitsEntered(digits) if digits else Timeout()
        if isinstance(cmd, SetVariable):
            name = ("__" if cmd.inherit else "") + cmd.name
            await chan.command(f"SET VARIABLE {name} {quote(cmd.value)}")
            return None
        if isinstance(cmd, LookupCase):
            return await self._lookup(cmd.reference)
        if isinstance(cmd, RecordCallback):
            if self.on_callback is not None:
                self.on_callback(self.uniqueid, cmd.number, cmd.topic)
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

    def _say_line(self, cmd: Say) -> str:
        if cmd.mode == "digits":
            digits = "".join(c for c in cmd.text if c.isdigit() or c in "*#")
            return f"EXEC SayDigits {quote(digits)}"
        if cmd.mode == "tts" and self.config.tts_application is not None:
            return f"EXEC {self.config.tts_application} {quote(app_arg(cmd.text))}"
        return f"EXEC SayAlpha {quote(alpha_text(cmd.text))}"

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
) -> asyncio.Server:
    """Start the FastAGI server (``port=0``: any free port, see ``server.sockets``)."""
    cfg = config or AgiConfig()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = AgiChannel(reader, writer)
        uniqueid, call_id = "", None
        interp = Interpreter()
        started = False
        try:
            env = await channel.read_env()
            uniqueid = env.get("agi_uniqueid", "")
            ctx = _context(env, cfg)
            linked = await channel.command("GET VARIABLE CHANNEL(linkedid)")
            call_id = linked.data
            tree = tree_provider()
            session = CallSession(channel, cfg, case_lookup, on_callback, uniqueid)
            batch = interp.start(tree, ctx, clock())
            started = True
            await session.run(interp, batch)
        except CallerGone:
            if started and not interp.finished:
                interp.feed(CallerHungUp())
        except Exception:
            log.exception("appel %s : erreur du menu vocal", uniqueid or "?")
        finally:
            outcome = interp.outcome
            if started and outcome is None:
                outcome = Outcome("caller_hung_up", None, interp.path[-1] if interp.path else None)
            try:
                on_path_recorded(uniqueid, call_id, list(interp.path), outcome, interp.choices)
            except Exception:
                log.exception("appel %s : enregistrement du parcours en échec", uniqueid)
            await channel.close()

    return await asyncio.start_server(handle, host, port)


def _context(env: dict[str, str], cfg: AgiConfig) -> CallContext:
    caller = env.get("agi_callerid", "")
    did = env.get("agi_arg_1") or env.get("agi_extension") or None
    return CallContext(
        uniqueid=env.get("agi_uniqueid", ""),
        caller=None if caller in ("", "unknown", "anonymous") else caller,
        did=did,
        language=env.get("agi_language", "fr") or "fr",
        recordings=cfg.recordings,
        tts=cfg.tts_application is not None,
    )


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
    provider = FileTreeProvider(Path(args.tree))
    cfg = AgiConfig(tts_application=args.tts_app)
    server = await serve(args.host, args.port, provider, lambda ref: None, _log_path, config=cfg)
    log.info("FastAGI en écoute sur %s:%s", args.host, args.port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ivr_scripts.fastagi")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4573)
    parser.add_argument("--tree", required=True, help="fichier YAML du menu vocal")
    parser.add_argument("--tts-app", default=None, help="application TTS Asterisk (ex. Flite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
