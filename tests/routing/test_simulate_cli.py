"""``python -m routing.simulate`` on the sample scenarios (small days, to stay fast)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from routing.simulate import ROUTERS, main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "routing" / "scenarios"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("scenario", ["mairie.yaml", "lundi-apres-ferie.yaml"])
def test_cli_prints_the_comparison_and_writes_the_chart(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "wait.svg"
    args = [str(SCENARIOS / scenario), "--seed", "4", "--calls", "80", "--chart", str(chart)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Comparison, whole day" in out
    for router in ROUTERS:
        assert f"\n{router:<12} " in out
    assert "wall time:" in out
    root = ET.parse(chart).getroot()
    assert root.tag == f"{SVG}svg"
    titles = {t.text for line in root.iter(f"{SVG}polyline") for t in line.iter(f"{SVG}title")}
    assert titles == set(ROUTERS)
    # same seed, same figures (the wall times aside: "1466 calls drawn in 0.02 s")
    assert main(args) == 0
    again = capsys.readouterr().out

    def figures(text: str) -> str:
        return re.sub(r" in [0-9.]+ s", "", text.split("Comparison")[0])

    assert figures(out) == figures(again)


def test_cli_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nprofile: {}\n", encoding="utf-8")
    assert main([str(bad)]) == 2
    assert "bad.yaml: " in capsys.readouterr().err
    assert main([str(SCENARIOS / "mairie.yaml"), "--routers", "engine,linear"]) == 2
    assert "linear" in capsys.readouterr().err
    assert main([str(SCENARIOS / "mairie.yaml"), "--calls", "0"]) == 2


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "routing.simulate", str(SCENARIOS / "mairie.yaml")]
        + ["--calls", "40", "--routers", "engine,rrmemory"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "rrmemory" in result.stdout
