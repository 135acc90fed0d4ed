"""Screen-pop latency: the agent's phone rings, how soon does her card arrive?

(a) ours: the product wired as in production (``cti.assembly.running``: call service and
    tracker, router, screen pop, agent hub, FastAPI on uvicorn, SQLite), with 200 agents logged
    in over HTTP and one real WebSocket client each (session cookie, ``Origin``). The clients
    are opened and read by a process of their own, as the agents' browsers are
    (``bench/pop_clients.py``): a client in the server's loop would read its card only once
    the server is done with whatever it does after sending it, which no agent waits for.
    Each call is the recording ``04-inbound-answered`` (arrival, voice menu, ``CtiWaiting``,
    ``DialBegin`` to the agent, answer, hang-up) with ids, channels, caller and agent of its
    own, fed frame by frame to ``CallService.on_ami_event`` as the AMI connection does, chunk
    by chunk as Asterisk sent them (the recording's 40 chunks, its 6.5 s of menu squeezed into
    the call's own). Calls arrive as a seeded Poisson process, round robin over the agents;
    the chunk with the agent's ``DialBegin`` comes ``RING_AFTER`` after the arrival, the answer
    and hang-up within ``END_AFTER`` after that. Timed: ``perf_counter`` just before the
    ``DialBegin`` goes in (the frames before it in its chunk are handled first, the ones after
    it in the same callback: as with a real chunk), and, in the clients' process (the same
    system-wide clock), as soon as the agent's client has read the ``card.offered``. A second
    run feeds every frame before the ring in one burst at the arrival (about 120 frames at
    once): a stress beyond what Asterisk does, printed for reference.
(b) bare: a FastAPI app of one WebSocket route on the same uvicorn, 200 clients connected; at
    the same instants, the text of the same card (the bytes the agent's client read in (a)) is
    put on that client's server-side queue, which one loop sends with ``send_text``. Timed the
    same way, its clients in a process of their own too.

Both servers run in this process and its event loop, their clients in a child process: the
two figures share every cost but ours. The agents are put on Pause first: with no PBX behind
it the router must not try to offer calls itself; the ``DialBegin`` fed here is the offer.
Password hashing is made cheap for the set-up only (400 argon2 rounds at 64 MiB would take
longer than the whole bench): it is not on the timed path. The AMI connection points at a
closed port and never comes up.

The rate is a stress figure: 200 agents at ~4 min a call answer about one call a second, but
the run must stay under a minute and give a few hundred samples: 25 calls/s, which keeps the
service's event loop busy about a third of the time on 2 cores. Every call's caller is
announced as "Dupont" by the recording; the card comes from the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import ssl
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, WebSocket

from bench import pop_setup
from bench.pop_calls import CallTemplate, Frame, call_id, call_template, call_values, instantiate
from bench.pop_clients import ClientSocket, Received, client_process
from cti.assembly import running
from cti.service import CallService
from cti.settings import Settings
from cti.web.serve import serving

AGENTS = 200
CALLS = 500
RATE = 25.0  # calls per second, on average
CITIZENS = 10_000
RING_AFTER = (0.2, 0.8)  # s from the call's first frame to the agent's DialBegin
END_AFTER = (0.3, 1.2)  # s from the DialBegin to the answer and hang-up frames
FIRST_EXTENSION = 3000


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Timing:
    """When, in seconds from the start of the run, a call arrives, rings its agent, ends."""

    arrive: float
    ring: float
    end: float


def schedule(calls: int, rate: float, seed: int = 3) -> list[Timing]:
    """Poisson arrivals at ``rate``/s; voice menu and ringing times drawn uniformly."""
    rng = random.Random(seed)
    out, t = [], 0.0
    for _ in range(calls):
        t += rng.expovariate(rate)
        ring = t + rng.uniform(*RING_AFTER)
        out.append(Timing(t, ring, ring + rng.uniform(*END_AFTER)))
    return out


@dataclass
class Marks:
    """When each call's card was asked for (``perf_counter``), by call id."""

    sent: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (number, time)

    def mark(self, cid: str, n: int) -> None:
        self.sent[cid] = (n, time.perf_counter())

    def latencies(self, received: Received) -> dict[int, float]:
        """Seconds from the mark to the card's receipt, by call number."""
        return {n: received[cid][0] - t for cid, (n, t) in self.sent.items() if cid in received}


async def _drive(agenda: list[tuple[float, Callable[[], None]]]) -> None:
    """Run each action at its time (seconds from now), late ones at once: an open loop."""
    loop = asyncio.get_running_loop()
    origin = loop.time() + 0.05
    for when, action in sorted(agenda, key=lambda step: step[0]):
        delay = origin + when - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        action()


@dataclass
class Measured:
    ours: dict[int, float]  # call number -> seconds
    bare: dict[int, float]
    calls: int
    unknown_callers: int
    pop_errors: int
    setup_s: float


async def measure(
    agents: int = AGENTS,
    calls: int = CALLS,
    rate: float = RATE,
    citizens: int = CITIZENS,
    workdir: Path | None = None,
    paced: bool = True,
) -> Measured:
    """Both runs on the same schedule; ``workdir`` (default: a temporary one) holds the DB."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pop-bench-")))
        start = time.perf_counter()
        extensions = [str(FIRST_EXTENSION + i) for i in range(agents)]
        db_path = workdir / "pop.db"
        with pop_setup.cheap_hashing():
            await asyncio.to_thread(pop_setup.prepare, db_path, extensions, citizens)
        callers, unknown = pop_setup.callers(db_path, calls, seed=5)
        template = call_template()
        timings = schedule(calls, rate)
        stack.enter_context(pop_setup.quiet("cti.ami"))
        settings = Settings(
            database_url=f"sqlite:///{db_path}",
            routing_config=pop_setup.routing_config(workdir / "routing.yaml", extensions),
            http_port=0,
            agi_port=0,
            ami_host="127.0.0.1",
            ami_port=stack.enter_context(pop_setup.closed_port()),
            ami_reconnect_min=3600,
            ami_reconnect_max=3600,
        )
        marks = Marks()
        async with running(settings, simulated=False, traffic=False) as product:
            with pop_setup.cheap_hashing():
                tls = ssl.create_default_context()
                sockets = await asyncio.gather(
                    *(pop_setup.log_in(product.port, ext, tls) for ext in extensions)
                )
            async with client_process(sockets, expected=calls) as clients:
                setup_s = time.perf_counter() - start
                await _drive(
                    _call_agenda(
                        product.service, template, timings, extensions, callers, marks, paced
                    )
                )
                await clients.complete(timeout=10)
                await product.pop.drained()
                pop_errors = product.pop.errors
                received = await clients.close()
        ours = marks.latencies(received)

        texts = {cid: text for cid, (_at, text) in received.items()}
        bare_marks = Marks()
        async with _bare_server() as (port, queues):
            bare_sockets = [
                ClientSocket(f"ws://127.0.0.1:{port}/ws/{ext}", {}) for ext in extensions
            ]
            async with client_process(bare_sockets, expected=len(texts)) as clients:
                while len(queues) < agents:
                    await asyncio.sleep(0.01)
                agenda: list[tuple[float, Callable[[], None]]] = []
                for n, timing in enumerate(timings):
                    text = texts.get(call_id(n))
                    if text is not None:
                        queue = queues[extensions[n % agents]]
                        step = functools.partial(_bare_send, bare_marks, n, queue, text)
                        agenda.append((timing.ring, step))
                await _drive(agenda)
                await clients.complete(timeout=10)
                for queue in queues.values():
                    queue.put_nowait(None)
                bare_received = await clients.close()
        return Measured(
            ours, bare_marks.latencies(bare_received), calls, unknown, pop_errors, setup_s
        )


def _call_agenda(
    service: CallService,
    template: CallTemplate,
    timings: list[Timing],
    extensions: list[str],
    callers: list[str],
    marks: Marks,
    paced: bool,
) -> list[tuple[float, Callable[[], None]]]:
    """Each call's frames, fed to the service at their times as the AMI connection does.

    ``paced``: chunk by chunk as Asterisk sent them, the recording's 6.5 s from arrival to
    ringing (the menu) squeezed into the call's own, the chunk that rings the agent whole
    (its other frames are handled in the same turn, as they would be). Otherwise every frame
    before the ring in one burst at the arrival: a stress beyond what Asterisk sends.
    """

    def feed(frames: list[Frame], values: dict[str, str]) -> None:
        for frame in frames:
            service.on_ami_event(instantiate(frame, values), time.time())

    def ring(n: int, frames: list[Frame], at: int, values: dict[str, str]) -> None:
        feed(frames[:at], values)
        frame = instantiate(frames[at], values)
        marks.mark(values["u0"], n)
        service.on_ami_event(frame, time.time())
        feed(frames[at + 1 :], values)

    agenda: list[tuple[float, Callable[[], None]]] = []
    bursts = template.bursts
    rung = bursts[template.ring_burst].at
    last = bursts[-1].at
    for n, timing in enumerate(timings):
        values = call_values(n, extensions[n % len(extensions)], callers[n])
        if not paced:
            agenda += [
                (timing.arrive, functools.partial(feed, template.before, values)),
                (timing.ring, functools.partial(ring, n, [template.ring], 0, values)),
                (timing.end, functools.partial(feed, template.after, values)),
            ]
            continue
        for i, burst in enumerate(bursts):
            if i < template.ring_burst:
                at = timing.arrive + burst.at / rung * (timing.ring - timing.arrive)
                agenda.append((at, functools.partial(feed, burst.frames, values)))
            elif i == template.ring_burst:
                step = functools.partial(ring, n, burst.frames, template.ring_frame, values)
                agenda.append((timing.ring, step))
            else:
                at = timing.ring + (burst.at - rung) / (last - rung) * (timing.end - timing.ring)
                agenda.append((at, functools.partial(feed, burst.frames, values)))
    return agenda


def _bare_send(marks: Marks, n: int, queue: asyncio.Queue[str | None], text: str) -> None:
    marks.mark(call_id(n), n)
    queue.put_nowait(text)


@contextlib.asynccontextmanager
async def _bare_server() -> AsyncIterator[tuple[int, dict[str, asyncio.Queue[str | None]]]]:
    queues: dict[str, asyncio.Queue[str | None]] = {}
    app = FastAPI()

    @app.websocket("/ws/{agent}")
    async def agent_socket(websocket: WebSocket, agent: str) -> None:
        await websocket.accept()
        queue = queues[agent] = asyncio.Queue()
        while (text := await queue.get()) is not None:
            await websocket.send_text(text)
        await websocket.close()

    async with serving(app) as port:
        yield port, queues


# ------------------------------------------------------------------ report


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99)]


async def run_async(
    agents: int = AGENTS, calls: int = CALLS, rate: float = RATE, citizens: int = CITIZENS
) -> list[str]:
    warm = min(agents, calls // 10)  # one call per agent: first connections, caches
    lines: list[str] = []
    for paced, title in (
        (True, "the recording's chunks at their pace (the goal's figure)"),
        (False, "stress: each call's frames before the ring in one burst"),
    ):
        m = await measure(agents, calls, rate, citizens, paced=paced)
        ours = [v * 1e3 for n, v in m.ours.items() if n >= warm]
        bare = [v * 1e3 for n, v in m.bare.items() if n >= warm]
        a, b = _percentiles(ours), _percentiles(bare)
        missing = m.calls - len(m.ours)
        if not lines:
            lines.append(
                f"{agents} agents on their WebSockets, {calls:,} calls, Poisson at {rate:g} "
                f"calls/s (recording 04, fresh ids; {m.calls - m.unknown_callers:,} callers known "
                f"in a {citizens:,}-citizen directory, {m.unknown_callers} unknown); set-up "
                f"{m.setup_s:.1f} s; first {warm} calls not counted"
            )
        lines += [
            f" {title}:",
            f"  (a) ours: DialBegin into CallService -> card.offered read   "
            f"p50 {a[0]:6.2f} ms  p99 {a[1]:6.2f} ms",
            f"  (b) bare: same bytes queued to a WebSocket -> read         "
            f"p50 {b[0]:6.2f} ms  p99 {b[1]:6.2f} ms",
            f"  ratio p99 a/b = {a[1] / b[1]:.2f}"
            + (" (goal <= 3)" if paced else "")
            + f"   p50 a/b = {a[0] / b[0]:.2f}"
            + (f"   MISSING cards: {missing}" if missing else "")
            + (f"   screen-pop errors: {m.pop_errors}" if m.pop_errors else ""),
        ]
    return lines


def run() -> list[str]:
    return asyncio.run(run_async())


if __name__ == "__main__":
    print("\n".join(run()))
