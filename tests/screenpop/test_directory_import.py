"""CSV import: valid lines all in, refused ones explained, a re-import changes nothing twice."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cti.db import Database
from screenpop.csv_rows import COLUMNS
from screenpop.directory import Directory
from screenpop.errors import CsvFileError
from screenpop.import_citizens import import_file
from screenpop.models import Citizen

HEADER = ";".join(COLUMNS)


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


def test_a_spreadsheet_export_with_bom_and_commas_is_read(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "export.csv"
    lines = [
        ",".join(COLUMNS),
        'B1,Madame,Lefèvre,Éloïse,"+33 7 81 22 33 44",,"5, rue Victor Hugo",45000,Blois,,',
        "B2,M,,Jean,0611223344,,,,,,",  # no last name
        "B3,Monsieur,Klein,Hans,+49 30 1234567,,,,,,DE",
    ]
    source.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    rejects = tmp_path / "r.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.created, report.rejected) == (2, 1)
    with rejects.open(encoding="utf-8") as handle:
        (refused,) = list(csv.DictReader(handle, delimiter=";"))
    assert (refused["ligne"], refused["colonne"]) == ("3", "last_name")
    assert "manquante" in refused["motif"] and refused["first_name"] == "Jean"
    directory = Directory(database)
    (eloise,) = directory.search("lefevre")
    assert (eloise.address, eloise.phones) == ("5, rue Victor Hugo", ("+33781223344",))
    (hans,) = directory.citizens_by_number("+49301234567")
    assert hans.language == "de"
    again = import_file(database, source, rejects, progress=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_imported_dates_read_back_like_any_other(database: Database, tmp_path: Path) -> None:
    source = tmp_path / "one.csv"
    source.write_text(HEADER + "\nD1;Mme;Dupont;Jeanne;0612345678;;;;;;\n", encoding="utf-8")
    import_file(database, source, tmp_path / "r.csv", progress=False)
    with database.session() as session:
        created = session.scalars(select(Citizen.created_at)).one()
    created = created if created.tzinfo is not None else created.replace(tzinfo=UTC)
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)


def test_overlong_texts_and_invisible_characters_are_refused_with_line_and_column(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "citizens.csv"
    source.write_text(
        "\n".join(
            [
                HEADER,
                "B2;Mme;Durand\u202etnelav;Alice;;;;;;;",  # right-to-left override
                "B3;M.;Martin;Bob\u200b;;;;;;;",  # zero-width space
                "B4;M.;Petit;Carl;;;" + "1 rue " * 50 + ";;;;",  # a 300-character address
                "B5;M.;Lenoir;Eric;;;12 rue de la Paix;45000;Villeneuve;;",
                # Last: the separator is guessed from the file's first 8 kB.
                "B6;Mme;" + "É" * 5000 + ";Alice;;;;;;;",  # a 10 kB name
            ]
        ),
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.lines, report.created, report.rejected) == (5, 1, 4)
    with rejects.open(encoding="utf-8") as handle:
        refused = [
            (r["ligne"], r["colonne"], r["motif"]) for r in csv.DictReader(handle, delimiter=";")
        ]
    assert refused == [
        (
            "2",
            "last_name",
            "caractère invisible interdit (U+202E RIGHT-TO-LEFT OVERRIDE) : "
            "il change l'affichage du texte",
        ),
        (
            "3",
            "first_name",
            "caractère invisible interdit (U+200B ZERO WIDTH SPACE) : "
            "il change l'affichage du texte",
        ),
        ("4", "address", "299 caractères, 200 au plus"),
        ("6", "last_name", "5000 caractères, 120 au plus"),
    ]
