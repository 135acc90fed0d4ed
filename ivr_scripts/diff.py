"""Differences between two versions of a voice menu, as a unified diff of their YAML (pure)."""

from __future__ import annotations

import difflib


def unified_lines(old: str, new: str, old_label: str, new_label: str) -> list[str]:
    """Unified diff lines (``---``, ``+++``, ``@@``, then ``-``/``+``/`` `` lines) of two
    texts; only the two header lines when they are the same."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm="", n=3
    )
    return list(lines) or [f"--- {old_label}", f"+++ {new_label}"]
