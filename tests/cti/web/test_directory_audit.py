"""The audit trail says who looked at whom through the directory search too: one entry per
search, with the query and the ids of the citizens it showed, by whom.

Real server and HTTP client, SQLite and PostgreSQL.
"""

from __future__ import annotations

from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from tests.cti.web.secure_site import running_site


async def test_a_search_is_audited_with_its_query_and_the_citizens_shown(
    database: Database,
) -> None:
    async with running_site(database) as site:
        created = [
            site.directory.create_citizen("madame", "Dupont", f"Anne{n:02d}", None)
            for n in range(25)
        ]
        marie = await site.login("marie")
        found = (await marie.get("/api/citizens", params={"q": "dupont"})).json()
        assert len(found) == 20
        nobody = await marie.get("/api/citizens", params={"q": "zzzz"})
        assert nobody.json() == []
        await marie.aclose()
    searches = entries(database, AuditFilter(action="citizen.search"))
    assert [e.username for e in searches] == ["marie", "marie"]
    empty, full = searches  # newest first
    ids = ", ".join(str(c["id"]) for c in found)
    assert full.detail == f"recherche « dupont » : 20 administré(s), identifiants {ids}"
    assert {c["id"] for c in found} <= {c.id for c in created}
    assert empty.detail == "recherche « zzzz » : 0 administré(s), identifiants aucun"
