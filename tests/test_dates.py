"""No test depends on the day it runs: the tests that read today's date pass with the clock set
to a leap day and to a year's end, a few minutes before midnight (libfaketime, Debian's
``faketime``), so that "today", "this week" and "this year" change while they run.

The whole suite was run that way too (README, "Tests and benchmarks"); these modules are the
ones that read the clock for dates (reports, quality weeks, retention, audit exports, opening
hours, the demo's seeded history), kept here so that the default suite stays short.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATED = (
    "tests/cti/test_reports_with_pbx.py",
    "tests/cti/test_retention.py",
    "tests/cti/test_reports.py",
    "tests/cti/web/test_reports_api.py",
    "tests/cti/web/test_audit_and_export.py",
    "tests/ivr_scripts/test_ivr_hours.py",
    "tests/screenpop/test_directory_repository.py",
)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("moment", ["2028-02-29 23:58:00", "2026-12-31 23:58:00"])
def test_the_dated_tests_pass_on_a_leap_day_and_at_a_years_end(moment: str) -> None:
    if shutil.which("faketime") is None:
        pytest.skip("libfaketime is not installed (Debian package faketime)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            "faketime",
            "-f",
            f"@{moment}",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            *DATED,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"at {moment}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
