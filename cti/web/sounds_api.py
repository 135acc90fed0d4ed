"""The voice menu's sound files over HTTP, for an Asterisk on another machine.

``CTI_SOUNDS_URL`` points Asterisk here: ``STREAM FILE <url>/cti/<key>.wav`` fetches through
``res_http_media_cache``. Files are named by a hash of their content's origin (never
changed in place, so Asterisk's cache stays right) and hold menu prompts only: no login
(Asterisk has none), no personal data. The editor plays recordings from here too.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from cti.prompts.library import SoundLibrary

router = APIRouter(tags=["sounds"])


@router.get("/sounds/cti/{name}", include_in_schema=False)
async def sound(name: str, request: Request) -> FileResponse:
    library: SoundLibrary = request.app.state.sounds
    path = library.served_file(name.removesuffix(".wav")) if name.endswith(".wav") else None
    if path is None:
        raise HTTPException(404, f"Son « {name} » inconnu.")
    # Same name, same content: Asterisk (and browsers) may keep it.
    headers = {"Cache-Control": "public, max-age=31536000, immutable"}
    return FileResponse(path, media_type="audio/wav", headers=headers)
