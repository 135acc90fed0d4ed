"""Right of access (RGPD art. 15): everything the product holds about one citizen, as JSON.

For the data-protection officer: ``python -m cti.citizen_export CITIZEN_ID [--out FILE]`` or
``GET /api/admin/citizens/{id}/export`` (admins). The export holds her identity and numbers,
her cases with their status history, the calls linked to her with their notes and voice-menu
paths, her callback requests, and the audit entries about her (who opened her card, when).
Calls from one of her numbers that were never linked to her are not included: on a shared
landline they may be a relative's. Callback requests from the voice menu are rarely linked
to anyone, so a request is hers when it is linked to her or when it asks to call a number
that she alone holds in the directory. Each export is itself written to the audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from cti.settings import Settings
from routing.callbacks.request import (
    SOURCE_LABELS,
    STATE_LABELS,
    WINDOW_LABELS,
    CallbackState,
    Source,
    Window,
)
from screenpop.directory import Directory
from screenpop.errors import CitizenNotFound
from screenpop.models import (
    CallbackRow,
    Case,
    CaseStatusChange,
    Citizen,
    Interaction,
    PhoneNumber,
)


class Identity(BaseModel):
    id: int
    external_ref: str | None
    civility: str | None
    last_name: str
    first_name: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    email: str | None
    language: str
    created_at: datetime
    updated_at: datetime


class Phone(BaseModel):
    e164: str
    label: str | None


class StatusChange(BaseModel):
    status: str
    at: datetime
    by: str | None


class CaseOut(BaseModel):
    reference: str
    service: str
    subject: str
    status: str
    owner_agent: str | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    history: list[StatusChange]


class NoteOut(BaseModel):
    agent: str
    at: datetime
    text: str


class CallOut(BaseModel):
    call_id: str
    started_at: datetime
    caller_raw: str | None
    caller_e164: str | None
    caller_withheld: bool
    did: str | None
    service: str | None
    ivr_path: list[str]
    agents: list[str]
    wait_seconds: float | None
    talk_seconds: float | None
    duration_seconds: float | None
    outcome: str
    disposition: str | None
    notes: list[NoteOut]


class CallbackOut(BaseModel):
    asked_at: datetime
    number: str | None
    service: str
    window: str  # as she asked: « à la réouverture »...
    source: str  # « menu vocal », « à rappeler »...
    menu_path: list[str]
    note: str
    requested_by: str | None
    state: str  # « rappelé », « en attente »...
    attempts: int
    agent: str | None
    outcome: str | None


class AuditOut(BaseModel):
    at: datetime
    username: str
    action: str
    detail: str


class CitizenExport(BaseModel):
    exported_at: datetime
    identity: Identity
    phones: list[Phone]
    cases: list[CaseOut]
    calls: list[CallOut]
    callbacks: list[CallbackOut]
    audit: list[AuditOut]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def export(db: Database, citizen_id: int, now: datetime) -> CitizenExport:
    """Everything about ``citizen_id``; raises ``CitizenNotFound``."""
    with db.session() as session, session.begin():
        citizen = session.get(Citizen, citizen_id, options=[selectinload(Citizen.phones)])
        if citizen is None:
            raise CitizenNotFound(citizen_id)
        cases = list(
            session.scalars(
                select(Case).where(Case.citizen_id == citizen_id).order_by(Case.opened_at, Case.id)
            )
        )
        changes = list(
            session.scalars(
                select(CaseStatusChange)
                .where(CaseStatusChange.case_id.in_([c.id for c in cases]))
                .order_by(CaseStatusChange.at, CaseStatusChange.id)
            )
        )
        calls = list(
            session.scalars(
                select(Interaction)
                .where(Interaction.citizen_id == citizen_id)
                .options(selectinload(Interaction.notes))
                .order_by(Interaction.started_at, Interaction.id)
            )
        )
        own = {p.e164 for p in citizen.phones}
        shared = set(
            session.scalars(
                select(PhoneNumber.e164).where(
                    PhoneNumber.e164.in_(own), PhoneNumber.citizen_id != citizen_id
                )
            )
        )
        callbacks = list(
            session.scalars(
                select(CallbackRow)
                .where(
                    or_(
                        CallbackRow.citizen_id == citizen_id,
                        CallbackRow.number.in_(sorted(own - shared)),
                    )
                )
                .order_by(CallbackRow.asked_at, CallbackRow.id)
            )
        )
        identity = Identity(
            id=citizen.id,
            external_ref=citizen.external_ref,
            civility=citizen.civility,
            last_name=citizen.last_name,
            first_name=citizen.first_name,
            address=citizen.address,
            postal_code=citizen.postal_code,
            city=citizen.city,
            email=citizen.email,
            language=citizen.language,
            created_at=_utc(citizen.created_at),
            updated_at=_utc(citizen.updated_at),
        )
        phones = [Phone(e164=p.e164, label=p.label) for p in citizen.phones]
        case_out = [
            CaseOut(
                reference=c.reference,
                service=c.service,
                subject=c.subject,
                status=c.status,
                owner_agent=c.owner_agent,
                opened_at=_utc(c.opened_at),
                updated_at=_utc(c.updated_at),
                closed_at=_utc_or_none(c.closed_at),
                history=[
                    StatusChange(status=h.status, at=_utc(h.at), by=h.by)
                    for h in changes
                    if h.case_id == c.id
                ],
            )
            for c in cases
        ]
        call_out = [
            CallOut(
                call_id=i.call_id,
                started_at=_utc(i.started_at),
                caller_raw=i.caller_raw,
                caller_e164=i.caller_e164,
                caller_withheld=i.caller_withheld,
                did=i.did,
                service=i.service,
                ivr_path=list(i.ivr_path or []),
                agents=list(i.agents or []),
                wait_seconds=i.wait_seconds,
                talk_seconds=i.talk_seconds,
                duration_seconds=i.duration_seconds,
                outcome=i.outcome,
                disposition=i.disposition,
                notes=[NoteOut(agent=n.agent, at=_utc(n.at), text=n.text) for n in i.notes],
            )
            for i in calls
        ]
        callback_out = [
            CallbackOut(
                asked_at=_utc(r.asked_at),
                number=r.number,
                service=r.service,
                window=WINDOW_LABELS[Window(r.window)],
                source=SOURCE_LABELS[Source(r.source)],
                menu_path=list(r.menu_path or []),
                note=r.note or "",
                requested_by=r.requested_by,
                state=STATE_LABELS[CallbackState(r.state)],
                attempts=r.attempts,
                agent=r.agent,
                outcome=r.outcome,
            )
            for r in callbacks
        ]
    audit = [
        AuditOut(at=e.at, username=e.username, action=e.action, detail=e.detail)
        for e in reversed(entries(db, AuditFilter(citizen_id=citizen_id, limit=100_000)))
    ]
    return CitizenExport(
        exported_at=now,
        identity=identity,
        phones=phones,
        cases=case_out,
        calls=call_out,
        callbacks=callback_out,
        audit=audit,
    )


def export_and_audit(db: Database, citizen_id: int, by: str, now: datetime) -> CitizenExport:
    """The export, recorded in the audit trail (after it is built: a failed one is not)."""
    result = export(db, citizen_id, now)
    Directory(db).audit(by, "citizen.export", citizen_id, "droit d'accès : export complet")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cti.citizen_export",
        description="Droit d'accès : tout ce que le CTI détient sur un administré, en JSON.",
    )
    parser.add_argument("citizen_id", type=int, help="identifiant de l'administré")
    parser.add_argument("--out", type=Path, help="fichier à écrire (défaut : la sortie standard)")
    parser.add_argument("--database", help="URL de la base (défaut : CTI_DATABASE_URL)")
    args = parser.parse_args(argv)
    db = Database(args.database or Settings().database_url)
    try:
        result = export_and_audit(db, args.citizen_id, getpass.getuser(), datetime.now(UTC))
    except CitizenNotFound as exc:
        print(f"Export impossible : {exc}.", file=sys.stderr)
        return 1
    finally:
        db.close()
    text = result.model_dump_json(indent=2)
    if args.out is None:
        print(text)
    else:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"Export de l'administré {args.citizen_id} écrit dans {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
