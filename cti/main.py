"""Process entry: settings, logging, signals; ``cti.demo`` and ``cti.app`` call ``main``."""

from __future__ import annotations

import asyncio
import signal
import sys

from pydantic import ValidationError

from cti import json_logs
from cti.roles import LeaseLost, run
from cti.settings import Settings, StartupError
from routing.errors import ConfigError


def main(*, demo: bool) -> None:
    try:
        settings = Settings()
    except ValidationError as exc:
        sys.exit(f"Configuration invalide (variables CTI_*) :\n{exc}")
    json_logs.configure(settings.log_level, settings.log_format)
    if not demo and not settings.ami_host and settings.role != "web":  # a web node has no AMI
        sys.exit(
            "CTI_AMI_HOST n'est pas défini : indiquez l'Asterisk à joindre "
            "(CTI_AMI_HOST, CTI_AMI_SECRET...), ou lancez `make demo` pour le PBX simulé."
        )
    try:
        asyncio.run(_serve(settings, simulated=demo and not settings.ami_host))
    except (StartupError, ConfigError) as exc:
        sys.exit(f"Démarrage impossible : {exc}")
    except LeaseLost as exc:
        # Not 0: a service manager (systemd Restart=on-failure) starts it again, as a standby.
        print(f"Arrêt : {exc}", file=sys.stderr)
        sys.exit(75)


async def _serve(settings: Settings, *, simulated: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, simulated=simulated, stop=stop)
    print("Arrêté.")
