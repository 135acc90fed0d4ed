"""The technician's tools run as real processes: import of the shipped sample, lookup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "screenpop" / "sample_citizens.csv"


def test_the_cli_tools_on_the_shipped_sample(database_url: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    imported = subprocess.run(
        [sys.executable, "-m", "screenpop.import_citizens", str(SAMPLE), "--rejects", str(rejects)]
        + ["--database", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 1, imported.stderr  # the sample has two refused lines
    assert "18 créées" in imported.stdout and "2 refusées" in imported.stdout
    found = subprocess.run(
        [
            sys.executable,
            "-m",
            "screenpop.lookup",
            "0033 1 45 67 89 01",
            "--database",
            database_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert "+33145678901" in found.stdout and "2 administrés partagent ce numéro" in found.stdout
    assert "Bonjour madame Bernard" in found.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "screenpop.lookup", "06 00 00 00 01", "--database", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1 and "Aucun administré" in unknown.stdout


def test_lookup_says_why_a_number_cannot_be_read(tmp_path: Path) -> None:
    garbage = subprocess.run(
        [sys.executable, "-m", "screenpop.lookup", "abc"]
        + ["--database", f"sqlite:///{tmp_path / 'cti.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert garbage.returncode == 2
    assert "« abc »" in garbage.stdout and "numéro" in garbage.stdout


def test_lookup_on_a_database_without_the_directory_says_so(tmp_path: Path) -> None:
    empty = subprocess.run(
        [sys.executable, "-m", "screenpop.lookup", "06 12 34 56 78"]
        + ["--database", f"sqlite:///{tmp_path / 'empty.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert empty.returncode == 3 and "Annuaire illisible" in empty.stderr
