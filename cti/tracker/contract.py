"""The names shared by the dialplan and the service (see asterisk-conf/ and DESIGN.md).

They come from the recordings' dialplan and must stay as they are for those recordings to
remain valid; a site with other context names changes them here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Contract:
    inbound_contexts: frozenset[str] = frozenset({"from-pstn"})
    wait_context: str = "cti-wait"
    connect_context: str = "cti-connect"
    transfer_context: str = "transfer"
    overflow_context: str = "cti-overflow"
    agents_context: str = "agents"
    # Said by from-pstn as the call enters, before the menu: the caller's presentation.
    caller_id_event: str = "CtiCallerId"
    waiting_event: str = "CtiWaiting"
    no_answer_event: str = "CtiNoAnswer"
    safety_net_event: str = "CtiSafetyNet"
    connecting_event: str = "CtiConnecting"
    overflow_event: str = "CtiOverflow"
    agent_variable: str = "AGENT"
    # Every phone one offer rings (``ring_together``), joined by ``agents_separator``: the
    # separator of Dial's channels, which cti-connect turns into one Dial of all of them.
    agents_variable: str = "AGENTS"
    agents_separator: str = "&"
    overflow_kind_variable: str = "CTI_OVERFLOW"
    overflow_target_variable: str = "CTI_OVERFLOW_TARGET"
    overflow_prompt_variable: str = "CTI_OVERFLOW_PROMPT"
    # Callbacks (cti.callbacks): the Originate's context, its variables, its result.
    callback_context: str = "cti-callback"
    callback_variable: str = "CTI_CALLBACK"
    callback_action_variable: str = "CTI_CALLBACK_ACTION"
    # The citizen's wait in line before she asked (whole seconds), set by the Originate when
    # known: a callback found in progress at a resync says it again on its card.
    callback_waited_variable: str = "CTI_CALLBACK_WAITED"
    callback_result_event: str = "CtiCallbackResult"
    # Said by cti-callback once the agent has answered, before the citizen is dialled: the
    # originated channels are a call to follow (``callback_calls``), linked to its request.
    callback_started_event: str = "CtiCallback"
    # « tapez 1 pour être rappelé » in cti-wait: the sound it plays, set by cti.callback_offer.
    callback_offer_variable: str = "CTI_CALLBACK_OFFER"
    # Position and wait told in cti-wait (cti.wait_announcements): the sound, when the next is
    # due, and what the dialplan says once it played one.
    announce_variable: str = "CTI_ANNOUNCE"
    announce_at_variable: str = "CTI_ANNOUNCE_AT"
    announced_event: str = "CtiAnnounced"
    service_variable: str = "CTI_IVR_CHOICE"
    # The nodes the caller went through in the menu, "/"-separated (read back at resync).
    path_variable: str = "CTI_IVR_PATH"
    did_variable: str = "CTI_DID"
    priority_variable: str = "CTI_PRIORITY"
    wait_start_variable: str = "WAIT_START"
    # Set by [transfer] when a blind transfer puts her in another service's wait: the start
    # of that wait (epoch seconds), read back at resync (WAIT_START stays her place in line).
    service_since_variable: str = "CTI_SERVICE_SINCE"
    safety_variable: str = "CTI_SAFETY"
    # SoftHangupRequest's Cause is a flag mask; AST_SOFTHANGUP_SHUTDOWN is 0x04.
    shutdown_flag: int = 0x04

    @property
    def caller_contexts(self) -> frozenset[str]:
        """Where the citizen's leg runs the town hall's dialplan."""
        return self.inbound_contexts | {
            self.wait_context,
            self.connect_context,
            self.transfer_context,
            self.overflow_context,
        }

    @property
    def waiting_contexts(self) -> frozenset[str]:
        return frozenset({self.wait_context})

    @property
    def routed_contexts(self) -> frozenset[str]:
        """Where a failed offer sends the caller back to waiting."""
        return frozenset({self.wait_context, self.connect_context})

    @property
    def agent_contexts(self) -> frozenset[str]:
        """Transfer targets in these contexts are agents' extensions."""
        return frozenset({self.transfer_context, self.agents_context})

    @property
    def user_events(self) -> frozenset[str]:
        return frozenset(
            {
                self.caller_id_event,
                self.waiting_event,
                self.no_answer_event,
                self.safety_net_event,
                self.overflow_event,
                self.callback_started_event,
            }
        )
