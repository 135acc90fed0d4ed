"""The history tables and the weekly quality, computed from hand-built calls: every figure.

One morning at the town hall (Tuesday 10 March 2026, Paris, UTC+1) with a call of each kind,
calls before the period that only count for repeat calls, then invariants over any calls
(hypothesis), the weekly quality against targets, and the CSV French Excel opens.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.reports.csv_export import (
    BOM,
    REPORT_HEADERS,
    quality_csv,
    quality_filename,
    report_csv,
    report_filename,
)
from cti.reports.errors import PeriodError, ReportError
from cti.reports.figures import (
    GroupBy,
    Report,
    ReportRow,
    abandon_bucket,
    build_report,
)
from cti.reports.quality import Target, build_quality, last_weeks, quality_chart, week_of
from cti.reports.records import PARIS, CallRecord


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


START, END = paris(10, 8), paris(10, 12)
THRESHOLDS = {"etat-civil": 30.0, "urbanisme": 60.0, "accueil": 20.0}
LABELS = {"etat-civil": "État civil", "urbanisme": "Urbanisme", "accueil": "Accueil"}
AGENTS = {"201": "Marie", "202": "Paul", "204": "Luc"}


def call(
    call_id: str,
    at: datetime,
    outcome: str,
    agents: tuple[str, ...] = (),
    ivr_path: tuple[str, ...] = (),
    **fields: Any,
) -> CallRecord:
    """A call as recorded (agents offered in order, menu path), reduced as the query does."""
    return CallRecord(
        call_id=call_id,
        started_at=at,
        outcome=outcome,
        last_agent=agents[-1] if agents else None,
        agents_reached=len(agents),
        last_menu_node=ivr_path[-1] if ivr_path else None,
        **fields,
    )


CALLS = [
    # Before the period: only for repeat calls (5 days before c2; 9 days before c12).
    call("c-old", paris(1, 10), "answered", citizen_id=3, service="accueil"),
    call("c0", paris(5, 10), "answered", citizen_id=2, service="etat-civil"),
    call(
        "c1",
        paris(10, 9, 5),
        "answered",
        service="etat-civil",
        wait_seconds=20.0,
        talk_seconds=100.0,
        agents=("202",),
        citizen_id=1,
        ivr_path=("bienvenue", "etat-civil"),
        disposition="Renseignement donné",
    ),
    call(
        "c2",
        paris(10, 9, 10),
        "answered",
        service="etat-civil",
        wait_seconds=45.0,
        talk_seconds=200.0,
        agents=("204", "202"),
        citizen_id=2,
        disposition="Rendez-vous pris",
    ),
    call(
        "c3",
        paris(10, 9, 20),
        "abandoned",
        service="etat-civil",
        wait_seconds=10.0,
        caller_e164="+33611223344",
    ),
    call(
        "c4",
        paris(10, 9, 30),
        "abandoned",
        service="etat-civil",
        wait_seconds=40.0,
        agents=("202",),
    ),
    call("c5", paris(10, 10, 0), "abandoned", service="urbanisme", wait_seconds=120.0),
    call(
        "c6", paris(10, 10, 5), "abandoned", service="urbanisme", wait_seconds=200.0, citizen_id=1
    ),
    call("c7", paris(10, 10, 10), "overflow", service="urbanisme", wait_seconds=300.0),
    call("c8", paris(10, 10, 15), "safety_net", service="accueil", wait_seconds=60.0),
    call(
        "c9",
        paris(10, 10, 20),
        "menu",
        self_served=True,
        ivr_path=("bienvenue", "horaires"),
        caller_e164="+33611223344",
    ),
    call("c10", paris(10, 10, 25), "lost"),
    call("c11", paris(10, 10, 30), "in_progress", service="accueil"),
    call(
        "c12",
        paris(10, 11, 0),
        "answered",
        service="accueil",
        wait_seconds=5.0,
        talk_seconds=50.0,
        agents=("201",),
        citizen_id=3,
    ),
    call("c13", paris(10, 12, 0), "answered", service="accueil"),  # the end is excluded
]


def by(group: GroupBy) -> Report:
    names = AGENTS if group is GroupBy.AGENT else LABELS
    return build_report(CALLS, START, END, group, thresholds=THRESHOLDS, names=names)


def test_the_total_has_every_figure() -> None:
    total = by(GroupBy.SERVICE).total
    assert (total.calls, total.offered, total.answered, total.answered_in_sl) == (12, 9, 3, 2)
    assert (total.abandoned, total.overflowed, total.safety_net) == (4, 1, 1)
    assert total.abandon_delays == (1, 1, 1, 1)
    assert (total.ended_in_menu, total.self_served, total.lost, total.in_progress) == (1, 1, 1, 1)
    assert (total.transfers, total.repeats) == (1, 3)  # c2 (5 days), c6 (citizen), c9 (number)
    assert (total.service_level_pct, total.abandon_rate_pct) == (22.2, 44.4)
    assert (total.avg_answer_s, total.avg_handling_s) == (23.3, 116.7)
    assert total.top_dispositions == (("Rendez-vous pris", 1), ("Renseignement donné", 1))
    assert total.top_menu_choices == (("etat-civil", 1), ("horaires", 1))
    assert total.label == "Total"


def row(report: Report, key: str) -> ReportRow:
    return next(r for r in report.rows if r.key == key)


def test_per_service_each_service_against_its_own_threshold() -> None:
    report = by(GroupBy.SERVICE)
    assert [(r.key, r.label) for r in report.rows] == [
        ("accueil", "Accueil"),
        ("etat-civil", "État civil"),
        ("urbanisme", "Urbanisme"),
        ("", "Sans service"),
    ]
    ec = row(report, "etat-civil")
    assert (ec.calls, ec.offered, ec.answered, ec.answered_in_sl, ec.abandoned) == (4, 4, 2, 1, 2)
    assert (ec.service_level_pct, ec.abandon_rate_pct, ec.transfers, ec.repeats) == (
        25.0,
        50.0,
        1,
        1,
    )
    assert ec.abandon_delays == (1, 1, 0, 0)
    assert (ec.avg_answer_s, ec.avg_handling_s) == (32.5, 150.0)
    urba = row(report, "urbanisme")
    assert (urba.offered, urba.answered, urba.service_level_pct, urba.overflowed) == (3, 0, 0.0, 1)
    assert urba.abandon_delays == (0, 0, 1, 1)
    assert (urba.avg_answer_s, urba.avg_handling_s) == (None, None)
    accueil = row(report, "accueil")  # 5 s within its 20 s; the safety net is not
    assert (accueil.calls, accueil.offered, accueil.answered_in_sl) == (3, 2, 1)
    assert (accueil.service_level_pct, accueil.safety_net, accueil.in_progress) == (50.0, 1, 1)
    none = row(report, "")
    assert (none.calls, none.offered, none.service_level_pct) == (2, 0, None)
    assert (none.ended_in_menu, none.self_served, none.lost, none.repeats) == (1, 1, 1, 1)


def test_per_agent_a_call_belongs_to_the_last_agent_it_reached() -> None:
    report = by(GroupBy.AGENT)
    assert [(r.key, r.label, r.calls) for r in report.rows] == [
        ("201", "Marie (201)", 1),
        ("202", "Paul (202)", 3),
        ("", "Aucun agent", 8),
    ]
    paul = row(report, "202")
    assert (paul.offered, paul.answered, paul.abandoned, paul.transfers) == (3, 2, 1, 1)


def test_per_day_and_hour_in_paris_time() -> None:
    hours = by(GroupBy.HOUR)
    assert [(r.key, r.label, r.calls) for r in hours.rows] == [
        ("2026-03-10T09", "10/03/2026 09h", 4),
        ("2026-03-10T10", "10/03/2026 10h", 7),
        ("2026-03-10T11", "10/03/2026 11h", 1),
    ]
    assert [(r.label, r.calls) for r in by(GroupBy.DAY).rows] == [("10/03/2026", 12)]
    # 23:30 UTC on the 28th is 00:30 on the 29th in Paris; 01:30 UTC after the change to
    # summer time is 03:30.
    night = [
        call("n1", datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "lost"),
        call("n2", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "lost"),
    ]
    start, end = datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)
    days = build_report(night, start, end, GroupBy.DAY)
    assert [(r.key, r.calls) for r in days.rows] == [("2026-03-29", 2)]
    hours = build_report(night, start, end, GroupBy.HOUR)
    assert [r.key for r in hours.rows] == ["2026-03-29T00", "2026-03-29T03"]


def test_unknown_services_use_30_seconds_and_waits_without_value_count_as_none() -> None:
    calls = [
        call("a", START, "answered", service="ccas", wait_seconds=30.0),
        call("b", START, "answered", service="ccas", wait_seconds=31.0),
        call("c", START, "abandoned", service="ccas"),
    ]
    total = build_report(calls, START, END, GroupBy.SERVICE).total
    assert (total.answered_in_sl, total.abandon_delays) == (1, (1, 0, 0, 0))
    assert [abandon_bucket(w) for w in (0, 29.9, 30, 59.9, 60, 179.9, 180, None)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        0,
    ]


def test_a_bad_period_or_calls_out_of_order_are_refused() -> None:
    with pytest.raises(PeriodError, match="la fin doit être après le début"):
        build_report([], END, START, GroupBy.DAY)
    with pytest.raises(PeriodError, match="au plus 400 jours"):
        build_report([], START, START + timedelta(days=401), GroupBy.DAY)
    with pytest.raises(ReportError, match="c1 .* dans l'ordre"):
        build_report([CALLS[3], CALLS[2]], START, END, GroupBy.DAY)


OUTCOMES = ["answered", "abandoned", "overflow", "safety_net", "menu", "lost", "in_progress"]
records = st.builds(
    CallRecord,
    call_id=st.just("x"),
    started_at=st.integers(0, 14 * 24 * 3600).map(
        lambda s: START - timedelta(days=7) + timedelta(seconds=s)
    ),
    outcome=st.sampled_from(OUTCOMES),
    service=st.sampled_from([None, "accueil", "etat-civil", "ccas"]),
    last_agent=st.sampled_from([None, "201", "202", "204"]),
    agents_reached=st.integers(0, 3),
    wait_seconds=st.none() | st.floats(0, 600),
    talk_seconds=st.none() | st.floats(0, 3600),
    caller_e164=st.sampled_from([None, "+33611111111", "+33622222222"]),
    citizen_id=st.sampled_from([None, 1, 2]),
    last_menu_node=st.sampled_from([None, "horaires", "etat-civil"]),
    disposition=st.sampled_from([None, "Réclamation", "Rendez-vous pris"]),
    self_served=st.booleans(),
)
ADDITIVE = (
    "calls",
    "offered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "overflowed",
    "safety_net",
    "ended_in_menu",
    "self_served",
    "lost",
    "in_progress",
    "transfers",
    "repeats",
)


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=40), st.sampled_from(list(GroupBy)))
def test_the_figures_add_up_whatever_the_calls(calls: list[CallRecord], group: GroupBy) -> None:
    calls.sort(key=lambda c: c.started_at)
    end = START + timedelta(days=7)
    report = build_report(calls, START, end, group, thresholds=THRESHOLDS)
    total = report.total
    assert total.offered == total.answered + total.abandoned + total.overflowed + total.safety_net
    assert total.calls == total.offered + total.ended_in_menu + total.lost + total.in_progress
    assert total.calls == sum(1 for c in calls if START <= c.started_at < end)
    assert sum(total.abandon_delays) == total.abandoned
    assert total.answered_in_sl <= total.answered and total.transfers <= total.answered
    assert total.repeats <= total.calls and total.self_served <= total.calls
    for name in ADDITIVE:
        assert sum(getattr(r, name) for r in report.rows) == getattr(total, name), name
    for r in report.rows:
        assert r.service_level_pct is None or 0 <= r.service_level_pct <= 100
    # The grouping changes the rows, never the total.
    other = build_report(calls, START, end, GroupBy.SERVICE, thresholds=THRESHOLDS)
    assert other.total == total


def test_weeks_are_iso_weeks_in_paris_time() -> None:
    # Sunday 15 March 23:30 in Paris is still week 11; Monday 00:30 is week 12.
    assert week_of(paris(15, 23, 30)).key == "2026-W11"
    assert week_of(paris(16, 0, 30)).key == "2026-W12"
    weeks = last_weeks(paris(18, 10), 3)
    assert [w.key for w in weeks] == ["2026-W10", "2026-W11", "2026-W12"]
    assert weeks[0].start == datetime(2026, 3, 2, tzinfo=PARIS)
    assert weeks[-1].end == datetime(2026, 3, 23, tzinfo=PARIS)
    assert weeks[1].label == "S11 (09/03)"


def test_quality_sets_each_week_against_the_target_and_gives_the_trend() -> None:
    weeks = last_weeks(paris(18, 10), 3)
    targets = {
        "etat-civil": Target("État civil", 80.0, 30.0),
        "accueil": Target("Accueil", 90.0, 20.0),
    }
    answered = replace(CALLS[2], call_id="w", service="etat-civil", wait_seconds=10.0)
    calls = [
        # Week 10: 1 of 2 within 30 s, and 1 abandoned.
        replace(answered, started_at=paris(3, 9)),
        replace(answered, started_at=paris(3, 10), outcome="abandoned"),
        # Week 11: 4 of 4 (the last one on Sunday night, Paris time).
        *(replace(answered, started_at=paris(10 + d, 9)) for d in range(3)),
        replace(answered, started_at=paris(15, 23, 30)),
        # Week 12: one call of a service the configuration no longer has, one without any.
        replace(answered, started_at=paris(16, 9), service="urbanisme", wait_seconds=50.0),
        replace(answered, started_at=paris(16, 9), service=None),
    ]
    quality = build_quality(calls, weeks, targets)
    table = [
        (r.service, r.week, r.offered, r.answered_in_sl, r.service_level_pct, r.met)
        for r in quality.rows
    ]
    assert table == [
        ("etat-civil", "2026-W10", 2, 1, 50.0, False),
        ("etat-civil", "2026-W11", 4, 4, 100.0, True),
        ("etat-civil", "2026-W12", 0, 0, None, None),
        ("accueil", "2026-W10", 0, 0, None, None),
        ("accueil", "2026-W11", 0, 0, None, None),
        ("accueil", "2026-W12", 0, 0, None, None),
        ("urbanisme", "2026-W10", 0, 0, None, None),
        ("urbanisme", "2026-W11", 0, 0, None, None),
        ("urbanisme", "2026-W12", 1, 0, 0.0, False),  # default 80 % within 30 s
    ]
    assert quality.rows[0].abandon_rate_pct == 50.0
    trends = {t.service: (t.last_pct, t.change_points) for t in quality.trends}
    assert trends == {
        "etat-civil": (100.0, 50.0),
        "accueil": (None, None),
        "urbanisme": (0.0, None),
    }
    svg = quality_chart(quality)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Niveau de service par semaine</title>" in svg
    for text in ("État civil", "Accueil", "S10", "S11", "S12", ">100<"):
        assert text in svg
    assert quality_chart(quality) == svg  # same data, same bytes


def parse(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_is_for_french_excel() -> None:
    report = by(GroupBy.SERVICE)
    text = report_csv(report)
    assert "\r\n" in text
    lines = parse(text)
    assert lines[0] == ["Service", *REPORT_HEADERS]
    assert [line[0] for line in lines[1:]] == [
        "Accueil",
        "État civil",
        "Urbanisme",
        "Sans service",
        "Total",
    ]
    ec = dict(zip(lines[0], lines[2], strict=True))
    assert ec["Présentés"] == "4" and ec["Niveau de service (%)"] == "25,0"
    assert ec["Abandons < 30 s"] == "1" and ec["Abandons 3 min et plus"] == "0"
    assert ec["Durée moyenne de traitement (s)"] == "150,0"
    assert ec["Motifs principaux"] == "Rendez-vous pris (1), Renseignement donné (1)"
    none = dict(zip(lines[0], lines[4], strict=True))
    assert none["Niveau de service (%)"] == "" and none["Traités par le menu"] == "1"
    assert report_filename(
        replace(report, start=START.astimezone(PARIS), end=END.astimezone(PARIS))
    ) == ("rapport-service-20260310-0800-20260310-1200.csv")
    # A label that looks like a formula stays text.
    trap = build_report(
        [call("t", START, "answered", service="=HYPERLINK()")], START, END, GroupBy.SERVICE
    )
    assert parse(report_csv(trap))[1][0] == "'=HYPERLINK()"


def test_the_quality_csv() -> None:
    weeks = last_weeks(paris(18, 10), 2)
    quality = build_quality(
        [call("q", paris(17, 9), "answered", service="accueil", wait_seconds=3.0)],
        weeks,
        {"accueil": Target("Accueil", 90.0, 20.0)},
    )
    lines = parse(quality_csv(quality))
    assert lines[0][:4] == ["Semaine", "Service", "Objectif (%)", "Seuil (s)"]
    assert lines[1:] == [
        ["S11 (09/03)", "Accueil", "90,0", "20,0", "0", "0", "0", "", "0", "", ""],
        ["S12 (16/03)", "Accueil", "90,0", "20,0", "1", "1", "1", "100,0", "0", "0,0", "oui"],
    ]
    assert quality_filename(quality) == "qualite-2026-W11-2026-W12.csv"


def test_per_agent_a_transferred_call_counts_for_every_agent_who_took_it() -> None:
    """Issue 22: « Marie : 1 appel » after taking three, two of which she passed on."""
    taken = [
        call(f"t{n}", paris(10, 9, n), "answered", ("201", "202"), answered_by=("201", "202"))
        for n in range(2)
    ]
    alone = call("t2", paris(10, 9, 5), "answered", ("201",), answered_by=("201",))
    missed_then_taken = call(
        "t3", paris(10, 9, 6), "answered", ("201", "202"), answered_by=("202",)
    )
    report = build_report([*taken, alone, missed_then_taken], START, END, GroupBy.AGENT)
    counts = {r.key: (r.answered, r.transfers) for r in report.rows}
    assert counts == {"201": (3, 2), "202": (3, 3)}  # Marie missed t3: not hers
    assert (report.total.calls, report.total.answered) == (4, 4)
