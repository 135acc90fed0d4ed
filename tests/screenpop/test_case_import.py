"""Cases (dossiers) from CSV: valid lines all in, refused ones explained, re-imports idempotent,
and each status change recorded in the history with the file's date. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cti.db import Database
from screenpop.case_rows import COLUMNS
from screenpop.errors import CsvFileError
from screenpop.import_cases import import_file
from screenpop.import_citizens import import_file as import_citizens
from screenpop.models import Case, CaseStatusChange

ROOT = Path(__file__).resolve().parents[2]
HEADER = ";".join(COLUMNS)


def _citizens(database: Database, tmp_path: Path) -> None:
    source = tmp_path / "citizens.csv"
    source.write_text(
        "external_ref;last_name;phone\nA1;Durand;06 11 22 33 44\nA2;Martin;06 11 22 33 45\n",
        encoding="utf-8",
    )
    assert import_citizens(database, source, tmp_path / "c.rejects.csv", progress=False).created


def _refused(rejects: Path) -> list[tuple[str, str, str]]:
    with rejects.open(encoding="utf-8") as handle:
        return [
            (r["ligne"], r["colonne"], r["reference"])
            for r in csv.DictReader(handle, delimiter=";")
        ]


def _history(database: Database, reference: str) -> list[tuple[str, datetime, str | None]]:
    with database.session() as session:
        rows = session.execute(
            select(CaseStatusChange.status, CaseStatusChange.at, CaseStatusChange.by)
            .join(Case, Case.id == CaseStatusChange.case_id)
            .where(Case.reference == reference)
            .order_by(CaseStatusChange.at, CaseStatusChange.id)
        )
        return [(s, at if at.tzinfo else at.replace(tzinfo=UTC), by) for s, at, by in rows]


def test_cases_are_imported_refused_lines_explained_and_status_changes_kept(
    database: Database, tmp_path: Path
) -> None:
    _citizens(database, tmp_path)
    source = tmp_path / "cases.csv"
    source.write_text(
        "\n".join(
            [
                HEADER,
                "EC-2026-00001;A1;etat-civil;Mariage;ouvert;201;2026-09-14;;",
                "EC-2026-00002;ZZ;etat-civil;Naissance;ouvert;;2026-09-14;;",  # unknown citizen
                "EC-2026-00003;A1;etat-civil;Décès;perdu;;2026-09-14;;",  # unknown status
                "URB-2026-00001;A2;urbanisme;Permis;En cours d'instruction;2x;2026-09-14;;",
                "URB-2026-00002;A2;urbanisme;Clôture;clos;;14/09/2026;20/09/2026;31/02/2026",
                "EC-2026-00001;A1;etat-civil;Mariage;ouvert;201;2026-09-14;;",  # twice
                "EC/2026/00001;A2;etat-civil;Autre;ouvert;;2026-09-14;;",  # same keyed digits
                "ST-2026-00001;A2;techniques;Encombrants;clos;205;2026-05-12;2026-05-20;"
                "2026-05-20 11:00",
            ]
        ),
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.lines, report.created, report.updated, report.rejected) == (8, 2, 0, 6)
    assert _refused(rejects) == [
        ("4", "status", "EC-2026-00003"),
        ("5", "owner_agent", "URB-2026-00001"),
        ("6", "closed_at", "URB-2026-00002"),
        ("7", "reference", "EC-2026-00001"),
        # Refused by what only the database knows, after the lines above.
        ("3", "citizen_external_ref", "EC-2026-00002"),
        ("8", "reference", "EC/2026/00001"),
    ]
    with rejects.open(encoding="utf-8") as handle:
        reasons = {r["ligne"]: r["motif"] for r in csv.DictReader(handle, delimiter=";")}
    assert "aucun administré n'a la référence « ZZ »" in reasons["3"]
    assert "statut « perdu » inconnu" in reasons["4"]
    assert "dossier « EC-2026-00001 »" in reasons["8"]
    # A closed case's status dates from its closing (11:00 Paris time is 09:00 UTC).
    assert _history(database, "ST-2026-00001") == [
        ("clos", datetime(2026, 5, 20, 9, 0, tzinfo=UTC), "import CSV")
    ]

    # The same file again: nothing changes, nothing is recorded twice.
    again = import_file(database, source, rejects, progress=False)
    assert (again.created, again.updated, again.unchanged, again.status_changes) == (0, 0, 2, 0)

    # The case moved on: updated in place, the change recorded with the file's date.
    source.write_text(
        HEADER
        + "\nEC-2026-00001;A1;etat-civil;Mariage;en_attente_piece;202;2026-09-14;"
        + "02/10/2026 10:30;\n",
        encoding="utf-8",
    )
    moved = import_file(database, source, rejects, progress=False)
    assert (moved.created, moved.updated, moved.status_changes) == (0, 1, 1)
    assert _history(database, "EC-2026-00001") == [
        ("ouvert", datetime(2026, 9, 13, 22, 0, tzinfo=UTC), "import CSV"),
        ("en_attente_piece", datetime(2026, 10, 2, 8, 30, tzinfo=UTC), "import CSV"),
    ]
    with database.session() as session:
        case = session.scalars(select(Case).where(Case.reference == "EC-2026-00001")).one()
        assert (case.status, case.owner_agent, case.dtmf_key) == (
            "en_attente_piece",
            "202",
            "1202600001",
        )


def test_a_cases_file_without_the_expected_columns_is_refused_whole(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "wrong.csv"
    source.write_text("reference,status\nEC-1,ouvert\n", encoding="utf-8")
    with pytest.raises(CsvFileError, match="colonnes manquantes : citizen_external_ref, service"):
        import_file(database, source, tmp_path / "r.csv", progress=False)


def test_the_shipped_samples_import_as_a_technician_runs_them(
    database_url: str, tmp_path: Path
) -> None:
    def run(module: str, sample: str) -> subprocess.CompletedProcess[str]:
        rejects = tmp_path / f"{module}.rejects.csv"
        return subprocess.run(
            [sys.executable, "-m", module, str(ROOT / "screenpop" / sample)]
            + ["--rejects", str(rejects), "--database", database_url],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )

    assert run("screenpop.import_citizens", "sample_citizens.csv").returncode == 1
    cases = run("screenpop.import_cases", "sample_cases.csv")
    assert cases.returncode == 1, cases.stderr  # the sample has two refused lines
    assert "6 créées" in cases.stdout and "2 refusées" in cases.stdout
    assert "6 statuts historisés" in cases.stdout
    again = run("screenpop.import_cases", "sample_cases.csv")
    assert "0 créées, 0 mises à jour, 6 inchangées" in again.stdout
