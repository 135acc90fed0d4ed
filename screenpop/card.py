"""The citizen's card, built from what we know of the call and what the directory holds.

Pure: no database, no clock. ``build_card`` takes the facts of the call (``CallFacts``, kept up
to date by the pop service from domain events), the normalised caller number and the
directory's views of the matching citizens, and returns the ``Card`` the agent's page shows.

The greeting follows the town hall's habit: "Bonjour madame Dupont" when one citizen is
known (or picked among a household), plain "Bonjour" otherwise. Names, addresses, subjects
and notes go out without invisible control or bidi characters (``text_rules.shown``): a
U+202E stored before the import refused it must not turn a name around on the page.

The card speaks the agents' words: beside each identifier the code keeps (a service, an
extension, an E.164 number, the menu's node ids) it carries what a person reads (« État
civil », « Marie Lambert », "06 12 34 56 78", « Horaires d'ouverture › État civil »), named
through ``Names``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from screenpop.directory import CaseView, CitizenView, InteractionView, NoteView
from screenpop.messages import (
    CallerItem,
    Card,
    CaseItem,
    CitizenItem,
    InteractionItem,
    NoteItem,
)
from screenpop.phones import CallerNumber, normalise
from screenpop.text_rules import shown

CASE_STATUS_LABELS = {
    "ouvert": "Ouvert",
    "en_cours": "En cours d'instruction",
    "en_attente_piece": "En attente de pièces",
    "clos": "Clos",
}

_CALLER_EXPLANATIONS = {
    "withheld": "Numéro masqué",
    "unknown": "Numéro inconnu",
}


def _no_name(agent: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Names:
    """How people name what the code knows by an identifier.

    ``services``: service -> label (kept by reference: a new routing configuration renames
    services on the fly); ``agents``: extension -> the colleague's name, or None when unknown.
    """

    services: Mapping[str, str] = field(default_factory=dict)
    agents: Callable[[str], str | None] = _no_name

    def service(self, service: str | None) -> str | None:
        if not service:
            return None
        return self.services.get(service, service)

    def agent(self, agent: str) -> str:
        # An extension nobody is named for (an old call's agent, since gone) says what it is.
        return self.agents(agent) or f"poste {agent}"


NO_NAMES = Names()  # every identifier named by itself (tests, a pop without configuration)


def phone_display(number: str) -> str:
    """A stored number as people write it: "06 12 34 56 78" (foreign ones "+32 2 ...")."""
    return normalise(number).national or number


@dataclass(slots=True)
class CallFacts:
    """What the service knows of one call, from the domain events and the voice menu."""

    call_id: str
    caller_raw: str | None
    caller_withheld: bool
    arrived_at: float
    did: str | None = None
    service: str | None = None
    ivr_path: list[str] = field(default_factory=list)
    menu_choices: list[str] = field(default_factory=list)  # ivr_path in the caller's words
    waiting_since: float | None = None
    waited: float = 0.0
    agent: str | None = None
    previous_agents: list[str] = field(default_factory=list)
    transferred_by: str | None = None  # the agent who last handed the call on
    stage: Literal["ringing", "connected", "transferred", "ended"] = "ringing"
    selected_citizen_id: int | None = None
    disposition: str | None = None
    # The product's callback this call places: its request in the agent's words.
    callback: str | None = None


@dataclass(frozen=True, slots=True)
class CitizenRecord:
    """One citizen with what the card shows of her file."""

    citizen: CitizenView
    open_cases: Sequence[CaseView] = ()
    recent_calls: Sequence[InteractionView] = ()


def greeting(citizen: CitizenView | None) -> str:
    if citizen is None:
        return "Bonjour"
    if citizen.civility in ("madame", "monsieur"):
        return f"Bonjour {citizen.civility} {shown(citizen.last_name)}"
    names = " ".join(shown(n) for n in (citizen.first_name, citizen.last_name) if n)
    return f"Bonjour {names}".strip()


def _shown(text: str | None) -> str | None:
    return None if text is None else shown(text)


def caller_item(number: CallerNumber) -> CallerItem:
    if number.status == "ok":
        display = number.national or number.e164 or (number.raw or "")
    elif number.status == "invalid":
        display = f"{number.raw} (numéro non reconnu)"
    else:
        display = _CALLER_EXPLANATIONS[number.status]
    # A withheld number is not shown, not even as received.
    raw = None if number.status == "withheld" else number.raw
    return CallerItem(raw=raw, status=number.status, e164=number.e164, display=display)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def note_item(note: NoteView, names: Names) -> NoteItem:
    return NoteItem(
        agent=note.agent,
        agent_name=names.agent(note.agent),
        text=shown(note.text, multiline=True),
        at=_iso(note.at),
    )


def _case_item(case: CaseView, names: Names) -> CaseItem:
    return CaseItem(
        reference=case.reference,
        service=case.service,
        service_label=names.service(case.service),
        subject=shown(case.subject),
        status=case.status,
        status_label=CASE_STATUS_LABELS.get(case.status, case.status),
        owner_agent=case.owner_agent,
        owner_name=names.agent(case.owner_agent) if case.owner_agent else None,
        opened_at=_iso(case.opened_at),
        updated_at=_iso(case.updated_at),
    )


def _interaction_item(interaction: InteractionView, names: Names) -> InteractionItem:
    return InteractionItem(
        call_id=interaction.call_id,
        at=_iso(interaction.started_at),
        service=interaction.service,
        service_label=names.service(interaction.service),
        agents=list(interaction.agents),
        agent_names=[names.agent(a) for a in interaction.agents],
        outcome=interaction.outcome,
        disposition=interaction.disposition,
        waited_s=interaction.wait_seconds,
        notes=[note_item(n, names) for n in interaction.notes],
    )


def address_line(citizen: CitizenView) -> str | None:
    """ "3 rue des Lilas, 75011, Paris": what tells two namesakes apart at a glance."""
    parts = [shown(p) for p in (citizen.address, citizen.postal_code, citizen.city) if p]
    return ", ".join(parts) or None


def citizen_item(
    record: CitizenRecord, names: Names = NO_NAMES, *, exclude_call: str | None = None
) -> CitizenItem:
    citizen = record.citizen
    return CitizenItem(
        id=citizen.id,
        greeting=greeting(citizen),
        civility=citizen.civility,
        last_name=shown(citizen.last_name),
        first_name=_shown(citizen.first_name),
        address=address_line(citizen),
        email=_shown(citizen.email),
        language=citizen.language,
        phones=list(citizen.phones),
        phones_display=[phone_display(p) for p in citizen.phones],
        open_cases=[_case_item(c, names) for c in record.open_cases],
        recent_calls=[
            _interaction_item(i, names) for i in record.recent_calls if i.call_id != exclude_call
        ],
    )


def build_card(
    facts: CallFacts,
    caller: CallerNumber,
    citizens: Sequence[CitizenItem],
    notes: Sequence[NoteView],
    names: Names = NO_NAMES,
) -> Card:
    """The card for ``facts``; ``citizens`` are the items of the caller's citizens (built once
    per call with ``citizen_item``: they do not change while the phone rings), ``notes`` those
    already written on this very call."""
    selected = facts.selected_citizen_id
    if selected is None and len(citizens) == 1:
        selected = citizens[0].id
    chosen = next((c for c in citizens if c.id == selected), None)
    return Card(
        call_id=facts.call_id,
        stage=facts.stage,
        greeting=chosen.greeting if chosen is not None else greeting(None),
        caller=caller_item(caller),
        citizens=list(citizens),
        selected_citizen_id=chosen.id if chosen is not None else None,
        did=facts.did,
        did_display=phone_display(facts.did) if facts.did else None,
        service=facts.service,
        service_label=names.service(facts.service),
        ivr_path=list(facts.ivr_path),
        menu_choices=list(facts.menu_choices),
        waited_s=round(facts.waited, 1),
        agent=facts.agent,
        agent_name=names.agent(facts.agent) if facts.agent else None,
        previous_agents=list(facts.previous_agents),
        previous_agent_names=[names.agent(a) for a in facts.previous_agents],
        transferred_by=facts.transferred_by,
        transferred_by_name=names.agent(facts.transferred_by) if facts.transferred_by else None,
        notes=[note_item(n, names) for n in notes],
        disposition=facts.disposition,
        callback=facts.callback,
    )
