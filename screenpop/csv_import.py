"""What every CSV import of the directory shares: read, refuse with reasons, write in batches.

An import is a ``CsvLayout`` (its columns and how one line becomes a row, or a ``CsvRowError``)
and a ``write_batch`` (one transaction for a batch of valid rows). This module opens the file
(UTF-8 with or without BOM, ``;`` or ``,``), checks the header, refuses the lines that do not
parse or repeat a key of the file, hands the others over in batches, and writes every refused
line to the reject file with its line number, the column at fault, the reason and its values.
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
from screenpop.errors import CsvFileError, CsvRowError

BATCH = 5000
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
        self._writer.writerow(
            [error.line, error.column, error.reason, *(raw.get(c) or "" for c in self._columns)]
        )


def _open(path: Path, layout: CsvLayout[Any, Any]) -> tuple[TextIO, csv.DictReader[str]]:
    handle = path.open(encoding="utf-8-sig", newline="")
    sample = handle.read(8192)
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(handle, dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in layout.required if c not in header]
    if missing:
        handle.close()
        raise CsvFileError(path, f"colonnes manquantes : {', '.join(missing)}")
    return handle, reader


def _rows(
    reader: csv.DictReader[str], layout: CsvLayout[R, Any], rejects: Rejects, report: ImportReport
) -> Iterator[tuple[int, R, Raw]]:
    """The valid rows with their line and raw values; each refused one goes to ``rejects``."""
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        report.lines += 1
        try:
            if None in raw:
                raise CsvRowError(line, "(ligne)", "plus de champs que de colonnes")
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
    with path.open(encoding="utf-8-sig", newline="") as count:
        total = max(0, sum(1 for _ in count) - 1)
    handle, reader = _open(path, layout)
    bar = Progress(total) if progress else None
    with handle, rejects_path.open("w", encoding="utf-8", newline="") as out:
        rejects = Rejects(out, layout.columns, report)
        batch: list[R] = []
        raws: dict[int, Raw] = {}

        def refuse(error: CsvRowError) -> None:
            rejects.add(error, raws.get(error.line, {}))

        def flush() -> None:
            layout.write_batch(db, batch, report, refuse)
            batch.clear()
            raws.clear()

        for line, row, raw in _rows(reader, layout, rejects, report):
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
    parser.add_argument("file", type=Path, help="CSV UTF-8, séparateur ; ou ,")
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
    print(
        f"{report.lines} lignes lues en {time.perf_counter() - start:.1f} s : {report.summary()}"
        + (f" (voir {rejects})" if report.rejected else "")
    )
    return 1 if report.rejected else 0
