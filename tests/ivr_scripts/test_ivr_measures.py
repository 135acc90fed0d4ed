"""Menu measures from calls' runs: per node and per day, plain cases and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ivr_scripts.commands import Choice, Outcome
from ivr_scripts.diff import unified_lines
from ivr_scripts.measures import (
    MenuRun,
    NodeMeasure,
    day_measures,
    menu_run,
    node_measures,
)

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def test_a_run_is_built_from_what_the_menu_server_reports() -> None:
    run = menu_run(
        AT,
        "1.1",
        "1.0",
        ["bienvenue", "menu_principal", "menu_principal", "vers_accueil"],
        Outcome("routed", "accueil", "vers_accueil"),
        [Choice("menu_principal", None), Choice("menu_principal", None)],
        version=3,
    )
    assert run.timed_out_nodes == ("menu_principal",)
    assert (run.outcome, run.last_node, run.service, run.version) == (
        "routed",
        "vers_accueil",
        "accueil",
        3,
    )
    assert not run.self_served
    served = menu_run(AT, "2.1", None, ["a", "b"], Outcome("self_service", None, "b"), [])
    assert served.self_served and served.service is None
    # No outcome at all (the menu never finished): the caller hung up at the last node.
    gone = menu_run(AT, "3.1", "3.0", ["a", "menu"], None, [Choice("menu", "8")])
    assert (gone.outcome, gone.last_node, gone.timed_out_nodes) == ("caller_hung_up", "menu", ())


def test_nodes_count_each_call_once_and_hang_ups_where_they_happened() -> None:
    runs = [
        menu_run(
            AT, "1", "1", ["b", "m", "m", "r"], Outcome("routed", "x", "r"), [Choice("m", None)]
        ),
        menu_run(AT, "2", "2", ["b", "m"], Outcome("caller_hung_up", None, "m"), []),
        menu_run(AT, "3", "3", ["b", "m", "h"], Outcome("self_service", None, "h"), []),
    ]
    by_node = {n.node: (n.passed, n.hung_up, n.timed_out) for n in node_measures(runs)}
    assert by_node == {"b": (3, 0, 0), "m": (3, 1, 1), "r": (1, 0, 0), "h": (1, 0, 0)}
    assert [n.node for n in node_measures(runs)][:2] == ["b", "m"]  # busiest first


def test_days_are_local_days_with_their_self_service_share() -> None:
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Paris
    runs = [
        menu_run(late, "1", None, ["h"], Outcome("self_service", None, "h"), []),
        menu_run(AT, "2", None, ["r"], Outcome("routed", "x", "r"), []),
        menu_run(AT - timedelta(days=10), "3", None, ["r"], Outcome("routed", "x", "r"), []),
    ]
    days = day_measures(runs, date(2026, 11, 23), 3)
    assert [(d.day.isoformat(), d.calls, d.self_served, d.share) for d in days] == [
        ("2026-11-21", 0, 0, 0.0),
        ("2026-11-22", 0, 0, 0.0),
        ("2026-11-23", 2, 1, 0.5),
    ]


def test_a_node_is_flagged_when_many_of_enough_callers_hang_up_there() -> None:
    assert NodeMeasure("m", 5, 1, 0).high_hang_up  # 20 % of 5 calls
    assert not NodeMeasure("m", 6, 1, 0).high_hang_up  # 17 %
    assert not NodeMeasure("m", 4, 4, 0).high_hang_up  # too few calls to say
    assert NodeMeasure("m", 4, 1, 0).hang_up_share == 0.25
    assert NodeMeasure("m", 0, 0, 0).hang_up_share == 0.0


_runs = st.lists(
    st.builds(
        MenuRun,
        at=st.datetimes(
            min_value=datetime(2026, 11, 1),
            max_value=datetime(2026, 11, 30),
            timezones=st.just(UTC),
        ),
        uniqueid=st.just("u"),
        call_id=st.none(),
        path=st.lists(st.sampled_from("abcde"), min_size=1, max_size=6).map(tuple),
        outcome=st.sampled_from(["routed", "self_service", "caller_hung_up", "hung_up"]),
        last_node=st.sampled_from("abcde"),
        timed_out_nodes=st.lists(st.sampled_from("abcde"), unique=True).map(tuple),
        self_served=st.booleans(),
    ),
    max_size=30,
)


@given(_runs, st.integers(min_value=1, max_value=40))
def test_counts_never_exceed_the_calls(runs: list[MenuRun], days: int) -> None:
    for node in node_measures(runs):
        assert 0 <= node.hung_up <= len(runs) and 0 <= node.timed_out <= len(runs)
        assert node.passed <= len(runs)
    per_day = day_measures(runs, date(2026, 11, 30), days)
    assert len(per_day) == days
    assert sum(d.calls for d in per_day) <= len(runs)
    assert all(0.0 <= d.share <= 1.0 and d.self_served <= d.calls for d in per_day)
    if days >= 31:  # the whole month: every run counted once
        assert sum(d.calls for d in per_day) == len(runs)


def test_the_diff_of_two_texts_is_unified() -> None:
    lines = unified_lines("a\nb\nc\n", "a\nB\nc\n", "version 1", "version 2")
    assert lines[:2] == ["--- version 1", "+++ version 2"]
    assert lines[2].startswith("@@") and lines[3:] == [" a", "-b", "+B", " c"]
    assert unified_lines("x\n", "x\n", "version 1", "version 1") == [
        "--- version 1",
        "+++ version 1",
    ]
