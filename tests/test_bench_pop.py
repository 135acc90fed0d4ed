"""The pop-latency bench (``python -m bench pop``) end to end on a tiny scale.

Only that it works is checked: every card reaches its agent in both runs. Its figures are
printed by ``make bench``, never asserted (shared, noisy machines).
"""

from __future__ import annotations

from pathlib import Path

from bench import pop_bench, pop_calls


async def test_every_card_reaches_its_agent_in_both_runs(tmp_path: Path) -> None:
    measured = await pop_bench.measure(
        agents=5, calls=20, rate=100.0, citizens=50, workdir=tmp_path
    )
    assert sorted(measured.ours) == list(range(20))
    assert sorted(measured.bare) == list(range(20))
    assert all(s > 0 for s in [*measured.ours.values(), *measured.bare.values()])
    assert measured.pop_errors == 0


def test_each_call_of_the_template_has_its_own_ids_agent_and_caller() -> None:
    template = pop_calls.call_template()
    ring = pop_calls.instantiate(template.ring, pop_calls.call_values(7, "3042", "0698765432"))
    assert ring["Event"] == "DialBegin"
    assert ring["Linkedid"] == pop_calls.call_id(7)
    assert ring["DestChannel"].startswith("Local/3042@agents-")
    assert ring["CallerIDNum"] == "0698765432"
