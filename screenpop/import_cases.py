"""``python -m screenpop.import_cases FILE.csv``: load or refresh the cases (dossiers).

The same rules as the citizens' import (``screenpop.csv_import``): idempotent on the case's
``reference``, every refused line in the reject file with its line, column and reason, the
valid lines around it all imported, ``;`` or ``,``, UTF-8 with or without BOM. A case belongs to
a citizen already in the directory (``citizen_external_ref``, the citizens' ``external_ref``).

The status history (``case_status_history``, shown in the right-of-access export) is fed by
the imports: a new case records its status, and a re-import that changes a case's status
records the change, dated by the file (``closed_at`` for a closed case, else ``updated_at``).
The expected columns are in ``screenpop/sample_cases.csv``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, select, update

from cti.db import Database
from screenpop.case_rows import COLUMNS, REQUIRED, CaseRow, parse_row
from screenpop.csv_import import CsvLayout, ImportReport, Refuse, command, import_csv
from screenpop.errors import CsvRowError
from screenpop.models import Case, CaseStatusChange, Citizen

IMPORTED_BY = "import CSV"  # the history's author of a change that came from a file
_FIELDS = (
    "dtmf_key",
    "citizen_id",
    "service",
    "subject",
    "status",
    "owner_agent",
    "opened_at",
    "updated_at",
    "closed_at",
)
_STORED = (Case.id, Case.reference, *(getattr(Case, name) for name in _FIELDS))


@dataclass(slots=True)
class CaseImportReport(ImportReport):
    status_changes: int = 0

    def summary(self) -> str:
        return f"{ImportReport.summary(self)}, {self.status_changes} statuts historisés"


def _utc(value: Any) -> Any:
    # SQLite gives naive datetimes back; everything stored is UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _values(row: CaseRow, citizen_id: int) -> dict[str, Any]:
    return {
        "dtmf_key": row.dtmf_key,
        "citizen_id": citizen_id,
        "service": row.service,
        "subject": row.subject,
        "status": row.status,
        "owner_agent": row.owner_agent,
        "opened_at": row.opened_at,
        "updated_at": row.updated_at,
        "closed_at": row.closed_at,
    }


def _pairs(conn: Connection, statement: Select[Any, Any]) -> dict[Any, Any]:
    """A two-column SELECT as a dict: first column -> second."""
    return {key: value for key, value in conn.execute(statement)}


def _placeable(conn: Connection, batch: list[CaseRow], refuse: Refuse) -> list[tuple[CaseRow, int]]:
    """The rows whose citizen is known and whose keyed digits are theirs, with the citizen."""
    refs = {row.citizen_ref for row in batch}
    citizens = _pairs(
        conn, select(Citizen.external_ref, Citizen.id).where(Citizen.external_ref.in_(refs))
    )
    keys = {row.dtmf_key for row in batch if row.dtmf_key}
    holders = _pairs(conn, select(Case.dtmf_key, Case.reference).where(Case.dtmf_key.in_(keys)))
    placeable: list[tuple[CaseRow, int]] = []
    for row in batch:
        citizen_id = citizens.get(row.citizen_ref)
        if citizen_id is None:
            reason = f"aucun administré n'a la référence « {row.citizen_ref} » (importez-le avant)"
            refuse(CsvRowError(row.line, "citizen_external_ref", reason))
            continue
        holder = holders.setdefault(row.dtmf_key, row.reference) if row.dtmf_key else None
        if holder is not None and holder != row.reference:
            reason = (
                f"ses chiffres {row.dtmf_key}, tapés au menu vocal, sont déjà ceux du "
                f"dossier « {holder} »"
            )
            refuse(CsvRowError(row.line, "reference", reason))
            continue
        placeable.append((row, citizen_id))
    return placeable


def _write_batch(
    db: Database, batch: list[CaseRow], report: CaseImportReport, refuse: Refuse
) -> None:
    """One transaction: new cases inserted, changed ones updated, status changes recorded."""
    with db.engine.begin() as conn:
        rows = _placeable(conn, batch, refuse)
        refs = [row.reference for row, _ in rows]
        known = {
            r.reference: r for r in conn.execute(select(*_STORED).where(Case.reference.in_(refs)))
        }
        new: list[CaseRow] = []
        inserts: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for row, citizen_id in rows:
            fresh = _values(row, citizen_id)
            stored = known.get(row.reference)
            if stored is None:
                new.append(row)
                inserts.append({"reference": row.reference, **fresh})
            elif any(fresh[name] != _utc(stored._mapping[name]) for name in _FIELDS):
                changed.append({"b_id": stored.id, **fresh})
                if stored.status != row.status:
                    history.append(_change(stored.id, row))
        if new:
            conn.execute(insert(Case), inserts)
            read = select(Case.reference, Case.id).where(
                Case.reference.in_(r.reference for r in new)
            )
            ids = _pairs(conn, read)
            history += [_change(ids[row.reference], row) for row in new]
        if changed:
            columns: dict[str, Any] = {name: bindparam(name) for name in _FIELDS}
            statement = update(Case).where(Case.id == bindparam("b_id")).values(columns)
            conn.execute(statement.execution_options(synchronize_session=False), changed)
        if history:
            conn.execute(insert(CaseStatusChange), history)
        report.created += len(new)
        report.updated += len(changed)
        report.unchanged += len(rows) - len(new) - len(changed)
        report.status_changes += len(history)


def _change(case_id: int, row: CaseRow) -> dict[str, Any]:
    return {"case_id": case_id, "status": row.status, "at": row.status_since, "by": IMPORTED_BY}


DESCRIPTION = (
    "Importe (ou met à jour) les dossiers des administrés et l'historique de leurs statuts."
)
LAYOUT = CsvLayout(
    columns=COLUMNS,
    required=REQUIRED,
    key_column="reference",
    parse=parse_row,
    write_batch=_write_batch,
    new_report=CaseImportReport,
    key=lambda row: row.reference,
)


def import_file(
    db: Database, path: Path, rejects_path: Path, *, progress: bool = True
) -> CaseImportReport:
    """Import ``path``; refused lines go to ``rejects_path``. Raises ``CsvFileError``."""
    return import_csv(db, path, rejects_path, LAYOUT, progress=progress)


def main(argv: list[str] | None = None) -> int:
    return command(argv, "python -m screenpop.import_cases", DESCRIPTION, LAYOUT)


if __name__ == "__main__":
    sys.exit(main())
