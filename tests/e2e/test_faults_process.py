"""Faults with real processes and two dozen live calls: the AMI link cut, the PBX restarted or
crashed, the product killed (SIGKILL) and started again.

The product runs as ``make run`` runs it (``python -m cti.app`` in a process of its own, a
SQLite file, its spool); the PBX is the simulated Asterisk over real TCP, in the test's process
so that the test knows the truth of every call and every phone. Six agents log in from their
pages (real WebSockets) and answer every call they are offered; callers talk until the test
hangs up for them. Each test puts 24 calls up (6 talking, 18 waiting), strikes, lets the
product recover, then serves every call left, and counts:

- **lost calls**: a call that the PBX still had and no agent ever answered, or that has no
  record at all;
- **duplicate pops**: a call offered on a page more than once (every agent answers, so each
  call is offered once), or answered by two agents;
- **lost records**: a call whose record is missing, still "in progress" after it ended, or
  says another outcome or agent than the PBX saw;
- **agents whose state disagrees with their phone**: after the recovery (every phone busy) and
  at the end (every phone free), the wallboard's state of each agent against the PBX.

All four must be 0. And when the product is killed, nothing its agents were told is saved
(notes, dispositions, the audit of a search) may be missing after the restart. Every wait
is on an event or a state read back (PBX, pages, API, database); timeouts only turn a hang
into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cti.db import Database
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone, SimCall
from screenpop import accounts
from tests.asterisk.lab import PASSWORD, WAIT, Agent, LabError, Ports, Product, first_login

AGENTS = {"201": "marie", "202": "paul", "203": "sophie", "204": "luc", "205": "claire"}
AGENTS |= {"206": "hugo"}
SECRET = "change-me-cti-secret"  # what the lab's Product gives the product
SAFETY_NET = 600  # the dialplan's own fallback stays out of these tests
_AGENT_LINES = "".join(
    f'  "{ext}": {{name: {name}, skills: {{accueil: 3}}}}\n' for ext, name in AGENTS.items()
)
ROUTING = (
    """
max_missed_offers: 3
skills: {accueil: Accueil}
services:
  accueil: {label: Accueil, required_skills: {accueil: 1}, max_wait_s: 3600, wrap_up_s: 0}
agents:
"""
    + _AGENT_LINES
)
LIVE = 24


class Rig:
    """The PBX, the product, the agents' pages and the bookkeeping of every call."""

    def __init__(self, folder: Path, pbx: SimulatedPbx, database: str | None = None) -> None:
        self.folder = folder
        self.pbx = pbx
        routing = folder / "routing.yaml"
        routing.write_text(ROUTING, encoding="utf-8")
        sounds = folder / "sounds"
        sounds.mkdir()
        self.product = Product(folder, Ports(ami=pbx.port), routing, SAFETY_NET, sounds)
        if database is not None:  # a server instead of the SQLite file (its spool beside)
            self.product.database = self.product.env["CTI_DATABASE_URL"] = database
            self.product.env["CTI_SPOOL_DIR"] = str(folder / "spool")
        self.product.env["CTI_AMI_RECONNECT_MIN"] = "0.1"
        self.product.env["CTI_AMI_RECONNECT_MAX"] = "0.5"
        self.pages: list[Agent] = []  # every page ever opened (a restart opens new ones)
        self.agents: dict[str, Agent] = {}
        self.placed: list[SimCall] = []
        self.ended_by_fault: set[str] = set()  # calls the fault itself hung up
        self.abandoned: set[str] = set()  # hung up by the caller while waiting
        self._numbers = iter(range(10_000))

    async def install(self) -> None:
        db = Database(self.product.database)
        db.migrate()
        for extension, name in AGENTS.items():
            accounts.create_user(db, name, PASSWORD, accounts.Role.AGENT, name, extension)
        accounts.create_user(db, "superviseur", PASSWORD, accounts.Role.SUPERVISOR, "Nadia")
        db.close()

    async def open_pages(self) -> None:
        for extension, name in AGENTS.items():
            page = Agent(self.product, name, extension)
            await page.login()
            self.pages.append(page)
            self.agents[extension] = page

    async def close_pages(self) -> None:
        for page in self.agents.values():
            await page.close()
        self.agents = {}

    # -- the PBX side ---------------------------------------------------------------------

    def place(self, count: int) -> None:
        for _ in range(count):
            number = f"06{next(self._numbers):08d}"
            self.placed.append(self.pbx.place_call(number, service="accueil", talk=None))

    def live(self) -> list[SimCall]:
        return [c for c in self.placed if not c.ended.is_set()]

    def connected(self) -> list[SimCall]:
        return [c for c in self.live() if c.stage == "connected"]

    def waiting(self) -> list[SimCall]:
        return [c for c in self.live() if c.stage == "waiting"]

    def busy_phones(self) -> set[str]:
        return {c.agent for c in self.live() if c.stage in ("ringing", "connected") and c.agent}

    async def until_pbx(self, check: Callable[[], bool], what: str) -> None:
        changed = self.pbx.telephony.changed

        async def loop() -> None:
            while not check():
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.5)

        try:
            await asyncio.wait_for(loop(), WAIT)
        except TimeoutError:
            stages = Counter(c.stage for c in self.live())
            log = self.product.log_tail()
            raise LabError(f"the PBX never showed {what}: {stages}\n{log}") from None

    @property
    def answered_by(self) -> dict[str, str]:
        """linkedid -> the agent whose phone the PBX connected the caller to."""
        return {c.linkedid: c.agent for c in self.placed if c.answered_at and c.agent}

    def hang_up(self, call: SimCall) -> None:
        if call.stage == "waiting":
            self.abandoned.add(call.linkedid)
        self.pbx.hangup_call(call)

    async def serve_everyone(self) -> None:
        """The callers talk, then hang up; every call left reaches an agent."""
        while self.live():
            await self.until_pbx(
                lambda: not self.live() or bool(self.connected()), "a call answered"
            )
            talking = self.connected()
            for call in talking:
                self.hang_up(call)
            await self.until_pbx(
                lambda calls=talking: all(c.ended.is_set() for c in calls),  # type: ignore[misc]
                "the talking callers gone",
            )

    # -- the product side -----------------------------------------------------------------

    async def board(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.product.url) as client:
            await first_login(client, "superviseur")
            reply = await client.get("/api/supervision")
            reply.raise_for_status()
            return dict(reply.json())

    async def settled(self) -> None:
        """The product follows the PBX again: link up, the same live calls."""
        await self.product.until_health(
            lambda h: h["ami"] == "ready" and h["live_calls"] == len(self.live()),
            f"the link up with {len(self.live())} live calls",
        )

    async def disagreeing_agents(self) -> list[str]:
        """Agents whose state on the wallboard is not what their phone does."""
        busy = self.busy_phones()
        board = await self.board()
        wrong = []
        for agent in board["agents"]:
            on_phone = agent["state"] in ("ringing", "on_call")
            if on_phone != (agent["agent"] in busy):
                phone = "busy" if agent["agent"] in busy else "free"
                wrong.append(f"{agent['agent']} {agent['state']} on the board, phone {phone}")
        return wrong

    async def counts(self) -> dict[str, int]:
        """Once every call has ended: the four figures of the module's docstring."""
        ids = [c.linkedid for c in self.placed]
        rows = await self._records(ids)
        offered = Counter(
            (m["card"]["call_id"])
            for page in self.pages
            for m in page.messages
            if m.get("type") == "card.offered"
        )
        answered_on_pages: dict[str, set[str]] = {}
        for page in self.pages:
            for m in page.messages:
                if m.get("type") == "card.answered":
                    answered_on_pages.setdefault(m["card"]["call_id"], set()).add(page.extension)
        lost_records = 0
        for call_id in ids:
            row = rows.get(call_id)
            if row is None or row["outcome"] in (None, "in_progress"):
                lost_records += 1
            elif call_id in self.answered_by and (
                row["outcome"] != "answered"
                or _agents(row["agents"])[-1:] != [self.answered_by[call_id]]
            ):
                lost_records += 1
        served = set(self.answered_by) | self.ended_by_fault | self.abandoned
        return {
            "lost calls": sum(1 for i in ids if i not in served or i not in rows),
            "duplicate pops": sum(n - 1 for n in offered.values() if n > 1)
            + sum(len(a) - 1 for a in answered_on_pages.values() if len(a) > 1),
            "lost records": lost_records,
            "agents disagreeing": len(await self.disagreeing_agents()),
        }

    async def agents_work(self) -> list[tuple[str, str, str]]:
        """Each talking agent notes and qualifies her call, all at once as busy desks do,
        then one searches the directory. Returns what each was told is saved:
        (kind, call id or username, what)."""
        talking = {c.agent: c.linkedid for c in self.connected() if c.agent}

        async def work(extension: str, call_id: str) -> list[tuple[str, str, str]]:
            page = self.agents[extension]
            text = f"Note de {page.username} avant la panne"
            note = await page.post(f"/api/calls/{call_id}/note", {"text": text})
            assert note.status_code == 201, note.text
            reason = "Rendez-vous pris"
            qualified = await page.post(
                f"/api/calls/{call_id}/disposition", {"disposition": reason}
            )
            assert qualified.status_code == 200, qualified.text
            return [("note", call_id, text), ("disposition", call_id, reason)]

        async def search() -> list[tuple[str, str, str]]:
            page = self.agents["201"]
            found = await page.client.get("/api/citizens", params={"q": "Dupont"})
            assert found.status_code == 200, found.text
            return [("audit", page.username, "citizen.search")]

        done = await asyncio.gather(*(work(a, c) for a, c in talking.items()))
        # Last, alone: nothing else's write carries its audit entry to the database.
        return [item for items in done for item in items] + await search()

    async def lost_work(self, told: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """What the agents were told is saved and the database does not have."""
        notes = await asyncio.to_thread(
            self.product.rows,
            "SELECT i.call_id, n.text FROM interaction_notes n "
            "JOIN interactions i ON i.id = n.interaction_id",
        )
        calls = await asyncio.to_thread(
            self.product.rows, "SELECT call_id, disposition FROM interactions"
        )
        audits = await asyncio.to_thread(
            self.product.rows, "SELECT username, action FROM audit_log"
        )
        there = {("note", r["call_id"], r["text"]) for r in notes}
        there |= {("disposition", r["call_id"], r["disposition"]) for r in calls}
        there |= {("audit", r["username"], r["action"]) for r in audits}
        return [item for item in told if item not in there]

    async def _records(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The calls' records once none is in progress (written up to a second late)."""

        def done(rows: list[Any]) -> bool:
            return len(rows) >= len(ids) and all(r["outcome"] != "in_progress" for r in rows)

        with contextlib.suppress(LabError):
            await self.product.until_rows(
                "SELECT call_id, outcome, agents FROM interactions", done, "every record"
            )
        found = await asyncio.to_thread(
            self.product.rows, "SELECT call_id, outcome, agents FROM interactions"
        )
        return {r["call_id"]: dict(r) for r in found}

    async def close(self) -> None:
        for page in self.pages:
            await page.close()
        await self.product.stop()


@contextlib.asynccontextmanager
async def rig_up(folder: Path, database: str | None = None) -> AsyncIterator[Rig]:
    """The rig with its 24 calls up: six talking, the others waiting."""
    phones = {ext: AgentPhone(ring=0.3, talk=86400) for ext in AGENTS}  # the caller hangs up
    pbx = SimulatedPbx(secret=SECRET, agents=phones, safety_net=SAFETY_NET, seed=7)
    await pbx.start()
    rig = Rig(folder, pbx, database)
    try:
        await rig.install()
        await rig.product.start()
        await rig.open_pages()
        for page in rig.agents.values():
            await page.ready()
        rig.place(LIVE)
        await rig.until_pbx(
            lambda: (
                len(rig.connected()) == len(AGENTS) and len(rig.waiting()) == LIVE - len(AGENTS)
            ),
            "six calls talking, the others waiting",
        )
        await rig.settled()
        yield rig
    finally:
        await rig.close()
        await pbx.close()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with rig_up(tmp_path) as rig:
        yield rig


async def test_the_ami_link_cut_with_two_dozen_live_calls_loses_nothing(rig: Rig) -> None:
    await rig.pbx.stop_ami()  # the link drops; the calls stay up on the PBX
    await rig.product.until_health(lambda h: h["ami"] != "ready", "the link down")
    # Meanwhile: two talking callers and two waiting ones hang up, three new callers arrive.
    for call in rig.connected()[:2] + rig.waiting()[:2]:
        rig.hang_up(call)
    rig.place(3)
    await rig.until_pbx(lambda: len(rig.live()) == LIVE - 1, "the calls of the outage")
    await rig.pbx.start_ami()

    # The two freed agents are found free and take the next callers.
    await rig.until_pbx(lambda: len(rig.connected()) == len(AGENTS), "six calls talking again")
    await rig.settled()
    assert await rig.disagreeing_agents() == []

    await rig.serve_everyone()
    assert await rig.counts() == NONE


@pytest.mark.parametrize("how", ["core restart now", "crash"])
async def test_the_pbx_restarting_with_two_dozen_live_calls_leaves_no_ghost(
    rig: Rig, how: str
) -> None:
    rig.ended_by_fault |= {c.linkedid for c in rig.live()}
    if how == "core restart now":
        await rig.pbx.restart()  # calls hung up, Shutdown, sessions closed
    else:
        # A crash: the link drops without a word, the calls vanish with the process.
        await rig.pbx.stop_ami()
        await rig.pbx.telephony.shutdown()
        rig.pbx.telephony.reset_counters()
        await rig.product.until_health(lambda h: h["ami"] != "ready", "the link down")
        await rig.pbx.start_ami()
    await rig.until_pbx(lambda: not rig.live(), "every call gone with the PBX")
    await rig.settled()
    assert await rig.disagreeing_agents() == []

    # The agents, free, take the calls that come after: none is held by a ghost.
    rig.place(LIVE)
    await rig.until_pbx(lambda: len(rig.connected()) == len(AGENTS), "six calls talking")
    await rig.settled()
    assert await rig.disagreeing_agents() == []
    await rig.serve_everyone()
    assert await rig.counts() == NONE


async def test_the_product_killed_and_restarted_mid_calls_loses_nothing(rig: Rig) -> None:
    # The agents' work, each request answered: a note and a disposition on every call being
    # talked, a search. The product is killed the moment the last answer is in, with no
    # wait for the database: what a user was told is saved must be there after kill -9
    # (write-ahead, README "When the database is away"). The calls' records up to then go
    # with the first answer (everything pending is written before it, in order).
    told = await rig.agents_work()
    await rig.product.stop(signal.SIGKILL)
    await rig.close_pages()
    # While it is dead: two talking callers and one waiting hang up, two new ones call.
    for call in rig.connected()[:2] + rig.waiting()[:1]:
        rig.hang_up(call)
    rig.place(2)
    await rig.until_pbx(lambda: len(rig.live()) == LIVE - 1, "the calls of the outage")

    await rig.product.start()
    await rig.open_pages()  # the agents' pages log in again
    await rig.until_pbx(lambda: len(rig.connected()) == len(AGENTS), "six calls talking again")
    await rig.settled()
    assert await rig.disagreeing_agents() == []

    await rig.serve_everyone()
    assert await rig.counts() == NONE
    assert await rig.lost_work(told) == []


def _agents(column: str | list[str] | None) -> list[str]:
    """A record's agents: JSON text in SQLite, a list already from PostgreSQL."""
    return json.loads(column or "[]") if isinstance(column, str | None) else column


NONE = {"lost calls": 0, "duplicate pops": 0, "lost records": 0, "agents disagreeing": 0}
