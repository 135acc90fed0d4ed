"""Opening hours, holidays, closures and special openings, changed by the town hall's admins.

Where they live: in the voice menu's ``calendars`` (``ivr_scripts.hours``), the one place the
menu's ``hours_check`` nodes and the wallboard (``cti.supervision.opening_hours``: the
calendar named like the service, else the menu's first one, the town hall's) read them. So a
change of hours is a new version of the published menu with only its calendars replaced,
checked like any menu, published (the next call hears it) and audited (``hours.update``, plus
the menu's ``ivr.publish``). A draft the telecom staff saved after the published version is
carried over too (a new draft with the new calendars), so publishing it later does not bring
the old hours back.

Errors::

    IvrError (ivr_scripts.errors)
    └── HoursRefused   the calendars do not validate: ``problems`` by dotted path
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from cti import ivr_store
from cti.db import Database
from cti.ivr_admin import IvrAdmin
from cti.ivr_store import StoredTree
from ivr_scripts.errors import IvrError, Problem
from ivr_scripts.tree import HoursCheckNode
from ivr_scripts.validate import errors_only
from screenpop.directory import Directory

AUDIT_ACTION = "hours.update"


class HoursRefused(IvrError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(f"{p.path} : {p.message}" for p in self.problems)
        super().__init__(f"horaires refusés : {lines}")


def menu_uses(stored: StoredTree) -> dict[str, list[str]]:
    """Calendar name -> the menu's nodes that check it (their label, else their id)."""
    uses: dict[str, list[str]] = {}
    for node_id, node in stored.tree.nodes.items():
        if isinstance(node, HoursCheckNode):
            uses.setdefault(node.calendar, []).append(node.label or node_id)
    return uses


class HoursAdmin:
    def __init__(self, db: Database, ivr: IvrAdmin) -> None:
        self.db = db
        self.ivr = ivr
        self._lock = asyncio.Lock()

    async def current(self) -> StoredTree:
        number = self.ivr.published_version
        if number is None:
            raise RuntimeError("the voice menu has not started")
        return await self.ivr.version(number)

    async def change(
        self, calendars: Mapping[str, Any], author: str, comment: str = ""
    ) -> StoredTree:
        """Publish the menu in force with ``calendars`` (JSON objects) instead of its own.

        Raises ``HoursRefused`` (nothing changed) when they do not validate."""
        async with self._lock:
            published = await self.current()
            document = published.tree.model_dump(mode="json", exclude_none=True)
            document["calendars"] = dict(calendars)
            tree, shape, checked = await self.ivr.read_checked(document, check=True)
            problems = errors_only([*shape, *checked])
            if tree is None or problems:
                raise HoursRefused(problems or shape)
            words = "horaires modifiés" + (f" : {comment}" if comment else "")
            draft = await self.ivr.save_draft(tree, author, words)
            stored = await self.ivr.publish(draft.version, author)
            carried = await self._carry_to_newer_draft(published.version, draft.version, calendars)
            detail = f"menu vocal version {stored.version}" + (f" : {comment}" if comment else "")
            if carried is not None:
                detail += f" (brouillon repris en version {carried})"
            await asyncio.to_thread(Directory(self.db).audit, author, AUDIT_ACTION, None, detail)
            return stored

    async def _carry_to_newer_draft(
        self, published: int, ours: int, calendars: Mapping[str, Any]
    ) -> int | None:
        versions = await asyncio.to_thread(ivr_store.history, self.db, 20)
        newer = [
            v
            for v in versions
            if v.status == ivr_store.DRAFT and published < v.version and v.version != ours
        ]
        if not newer:
            return None
        latest = newer[0]
        document = latest.tree.model_dump(mode="json", exclude_none=True)
        document["calendars"] = dict(calendars)
        tree, _shape, _checked = await self.ivr.read_checked(document, check=False)
        if tree is None:  # the draft does not read with them: left as it was
            return None
        comment = f"{latest.comment} — avec les horaires modifiés".strip(" —")
        carried = await self.ivr.save_draft(tree, latest.author, comment)
        return carried.version
