"""The administration pages and the page where everyone changes their own password.

Static shells without data, like every page: they ask for a login and read the API, which
refuses other roles (403, in French). ``/mot-de-passe`` is for any logged-in user, and the
one a one-time password leads to (``session.js``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
PAGES = {
    "/admin/utilisateurs": "admin_users.html",
    "/admin/services": "admin_services.html",
    "/admin/horaires": "admin_hours.html",
    "/mot-de-passe": "password.html",
}


def _serving(name: str) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(STATIC / name)

    return page


for _path, _name in PAGES.items():
    router.add_api_route(_path, _serving(_name), methods=["GET"])
