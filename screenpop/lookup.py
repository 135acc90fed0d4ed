"""``python -m screenpop.lookup "06 12 34 56 78"``: why a card pops (or not) for a number.

Prints the number as the directory stores it (E.164), or why it cannot be read, then every
citizen it belongs to with their open cases. Exit status: 0 found, 1 nobody, 2 unreadable
number, 3 database unreachable or without the directory's tables.
Reads ``CTI_DATABASE_URL`` like the product (``--database`` overrides it).
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import DBAPIError

from cti.db import Database
from cti.settings import Settings
from screenpop.card import CASE_STATUS_LABELS, greeting
from screenpop.directory import Directory
from screenpop.phones import normalise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m screenpop.lookup", description="Qui appelle depuis ce numéro ?"
    )
    parser.add_argument("number", help='numéro tel que reçu, ex. "06 12 34 56 78"')
    parser.add_argument("--database", help="URL de la base (défaut : CTI_DATABASE_URL)")
    args = parser.parse_args(argv)
    number = normalise(args.number)
    if number.e164 is None:
        print(f"Numéro « {args.number} » : {number.reason}")
        return 2
    print(f"Numéro normalisé : {number.e164} ({number.national})")
    db = Database(args.database or Settings().database_url)
    try:
        directory = Directory(db)
        try:
            citizens = directory.citizens_by_number(number.e164)
        except DBAPIError as exc:
            print(
                f"Annuaire illisible ({db.engine.url.render_as_string()}) : {exc.orig}. "
                "La base est-elle créée (python -m screenpop.import_citizens la crée) ?",
                file=sys.stderr,
            )
            return 3
        if not citizens:
            print(
                "Aucun administré n'a ce numéro : la fiche dira « Bonjour » et proposera de créer."
            )
            return 1
        if len(citizens) > 1:
            print(f"{len(citizens)} administrés partagent ce numéro : l'agent choisira.")
        for citizen in citizens:
            place = ", ".join(p for p in (citizen.address, citizen.city) if p)
            print(f"- #{citizen.id} {greeting(citizen)} ({citizen.first_name or ''}) {place}")
            for case in directory.open_cases(citizen.id):
                status = CASE_STATUS_LABELS.get(case.status, case.status)
                owner = f", suivi par le poste {case.owner_agent}" if case.owner_agent else ""
                what = f"{case.reference} [{case.service}] {case.subject}"
                print(f"    dossier {what} : {status}{owner}")
        return 0
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
