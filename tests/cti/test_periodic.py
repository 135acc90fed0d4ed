"""A periodic round that fails is logged and the next round still runs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cti.periodic import every


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
