"""Every recording replays to exactly its expected domain events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cti.replay import replay

HERE = Path(__file__).parent
CAPTURES = HERE.parent.parent.parent / "shared" / "ami-captures"
EXPECTED = HERE / "expected"


def _recordings() -> list[Path]:
    shared = sorted(p for p in CAPTURES.glob("*.jsonl") if not p.name.startswith("agi-"))
    own = sorted((HERE / "recordings").glob("*.jsonl"))
    return shared + own


@pytest.mark.parametrize("recording", _recordings(), ids=lambda p: p.stem)
def test_replay_matches_expectation(recording: Path) -> None:
    expected_file = EXPECTED / f"{recording.stem}.jsonl"
    assert expected_file.exists(), (
        f"no expectation for {recording.name}: write {expected_file.relative_to(HERE.parent)} "
        "(see tests/golden/README.md)"
    )
    expected = [json.loads(line) for line in expected_file.read_text().splitlines() if line]
    actual = [e.to_dict() for e in replay(recording)]
    assert actual == expected


def test_every_expectation_has_its_recording() -> None:
    names = {p.stem for p in _recordings()}
    orphans = [p.name for p in EXPECTED.glob("*.jsonl") if p.stem not in names]
    assert orphans == []
