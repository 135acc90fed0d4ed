"""The product's FastAGI server: Asterisk's ``from-pstn`` runs the published voice menu here.

The tree comes from ``IvrAdmin`` (the published version, swapped on publication), a case's
status from the directory (the caller keys the reference's digits), and each call's path goes
back to ``IvrAdmin`` (``ivr_runs`` and the agent's card). Prompts are voiced by the sound
library (``cti.prompts``): recordings, else speech synthesis, delivered where Asterisk reads.
``clock`` is the menu's time for its opening hours: the real one, except on the simulated
PBX (see ``cti.pbxsim.traffic``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cti.ivr_admin import IvrAdmin
from cti.settings import StartupError
from ivr_scripts.fastagi import CallbackRecorder, serve
from ivr_scripts.measures import PARIS
from ivr_scripts.sounds import Voice
from screenpop.directory import Directory

# The menu an installation starts with (published as version 1 into an empty database).
DEFAULT_TREE = Path(__file__).resolve().parent.parent / "ivr_scripts" / "default_tree.yaml"


def _paris_now() -> datetime:
    return datetime.now(PARIS)


async def start_voice_menu(
    host: str,
    port: int,
    ivr: IvrAdmin,
    directory: Directory,
    clock: Callable[[], datetime] = _paris_now,
    voice: Voice | None = None,
    on_callback: CallbackRecorder | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (``0``: any free port, see ``server.sockets``)."""

    def case_status(reference: str) -> str | None:
        case = directory.case_status(reference)
        return None if case is None else case.status

    try:
        return await serve(
            host,
            port,
            ivr.tree,
            case_status,
            ivr.on_path_recorded,
            clock=clock,
            voice=voice if voice is not None else ivr.sounds,
            on_callback=on_callback,
        )
    except OSError as exc:
        raise StartupError(
            f"le serveur FastAGI du menu vocal ne peut pas écouter sur {host}:{port} "
            f"({exc.strerror or exc}) : un autre programme utilise-t-il ce port ? "
            "Arrêtez-le ou choisissez-en un autre (CTI_AGI_PORT, et le dialplan d'Asterisk)."
        ) from exc
