"""``python -m bench soak``: the highest call rate the product sustains with 500 agents' pages.

The product runs as ``make demo`` runs it (``python -m cti.demo``: the embedded simulated PBX
places the calls, six demo agents answer them), in a process of its own; 500 agent WebSockets
(logged in as the six agents, ~83 pages each, as many tabs) are opened from this process and
read every card. Each step runs one call rate for a while and samples, every few seconds, the
product's RSS (``/proc``), ``/metrics`` (the AMI event lag and the event loop's lag: p99 from
the histograms over the step) and the errors (sockets closed by the server, failed scrapes,
``ERROR`` lines in its log, AMI links lost: the simulated PBX drops a session that stops
reading, as Asterisk does). A ramp step *keeps up* when the event lag's p99 stays under a
second and nothing failed; the rates double from 60 calls a minute until one does not, and
the highest that did runs for the soak's duration (``--minutes``, 10 by default). The soak is
*sustained* when it keeps up and its RSS is flat after the warm-up (under 2 MB a minute over
its second half: at a rate six agents cannot answer the live calls fill up for about five
minutes, callers waiting up to the services' longest maximum wait, 300 s, before they give
up; a 10-minute soak judges its last five). A soak that is not sustained is run again at
half the rate (the ramp's previous step), down to the ramp's first rate: the figure is the
highest rate whose soak held, not the highest the ramp's short steps kept up with.
``--rate`` skips the ramp and soaks from that rate down.

Each step's product gets a database of its own; once stopped (as an operator stops it, with
SIGTERM, calls up), the step prints how long the stop took and what the database holds:
the records ``in_progress`` should be the calls still up at the stop, no more (issue 18:
a stop under load once took 45 s and left calls ``in_progress``).

Beside it, a bare baseline: a plain ``websockets`` server holding the same 500 sockets and
sending each the same number of card-sized messages per call (offered, answered, ended), with
the same loop-lag probe: what 500 pages cost without any telephony.

Figures are printed, never asserted: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import multiprocessing
import os
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from bench import soak_bare
from cti.assembly import DEMO_PASSWORD, DEMO_USERS

AGENTS = [(name, ext) for name, _, ext, _ in DEMO_USERS if ext]
SAMPLE_S = 5.0


@dataclass
class Step:
    rate: float
    seconds: float
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (elapsed s, MB)
    live: list[tuple[float, int]] = field(default_factory=list)  # (elapsed s, calls up)
    lag_p99: float | None = None
    loop_p99: float | None = None
    cards: int = 0
    closed: int = 0  # sockets the server closed
    why_closed: dict[str, int] = field(default_factory=dict)
    failed_scrapes: int = 0
    logged: list[str] = field(default_factory=list)  # ERROR lines of the product's log
    links_lost: int = 0  # the AMI link went down (and came back, resynchronised)
    not_reading: int = 0  # of those, dropped by the PBX: the product had stopped reading
    stop_s: float | None = None  # how long the product took to stop (SIGTERM to exit)
    outcomes: dict[str, int] = field(default_factory=dict)  # the records once it stopped

    @property
    def errors(self) -> int:
        return self.closed + self.failed_scrapes + len(self.logged) + self.links_lost

    @property
    def rss_slope(self) -> float:
        """MB a minute over the step's second half (after the warm-up)."""
        kept = [s for s in self.rss_mb if s[0] >= self.seconds / 2]
        if len(kept) < 2:
            return 0.0
        (t0, m0), (t1, m1) = kept[0], kept[-1]
        return (m1 - m0) / max(t1 - t0, 1e-9) * 60

    @property
    def keeps_up(self) -> bool:
        """What a ramp step judges: the lag and the errors. Its RSS still grows while the live
        calls fill up (callers wait minutes before they give up), so flatness is the soak's."""
        lag_ok = self.lag_p99 is not None and self.lag_p99 <= 1.0
        return lag_ok and self.errors == 0

    @property
    def sustained(self) -> bool:
        return self.keeps_up and self.rss_slope < 2.0

    def _verdict(self, label: str) -> str:
        if label == "ramp":
            return "keeps up" if self.keeps_up else "falls behind"
        return "sustained" if self.sustained else "NOT sustained"

    def per_minute(self) -> str:
        """RSS and the live calls at each minute: the memory follows the calls up (callers
        wait minutes) and flattens with them, or it leaks."""
        marks = []
        for minute in range(1, int(self.seconds // 60) + 1):
            at = minute * 60
            _, mb = min(self.rss_mb, key=lambda s: abs(s[0] - at))
            calls = min(self.live, key=lambda s: abs(s[0] - at))[1] if self.live else None
            marks.append(f"{minute}: {mb:.0f}" + ("" if calls is None else f"/{calls}"))
        return "RSS MB/live calls per minute [" + ", ".join(marks) + "]"

    def line(self, label: str) -> str:
        rss = " ".join(f"{m:.0f}" for _, m in self.rss_mb[:: max(1, len(self.rss_mb) // 8)])
        dropped = f" ({self.not_reading} dropped by the PBX: not read)" if self.links_lost else ""
        return (
            f"{label} {self.rate:5.0f} calls/min {self.seconds:4.0f} s: cards {self.cards}, "
            f"event lag p99 {_s(self.lag_p99)}, loop lag p99 {_s(self.loop_p99)}, "
            f"RSS MB [{rss}] ({self.rss_slope:+.1f} MB/min), errors {self.errors} "
            f"(sockets closed {self.closed}{_reasons(self.why_closed)}, "
            f"scrapes failed {self.failed_scrapes}, AMI links lost {self.links_lost}{dropped}, "
            f"log {len(self.logged)}{': ' + self.logged[0][:160] if self.logged else ''})"
            + ("" if label == "bare" else f" -> {self._verdict(label)}")
            + (f"\n    {self.per_minute()}" if self.seconds >= 120 and self.rss_mb else "")
            + (f"\n    {self.end_state()}" if self.stop_s is not None else "")
        )

    def end_state(self) -> str:
        """The stop under load and the records it left (issue 18, point 9)."""
        up = self.live[-1][1] if self.live else None
        records = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        return (
            f"stopped in {self.stop_s:.1f} s with {up} calls up at the last sample; "
            f"records {sum(self.outcomes.values())} ({records or 'none'})"
        )


def _reasons(why: dict[str, int]) -> str:
    return f" [{', '.join(f'{n}× {what}' for what, n in why.items())}]" if why else ""


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"<= {value:g} s"


def _histogram(text: str, name: str) -> list[tuple[float, float]]:
    pattern = re.compile(rf'^{name}_bucket{{le="([^"]+)"}} (\S+)$', re.MULTILINE)
    return [(float(le), float(count)) for le, count in pattern.findall(text)]


def _p99(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> float | None:
    """The smallest bucket bound holding 99 % of the step's observations."""
    start = dict(before)
    counts = [(le, count - start.get(le, 0.0)) for le, count in after]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    return next(le for le, count in counts if count >= 0.99 * total)


def _why(exc: BaseException) -> str:
    """What closed a page's socket, in a few words (for the step's line)."""
    if isinstance(exc, websockets.ConnectionClosed):
        frame = exc.rcvd or exc.sent
        if frame is not None:
            return f"{frame.code} {frame.reason}".strip()
        return "closed without a close frame"
    return type(exc).__name__


class Pages:
    """500 agents' pages: sockets opened with the six agents' sessions, cards counted."""

    def __init__(self) -> None:
        self.cards = 0
        self.closed = 0
        self.why_closed: collections.Counter[str] = collections.Counter()
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, count: int) -> None:
        cookies = []
        async with httpx.AsyncClient(base_url=url) as client:
            for name, _ in AGENTS:
                login = {"username": name, "password": DEMO_PASSWORD}
                (await client.post("/api/login", json=login)).raise_for_status()
                cookies.append("; ".join(f"{k}={v}" for k, v in client.cookies.items()))
                client.cookies.clear()
        ws_url = url.replace("http://", "ws://") + "ws/agent"
        opened = asyncio.Semaphore(0)
        for n in range(count):
            headers = {"Cookie": cookies[n % len(cookies)]}
            self._tasks.append(asyncio.create_task(self._read(ws_url, headers, opened)))
        for _ in range(count):
            await opened.acquire()

    async def _read(self, url: str, headers: dict[str, str], opened: asyncio.Semaphore) -> None:
        try:
            async with websockets.connect(url, additional_headers=headers, max_queue=None) as ws:
                opened.release()
                async for text in ws:
                    if '"card.offered"' in str(text):
                        self.cards += 1
        except (
            OSError,
            TimeoutError,
            websockets.ConnectionClosed,
            websockets.InvalidStatus,
        ) as exc:
            self.closed += 1
            self.why_closed[_why(exc)] += 1
            opened.release()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _database(folder: Path, rate: float, seconds: float) -> Path:
    return folder / f"cti-{rate:g}-{seconds:g}s.db"


async def _start_product(
    folder: Path, rate: float, database: Path
) -> tuple[asyncio.subprocess.Process, str]:
    env = {
        **os.environ,
        "CTI_HTTP_PORT": "0",
        "CTI_SIM_RATE": str(rate),
        "CTI_DEMO_CITIZENS": "5000",
        "CTI_DATABASE_URL": f"sqlite:///{database}",
        "CTI_SOUNDS_DIR": str(folder / "sounds"),
        "CTI_LOG_LEVEL": "WARNING",
    }
    env.pop("CTI_AMI_HOST", None)
    log = (folder / f"product-{rate:g}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cti.demo", cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=log,
    )  # fmt: skip
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 300)).decode()
        if not line:
            raise RuntimeError(f"the demo stopped: see {log.name}")
        if match := re.search(r"CTI mairie : (http://\S+/)", line):
            return proc, match.group(1)


async def _stop(proc: asyncio.subprocess.Process) -> float:
    """SIGTERM, as an operator stops it; the seconds it took (killed past 60)."""
    start = time.monotonic()
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return time.monotonic() - start


def _outcomes(database: Path, since: datetime.datetime) -> dict[str, int]:
    """The step's records by outcome (the demo's seeded history, all older, left out)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT outcome, count(*) FROM interactions WHERE started_at >= ? GROUP BY outcome",
            (since.strftime("%Y-%m-%d %H:%M:%S"),),  # stored as naive UTC text
        )
        return {str(outcome): int(n) for outcome, n in rows}


async def product_step(folder: Path, rate: float, seconds: float, sockets: int) -> Step:
    step = Step(rate, seconds)
    database = _database(folder, rate, seconds)
    began = datetime.datetime.now(datetime.UTC)
    proc, url = await _start_product(folder, rate, database)
    pages = Pages()
    try:
        await pages.open(url, sockets)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            first = (await client.get("/metrics")).text
            start = time.monotonic()
            text = first
            while (elapsed := time.monotonic() - start) < seconds:
                await asyncio.sleep(min(SAMPLE_S, seconds - elapsed))
                step.rss_mb.append((time.monotonic() - start, soak_bare.rss_mb(proc.pid)))
                try:
                    text = (await client.get("/metrics")).text
                    health = (await client.get("/healthz")).json()
                    step.live.append((time.monotonic() - start, int(health["live_calls"])))
                except httpx.HTTPError:
                    step.failed_scrapes += 1
        step.lag_p99 = _p99(
            _histogram(first, "cti_event_lag_seconds"), _histogram(text, "cti_event_lag_seconds")
        )
        step.loop_p99 = _p99(
            _histogram(first, "cti_event_loop_lag_seconds"),
            _histogram(text, "cti_event_loop_lag_seconds"),
        )
        step.cards = pages.cards
        step.closed = pages.closed
        step.why_closed = dict(pages.why_closed.most_common(3))
        # Before the stop: what the product logs while it shuts down is no error of the step.
        logged = (folder / f"product-{rate:g}.log").read_text(errors="replace").splitlines()
        step.logged = [line for line in logged if " ERROR " in line]
        step.links_lost = sum("; reconnecting in " in line for line in logged)
        step.not_reading = sum("stopped reading" in line for line in logged)
    finally:
        await pages.close()
        step.stop_s = await _stop(proc)
    step.outcomes = _outcomes(database, began)
    return step


# -- the bare baseline (bench.soak_bare) ---------------------------------------------------


async def bare_step(rate: float, seconds: float, sockets: int) -> Step:
    step = Step(rate, seconds)
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(
        target=soak_bare.serve, args=(child, rate, seconds, len(AGENTS)), daemon=True
    )
    proc.start()
    port = await asyncio.to_thread(parent.recv)
    pages = _BarePages()
    try:
        await pages.open(f"ws://127.0.0.1:{port}/", sockets)
        parent.send("go")
        rss, p99 = await asyncio.to_thread(parent.recv)
        step.rss_mb, step.loop_p99, step.cards = rss, p99, pages.cards
        step.closed = pages.closed
    finally:
        await pages.close()
        proc.join(30)
    return step


class _BarePages(Pages):
    async def open(self, url: str, count: int) -> None:
        opened = asyncio.Semaphore(0)
        for _ in range(count):
            self._tasks.append(asyncio.create_task(self._read(url, {}, opened)))
        for _ in range(count):
            await opened.acquire()


async def soak(
    minutes: float,
    step_seconds: float,
    sockets: int,
    max_rate: float,
    rate: float | None = None,
    min_rate: float = 60.0,
) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix="cti-soak-") as tmp:
        folder = Path(tmp)
        start = rate
        if start is None:
            start = await _ramp(folder, step_seconds, sockets, min_rate, max_rate)
        if start is None:
            lines.append(f"no rate kept up, not even {min_rate:g} calls/min")
            return lines
        held: Step | None = None
        tried = start
        for tried in _halvings(start, min_rate):
            step = await product_step(folder, tried, minutes * 60, sockets)
            print(step.line("soak"), flush=True)
            lines.append(
                f"soak at {tried:g} calls/min: {step._verdict('soak')} (event lag p99 "
                f"{_s(step.lag_p99)}, RSS {step.rss_slope:+.1f} MB/min, errors {step.errors})"
            )
            if step.sustained:
                held = step
                break
        bare = await bare_step(tried, minutes * 60, sockets)
        print(bare.line("bare"), flush=True)
        if held is None:
            lines.append(
                f"no rate sustained for {minutes:g} min with {sockets} agent sockets, "
                f"not even {tried:g} calls/min"
            )
        else:
            lines.append(
                f"highest sustained rate: {held.rate:g} calls/min with {sockets} agent sockets "
                f"for {minutes:g} min"
            )
    return lines


async def _ramp(
    folder: Path, seconds: float, sockets: int, min_rate: float, max_rate: float
) -> float | None:
    """The highest rate, doubling from ``min_rate``, whose short step kept up."""
    best = None
    rate = min_rate
    while rate <= max_rate:
        step = await product_step(folder, rate, seconds, sockets)
        print(step.line("ramp"), flush=True)  # as it goes: a ramp takes minutes
        if not step.keeps_up:
            break
        best = rate
        rate *= 2
    return best


def _halvings(rate: float, lowest: float) -> list[float]:
    """The soak's rates: ``rate``, then each half (the ramp's previous steps) down to ``lowest``."""
    rates = [rate]
    while rates[-1] / 2 >= lowest:
        rates.append(rates[-1] / 2)
    return rates


def run(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="the soak (default 10)")
    parser.add_argument("--step-seconds", type=float, default=60.0, help="each ramp step")
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--max-rate", type=float, default=1920.0, help="calls/min at most")
    parser.add_argument("--min-rate", type=float, default=60.0, help="the ramp's first rate")
    parser.add_argument("--rate", type=float, help="no ramp: soak from this rate down")
    args = parser.parse_args(argv if argv is not None else [])
    return asyncio.run(
        soak(args.minutes, args.step_seconds, args.sockets, args.max_rate, args.rate, args.min_rate)
    )
