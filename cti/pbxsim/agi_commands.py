"""Asterisk's side of FastAGI, pure: one command line in, the reply and what it does out.

As recorded on Asterisk 22.10.1 (``ami-captures/agi-0*.jsonl``), the theory in
``agi_client``. ``env_block`` is the environment block the channel sends first, in its two
writes; ``respond`` turns a command line, what the channel knows and the keys the simulated
caller still has to press (``take_keys``) into a ``Step``: the reply, how long the command
lasts (simulated seconds) and its effect; ``dead_reply`` answers on a hung-up channel;
``heard`` is what a command makes the caller hear; ``exec_start``/``exec_end`` are the AMI
events (``AGIExecStart``/``AGIExecEnd``) around each command. No socket, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cti.pbxsim.channels import Channel, Headers
from cti.pbxsim.sounds import PbxSounds

AGI_VERSION = "22.10.1"
SAMPLE_RATE = 8000  # endpos counts 8 kHz samples
DEFAULT_SOUND_SECONDS = 3.0  # Playback of a file whose length the simulation does not know
SAY_SECONDS_PER_CHAR = 0.08
KEY_DELAY = 2.0  # the caller presses her first key this long into the prompt
DIGIT_GAP = 0.4  # and each further key this long after the previous one
APP_SECONDS = {"voicemail": 20.0, "dial": 5.0}
DEFAULT_GET_DATA_TIMEOUT_MS = 6000
TIMEOUT_KEY = ","  # in planned keys: let this prompt time out without pressing anything

DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
UNKNOWN_COMMAND = "510 Invalid or unknown command"
BAD_SYNTAX = "520 Invalid command syntax.  Proper usage not available."
# Commands res_agi runs on a hung-up channel (its "dead" flag); the rest answer 511.
DEAD_OK = ("GET VARIABLE", "GET FULL VARIABLE", "SET VARIABLE", "VERBOSE", "NOOP", "EXEC")
_VAR_REF = re.compile(r"\$\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class AgiEnv:
    """What Asterisk tells the script about the channel when the AGI starts."""

    request: str  # agi://host:port/ivr
    channel: str
    uniqueid: str
    callerid: str
    calleridname: str
    callingpres: str
    context: str
    extension: str
    priority: int
    args: tuple[str, ...]
    language: str = "fr"
    threadid: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """One command's outcome on a live channel."""

    reply: str  # without the final "\n"
    seconds: float = 0.0  # simulated time the command takes on the channel
    set_var: tuple[str, str] | None = None
    hangup: bool = False  # the script hung the channel up
    stream: bool = False  # an interrupted reply carries endpos


def env_block(env: AgiEnv) -> tuple[str, str]:
    """The environment block, in the two writes Asterisk made in the recordings."""
    script = env.request.rsplit("/", 1)[-1]
    first = [
        ("agi_network", "yes"),
        ("agi_network_script", script),
        ("agi_request", env.request),
        ("agi_channel", env.channel),
        ("agi_language", env.language),
        ("agi_type", env.channel.split("/", 1)[0]),
        ("agi_uniqueid", env.uniqueid),
        ("agi_version", AGI_VERSION),
        ("agi_callerid", env.callerid or "unknown"),
        ("agi_calleridname", env.calleridname or "unknown"),
        ("agi_callingpres", env.callingpres),
        ("agi_callingani2", "0"),
        ("agi_callington", "0"),
        ("agi_callingtns", "0"),
        ("agi_dnid", "unknown"),
        ("agi_rdnis", "unknown"),
        ("agi_context", env.context),
    ]
    second = [
        ("agi_extension", env.extension),
        ("agi_priority", str(env.priority)),
        ("agi_enhanced", "0.0"),
        ("agi_accountcode", ""),
        ("agi_threadid", str(env.threadid)),
        *((f"agi_arg_{i}", arg) for i, arg in enumerate(env.args, 1)),
    ]

    def text(pairs: list[tuple[str, str]]) -> str:
        return "".join(f"{key}: {value}\n" for key, value in pairs)

    return text(first), text(second) + "\n"


def split_args(line: str) -> list[str]:
    """A command line's words as res_agi splits them: blanks, double quotes, backslashes."""
    words: list[str] = []
    current: list[str] = []
    quoted = escaped = started = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = started = True
        elif char == '"':
            quoted, started = not quoted, True
        elif char in " \t" and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        words.append("".join(current))
    return words


def take_keys(keys: str, max_digits: int) -> tuple[str, bool, str]:
    """What the caller types at one GET DATA: (digits, timed out, keys left).

    Keys are pressed until ``#`` (which ends the entry and is not returned) or ``max_digits``;
    running out of keys, or a ``,`` (``TIMEOUT_KEY``), lets the prompt time out.
    """
    digits: list[str] = []
    for i, key in enumerate(keys):
        if key == TIMEOUT_KEY:
            return "".join(digits), True, keys[i + 1 :]
        if key == "#":
            return "".join(digits), False, keys[i + 1 :]
        digits.append(key)
        if len(digits) >= max_digits:
            return "".join(digits), False, keys[i + 1 :]
    return "".join(digits), True, ""


def _command(words: list[str]) -> tuple[str, list[str]]:
    """The command's name (upper case, as res_agi matches it) and its arguments."""
    upper = [w.upper() for w in words]
    for size in (3, 2, 1):
        name = " ".join(upper[:size])
        if len(upper) >= size and name in _KNOWN:
            return name, words[size:]
    return "", words


_KNOWN = frozenset(
    {
        "ANSWER",
        "CHANNEL STATUS",
        "GET VARIABLE",
        "GET FULL VARIABLE",
        "SET VARIABLE",
        "STREAM FILE",
        "GET DATA",
        "EXEC",
        "VERBOSE",
        "NOOP",
        "HANGUP",
    }
)

Lookup = Callable[[str], str | None]
SoundLength = Callable[[str], float | None]  # a sound's seconds, None when the PBX lacks it
_CORE = PbxSounds()


def _variable(name: str, lookup: Lookup) -> str:
    value = lookup(name)
    return "200 result=0" if value is None else f"200 result=1 ({value})"


def _full_variable(expr: str, lookup: Lookup) -> str:
    return f"200 result=1 ({_VAR_REF.sub(lambda m: lookup(m.group(1)) or '', expr)})"


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def respond(
    line: str, lookup: Lookup, keys: str, state: int = 6, sounds: SoundLength = _CORE.seconds
) -> tuple[Step, str]:
    """One command on a live channel: its step and the caller's keys left afterwards."""
    name, args = _command(split_args(line))
    if name == "ANSWER":  # from-pstn answered already
        return Step("200 result=0"), keys
    if name == "CHANNEL STATUS":
        return Step(f"200 result={state}"), keys
    if name == "GET VARIABLE" and args:
        return Step(_variable(args[0], lookup)), keys
    if name == "GET FULL VARIABLE" and args:
        return Step(_full_variable(args[0], lookup)), keys
    if name == "SET VARIABLE":
        if len(args) != 2:
            return Step(BAD_SYNTAX), keys
        return Step("200 result=1", set_var=(args[0], args[1])), keys
    if name == "STREAM FILE" and args:
        found = sounds(args[0])
        if found is None:  # res_agi: the stream does not open, nothing played
            return Step("200 result=-1 endpos=0"), keys
        seconds = found
        endpos = round(seconds * SAMPLE_RATE)
        return Step(f"200 result=0 endpos={endpos}", seconds, stream=True), keys
    if name == "GET DATA" and args:
        timeout_ms = _int(args[1], DEFAULT_GET_DATA_TIMEOUT_MS) if len(args) > 1 else 0
        timeout_ms = timeout_ms if timeout_ms > 0 else DEFAULT_GET_DATA_TIMEOUT_MS
        max_digits = _int(args[2], 1024) if len(args) > 2 else 1024
        prompt = sounds(args[0])
        if prompt is None:  # app.c: the prompt does not stream, GET DATA returns at once
            return Step("200 result=-1"), keys
        digits, timed_out, rest = take_keys(keys, max(1, max_digits))
        if timed_out:
            seconds = prompt + timeout_ms / 1000 + DIGIT_GAP * len(digits)
            reply = f"200 result={digits} (timeout)"
        else:
            seconds = min(prompt, KEY_DELAY) + DIGIT_GAP * max(0, len(digits) - 1)
            reply = f"200 result={digits}"
        return Step(reply, seconds), rest
    if name == "EXEC" and args:
        return Step("200 result=0", _app_seconds(args[0], " ".join(args[1:]))), keys
    if name == "VERBOSE":
        return Step("200 result=1"), keys
    if name == "NOOP":
        return Step("200 result=0"), keys
    if name == "HANGUP":
        return Step("200 result=1", hangup=True), keys
    if name in _KNOWN:
        return Step(BAD_SYNTAX), keys
    return Step(UNKNOWN_COMMAND), keys


# Applications that make the caller hear their argument (text or sound file); the rest
# (VoiceMail, Dial...) do not say anything the script chose.
SPEAKING_APPS = frozenset(
    {"sayalpha", "saydigits", "saynumber", "sayphonetic", "playback", "background", "flite"}
)


def heard(line: str) -> str | None:
    """What a command line makes the caller hear: a sound file's name or the text said."""
    name, args = _command(split_args(line))
    if name in ("STREAM FILE", "GET DATA") and args:
        return args[0]
    if name == "EXEC" and len(args) > 1 and args[0].lower() in SPEAKING_APPS:
        data = " ".join(args[1:])
        return data.split(",", 1)[0] if args[0].lower() in ("playback", "background") else data
    return None


def _app_seconds(app: str, data: str) -> float:
    app = app.lower()
    if app.startswith("say"):
        return max(1.0, len(data) * SAY_SECONDS_PER_CHAR)
    if app == "playback":
        return _CORE.seconds(data.split(",", 1)[0]) or DEFAULT_SOUND_SECONDS
    return APP_SECONDS.get(app, 0.0)


def interrupted(step: Step, elapsed: float) -> str:
    """The reply of a command the caller's hangup cut short after ``elapsed`` seconds."""
    if step.stream:
        return f"200 result=-1 endpos={round(elapsed * SAMPLE_RATE)}"
    return "200 result=-1"


def dead_reply(line: str, lookup: Lookup) -> tuple[str, tuple[str, str] | None]:
    """A command after the hangup: its reply and the variable it still sets, if any."""
    name, args = _command(split_args(line))
    if name not in DEAD_OK:
        return (DEAD_CHANNEL if name else UNKNOWN_COMMAND), None
    if name == "EXEC":  # applications fail on a hung-up channel
        return "200 result=-1", None
    step, _ = respond(line, lookup, "")
    return step.reply, step.set_var


def exec_start(chan: Channel, command_id: str, command: str) -> Headers:
    """``AGIExecStart`` (class ``agi``) for one command, as in recording 16."""
    return [
        ("Event", "AGIExecStart"),
        ("Privilege", "agi,all"),
        *chan.snapshot(),
        ("CommandId", command_id),
        ("Command", command),
    ]


def exec_end(chan: Channel, command_id: str, command: str, reply: str) -> Headers:
    """``AGIExecEnd``: ``-1``/``Failure`` when the caller's hangup cut the command short."""
    code, _, text = reply.partition(" ")
    if code == "200":
        failed = reply.startswith("200 result=-1")
        result = ("-1", "Failure") if failed else ("200", "Success")
    else:
        result = (code, text)
    return [
        ("Event", "AGIExecEnd"),
        ("Privilege", "agi,all"),
        *chan.snapshot(),
        ("CommandId", command_id),
        ("Command", command),
        ("ResultCode", result[0]),
        ("Result", result[1]),
    ]
