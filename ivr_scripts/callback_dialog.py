"""The callback node's dialogue: the number to call back, confirmed or keyed (pure).

Theory of operation: entering a ``callback`` node starts a ``CallbackDialog``; it returns
command batches and is fed the caller's keys, like the interpreter it belongs to.

* A caller whose number is shown and reads as a phone number hears it (« Nous vous
  rappellerons au » then the digits) and keys 1 to confirm, 2 to give another one.
* A withheld caller (or an unreadable or unconfirmed number) keys the number, ``#`` to end.
* A keyed number that does not read as a phone number is asked again (« Ce numéro n'est pas
  valide »); after ``MAX_TRIES`` tries the request is recorded without a number (nobody will
  call) and the caller is told so. A silence counts as a try.
* Done: ``RecordCallback`` (number, topic, service, window), the node's goodbye, hang up.

The same dialogue runs when a waiting caller keys 1 (``cti-wait``, « tapez 1 pour être
rappelé, vous gardez votre place »): ``WaitCallback`` drives it with the caller's place in
line (``WAIT_START``), and its goodbye says the request is recorded and the place kept.
There, a caller who gives no number she can be called back on is not hung up on: she is
still in line, so nothing is recorded, she is told she keeps her place, and the dialogue
sets ``CTI_CALLBACK_RESULT=attente`` for ``cti-wait`` to take her back to the music. A
withheld caller is told why she is asked to key a number (« Votre numéro est masqué »):
withholding is often her line's default, not a refusal to be called back.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr_scripts.commands import (
    Command,
    DigitsEntered,
    GetDigits,
    Hangup,
    Input,
    RecordCallback,
    Say,
    SetVariable,
    Timeout,
)
from screenpop.phones import normalise

MAX_TRIES = 3
KEYED_MAX_DIGITS = 15  # E.164's longest
TIMEOUT_S = 10

CONFIRM_INTRO = "Nous vous rappellerons au"
CONFIRM_ASK = "Tapez 1 pour confirmer ce numéro, ou 2 pour nous indiquer un autre numéro."
KEY_ASK = "Composez le numéro auquel nous pouvons vous rappeler, puis la touche dièse."
INVALID = "Ce numéro n'est pas valide."
GAVE_UP = (
    "Nous n'avons pas pu noter votre numéro : votre demande est enregistrée, mais nous ne "
    "pourrons pas vous rappeler. Vous pouvez nous rappeler aux heures d'ouverture. Au revoir."
)
WITHHELD = "Votre numéro est masqué."
#: Said to a waiting caller who gave no number: she is still in line.
WAIT_NO_NUMBER = (
    "Nous n'avons pas pu noter de numéro pour vous rappeler. Vous gardez votre place : "
    "restez en ligne, un agent va vous répondre."
)
#: The dialogue's answer to cti-wait, and its value when the caller goes back to waiting.
RESULT_VARIABLE = "CTI_CALLBACK_RESULT"
BACK_TO_WAIT = "attente"
#: What cti-wait plays to a caller who has waited long (CTI_CALLBACK_OFFER, the service's rule).
WAIT_OFFER = "Pour être rappelé sans perdre votre place, tapez 1."
WAIT_RECORDED = (
    "Votre demande de rappel est enregistrée. Vous gardez votre place : un agent vous "
    "rappellera à votre tour. Au revoir."
)
#: Every sentence this dialogue may say (rendered in advance, listed for the editor).
TEXTS = (
    CONFIRM_INTRO,
    CONFIRM_ASK,
    KEY_ASK,
    INVALID,
    GAVE_UP,
    WAIT_OFFER,
    WAIT_RECORDED,
    WITHHELD,
    WAIT_NO_NUMBER,
)


def readable(number: str | None) -> str | None:
    """The number in E.164 if it reads as a phone number (French by default), else None."""
    if not number:
        return None
    return normalise(number).e164


@dataclass
class CallbackDialog:
    topic: str
    service: str
    window: str
    goodbye: list[Command]  # the node's own prompt, said once the request is recorded
    shown: str | None  # the caller's number when shown and readable (E.164)
    path: tuple[str, ...] = ()
    waited_since: float | None = None  # asked from cti-wait: her place in line
    call_id: str | None = None
    withheld: bool = False  # her number is withheld: say so before asking for one
    # Said when she gives no usable number; None: recorded without a number, told, hung up.
    gave_up: list[Command] | None = None
    tries: int = 0
    confirming: bool = False

    def start(self) -> list[Command]:
        if self.shown is not None:
            return self._confirm()
        intro: list[Command] = [Say(WITHHELD, "tts")] if self.withheld else []
        return intro + self._key()

    def feed(self, result: DigitsEntered | Timeout) -> tuple[list[Command], bool]:
        """Next batch, and whether the dialogue is over (the batch ends in a hang-up)."""
        digits = result.digits if isinstance(result, DigitsEntered) else ""
        if self.confirming:
            if digits.startswith("1") and self.shown is not None:
                return self._done(self.shown), True
            if digits.startswith("2"):
                return self._key(), False
            return self._retry()
        number = readable(digits.rstrip("#"))
        if number is not None:
            return self._done(number), True
        return self._retry(invalid=bool(digits))

    def _confirm(self) -> list[Command]:
        assert self.shown is not None
        self.confirming = True
        national = normalise(self.shown).national or self.shown
        return [
            Say(CONFIRM_INTRO, "tts"),
            Say(national, "digits"),
            GetDigits(1, TIMEOUT_S, None, CONFIRM_ASK),
        ]

    def _key(self) -> list[Command]:
        self.confirming = False
        return [GetDigits(KEYED_MAX_DIGITS, TIMEOUT_S, None, KEY_ASK)]

    def _retry(self, invalid: bool = False) -> tuple[list[Command], bool]:
        self.tries += 1
        if self.tries >= MAX_TRIES and self.gave_up is not None:
            return list(self.gave_up), True
        if self.tries >= MAX_TRIES:
            return [
                self._record(None),
                Say(GAVE_UP, "tts"),
                Hangup(),
            ], True
        batch: list[Command] = [Say(INVALID, "tts")] if invalid else []
        ask = self._confirm() if self.confirming else self._key()
        return batch + ask, False

    def _record(self, number: str | None) -> RecordCallback:
        return RecordCallback(
            number,
            self.topic,
            self.service,
            self.window,
            self.path,
            waited_since=self.waited_since,
            call_id=self.call_id,
        )

    def _done(self, number: str) -> list[Command]:
        return [self._record(number), *self.goodbye, Hangup()]


@dataclass
class WaitCallback:
    """The dialogue for a caller who keyed 1 while waiting, fed like the interpreter."""

    dialog: CallbackDialog
    finished: bool = False

    @classmethod
    def for_caller(
        cls,
        service: str,
        shown: str | None,
        waited_since: float,
        call_id: str | None,
        path: tuple[str, ...] = (),
        *,
        withheld: bool = False,
    ) -> WaitCallback:
        """``shown``: her number when shown and readable; ``withheld``: it is withheld."""
        goodbye: list[Command] = [Say(WAIT_RECORDED, "tts")]
        back: list[Command] = [
            Say(WAIT_NO_NUMBER, "tts"),
            SetVariable(RESULT_VARIABLE, BACK_TO_WAIT),
        ]
        return cls(
            CallbackDialog(
                "rappel demandé pendant l'attente",
                service,
                "a_la_reouverture",
                goodbye,
                shown,
                path,
                waited_since=waited_since,
                call_id=call_id,
                withheld=withheld,
                gave_up=back,
            )
        )

    def start(self) -> list[Command]:
        return self.dialog.start()

    def feed(self, answer: Input) -> list[Command]:
        """The next batch; nothing once over or when the caller hung up."""
        if self.finished or not isinstance(answer, DigitsEntered | Timeout):
            self.finished = True
            return []
        batch, self.finished = self.dialog.feed(answer)
        return batch
