"""Commands the interpreter emits and inputs it accepts (the core's whole vocabulary).

Theory of operation: the interpreter core never performs I/O. It returns *commands*
(imperative, frozen dataclasses) that an edge executes in order — the FastAGI server on a
real call, the simulator in a terminal — and is fed back *inputs* describing what happened.
After a batch the edge feeds exactly one input: the answer to the last command when it is
``GetDigits`` (``DigitsEntered``/``Timeout``), ``LookupCase`` (``CaseFound``/``CaseNotFound``)
or ``Play``/``Say`` (``PlaybackDone``); ``CallerHungUp`` as soon as any command of the batch
finds the caller gone (the remaining commands are skipped). A batch ending in a terminal
command (``GotoWait``, ``Hangup``, ``Voicemail``, ``Transfer``) ends the script: nothing is fed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

SayMode = Literal["tts", "digits"]


@dataclass(frozen=True)
class Play:
    """Say a prompt that has a recording: the edge plays ``file`` when the PBX has it, else
    speaks ``text`` (the recording's words) with speech synthesis."""

    file: str
    text: str


@dataclass(frozen=True)
class Say:
    """Say text without a recording: speech synthesis (``tts``) or digit by digit (``digits``).

    Text is never spelled letter by letter: a sentence spelled takes a minute to hear."""

    text: str
    mode: SayMode


@dataclass(frozen=True)
class GetDigits:
    """Collect up to ``max_digits`` DTMF keys (``#`` ends early) while the prompt is said:
    its recording ``file`` if any and present, else ``text`` by speech synthesis."""

    max_digits: int
    timeout_s: int
    file: str | None = None
    text: str = ""


@dataclass(frozen=True)
class SetVariable:
    """Set a channel variable; ``inherit`` = ``__`` prefix (copied to dialled channels)."""

    name: str
    value: str
    inherit: bool = False


@dataclass(frozen=True)
class LookupCase:
    """Ask the case-tracking system for the status of a reference."""

    reference: str


@dataclass(frozen=True)
class RecordCallback:
    """Record a call-back request for the agents: the number to call (E.164, None when the
    caller could give none), the topic, the service and the window she asked for."""

    number: str | None
    topic: str
    service: str | None = None
    window: str = "a_la_reouverture"
    path: tuple[str, ...] = ()  # the menu's nodes the caller went through
    # Asked while waiting (cti-wait's key 1): her place in line (WAIT_START) and her call.
    waited_since: float | None = None  # epoch seconds
    call_id: str | None = None


@dataclass(frozen=True)
class GotoWait:
    """Terminal: end the script; the dialplan continues to cti-wait with the variables set."""

    service: str
    priority: int
    language: str | None


@dataclass(frozen=True)
class Voicemail:
    """Terminal: run VoiceMail for ``box``, then the call ends."""

    box: str


@dataclass(frozen=True)
class Transfer:
    """Terminal: dial an external number."""

    number: str


@dataclass(frozen=True)
class Hangup:
    """Terminal: hang up."""


Command = (
    Play
    | Say
    | GetDigits
    | SetVariable
    | LookupCase
    | RecordCallback
    | GotoWait
    | Voicemail
    | Transfer
    | Hangup
)
TERMINAL_COMMANDS = (GotoWait, Voicemail, Transfer, Hangup)


@dataclass(frozen=True)
class DigitsEntered:
    digits: str


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class PlaybackDone:
    pass


@dataclass(frozen=True)
class CallerHungUp:
    pass


@dataclass(frozen=True)
class CaseFound:
    status: str


@dataclass(frozen=True)
class CaseNotFound:
    pass


Input = DigitsEntered | Timeout | PlaybackDone | CallerHungUp | CaseFound | CaseNotFound

OutcomeKind = Literal[
    "routed", "self_service", "voicemail", "callback", "transfer", "hung_up", "caller_hung_up"
]


@dataclass(frozen=True)
class Outcome:
    """How the script ended. ``target``: service, box, number or callback topic."""

    kind: OutcomeKind
    target: str | None = None
    node: str | None = None


@dataclass(frozen=True)
class Choice:
    """One caller input at a node: the digits typed, or None for a timeout."""

    node: str
    digits: str | None


@dataclass(frozen=True)
class CallContext:
    """What the interpreter knows about the call (from the AGI environment).

    Which sound voices a prompt (its recording, or speech synthesis of its text) is the
    edge's choice: the interpreter hands over both.
    """

    uniqueid: str = ""
    caller: str | None = None
    caller_withheld: bool = False  # a restricted presentation: the number may not be used
    did: str | None = None
    language: str = "fr"
    extra: dict[str, str] = field(default_factory=dict)


class CaseLookup(Protocol):
    """Case-tracking lookup used by the edges: reference -> status text, or None."""

    def __call__(self, reference: str) -> str | None: ...
