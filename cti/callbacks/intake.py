"""Requests callers make themselves: overflowing from the wait, or in the voice menu.

A caller who overflows to a callback keeps the place she had in line; one whose number is
withheld cannot be called back and leaves a message instead, told why. The voice menu's
callback node (or key 1 while waiting, keeping her place) records a request too. Either
way the request is recorded and routed as any other (``CallbackDesk.request``).
"""

from __future__ import annotations

import logging

from cti.audit_trail import SYSTEM_USER
from cti.callbacks.state import DeskState, NewRequest
from ivr_scripts.commands import RecordCallback
from routing.callbacks.request import Source, Window
from routing.decisions import Overflow
from screenpop.phones import normalise

log = logging.getLogger("cti.callback_desk")  # the desk's log, as before the split

WINDOW_VALUES = {w.value for w in Window}
PROMPT_VARIABLE = "CTI_OVERFLOW_PROMPT"  # extensions.conf's cti-overflow plays it

#: What a caller who overflows to a callback hears (rendered by speech synthesis at start).
RECORDED_TEXT = (
    "Votre demande de rappel est enregistrée. Vous gardez votre place : un agent vous "
    "rappellera à votre tour. Au revoir."
)
WITHHELD_TEXT = (
    "Votre numéro est masqué : nous ne pouvons pas vous rappeler. "
    "Vous pouvez laisser un message après le bip, en indiquant votre nom et votre numéro."
)


class Intake(DeskState):
    """Requests from callers: overflow and the voice menu."""

    def _on_overflow(self, overflow: Overflow) -> dict[str, str]:
        """A caller overflows to a callback: her request keeps the place she had in line."""
        call = self.router.service.tracker.call(overflow.call_id)
        number = None
        if call is not None and not (call.number_withheld or call.pres_withheld):
            number = normalise(call.caller_number).e164 if call.caller_number else None
        if call is None or number is None:
            # Nobody to call back: her message instead, and she is told why.
            return {
                "CTI_OVERFLOW": "voicemail",
                "CTI_OVERFLOW_TARGET": "",
                PROMPT_VARIABLE: self.prompts.get(WITHHELD_TEXT, ""),
            }
        path = tuple(p for p in (call.ivr_path or "").split("/") if p)
        new = NewRequest(
            number=number,
            service=overflow.service,
            source=Source.OVERFLOW,
            menu_path=path,
            call_id=overflow.call_id,
            asked_at=call.first_wait_at,
        )
        self._spawn(self._request_quietly(new))
        return {PROMPT_VARIABLE: self.prompts.get(RECORDED_TEXT, "")}

    def from_menu(self, uniqueid: str, record: RecordCallback) -> None:
        """The voice menu's callback node recorded a request (no number: kept as failed)."""
        service = record.service or self.default_service
        if service not in self.router.engine.config.services:
            service = self.default_service
        window = Window(record.window) if record.window in WINDOW_VALUES else Window.REOPENING
        if record.waited_since is not None:  # key 1 while waiting: she keeps her place
            new = NewRequest(
                record.number,
                service,
                Source.WAIT,
                window,
                tuple(record.path),
                call_id=record.call_id,
                asked_at=record.waited_since,
            )
        else:
            new = NewRequest(record.number, service, Source.MENU, window, tuple(record.path))
        log.info("callback asked in the menu (call %s) for %s", uniqueid, service)
        self._spawn(self._request_quietly(new))

    async def _request_quietly(self, new: NewRequest) -> None:
        await self.request(new, SYSTEM_USER)
