"""Voice-menu versions and runs in the database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cti import ivr_store
from cti.db import Database
from cti.ivr_admin import IvrAdmin
from cti.ivr_store import IvrVersionNotFound, TreeNotPublishable
from cti.voice_menu import DEFAULT_TREE
from ivr_scripts.commands import Choice, Outcome
from ivr_scripts.measures import MenuRun
from ivr_scripts.tree import MenuNode, MessageNode, Tree
from ivr_scripts.validate import DEFAULT_SERVICES, load_tree
from screenpop.models import AuditEntry

SERVICES = DEFAULT_SERVICES


def greeting(tree: Tree, text: str) -> Tree:
    node = tree.nodes["bienvenue"]
    assert isinstance(node, MessageNode)
    changed = node.model_copy(update={"prompt": node.prompt.model_copy(update={"text": text})})
    return tree.model_copy(update={"nodes": {**tree.nodes, "bienvenue": changed}})


def broken(tree: Tree) -> Tree:
    menu = tree.nodes["menu_principal"]
    assert isinstance(menu, MenuNode)
    bad = menu.model_copy(update={"choices": {**menu.choices, "8": "nulle_part"}})
    return tree.model_copy(update={"nodes": {**tree.nodes, "menu_principal": bad}})


def audit(db: Database) -> list[tuple[str, str, int | None, str]]:
    with db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(r.username, r.action, r.citizen_id, r.detail) for r in rows]


def test_versions_drafts_publication_and_rollback(database: Database) -> None:
    first = ivr_store.ensure(database, DEFAULT_TREE, SERVICES)
    assert (first.version, first.status, first.author) == (1, "published", "installation")
    assert first.tree == load_tree(DEFAULT_TREE)
    assert ivr_store.ensure(database, DEFAULT_TREE, SERVICES).version == 1  # seeded once

    draft = ivr_store.save_draft(
        database, greeting(first.tree, "Bonjour, ici la mairie."), "thierry", "nouvel accueil"
    )
    assert (draft.version, draft.status, draft.published_at) == (2, "draft", None)
    assert ivr_store.published(database).version == 1  # type: ignore[union-attr]

    # An invalid version is refused with its problems, and nothing changes.
    bad = ivr_store.save_draft(database, broken(first.tree), "thierry", "essai")
    with pytest.raises(TreeNotPublishable) as refused:
        ivr_store.publish(database, bad.version, "thierry", SERVICES)
    assert [p.path for p in refused.value.problems] == ["nodes.menu_principal.choices.8"]
    assert "nulle_part" in refused.value.problems[0].message
    assert [(v.version, v.status) for v in ivr_store.history(database)] == [
        (3, "draft"),
        (2, "draft"),
        (1, "published"),
    ]
    # A service the routing does not know is an error too.
    with pytest.raises(TreeNotPublishable):
        ivr_store.publish(database, 2, "thierry", {"accueil"})
    with pytest.raises(IvrVersionNotFound):
        ivr_store.publish(database, 99, "thierry", SERVICES)

    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    published = ivr_store.publish(database, 2, "thierry", SERVICES, "mise en service", now=when)
    assert (published.status, published.published_by, published.published_at) == (
        "published",
        "thierry",
        when,
    )
    assert published.comment == "nouvel accueil — mise en service"
    assert [(v.version, v.status) for v in ivr_store.history(database)] == [
        (3, "draft"),
        (2, "published"),
        (1, "archived"),
    ]
    # Rollback: the archived version 1 is published again, 2 is archived.
    ivr_store.publish(database, 1, "admin", SERVICES)
    assert [(v.version, v.status) for v in ivr_store.history(database)] == [
        (3, "draft"),
        (2, "archived"),
        (1, "published"),
    ]
    assert ivr_store.published(database).tree == first.tree  # type: ignore[union-attr]
    assert audit(database) == [
        ("installation", "ivr.publish", None, "version 1"),
        ("thierry", "ivr.publish", None, "version 2"),
        ("admin", "ivr.publish", None, "version 1"),
    ]

    found = ivr_store.diff(database, 1, 2)
    assert found.changes == [
        "Nœud « Message “Bonjour et bienvenue à la mairie.” » : message modifié"
    ]
    lines = found.lines
    assert lines[:2] == ["--- version 1", "+++ version 2"]
    assert "+      text: Bonjour, ici la mairie." in lines
    assert "-      text: Bonjour et bienvenue à la mairie." in lines
    with pytest.raises(IvrVersionNotFound):
        ivr_store.diff(database, 1, 42)


async def test_runs_are_recorded_and_measured(database: Database) -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    seen: list[tuple[str, list[str]]] = []
    admin = IvrAdmin(
        database,
        lambda: SERVICES,
        on_menu_path=lambda call_id, path: seen.append((call_id, path)),
        clock=lambda: now,
    )
    menu = ["bienvenue", "horaires_mairie", "menu_principal"]
    reports: list[tuple[str, str | None, list[str], Outcome | None, list[Choice]]] = [
        ("1.1", "1.0", [*menu, "vers_accueil"], Outcome("routed", "accueil", "vers_accueil"), []),
        (
            "2.1",
            "2.0",
            [*menu, "annonce_horaires", "apres_horaires", "merci_horaires"],
            Outcome("self_service", None, "merci_horaires"),
            [Choice("menu_principal", "7"), Choice("apres_horaires", None)],
        ),
        ("3.1", None, menu, None, [Choice("menu_principal", None)]),
    ]
    old = MenuRun(now - timedelta(days=30), "0.1", None, ("bienvenue",), "routed", None, (), False)
    ivr_store.record_run(database, old)
    await admin.start(DEFAULT_TREE)
    for report in reports:
        admin.on_path_recorded(*report)
    await admin.flush()
    assert seen == [("1.0", reports[0][2]), ("2.0", reports[1][2])]  # calls with an id

    measures = await admin.measures(7)
    by_node = {n.node: (n.passed, n.hung_up, n.timed_out) for n in measures.nodes}
    assert by_node["menu_principal"] == (3, 1, 1)
    assert by_node["apres_horaires"] == (1, 0, 1)
    assert by_node["vers_accueil"] == (1, 0, 0)
    assert len(measures.days) == 7
    assert [(d.day, d.calls, d.self_served) for d in measures.days][-1] == (
        date(2026, 11, 23),
        3,
        1,
    )
    await admin.close()

    runs = ivr_store.runs(database, now - timedelta(days=1))
    assert [(r.uniqueid, r.call_id, r.outcome, r.last_node, r.version) for r in runs] == [
        ("1.1", "1.0", "routed", "vers_accueil", 1),
        ("2.1", "2.0", "self_service", "merci_horaires", 1),
        ("3.1", None, "caller_hung_up", "menu_principal", 1),
    ]
    assert runs[1].self_served and runs[1].timed_out_nodes == ("apres_horaires",)
    assert runs[0].service == "accueil" and runs[0].at == now


def test_the_seed_file_must_read(database: Database, tmp_path: Path) -> None:
    seed = tmp_path / "menu.yaml"
    seed.write_text("start: [\n", encoding="utf-8")
    with pytest.raises(Exception, match="YAML illisible"):
        ivr_store.ensure(database, seed, SERVICES)
    assert ivr_store.history(database) == []
