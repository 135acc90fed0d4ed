"""A periodic round that fails is logged and the next round still runs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cti.periodic import Periodic, every


async def test_a_failed_round_is_logged_and_the_rounds_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("base injoignable")
        if len(rounds) == 3:
            third.set()

    with caplog.at_level(logging.ERROR, logger="cti.periodic"):
        task = asyncio.create_task(every(0, work, "wallboard"))
        await third.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert rounds[:3] == [0, 1, 2]
    assert [r.getMessage() for r in caplog.records] == [
        "wallboard: round failed, the next one will try again"
    ]


async def test_plain_functions_are_rounds_too() -> None:
    ticks: list[str] = []
    task = asyncio.create_task(every(0, lambda: ticks.append("tick"), "wallboard"))
    while len(ticks) < 2:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert ticks[:2] == ["tick", "tick"]


async def test_at_once_the_first_round_comes_before_the_first_wait() -> None:
    first = asyncio.Event()
    rounds = Periodic(3600.0, first.set, "callbacks' sweep", at_once=True)
    rounds.start()
    await first.wait()  # an hour's wait first would hang here until the test's timeout
    await rounds.close()


async def test_no_round_after_close() -> None:
    ticks: list[str] = []
    rounds = Periodic(0, lambda: ticks.append("tick"), "wallboard")
    rounds.start()
    while len(ticks) < 2:
        await asyncio.sleep(0)
    await rounds.close()
    seen = len(ticks)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(ticks) == seen
