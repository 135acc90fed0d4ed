"""What the agent's page receives over its WebSocket: typed, versioned messages.

Each message is a pydantic model with ``v`` (the protocol version, bumped on any change a page
would notice) and ``type`` (one per event). ``agent_message_schema()`` is served by the web app
so that a page, or another client, can check what it receives. The card itself is ``Card``:
everything the agent needs to greet the citizen without making her repeat herself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION: Literal[1] = 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class CallerItem(_Model):
    raw: str | None = Field(description="the number as Asterisk gave it")
    status: Literal["ok", "withheld", "unknown", "invalid"]
    e164: str | None = None
    display: str = Field(description="what the page shows: national format or an explanation")


class NoteItem(_Model):
    agent: str
    agent_name: str | None = Field(default=None, description="« Marie Lambert »")
    text: str
    at: str = Field(description="ISO 8601 time the note was written")


class CaseItem(_Model):
    reference: str
    service: str
    service_label: str | None = None
    subject: str
    status: str
    status_label: str
    owner_agent: str | None = None
    owner_name: str | None = None
    opened_at: str
    updated_at: str


class InteractionItem(_Model):
    call_id: str
    at: str
    service: str | None = None
    service_label: str | None = None
    agents: list[str] = []
    agent_names: list[str] = Field(default=[], description="the agents by name, in order")
    outcome: str | None = None
    disposition: str | None = None
    waited_s: float | None = None
    notes: list[NoteItem] = []


class CitizenItem(_Model):
    id: int
    greeting: str = Field(description='"Bonjour madame Dupont"')
    civility: str | None = None
    last_name: str
    first_name: str | None = None
    address: str | None = None
    email: str | None = None
    language: str = "fr"
    phones: list[str] = Field(default=[], description="E.164")
    phones_display: list[str] = Field(default=[], description='"06 12 34 56 78"')
    open_cases: list[CaseItem] = []
    recent_calls: list[InteractionItem] = []


class Card(_Model):
    call_id: str
    stage: Literal["ringing", "connected", "transferred", "ended"]
    greeting: str
    caller: CallerItem
    citizens: list[CitizenItem] = Field(
        default=[], description="who the number belongs to: several for a household"
    )
    selected_citizen_id: int | None = None
    did: str | None = Field(default=None, description="the town-hall number that was called")
    did_display: str | None = None
    service: str | None = None
    service_label: str | None = None
    ivr_path: list[str] = Field(default=[], description="the menu's nodes the call went through")
    menu_choices: list[str] = Field(
        default=[], description="what the citizen chose in the menu, in her words"
    )
    waited_s: float = 0.0
    agent: str | None = None
    agent_name: str | None = None
    previous_agents: list[str] = []
    previous_agent_names: list[str] = []
    transferred_by: str | None = Field(
        default=None, description="the agent who handed the call on last (a transfer)"
    )
    transferred_by_name: str | None = None
    notes: list[NoteItem] = Field(
        default=[], description="notes already written on this call (earlier agents first)"
    )
    disposition: str | None = None
    callback: str | None = Field(
        default=None,
        description="the callback this call places: « Rappel demandé à 10:42 par madame "
        "Dupont, État civil, attente initiale 4 min 12 s »",
    )


class _Message(_Model):
    v: Literal[1] = PROTOCOL_VERSION


class Hello(_Message):
    type: Literal["hello"] = "hello"
    agent: str | None
    display_name: str
    role: str
    state: str
    reason: str | None = None


class CardOffered(_Message):
    """The agent's phone rings: the card pops."""

    type: Literal["card.offered"] = "card.offered"
    card: Card
    late_s: float | None = Field(
        default=None, description="seconds since the ring, when the card comes late (overload)"
    )


class CardAnswered(_Message):
    type: Literal["card.answered"] = "card.answered"
    card: Card


class CardUpdated(_Message):
    """Something on the card changed (a citizen picked or created, a note saved)."""

    type: Literal["card.updated"] = "card.updated"
    card: Card


class CardTransferred(_Message):
    """This agent handed the call on; the card stays for the note until wrap-up ends."""

    type: Literal["card.transferred"] = "card.transferred"
    card: Card
    to_agent: str | None = None
    to_agent_name: str | None = None
    to_service: str | None = None
    to_service_label: str | None = None  # she waits for that service (nobody was free)


class CardEnded(_Message):
    """The call is over for this agent (``reason``: ``hangup``, ``no_answer``, ``abandoned``,
    ``taken``: rung with colleagues, one of them answered first)."""

    type: Literal["card.ended"] = "card.ended"
    card: Card
    reason: str
    wrap_up_s: float = 0.0


class CallbackCard(_Model):
    """A callback request as the agent reads it (« Rappel demandé à 10:42 par madame
    Dupont, État civil, menu : … »)."""

    id: str
    headline: str = Field(description="the sentence the card opens with")
    number: str | None = Field(description="the number to call, national format")
    service: str
    service_label: str
    asked_at: str = Field(description="ISO 8601 time she asked (her place in line)")
    window_label: str = Field(description="« ce matin », « cet après-midi », « à la réouverture »")
    menu_labels: list[str] = []
    citizen_id: int | None = None
    citizen_name: str | None = None
    note: str = ""
    attempts: int = 0
    state: str
    state_label: str
    outcome_label: str | None = None


class CallbackOffered(_Message):
    """A callback request's turn has come: Accepter (the product calls) or Reporter."""

    type: Literal["callback.offered"] = "callback.offered"
    callback: CallbackCard


class CallbackUpdated(_Message):
    """The callback on this agent's screen moved (dialling, reached, no answer, withdrawn)."""

    type: Literal["callback.updated"] = "callback.updated"
    callback: CallbackCard


class AgentStateChanged(_Message):
    type: Literal["agent.state"] = "agent.state"
    agent: str
    state: str
    reason: str | None = None


AgentMessage = Annotated[
    Hello
    | CardOffered
    | CardAnswered
    | CardUpdated
    | CardTransferred
    | CardEnded
    | AgentStateChanged
    | CallbackOffered
    | CallbackUpdated,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(AgentMessage)


def agent_message_schema() -> dict[str, Any]:
    """JSON Schema of every message the agent's WebSocket may send."""
    schema: dict[str, Any] = _ADAPTER.json_schema()
    schema["title"] = f"Messages de la page agent, version {PROTOCOL_VERSION}"
    return schema


def parse_agent_message(data: str | bytes) -> _Message:
    """Parse a message received by a page (used by tests and the bench)."""
    message: _Message = _ADAPTER.validate_json(data)
    return message
