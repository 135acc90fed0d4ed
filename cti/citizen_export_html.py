"""The right-of-access export as a page the citizen reads and prints (RGPD art. 15: « sous
une forme compréhensible »): the same data as the JSON export, in French words.

Pure: ``CitizenExport`` and the names in, an HTML document out. Every value is escaped;
numbers as people write them, dates in French on Paris time, services by label, staff by
name (the citizen needs no login or extension).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from cti.citizen_export import CitizenExport
from screenpop.card import CASE_STATUS_LABELS, Names, phone_display

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
).split()
OUTCOMES = {
    "answered": "répondu",
    "abandoned": "raccroché avant la réponse",
    "overflow": "orienté vers la messagerie ou un rappel",
    "safety_net": "pris par la file de secours",
    "menu": "terminé dans le menu vocal",
    "lost": "interrompu",
    "in_progress": "en cours",
}
ACTIONS = {
    "card.open": "a consulté votre fiche",
    "citizen.create": "a créé votre fiche",
    "citizen.export": "a exporté vos données (droit d'accès)",
    "citizen.search": "vous a trouvé(e) dans une recherche",
    "callback.request": "a noté votre demande de rappel",
    "callback.call": "vous a rappelé(e)",
}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 1rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.15rem; margin-top: 1.5rem; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem; border-bottom: 1px solid #ddd; vertical-align: top;
         overflow-wrap: anywhere; }
dt { font-weight: 700; } dd { margin: 0 0 .3rem 1rem; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def when(value: datetime) -> str:
    local = value.astimezone(PARIS)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _rows(headers: Iterable[str], rows: Iterable[Iterable[object]], empty: str) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f"<p>{_e(empty)}</p>"
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(
    data: CitizenExport, names: Names, who: Callable[[str], str], town_hall: str = "la mairie"
) -> str:
    """``who``: an audit entry's author (a login, « poste 201 ») as the citizen reads it."""
    i = data.identity
    person = " ".join(p for p in (i.civility, i.first_name, i.last_name) if p)
    address = ", ".join(
        p for p in (i.address, " ".join(x for x in (i.postal_code, i.city) if x)) if p
    )
    identity = "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>"
        for k, v in (
            ("Nom", person),
            ("Adresse", address or "—"),
            ("Courriel", i.email or "—"),
            ("Téléphones", ", ".join(phone_display(p.e164) for p in data.phones) or "—"),
            ("Fiche créée le", when(i.created_at)),
            ("Dernière mise à jour", when(i.updated_at)),
        )
    )
    cases = _rows(
        ("Dossier", "Service", "Objet", "Statut", "Ouvert le", "Historique"),
        (
            (
                c.reference,
                names.service(c.service),
                c.subject,
                CASE_STATUS_LABELS.get(c.status, c.status),
                when(c.opened_at),
                " ; ".join(
                    f"{CASE_STATUS_LABELS.get(h.status, h.status)} le {when(h.at)}"
                    for h in c.history
                ),
            )
            for c in data.cases
        ),
        "Aucun dossier.",
    )
    calls = _rows(
        ("Date", "Service", "Agents", "Issue", "Motif", "Notes"),
        (
            (
                when(c.started_at),
                names.service(c.service) or "—",
                ", ".join(names.agent(a) for a in c.agents) or "—",
                OUTCOMES.get(c.outcome, c.outcome),
                c.disposition or "—",
                " ; ".join(f"« {n.text} » ({names.agent(n.agent)}, {when(n.at)})" for n in c.notes)
                or "—",
            )
            for c in data.calls
        ),
        "Aucun appel enregistré à votre nom.",
    )
    callbacks = _rows(
        ("Demandé le", "Service", "Numéro à rappeler", "Quand", "Par", "Note", "Suite"),
        (
            (
                when(c.asked_at),
                names.service(c.service) or "—",
                phone_display(c.number) if c.number else "—",
                c.window,
                c.source,
                c.note or "—",
                f"{c.state} ({c.attempts} essai{'s' if c.attempts > 1 else ''})",
            )
            for c in data.callbacks
        ),
        "Aucune demande de rappel.",
    )
    looks = _rows(
        ("Date", "Qui", "Quoi"),
        ((when(a.at), who(a.username), ACTIONS.get(a.action, a.action)) for a in data.audit),
        "Personne n'a consulté votre fiche.",
    )
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vos données – {_e(person)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>Vos données personnelles détenues par {_e(town_hall)}</h1>
<p>Document établi le {_e(when(data.exported_at))} à votre demande (droit d'accès, article 15
du règlement général sur la protection des données). Il contient tout ce que le logiciel
d'accueil téléphonique de {_e(town_hall)} conserve sur vous.</p>
<h2>Votre identité</h2>
<dl>{identity}</dl>
<h2>Vos dossiers</h2>
{cases}
<h2>Vos appels et les notes prises</h2>
{calls}
<h2>Vos demandes de rappel</h2>
{callbacks}
<h2>Qui a consulté votre fiche</h2>
{looks}
</main>
</body>
</html>
"""
