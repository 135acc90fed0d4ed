"""The voice menu in the running product: the published tree, its versions, the calls' runs.

``IvrAdmin`` holds the published ``Tree`` in memory: the FastAGI server asks ``tree()`` at the
start of every call, so a publication (or a rollback) applies from the next call. Trees are
checked against the services of the routing configuration in force. Each call's run reported
by the FastAGI server is handed to the screen pop at once (``on_menu_path``) and written to
``ivr_runs`` by one writer task, off the event loop, in order. The prompts' sounds
(``cti.prompts``) are prepared for the published tree at start and before each publication
takes effect; the editor's checks and /healthz name the prompts whose sound is missing.

A tree from the editor is read and validated off the event loop (``read_checked``: one at a
time, in a thread, within ``check_timeout``) and within ``TreeLimits``, so that a hostile or
huge text never holds up the calls, the pages and ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from cti import ivr_store
from cti.db import Database
from cti.ivr_store import StoredTree
from cti.prompts.library import MissingSound, Recording, SoundLibrary
from ivr_scripts.commands import CaseLookup, Choice, Outcome
from ivr_scripts.compare import compare
from ivr_scripts.errors import IvrError, Problem
from ivr_scripts.measures import (
    PARIS,
    DayMeasure,
    MenuRun,
    NodeMeasure,
    day_measures,
    menu_run,
    node_measures,
)
from ivr_scripts.tree import (
    DEFAULT_LIMITS,
    RouteNode,
    Tree,
    TreeLimits,
    load_tree_text,
    parse_tree_data,
    parse_tree_problems,
)
from ivr_scripts.validate import errors_only, tree_prompts, validate
from ivr_scripts.walkthrough import Walkthrough, walk
from screenpop.directory_writes import menu_run_write
from screenpop.writer import OrderedWriter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MenuPathListener = Callable[[str, list[str]], None]


def _now() -> datetime:
    return datetime.now(PARIS)


class TreeCheckTooLong(IvrError):
    """Reading and validating a tree took longer than ``check_timeout``."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"la vérification du menu a dépassé {timeout:g} s : menu trop complexe, "
            "simplifiez-le ou découpez-le"
        )
        self.timeout = timeout


def read_tree(
    document: Any, limits: TreeLimits = DEFAULT_LIMITS
) -> tuple[Tree | None, list[Problem]]:
    """A tree from the editor: a JSON object (``dict``) or YAML/JSON text; shape problems."""
    if isinstance(document, str):
        return parse_tree_problems(document, limits)
    return parse_tree_data(document, limits)


def _route_services(tree: Tree) -> set[str]:
    return {n.service for n in tree.nodes.values() if isinstance(n, RouteNode)} | {
        tree.fallback_service
    }


@dataclass(frozen=True, slots=True)
class Measures:
    nodes: list[NodeMeasure]
    days: list[DayMeasure]


class IvrAdmin:
    def __init__(
        self,
        db: Database,
        services: Callable[[], Collection[str]],
        *,
        case_lookup: CaseLookup | None = None,
        on_menu_path: MenuPathListener | None = None,
        clock: Clock = _now,
        sounds: SoundLibrary | None = None,
        limits: TreeLimits = DEFAULT_LIMITS,
        check_timeout: float = 10.0,
        writer: OrderedWriter | None = None,
    ) -> None:
        self.db = db
        self.sounds = sounds
        self._services = services
        self._case_lookup = case_lookup
        self._on_menu_path = on_menu_path
        self._clock = clock
        self.limits = limits
        self.check_timeout = check_timeout
        self._checking = asyncio.Semaphore(1)  # one tree at a time: threads stay for the DB
        self._published: StoredTree | None = None
        self._lock = asyncio.Lock()
        #: Several nodes: the router's lease, checked by a publication's transaction.
        self.fence: Callable[[Connection], None] | None = None
        # The product's writer (the screen pop's): runs held and spooled while the database
        # is away. Without one (tests, tools), a writer of its own that tries each run once.
        self._shared_writer = writer is not None
        self._runs = writer or OrderedWriter("voice menu runs")
        self._writer: asyncio.Task[None] | None = None
        self._preparing: asyncio.Task[None] | None = None

    # -- life ---------------------------------------------------------------------------

    async def start(self, seed: Path) -> StoredTree:
        """Load the published version (seeding it from ``seed`` the first time) and start
        the writer of runs."""
        stored = await asyncio.to_thread(ivr_store.published, self.db)
        if stored is None:
            tree, problems = await asyncio.to_thread(lambda: read_tree(load_tree_text(seed)))
            # The installation's menu is trusted even if it names services the routing does
            # not know: the router sends those calls to CTI_DEFAULT_SERVICE.
            known = set(self._services()) | (_route_services(tree) if tree else set())
            stored = await asyncio.to_thread(ivr_store.ensure, self.db, seed, known)
        unknown = _route_services(stored.tree) - set(self._services())
        if unknown:
            log.warning(
                "menu vocal version %d : services inconnus du routage %s (appels vers le "
                "service par défaut)",
                stored.version,
                ", ".join(sorted(unknown)),
            )
        self._published = stored
        if not self._shared_writer:  # the shared one is run (and closed) by its owner
            self._writer = asyncio.create_task(self._runs.run(), name="ivr-runs")
        if self.sounds is not None:  # the first calls need not wait for the synthesis
            self._preparing = asyncio.create_task(self._prepare(stored.tree), name="ivr-sounds")
        return stored

    async def _prepare(self, tree: Tree) -> None:
        if self.sounds is not None:
            # A holiday's announcement names the day only when said: rendered at first need.
            prompts = (p for _path, p in tree_prompts(tree) if "{jour_ferie}" not in p.text)
            await self.sounds.prepare(prompts)

    async def close(self) -> None:
        """Write the runs already reported, then stop the writer."""
        if self._preparing is not None:
            self._preparing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._preparing
            self._preparing = None
        if self._writer is None:
            return
        await self._runs.idle.wait()
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._writer = None

    # -- what the FastAGI server calls --------------------------------------------------

    def tree(self) -> Tree:
        """The published tree (FastAGI's ``tree_provider``)."""
        if self._published is None:
            raise RuntimeError("IvrAdmin.start() has not run")
        return self._published.tree

    @property
    def published_version(self) -> int | None:
        return None if self._published is None else self._published.version

    def on_path_recorded(
        self,
        uniqueid: str,
        call_id: str | None,
        path: list[str],
        outcome: Outcome | None,
        choices: list[Choice],
    ) -> None:
        """FastAGI's ``on_path_recorded``: runs in the event loop, never blocks."""
        run = menu_run(
            self._clock(), uniqueid, call_id, path, outcome, choices, self.published_version
        )
        if call_id and self._on_menu_path is not None:
            try:
                self._on_menu_path(call_id, list(path))
            except Exception:
                log.exception("appel %s : parcours du menu non transmis à la fiche", call_id)
        if self._shared_writer:
            self._runs.submit(menu_run_write(run))
        else:
            self._runs.submit(functools.partial(self._record_run, run))

    def _record_run(self, run: MenuRun) -> None:
        try:
            ivr_store.record_run(self.db, run)
        except Exception:
            log.exception("appel %s : parcours du menu non enregistré", run.uniqueid)

    async def flush(self) -> None:
        """Wait until every run reported so far is written."""
        await self._runs.idle.wait()

    # -- editor -------------------------------------------------------------------------

    def known_services(self) -> set[str]:
        return set(self._services())

    def check(self, tree: Tree) -> list[Problem]:
        """Every problem of ``tree`` against the routing configuration's services and the
        recordings we have."""
        return validate(tree, self.known_services(), self._recordings(tree))

    def _recordings(self, tree: Tree) -> set[str] | None:
        if self.sounds is None:
            return None
        files = {p.file for _path, p in tree_prompts(tree) if p.file is not None}
        return {f for f in files if self.sounds.has(f)}

    def missing_sounds(self) -> list[MissingSound]:
        """The published menu's prompts whose sound is missing (and the sounds Asterisk
        could not play)."""
        if self.sounds is None or self._published is None:
            return []
        return self.sounds.missing_prompts(tree_prompts(self._published.tree))

    async def add_recording(self, data: bytes, filename: str) -> Recording:
        """Keep an uploaded recording. Raises ``RecordingRejected``."""
        if self.sounds is None:
            raise RuntimeError("no sound library")
        return await self.sounds.add_recording(data, filename)

    async def read_checked(
        self, document: Any, *, check: bool
    ) -> tuple[Tree | None, list[Problem], list[Problem]]:
        """The editor's tree, its shape problems and (``check``) the validator's, worked
        out in a thread. Raises ``TreeCheckTooLong``."""

        def work() -> tuple[Tree | None, list[Problem], list[Problem]]:
            tree, shape = read_tree(document, self.limits)
            return tree, shape, self.check(tree) if check and tree is not None else []

        async with self._checking:
            try:
                return await asyncio.wait_for(asyncio.to_thread(work), self.check_timeout)
            except TimeoutError:
                log.warning("menu vocal : vérification abandonnée après %g s", self.check_timeout)
                raise TreeCheckTooLong(self.check_timeout) from None

    def is_valid(self, tree: Tree) -> bool:
        return not errors_only(self.check(tree))

    async def versions(self) -> list[StoredTree]:
        return await asyncio.to_thread(ivr_store.history, self.db)

    async def version(self, number: int) -> StoredTree:
        """Raises ``IvrVersionNotFound``."""
        stored = await asyncio.to_thread(ivr_store.version, self.db, number)
        if stored is None:
            raise ivr_store.IvrVersionNotFound(number)
        return stored

    async def save_draft(self, tree: Tree, author: str, comment: str) -> StoredTree:
        return await asyncio.to_thread(ivr_store.save_draft, self.db, tree, author, comment)

    async def publish(self, number: int, author: str, comment: str = "") -> StoredTree:
        """Publish (or roll back to) version ``number``; the next call goes through it.

        Raises ``IvrVersionNotFound`` or ``TreeNotPublishable`` (nothing changed)."""
        async with self._lock:
            stored = await asyncio.to_thread(
                ivr_store.publish,
                self.db,
                number,
                author,
                self.known_services(),
                comment,
                fence=self.fence,
            )
            # Its speech is rendered before the next call goes through it.
            await self._prepare(stored.tree)
            self._published = stored
        log.info("menu vocal : version %d publiée par %s", number, author)
        return stored

    async def diff(self, old: int, new: int) -> ivr_store.VersionsDiff:
        """Raises ``IvrVersionNotFound``."""
        return await asyncio.to_thread(ivr_store.diff, self.db, old, new)

    async def changes_from(self, number: int, tree: Tree) -> list[str]:
        """What publishing ``tree`` would change from version ``number``, in French.

        Raises ``IvrVersionNotFound``."""
        stored = await self.version(number)
        return await asyncio.to_thread(compare, stored.tree, tree)

    async def simulate(self, tree: Tree, keys: list[str], at: datetime | None) -> Walkthrough:
        when = at or self._clock()
        if when.tzinfo is None:
            when = when.replace(tzinfo=PARIS)
        lookup = self._case_lookup or (lambda _ref: None)
        # The case lookup reads the database: off the event loop.
        return await asyncio.to_thread(walk, tree, keys, when, lookup)

    async def measures(self, days: int) -> Measures:
        today = self._clock().astimezone(PARIS).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, time(0), tzinfo=PARIS)
        runs = await asyncio.to_thread(ivr_store.runs, self.db, since)
        return Measures(node_measures(runs), day_measures(runs, today, days))
