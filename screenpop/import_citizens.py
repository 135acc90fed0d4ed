"""``python -m screenpop.import_citizens FILE.csv``: load or refresh the citizen directory.

Idempotent: a citizen is known by ``external_ref`` (the town's own identifier); importing the
same file twice changes nothing, a changed line updates the citizen and adds new numbers.
Every refused line goes to the reject file (``FILE.rejects.csv`` by default) with its line
number, the column at fault and the reason; the valid lines around it are all imported. Rows
are written in batches with bulk statements (one transaction per batch), so a million lines
take minutes, not hours. The expected columns are in ``screenpop/sample_citizens.csv``.
"""

from __future__ import annotations

import functools
import operator
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.sql.compiler import SQLCompiler

from cti.db import Database
from screenpop.csv_import import CsvLayout, ImportReport, Refuse, command, import_csv
from screenpop.csv_rows import COLUMNS, REQUIRED_COLUMNS, CitizenRow, parse_row
from screenpop.models import Citizen, PhoneNumber

_CITIZENS = cast(Table, Citizen.__table__)
_PHONES = cast(Table, PhoneNumber.__table__)
# What a re-import compares to decide whether a citizen changed.
_COMPARED = (
    Citizen.id,
    Citizen.external_ref,
    Citizen.civility,
    Citizen.last_name,
    Citizen.first_name,
    Citizen.search_name,
    Citizen.address,
    Citizen.postal_code,
    Citizen.city,
    Citizen.email,
    Citizen.language,
)
_READS = {"known": _COMPARED, "ids": (Citizen.external_ref, Citizen.id)}


def _write_batch(
    db: Database, batch: list[CitizenRow], report: ImportReport, _refuse: Refuse
) -> None:
    """One transaction: new citizens inserted, changed ones updated, missing numbers added."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        stamp = _driver_value(conn, _CITIZENS.c.created_at, now)
        known = {
            row.external_ref: row
            for row in _by_refs(conn, "known", [r.external_ref for r in batch])
        }
        ids: dict[str, int] = {}
        new = [row for row in batch if row.external_ref not in known]
        if new:
            values = [
                {**row.citizen_values(), "created_at": stamp, "updated_at": stamp} for row in new
            ]
            _insert_many(conn, _CITIZENS, values)
            refs = [row.external_ref for row in new]
            for ref, cid in _by_refs(conn, "ids", refs):
                ids[str(ref)] = cid
        changed: list[dict[str, Any]] = []
        for row in batch:
            stored = known.get(row.external_ref)
            if stored is None:
                continue
            ids[row.external_ref] = stored.id
            fresh = row.citizen_values()
            if any(fresh[name] != stored._mapping[name] for name in fresh):
                changed.append({"b_id": stored.id, **fresh, "updated_at": now})
        if changed:
            columns: dict[str, Any] = {k: bindparam(k) for k in changed[0] if k != "b_id"}
            statement = update(Citizen).where(Citizen.id == bindparam("b_id")).values(columns)
            conn.execute(statement.execution_options(synchronize_session=False), changed)
        report.created += len(new)
        report.updated += len(changed)
        report.unchanged += len(known) - len(changed)
        have: set[tuple[int, str]] = set()
        if known:
            have = {
                (cid, e164)
                for cid, e164 in conn.execute(
                    select(PhoneNumber.citizen_id, PhoneNumber.e164).where(
                        PhoneNumber.citizen_id.in_([r.id for r in known.values()])
                    )
                )
            }
        phones = [
            {"citizen_id": ids[row.external_ref], "e164": e164, "label": None}
            for row in batch
            for e164 in row.phones
            if (ids[row.external_ref], e164) not in have
        ]
        if phones:
            _insert_many(conn, _PHONES, phones)


def _by_refs(conn: Connection, read: str, refs: list[str]) -> Any:
    """Rows of ``_READS[read]`` for the citizens whose ``external_ref`` is in ``refs``.

    Sent as one statement straight to the driver: SQLAlchemy's expanding ``IN`` names and
    processes each of a batch's 5,000 parameters at every execution, a tenth of the import.
    """
    compiled = _refs_statement(conn.dialect, read, len(refs))
    (params,) = _driver_params(compiled, [{f"r{n}": ref for n, ref in enumerate(refs)}])
    return conn.exec_driver_sql(str(compiled), params)


@functools.lru_cache(maxsize=16)
def _refs_statement(dialect: Dialect, read: str, count: int) -> SQLCompiler:
    marks = [bindparam(f"r{n}", type_=String) for n in range(count)]
    return select(*_READS[read]).where(Citizen.external_ref.in_(marks)).compile(dialect=dialect)


def _driver_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """``value`` as the driver must receive it for ``column`` (SQLite: dates as text)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One ``executemany`` straight to the driver: the rows already hold driver values.

    SQLAlchemy's own executemany processes every parameter of every row again; on a million
    lines that is a third of the import's time.
    """
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    conn.exec_driver_sql(str(compiled), _driver_params(compiled, rows))


def _driver_params(compiled: SQLCompiler, rows: list[dict[str, Any]]) -> list[Any]:
    """``rows`` as the driver takes them for ``compiled``: tuples in its order, or as they are."""
    if not compiled.positional:
        return rows
    order = compiled.positiontup or []
    if len(order) == 1:  # itemgetter of one key gives a value, not a tuple
        return [(row[order[0]],) for row in rows]
    values = operator.itemgetter(*order)
    return [values(row) for row in rows]


DESCRIPTION = "Importe (ou met à jour) l'annuaire des administrés depuis un CSV."
LAYOUT = CsvLayout(
    columns=COLUMNS,
    required=REQUIRED_COLUMNS,
    key_column="external_ref",
    parse=parse_row,
    write_batch=_write_batch,
    new_report=ImportReport,
    key=lambda row: row.external_ref,
)


def import_file(
    db: Database, path: Path, rejects_path: Path, *, progress: bool = True
) -> ImportReport:
    """Import ``path``; refused lines go to ``rejects_path``. Raises ``CsvFileError``."""
    return import_csv(db, path, rejects_path, LAYOUT, progress=progress)


def main(argv: list[str] | None = None) -> int:
    return command(argv, "python -m screenpop.import_citizens", DESCRIPTION, LAYOUT)


if __name__ == "__main__":
    sys.exit(main())
