"""Demo data: ~50,000 fictitious citizens of a French town, their cases and past calls.

Deterministic for a seed, written with bulk inserts (a few seconds), done once per database
(a ``settings`` row marks it). A few well-known citizens are always there, for the demo's
simulated callers and for the tests: madame Jeanne Dupont (06 12 34 56 78, two open cases, one
of état civil followed by agent 201), monsieur Pierre Martin (06 98 76 54 32), and a household
of two on the landline 01 45 67 89 01.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from cti.db import Database
from screenpop.directory import search_key
from screenpop.models import Case, Citizen, Interaction, InteractionNote, PhoneNumber, Setting

MARKER = "demo_seeded"

FIRST_F = (
    "Marie Jeanne Françoise Monique Catherine Nathalie Isabelle Sylvie Sophie Christine Céline "
    "Julie Camille Léa Manon Chloé Emma Inès Louise Élodie Aurélie Sandrine Valérie Hélène Anne "
    "Martine Nicole Brigitte Josiane Odile Zoé Jade Lucie Margaux Océane"
).split()
FIRST_M = (
    "Jean Pierre Michel André Philippe Alain Bernard Jacques Daniel Patrick Nicolas Christophe "
    "Stéphane Thomas Julien Lucas Hugo Louis Gabriel Arthur Raphaël Théo Nathan Mathieu Olivier "
    "François Laurent Éric David Sébastien Yves Guy Rémi Baptiste Noé"
).split()
LAST = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefèvre "
    "Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau "
    "Vincent Muller Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François "
    "Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier "
    "Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard "
    "Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt "
    "Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier "
    "Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte"
).split()
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "place de la Mairie",
    "rue du Général de Gaulle",
    "chemin des Vignes",
    "allée des Tilleuls",
    "rue Pasteur",
    "boulevard Gambetta",
    "rue des Écoles",
    "impasse du Moulin",
    "rue de l'Église",
    "avenue de la Gare",
    "rue des Lilas",
    "route de Paris",
)
SERVICES = {
    "etat-civil": (
        "Demande d'acte de naissance",
        "Mariage : constitution du dossier",
        "Livret de famille",
    ),
    "urbanisme": (
        "Permis de construire",
        "Déclaration préalable de travaux",
        "Certificat d'urbanisme",
    ),
    "ecoles": ("Inscription scolaire", "Inscription à la cantine", "Accueil périscolaire"),
    "ccas": ("Aide sociale facultative", "Portage de repas", "Domiciliation"),
    "techniques": ("Éclairage public en panne", "Nid-de-poule signalé", "Encombrants"),
    "accueil": ("Réservation de salle", "Objet trouvé", "Attestation d'accueil"),
}
PREFIX = {
    "etat-civil": "EC",
    "urbanisme": "URB",
    "ecoles": "ECO",
    "ccas": "CCAS",
    "techniques": "ST",
    "accueil": "ACC",
}
STATUSES = ("ouvert", "en_cours", "en_attente_piece", "clos")
AGENTS = ("201", "202", "203", "204", "205", "206")
CITY, POSTAL = "Villeneuve-sur-Loire", "45000"
DISPOSITIONS = ("Renseignement donné", "Rendez-vous pris", "Dossier mis à jour")
NOTES = (
    "A demandé où en est son dossier ; pièce manquante expliquée.",
    "Souhaite un rendez-vous en fin de semaine.",
    "Rappeler quand le service aura statué.",
    "Attestation envoyée par courriel.",
)

# (civility, first, last, number, [(service, subject, status, owner)])
KnownCase = tuple[str, str, str, str | None]
KNOWN: tuple[tuple[str, str, str, str, list[KnownCase]], ...] = (
    (
        "madame",
        "Jeanne",
        "Dupont",
        "+33612345678",
        [
            ("etat-civil", "Mariage : constitution du dossier", "en_attente_piece", "201"),
            ("urbanisme", "Déclaration préalable de travaux", "en_cours", "204"),
        ],
    ),
    (
        "monsieur",
        "Pierre",
        "Martin",
        "+33698765432",
        [("ccas", "Portage de repas", "ouvert", "206")],
    ),
    (
        "madame",
        "Claire",
        "Bernard",
        "+33145678901",
        [("ecoles", "Inscription scolaire", "ouvert", None)],
    ),
    ("monsieur", "Paul", "Bernard", "+33145678901", []),
    ("monsieur", "Louis", "Bernard", "+33155512233", []),
    (
        "madame",
        "Sophie",
        "Petit",
        "+33678901234",
        [("techniques", "Encombrants", "en_cours", "205")],
    ),
    ("madame", "Hélène", "Durand", "+33145678912", []),
    (
        "monsieur",
        "Michel",
        "Leroy",
        "+33687654321",
        [("accueil", "Réservation de salle", "ouvert", "201")],
    ),
)

BATCH = 5000


def is_seeded(db: Database) -> bool:
    with db.session() as session:
        return session.get(Setting, MARKER) is not None


def seed_demo(
    db: Database, citizens: int = 50_000, seed: int = 1, now: datetime | None = None
) -> bool:
    """Fill the directory once; returns False (and does nothing) if it was already seeded.

    Cases and past calls are dated back from ``now`` (the moment of seeding by default), so a
    demo's cards show calls of a few days ago whatever the day it is started.
    """
    if is_seeded(db):
        return False
    rng = random.Random(seed)
    if now is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with db.engine.begin() as conn:
        next_id = (conn.scalar(select(Citizen.id).order_by(Citizen.id.desc()).limit(1)) or 0) + 1
        citizen_rows: list[dict[str, Any]] = []
        phone_rows: list[dict[str, Any]] = []
        case_rows: list[dict[str, Any]] = []
        counters = dict.fromkeys(PREFIX, 0)

        def add_case(cid: int, service: str, subject: str, status: str, owner: str | None) -> None:
            counters[service] += 1
            opened = now - timedelta(days=rng.randint(2, 200))
            case_rows.append(
                {
                    "reference": f"{PREFIX[service]}-2026-{counters[service]:05d}",
                    "citizen_id": cid,
                    "service": service,
                    "subject": subject,
                    "status": status,
                    "owner_agent": owner,
                    "opened_at": opened,
                    "updated_at": opened + timedelta(days=rng.randint(0, 30)),
                    "closed_at": None,
                }
            )

        for civility, first, last, number, cases in KNOWN:
            cid = next_id
            next_id += 1
            citizen_rows.append(_citizen(cid, civility, first, last, rng, f"DEMO-{cid:06d}"))
            phone_rows.append({"citizen_id": cid, "e164": number, "label": "principal"})
            for service, subject, status, owner in cases:
                add_case(cid, service, subject, status, owner)

        household: str | None = None
        for _ in range(citizens - len(KNOWN)):
            cid = next_id
            next_id += 1
            female = rng.random() < 0.52
            first = rng.choice(FIRST_F if female else FIRST_M)
            last = rng.choice(LAST)
            citizen_rows.append(
                _citizen(
                    cid, "madame" if female else "monsieur", first, last, rng, f"DEMO-{cid:06d}"
                )
            )
            if household is not None and rng.random() < 0.3:
                number, household = household, None  # the partner on the same landline
            elif rng.random() < 0.25:
                number = f"+331{rng.randrange(10**8):08d}"
                household = number
            else:
                number = f"+33{rng.choice('67')}{rng.randrange(10**8):08d}"
            phone_rows.append({"citizen_id": cid, "e164": number, "label": "principal"})
            if rng.random() < 0.16:
                service = rng.choice(list(SERVICES))
                add_case(
                    cid,
                    service,
                    rng.choice(SERVICES[service]),
                    rng.choice(STATUSES),
                    rng.choice(AGENTS) if rng.random() < 0.7 else None,
                )
            if len(citizen_rows) >= BATCH:
                _flush(conn, citizen_rows, phone_rows)
        _flush(conn, citizen_rows, phone_rows)
        for start in range(0, len(case_rows), BATCH):
            conn.execute(insert(Case), case_rows[start : start + BATCH])
        _past_calls(conn, rng, now)
        conn.execute(
            insert(Setting), [{"key": MARKER, "value": {"citizens": citizens, "seed": seed}}]
        )
    return True


def _citizen(
    cid: int, civility: str, first: str, last: str, rng: random.Random, ref: str
) -> dict[str, Any]:
    return {
        "id": cid,
        "external_ref": ref,
        "civility": civility,
        "last_name": last,
        "first_name": first,
        "search_name": search_key(last, first),
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        "postal_code": POSTAL,
        "city": CITY,
        "email": None,
        "language": "fr",
    }


def _flush(conn: Any, citizen_rows: list[dict[str, Any]], phone_rows: list[dict[str, Any]]) -> None:
    if citizen_rows:
        conn.execute(insert(Citizen), citizen_rows)
        conn.execute(insert(PhoneNumber), phone_rows)
    citizen_rows.clear()
    phone_rows.clear()


def _past_calls(conn: Any, rng: random.Random, now: datetime) -> None:
    """A few earlier calls with notes for the well-known citizens, so their cards have history."""
    for index, (_, _, _, number, _) in enumerate(KNOWN[:3]):
        cid = conn.scalar(select(PhoneNumber.citizen_id).where(PhoneNumber.e164 == number))
        for n in range(2):
            at = now - timedelta(days=3 + 9 * n + index, hours=rng.randint(0, 6))
            call_id = f"demo-{index}-{n}"
            agent = AGENTS[(index + n) % len(AGENTS)]
            result = conn.execute(
                insert(Interaction).returning(Interaction.id),
                [
                    {
                        "call_id": call_id,
                        "started_at": at,
                        "caller_raw": number,
                        "caller_e164": number,
                        "caller_withheld": False,
                        "citizen_id": cid,
                        "did": "0140000000",
                        "ivr_path": ["accueil", "menu_principal"],
                        "service": rng.choice(list(SERVICES)),
                        "wait_seconds": round(rng.uniform(5, 90), 1),
                        "agents": [agent],
                        "talk_seconds": round(rng.uniform(40, 400), 1),
                        "duration_seconds": None,
                        "outcome": "answered",
                        "disposition": rng.choice(DISPOSITIONS),
                    }
                ],
            )
            interaction_id = result.scalar_one()
            conn.execute(
                insert(InteractionNote),
                [
                    {
                        "interaction_id": interaction_id,
                        "agent": agent,
                        "text": rng.choice(NOTES),
                        "at": at,
                    }
                ],
            )
