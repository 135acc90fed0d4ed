"""The reports' tables as CSV files that French Excel opens as they are (pure).

French Excel reads ``;``-separated files, takes a byte-order mark as "this is UTF-8" (without
it, "État civil" shows as "Ã‰tat civil") and a decimal comma as a number. Text cells that
start like a formula are prefixed with an apostrophe so a spreadsheet never runs them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from cti.reports.figures import ABANDON_LABELS, GroupBy, Report, ReportRow
from cti.reports.quality import Quality
from screenpop.text_rules import spreadsheet_safe

BOM = "\ufeff"
Cell = str | int | float | None

GROUP_HEADERS = {
    GroupBy.SERVICE: "Service",
    GroupBy.AGENT: "Agent",
    GroupBy.DAY: "Jour",
    GroupBy.HOUR: "Heure",
}
REPORT_HEADERS = (
    "Appels",
    "Présentés",
    "Répondus",
    "Répondus dans le seuil",
    "Niveau de service (%)",
    "Abandons",
    "Taux d'abandon (%)",
    *(f"Abandons {label}" for label in ABANDON_LABELS),
    "Débordés",
    "Filet de sécurité",
    "Terminés dans le menu",
    "Traités par le menu",
    "Perdus",
    "En cours",
    "Transferts",
    "Rappels sous 7 jours",
    "Attente moyenne avant réponse (s)",
    "Durée moyenne de traitement (s)",
    "Motifs principaux",
    "Choix de menu principaux",
)
QUALITY_HEADERS = (
    "Semaine",
    "Service",
    "Objectif (%)",
    "Seuil (s)",
    "Présentés",
    "Répondus",
    "Répondus dans le seuil",
    "Niveau de service (%)",
    "Abandons",
    "Taux d'abandon (%)",
    "Objectif atteint",
)


def cell(value: Cell) -> str:
    """A value as French Excel reads it: decimal comma, empty for "no figure"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return spreadsheet_safe(value)


def top_text(top: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in top)


def report_values(row: ReportRow) -> list[Cell]:
    """One row's figures in the order of ``REPORT_HEADERS``."""
    return [
        row.calls,
        row.offered,
        row.answered,
        row.answered_in_sl,
        row.service_level_pct,
        row.abandoned,
        row.abandon_rate_pct,
        *row.abandon_delays,
        row.overflowed,
        row.safety_net,
        row.ended_in_menu,
        row.self_served,
        row.lost,
        row.in_progress,
        row.transfers,
        row.repeats,
        row.avg_answer_s,
        row.avg_handling_s,
        top_text(row.top_dispositions),
        top_text(row.top_menu_choices),
    ]


def _write(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return BOM + out.getvalue()


def report_csv(report: Report) -> str:
    rows = [[r.label, *report_values(r)] for r in (*report.rows, report.total)]
    return _write((GROUP_HEADERS[report.by], *REPORT_HEADERS), rows)


def report_filename(report: Report) -> str:
    return f"rapport-{report.by.value}-{report.start:%Y%m%d-%H%M}-{report.end:%Y%m%d-%H%M}.csv"


def quality_csv(quality: Quality) -> str:
    rows = [
        [
            r.week_label,
            r.label,
            r.target_pct,
            r.threshold_s,
            r.offered,
            r.answered,
            r.answered_in_sl,
            r.service_level_pct,
            r.abandoned,
            r.abandon_rate_pct,
            r.met,
        ]
        for r in quality.rows
    ]
    return _write(QUALITY_HEADERS, rows)


def quality_filename(quality: Quality) -> str:
    return f"qualite-{quality.weeks[0].key}-{quality.weeks[-1].key}.csv"
