"""The demo's routing configuration cut down to a few agents, for tests running the product."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from cti.settings import Settings


def demo_routing_with(folder: Path, agents: Collection[str]) -> Path:
    """A copy of the demo's routing (``CTI_ROUTING_CONFIG``) in ``folder`` keeping ``agents``."""
    config = yaml.safe_load(Settings().routing_config.read_text(encoding="utf-8"))
    config["agents"] = {k: v for k, v in config["agents"].items() if k in agents}
    routing = folder / "routing.yaml"
    routing.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return routing
