"""The directory's technician tools and its schema: CSV import, lookup CLI, migrations."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect

import screenpop.models  # noqa: F401  (the tables the migrations must create)
from cti.db import Base, Database
from screenpop.csv_rows import COLUMNS
from screenpop.directory import Directory
from screenpop.import_citizens import CsvFileError, import_file
from screenpop.phones import normalise

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "screenpop" / "sample_citizens.csv"
HEADER = ";".join(COLUMNS)


@pytest.mark.parametrize(
    "raw",
    ["06 12 34 56 78", "0612345678", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"],
)
def test_french_spellings_of_one_number_meet_in_e164(raw: str) -> None:
    number = normalise(raw)
    assert (number.status, number.e164, number.national) == ("ok", "+33612345678", "06 12 34 56 78")


def test_foreign_withheld_unknown_and_garbage_numbers_say_what_they_are() -> None:
    assert normalise("+32 2 555 12 12").e164 == "+3225551212"
    assert normalise("anonymous").status == "withheld"
    assert normalise("0612345678", withheld=True).status == "withheld"
    assert normalise("").status == normalise(None).status == "unknown"
    bad = normalise("12")
    assert bad.status == "invalid" and bad.reason is not None and "12" in bad.reason


@given(st.integers(min_value=10**8, max_value=10**9 - 1).filter(lambda n: str(n)[0] in "67"))
def test_every_mobile_number_reads_the_same_in_every_spelling(n: int) -> None:
    digits = f"0{n}"
    spaced = " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    spellings = {digits, spaced, "+33" + digits[1:], "0033 " + digits[1:]}
    assert len({normalise(s).e164 for s in spellings}) == 1


def test_import_keeps_every_valid_line_and_explains_each_refused_one(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "citizens.csv"
    source.write_text(
        "\n".join(
            [
                HEADER,
                "A1;Mme;Durand;Alice;06 11 22 33 44;;;;;;",
                "A2;Dr;Martin;Bob;06 11 22 33 45;;;;;;",  # unknown civility
                "A3;M.;Petit;Carl;06 1;;;;;;",  # unreadable number
                "A4;Mme;Roux;Dana;06 11 22 33 46;;;;;pas-une-adresse;",  # bad e-mail
                "A5;M.;Lenoir;Eric;01 45 67 89 01;;;;;;",
                "A1;Mme;Durand;Alice;06 11 22 33 44;;;;;;",  # duplicate in the file
                "A6;Mme;Lenoir;Fanny;01 45 67 89 01;;;;;;",  # the same household line
            ]
        ),
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.lines, report.created, report.updated, report.rejected) == (7, 3, 0, 4)
    with rejects.open(encoding="utf-8") as handle:
        refused = [(r["ligne"], r["colonne"]) for r in csv.DictReader(handle, delimiter=";")]
    assert refused == [("3", "civility"), ("4", "phone"), ("5", "email"), ("7", "external_ref")]
    directory = Directory(database)
    household = directory.citizens_by_number("+33145678901")
    assert [c.first_name for c in household] == ["Eric", "Fanny"]

    # Again, with one changed line: updated in place, no duplicate, a second number added.
    source.write_text(
        HEADER + "\nA1;Mme;Durand-Leroy;Alice;06 11 22 33 44;07 00 00 00 01;;;;;\n",
        encoding="utf-8",
    )
    again = import_file(database, source, rejects, progress=False)
    assert (again.created, again.updated, again.rejected) == (0, 1, 0)
    (alice,) = directory.citizens_by_number("+33611223344")
    assert alice.last_name == "Durand-Leroy"
    assert set(alice.phones) == {"+33611223344", "+33700000001"}


def test_a_file_without_the_expected_columns_is_refused_whole(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "wrong.csv"
    source.write_text("nom;tel\nDupont;0612345678\n", encoding="utf-8")
    with pytest.raises(CsvFileError, match="colonnes manquantes : external_ref, last_name"):
        import_file(database, source, tmp_path / "r.csv", progress=False)


def test_the_cli_tools_on_the_shipped_sample(database_url: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    imported = subprocess.run(
        [sys.executable, "-m", "screenpop.import_citizens", str(SAMPLE), "--rejects", str(rejects)]
        + ["--database", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 1, imported.stderr  # the sample has two refused lines
    assert "13 créées" in imported.stdout and "2 refusées" in imported.stdout
    found = subprocess.run(
        [
            sys.executable,
            "-m",
            "screenpop.lookup",
            "0033 1 45 67 89 01",
            "--database",
            database_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert "+33145678901" in found.stdout and "2 administrés partagent ce numéro" in found.stdout
    assert "Bonjour madame Bernard" in found.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "screenpop.lookup", "06 00 00 00 01", "--database", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1 and "Aucun administré" in unknown.stdout


def test_migrations_go_up_and_down_and_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "citizens",
            "phone_numbers",
            "cases",
            "interactions",
            "users",
            "audit_log",
        } <= tables
        db.downgrade_base()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.migrate()
        db.migrate()  # idempotent
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        db.close()
