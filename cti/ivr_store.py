"""The voice menu's versions and the calls' runs through it, kept in the database.

Theory of operation: every saved tree is a numbered version (``ivr_tree_versions``): a
draft (which may not validate yet), the published one (one at most: the one calls go
through) or archived (published before). ``ensure`` seeds version 1 from a YAML file
(``ivr_scripts/default_tree.yaml``) the first time, published. ``publish`` validates the
version against the known services first and changes nothing when it does not validate;
publishing an archived version is the rollback. Each call through the menu leaves one row
in ``ivr_runs`` (``record_run``), which ``runs`` reads back for the measures.

Errors::

    IvrError (ivr_scripts.errors)
    ├── IvrVersionNotFound   no version with that number
    └── TreeNotPublishable   the version does not validate: ``problems`` lists why
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, select

from cti.db import Database
from ivr_scripts.compare import compare
from ivr_scripts.diff import unified_lines
from ivr_scripts.errors import IvrError, Problem
from ivr_scripts.measures import MenuRun
from ivr_scripts.tree import Tree, dump_tree, load_tree_text, parse_tree
from ivr_scripts.validate import errors_only, validate
from screenpop.models import AuditEntry, IvrRun, IvrTreeVersion

DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"
PUBLISH_ACTION = "ivr.publish"


class IvrVersionNotFound(IvrError):
    def __init__(self, version: int) -> None:
        super().__init__(f"la version {version} du menu vocal n'existe pas")
        self.version = version


class TreeNotPublishable(IvrError):
    def __init__(self, version: int, problems: Sequence[Problem]) -> None:
        self.version = version
        self.problems = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"la version {version} du menu vocal ne peut pas être publiée :\n{lines}")


@dataclass(frozen=True, slots=True)
class StoredTree:
    version: int
    status: str
    created_at: datetime
    author: str
    comment: str
    published_at: datetime | None
    published_by: str | None
    tree: Tree

    @property
    def yaml(self) -> str:
        return dump_tree(self.tree)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; everything we store is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _stored(row: IvrTreeVersion) -> StoredTree:
    tree = Tree.model_validate(row.document)
    return StoredTree(
        version=row.id,
        status=row.status,
        created_at=_utc(row.created_at) or row.created_at,
        author=row.author,
        comment=row.comment,
        published_at=_utc(row.published_at),
        published_by=row.published_by,
        tree=tree,
    )


def _document(tree: Tree) -> object:
    return tree.model_dump(mode="json", exclude_none=True)


def version(db: Database, number: int) -> StoredTree | None:
    with db.session() as session, session.begin():
        row = session.get(IvrTreeVersion, number)
        return None if row is None else _stored(row)


def published(db: Database) -> StoredTree | None:
    """The version calls go through, if any."""
    with db.session() as session, session.begin():
        row = session.scalar(
            select(IvrTreeVersion).where(IvrTreeVersion.status == PUBLISHED).limit(1)
        )
        return None if row is None else _stored(row)


def history(db: Database, limit: int = 200) -> list[StoredTree]:
    """Newest first."""
    with db.session() as session, session.begin():
        rows = session.scalars(
            select(IvrTreeVersion).order_by(IvrTreeVersion.id.desc()).limit(limit)
        ).all()
        return [_stored(row) for row in rows]


def save_draft(db: Database, tree: Tree, author: str, comment: str = "") -> StoredTree:
    """A new version, as a draft (it need not validate yet)."""
    with db.session() as session, session.begin():
        row = IvrTreeVersion(
            author=author, comment=comment[:200], document=_document(tree), status=DRAFT
        )
        session.add(row)
        session.flush()
        return _stored(row)


def publish(
    db: Database,
    number: int,
    author: str,
    known_services: Collection[str],
    comment: str = "",
    now: datetime | None = None,
    fence: Callable[[Connection], None] | None = None,
) -> StoredTree:
    """Make version ``number`` the one calls go through; the one before is archived.

    Raises ``IvrVersionNotFound``, or ``TreeNotPublishable`` (nothing changed) when the
    version has validation errors. Writes an ``ivr.publish`` audit entry. ``fence`` (several
    nodes): only the router in charge, whose menu answers the calls, may publish; raises
    ``NotLeader`` on a deposed one.
    """
    with db.session() as session, session.begin():
        if fence is not None:
            fence(session.connection())
        row = session.get(IvrTreeVersion, number, with_for_update=True)
        if row is None:
            raise IvrVersionNotFound(number)
        problems = errors_only(validate(_stored(row).tree, known_services))
        if problems:
            raise TreeNotPublishable(number, problems)
        if row.status == PUBLISHED:
            return _stored(row)
        current = session.scalars(
            select(IvrTreeVersion).where(IvrTreeVersion.status == PUBLISHED).with_for_update()
        ).all()
        for old in current:
            old.status = ARCHIVED
        row.status = PUBLISHED
        row.published_at = now or datetime.now(UTC)
        row.published_by = author
        if comment:
            row.comment = (f"{row.comment} — {comment}" if row.comment else comment)[:200]
        session.add(
            AuditEntry(
                username=author, action=PUBLISH_ACTION, citizen_id=None, detail=f"version {number}"
            )
        )
        session.flush()
        return _stored(row)


def ensure(db: Database, seed: Path, known_services: Collection[str]) -> StoredTree:
    """The published version, seeding it from ``seed`` (published) when there is none.

    Raises ``TreeLoadError`` when the seed file does not read, ``TreeNotPublishable`` when it
    does not validate against ``known_services``.
    """
    stored = published(db)
    if stored is not None:
        return stored
    tree = parse_tree(load_tree_text(seed), str(seed))
    draft = save_draft(db, tree, "installation", f"chargée depuis {seed.name}")
    return publish(db, draft.version, "installation", known_services)


@dataclass(frozen=True, slots=True)
class VersionsDiff:
    """Two versions compared: sentences per node (``changes``) and the YAML diff."""

    changes: list[str]
    lines: list[str]


def diff(db: Database, old: int, new: int) -> VersionsDiff:
    """What changed from version ``old`` to ``new``. Raises ``IvrVersionNotFound``."""
    stored = []
    for number in (old, new):
        found = version(db, number)
        if found is None:
            raise IvrVersionNotFound(number)
        stored.append(found)
    before, after = stored
    return VersionsDiff(
        changes=compare(before.tree, after.tree),
        lines=unified_lines(before.yaml, after.yaml, f"version {old}", f"version {new}"),
    )


def record_run(db: Database, run: MenuRun) -> None:
    with db.session() as session, session.begin():
        session.add(
            IvrRun(
                at=run.at.astimezone(UTC),  # SQLite keeps no zone: all in UTC
                uniqueid=run.uniqueid[:64],
                call_id=run.call_id,
                version=run.version,
                path=list(run.path),
                outcome=run.outcome,
                last_node=run.last_node,
                timed_out_nodes=list(run.timed_out_nodes),
                self_served=run.self_served,
                service=run.service,
            )
        )


def runs(db: Database, since: datetime) -> list[MenuRun]:
    """Runs from ``since`` on, oldest first."""
    with db.session() as session, session.begin():
        rows = session.scalars(
            select(IvrRun).where(IvrRun.at >= since.astimezone(UTC)).order_by(IvrRun.at, IvrRun.id)
        ).all()
        return [
            MenuRun(
                at=_utc(r.at) or r.at,
                uniqueid=r.uniqueid,
                call_id=r.call_id,
                path=tuple(r.path or ()),
                outcome=r.outcome,
                last_node=r.last_node,
                timed_out_nodes=tuple(r.timed_out_nodes or ()),
                self_served=r.self_served,
                service=r.service,
                version=r.version,
            )
            for r in rows
        ]
