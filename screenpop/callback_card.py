"""The callback card: a request in the agent's words (pure).

« Rappel demandé à 10:42 par madame Dupont, État civil, menu : Horaires › État civil »: the
time she asked (Paris time; the date too when it was another day), who (the citizen by
civility and name when known, else her number), the service by label, the menu path as the
caller's choices; then the note, the window she asked for and the attempts made.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from routing.callbacks.request import STATE_LABELS, WINDOW_LABELS, CallbackRequest
from screenpop.directory import CitizenView
from screenpop.messages import CallbackCard
from screenpop.phones import normalise
from screenpop.text_rules import shown

PARIS = ZoneInfo("Europe/Paris")

#: What the dialplan's DIALSTATUS of the citizen's leg means, for the agent.
OUTCOME_LABELS = {
    "ANSWER": "joint(e)",
    "NOANSWER": "pas de réponse",
    "BUSY": "occupé",
    "CONGESTION": "réseau encombré",
    "CHANUNAVAIL": "numéro injoignable",
    "AGENT": "le poste de l'agent n'a pas décroché",
    "INTERRUPTED": "interrompu par un redémarrage : à vérifier",
    "servi": "a rappelé et a été servie",
}


def who(citizen: CitizenView | None, number: str | None) -> str:
    if citizen is not None:
        name = f"{shown(citizen.first_name or '')} {shown(citizen.last_name)}".strip()
        if citizen.civility in ("madame", "monsieur"):
            name = f"{citizen.civility} {shown(citizen.last_name)}"
        return name
    if number:
        return normalise(number).national or number
    return "un appelant sans numéro"


def callback_card(
    request: CallbackRequest,
    *,
    service_label: str,
    menu_labels: list[str],
    citizen: CitizenView | None,
    today: datetime,
) -> CallbackCard:
    asked = request.asked_at.astimezone(PARIS)
    when = f"à {asked:%H:%M}"
    if asked.date() != today.astimezone(PARIS).date():
        when = f"le {asked:%d/%m} à {asked:%H:%M}"
    headline = f"Rappel demandé {when} par {who(citizen, request.number)}, {service_label}"
    if menu_labels:
        headline += ", menu : " + " › ".join(menu_labels)
    return CallbackCard(
        id=request.id,
        headline=headline,
        number=(normalise(request.number).national or request.number) if request.number else None,
        service=request.service,
        service_label=service_label,
        asked_at=request.asked_at.isoformat(),
        window_label=WINDOW_LABELS[request.window],
        menu_labels=menu_labels,
        citizen_id=citizen.id if citizen is not None else request.citizen_id,
        citizen_name=who(citizen, None) if citizen is not None else None,
        note=shown(request.note, multiline=True),
        attempts=request.attempts,
        state=request.state.value,
        state_label=STATE_LABELS[request.state],
        outcome_label=OUTCOME_LABELS.get(request.outcome or "", request.outcome),
    )
