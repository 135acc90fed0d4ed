"""What every CSV import of the directory shares: read, refuse with reasons, write in batches.

An import is a ``CsvLayout`` (its columns and how one line becomes a row, or a ``CsvRowError``)
and a ``write_batch`` (one transaction for a batch of valid rows). This module opens the file
(``screenpop.csv_text``: UTF-8 with or without BOM, UTF-16, Windows-1252, ``;`` or ``,``, lines
bounded), checks the header, refuses the lines that do not
parse or repeat a key of the file, hands the others over in batches, and writes every refused
line to the reject file with its line number, the column at fault, the reason and its values
(a value that a spreadsheet would run as a formula is written with a leading apostrophe).
Lines that are not text (bytes of another encoding, NULs), too long, or with a quote left open
are refused like any other: one bad line never stops the import nor hides the lines after it.
A batch writer may refuse lines too (what only the database knows: an unknown citizen); the
valid lines around a refused one are all imported. ``command`` is the shared command line.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from cti.db import Database
from cti.settings import Settings
from screenpop.csv_text import (
    LINE_LIMIT,
    FileShape,
    Lines,
    LineTooLong,
    QuoteLeftOpen,
    examine,
    foreign_utf8,
    not_csv,
    open_text,
    separator,
)
from screenpop.errors import CsvFileError, CsvRowError
from screenpop.text_rules import spreadsheet_safe

BATCH = 5000
_EXTRA = "\x00extra"  # the key under which a line's fields beyond the header are flagged
Raw = Mapping[str, str | None]
R = TypeVar("R")
Report = TypeVar("Report", bound="ImportReport")


@dataclass(slots=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    lines: int = 0
    encoding: str = "UTF-8"  # as the file was read (told when it is not UTF-8)
    mixed: bool = False  # some lines were not in the file's encoding

    def summary(self) -> str:
        return (
            f"{self.created} créées, {self.updated} mises à jour, "
            f"{self.unchanged} inchangées, {self.rejected} refusées"
        )


Refuse = Callable[[CsvRowError], None]


@dataclass(frozen=True, slots=True)
class CsvLayout(Generic[R, Report]):
    columns: tuple[str, ...]  # in the reject file's order
    required: tuple[str, ...]  # the header must name these
    key_column: str  # what makes a line unique in the file (and in the database)
    parse: Callable[[int, Raw], R]  # raises CsvRowError
    key: Callable[[R], str]
    # One transaction for a batch of parsed rows; may refuse rows the database rules out.
    write_batch: Callable[[Database, list[R], Report, Refuse], None]
    new_report: Callable[[], Report]


class Rejects:
    """The reject file: ``ligne;colonne;motif`` then the refused line's own values."""

    def __init__(self, out: TextIO, columns: tuple[str, ...], report: ImportReport) -> None:
        self._writer = csv.writer(out, delimiter=";")
        self._writer.writerow(["ligne", "colonne", "motif", *columns])
        self._columns = columns
        self._report = report

    def add(self, error: CsvRowError, raw: Raw) -> None:
        self._report.rejected += 1
        values = (spreadsheet_safe(raw.get(c) or "") for c in self._columns)
        self._writer.writerow([error.line, error.column, error.reason, *values])


def _open(path: Path, layout: CsvLayout[Any, Any]) -> _Source:
    """The file opened and its header checked. Raises ``CsvFileError``."""
    if (what := not_csv(path)) is not None:
        raise CsvFileError(
            path, f"c'est {what}, pas un fichier CSV : enregistrez-le en « CSV UTF-8 »"
        )
    shape = examine(path)
    text = open_text(path, shape)
    lines = Lines(text)
    try:
        try:
            first = next(lines)
        except StopIteration:
            first = ""
        except LineTooLong as exc:
            raise CsvFileError(
                path,
                f"première ligne de {exc.length} caractères : la première ligne doit nommer "
                "les colonnes",
            ) from None
        delimiter = separator(first)
        names = next(csv.reader([first], delimiter=delimiter), [])
        header = [name.strip().lstrip("\ufeff") for name in names]
        if any("\ufffd" in h or "\x00" in h for h in header):
            raise CsvFileError(
                path,
                "première ligne illisible : le fichier n'est ni en UTF-8, ni en UTF-16, "
                "ni en Windows-1252 (réenregistrez-le en CSV UTF-8)",
            )
        doubles = sorted({h for h in header if h and header.count(h) > 1})
        if doubles:
            raise CsvFileError(path, f"colonnes en double : {', '.join(doubles)}")
        missing = [c for c in layout.required if c not in header]
        if missing:
            raise CsvFileError(
                path,
                f"colonnes manquantes : {', '.join(missing)} (séparateur « ; » ou « , »)",
            )
    except BaseException:
        text.close()
        raise
    reader = csv.reader(lines, delimiter=delimiter)
    return _Source(text, lines, reader, header, shape, delimiter)


@dataclass(slots=True)
class _Source:
    text: TextIO
    lines: Lines
    reader: Iterator[list[str]]
    header: list[str]
    shape: FileShape
    delimiter: str


def _records(
    source: _Source, rejects: Rejects, report: ImportReport
) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Each non-blank line as its columns' values; unreadable lines go to ``rejects``."""
    lines, header = source.lines, source.header
    while True:
        lines.next_record()
        try:
            fields = next(source.reader)
        except StopIteration:
            return
        except LineTooLong as exc:
            report.lines += 1
            reason = f"ligne de {exc.length} caractères, {LINE_LIMIT} au plus : ignorée"
            rejects.add(CsvRowError(exc.number, "(ligne)", reason), {})
            continue
        except QuoteLeftOpen as exc:
            report.lines += 1
            cut = _cut_at_end(exc.line, source)
            column = header[len(cut) - 1] if 0 < len(cut) <= len(header) else "(ligne)"
            raw = _fields(header, cut)
            reason = (
                "guillemet ouvert et jamais fermé sur la ligne (un retour à la ligne dans une "
                "cellule ?) : une valeur doit tenir sur une ligne"
            )
            rejects.add(CsvRowError(exc.number, column, reason), raw)
            continue
        except csv.Error as exc:
            report.lines += 1
            rejects.add(CsvRowError(lines.number, "(ligne)", f"ligne illisible ({exc})"), {})
            continue
        if not fields:
            continue  # a blank line
        report.lines += 1
        yield lines.number, _fields(header, fields)


def _fields(header: list[str], fields: list[str]) -> dict[str, str | None]:
    raw: dict[str, str | None] = dict.fromkeys(header)
    raw.update(zip(header, fields, strict=False))
    if len(fields) > len(header):
        raw[_EXTRA] = ""
    return raw


def _cut_at_end(line: str, source: _Source) -> list[str]:
    """A line whose quote is open, split as far as it goes (its last field holds the rest)."""
    return next(csv.reader([line], delimiter=source.delimiter), [])


def _rows(
    source: _Source, layout: CsvLayout[R, Any], rejects: Rejects, report: ImportReport
) -> Iterator[tuple[int, R, Raw]]:
    """The valid rows with their line and raw values; each refused one goes to ``rejects``."""
    seen: dict[str, int] = {}
    for line, raw in _records(source, rejects, report):
        try:
            if _EXTRA in raw:
                raise CsvRowError(line, "(ligne)", "plus de champs que de colonnes")
            _check_text(line, raw, layout.columns, source.shape)
            row = layout.parse(line, raw)
            key = layout.key(row)
            if key in seen:
                raise CsvRowError(
                    line, layout.key_column, f"référence déjà présente ligne {seen[key]}"
                )
            seen[key] = line
        except CsvRowError as exc:
            rejects.add(exc, raw)
            continue
        yield line, row, raw


def _check_text(line: int, raw: Raw, columns: tuple[str, ...], shape: FileShape) -> None:
    """Refuses a line holding bytes that were not text in the file's encoding, or NULs."""
    for column in columns:
        value = raw.get(column) or ""
        if "\ufffd" in value:
            raise CsvRowError(
                line,
                column,
                f"octets illisibles en {shape.label} (le fichier mélange des encodages ? "
                "réenregistrez-le en CSV UTF-8)",
            )
        if "\x00" in value:
            raise CsvRowError(line, column, "octet nul : ce n'est pas du texte")
        if foreign_utf8(value, shape):
            raise CsvRowError(
                line,
                column,
                f"texte en UTF-8 dans un fichier en {shape.label} (le fichier mélange des "
                "encodages ? réenregistrez-le en CSV UTF-8)",
            )


class Progress:
    """A bar on a terminal, a line every 10 % otherwise (logs of a scheduled import)."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total = max(total, 1)
        self.out = out
        self.tty = out.isatty()
        self._shown = -1

    def update(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        if self.tty:
            if percent != self._shown:
                bar = "#" * (percent // 4)
                self.out.write(f"\r[{bar:<25}] {percent:3d} % ({done}/{self.total})")
                self.out.flush()
        elif percent // 10 != self._shown // 10:
            self.out.write(f"{percent} % ({done}/{self.total} lignes)\n")
        self._shown = percent

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def import_csv(
    db: Database,
    path: Path,
    rejects_path: Path,
    layout: CsvLayout[R, Report],
    *,
    progress: bool = True,
    batch_size: int = BATCH,
) -> Report:
    """Import ``path``; refused lines go to ``rejects_path``. Raises ``CsvFileError``."""
    if not path.is_file():
        raise CsvFileError(path, "fichier introuvable")
    report = layout.new_report()
    source = _open(path, layout)
    report.encoding, report.mixed = source.shape.label, source.shape.mixed
    total = max(0, source.shape.lines - 1)
    bar = Progress(total) if progress else None
    with source.text, rejects_path.open("w", encoding="utf-8", newline="") as out:
        rejects = Rejects(out, layout.columns, report)
        batch: list[R] = []
        raws: dict[int, Raw] = {}

        def refuse(error: CsvRowError) -> None:
            rejects.add(error, raws.get(error.line, {}))

        def flush() -> None:
            layout.write_batch(db, batch, report, refuse)
            batch.clear()
            raws.clear()

        for line, row, raw in _rows(source, layout, rejects, report):
            batch.append(row)
            raws[line] = raw
            if len(batch) >= batch_size:
                flush()
                if bar is not None:
                    bar.update(report.lines)
        if batch:
            flush()
        if bar is not None:
            bar.update(total)
            bar.close()
    return report


def command(
    argv: list[str] | None, prog: str, description: str, layout: CsvLayout[Any, Any]
) -> int:
    """The import's command line: 0 all imported, 1 some lines refused, 2 file refused."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "file", type=Path, help="CSV (UTF-8, UTF-16 ou Windows-1252), séparateur ; ou ,"
    )
    parser.add_argument("--rejects", type=Path, help="fichier des lignes refusées")
    parser.add_argument("--database", help="URL de la base (défaut : CTI_DATABASE_URL)")
    args = parser.parse_args(argv)
    rejects = args.rejects or args.file.with_suffix(".rejects.csv")
    db = Database(args.database or Settings().database_url)
    start = time.perf_counter()
    try:
        db.migrate()
        report: ImportReport = import_csv(db, args.file, rejects, layout)
    except CsvFileError as exc:
        print(f"Import impossible : {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    read_as = ""
    if report.encoding != "UTF-8":
        read_as = f" ; fichier lu en {report.encoding}"
    elif report.mixed:
        read_as = " ; des lignes ne sont pas en UTF-8 (fichier aux encodages mélangés)"
    print(
        f"{report.lines} lignes lues en {time.perf_counter() - start:.1f} s : {report.summary()}"
        + read_as
        + (f" (voir {rejects})" if report.rejected else "")
    )
    return 1 if report.rejected else 0
