"""Login limits: a stranger's failures never lock the owner out, forwarded addresses are
believed from configured proxies only, and the audit names the real client.

The rules on a clock we drive; then over real HTTP against a real server, clients speaking
from several loopback addresses (127.0.0.1 the owner's desk, 127.0.0.2 a stranger or a proxy),
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import httpx
import pytest

from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from cti.web.audit_log import read_after_writes
from cti.web.login_limits import LoginLimits
from tests.cti.web.secure_site import PASSWORD, running_site


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_back_off_per_account_and_address_exponentially_capped() -> None:
    clock = Clock()
    limits = LoginLimits(free=5, first_delay=30, max_delay=600, clock=clock)
    for _ in range(4):
        limits.failed("marie", "10.0.0.9")
    assert limits.retry_after("marie", "10.0.0.9") == 0  # typos cost nothing
    waits = []
    for _ in range(7):
        limits.failed("marie", "10.0.0.9")
        waits.append(limits.retry_after("Marie", "10.0.0.9"))
        clock.now += waits[-1]
    assert waits == [30, 60, 120, 240, 480, 600, 600]


def test_a_stranger_cannot_lock_the_owner_out() -> None:
    clock = Clock()
    limits = LoginLimits(clock=clock)
    for _ in range(50):
        limits.failed("marie", "203.0.113.7")
        clock.now += limits.retry_after("marie", "203.0.113.7")
    # Marie at her desk, and her colleagues behind the stranger's own address, try freely.
    assert limits.retry_after("marie", "192.168.1.20") == 0
    assert limits.retry_after("paul", "203.0.113.7") == 0


def test_a_success_forgets_the_pair_but_not_the_address_ceiling() -> None:
    clock = Clock()
    limits = LoginLimits(free=2, address_attempts=10, address_window=600, clock=clock)
    limits.failed("marie", "10.0.0.1")
    limits.failed("marie", "10.0.0.1")
    assert limits.retry_after("marie", "10.0.0.1") > 0
    limits.succeeded("marie", "10.0.0.1")
    assert limits.retry_after("marie", "10.0.0.1") == 0
    # Spraying: one failure on each of many accounts from one address.
    for n in range(8):
        limits.failed(f"agent{n}", "10.0.0.1")
        clock.now += 1
    assert (
        limits.retry_after("someone", "10.0.0.1") == 600 - 8
    )  # the first of the ten failures, 8 s ago
    assert limits.retry_after("someone", "10.0.0.2") == 0
    clock.now += 600
    assert limits.retry_after("someone", "10.0.0.1") == 0


def test_memory_stays_bounded() -> None:
    limits = LoginLimits(max_tracked=100, clock=Clock())
    for n in range(1000):
        limits.failed(f"user{n}", f"10.0.{n // 250}.{n % 250}")
    assert limits.retry_after("user999", "10.0.3.249") == 0  # one failure: free
    assert len(limits._pairs) <= 100 and len(limits._addresses) <= 100  # noqa: SLF001


async def _fail(client: httpx.AsyncClient, username: str, **headers: str) -> int:
    response = await client.post(
        "/api/login", json={"username": username, "password": "pas le bon"}, headers=headers
    )
    return response.status_code


async def _login(client: httpx.AsyncClient, username: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/api/login", json={"username": username, "password": PASSWORD}, headers=headers
    )


async def test_over_http_a_strangers_failures_do_not_refuse_the_owners_password(
    database: Database,
) -> None:
    async with running_site(database) as site:
        async with site.client("127.0.0.2") as stranger, site.client("127.0.0.1") as owner:
            codes = [await _fail(stranger, "marie") for _ in range(6)]
            assert codes == [401, 401, 401, 401, 401, 429]
            refused = await _login(stranger, "marie")  # the guesser waits, right or wrong
            assert refused.status_code == 429
            assert "réessayez dans" in refused.json()["detail"]
            assert int(refused.headers["Retry-After"]) > 0
            # Marie at her own desk, and a colleague behind the stranger's address, log in.
            assert (await _login(owner, "marie")).status_code == 200
            assert (await _login(stranger, "paul")).status_code == 200


async def test_forwarded_for_is_not_believed_without_a_configured_proxy(
    database: Database,
) -> None:
    async with running_site(database) as site:
        async with site.client("127.0.0.1") as client:
            codes = [
                await _fail(client, "marie", **{"X-Forwarded-For": f"198.51.100.{n}"})
                for n in range(6)
            ]
            assert codes[-1] == 429  # a new forged address each time changes nothing
            assert (await _login(client, "chef", **{"X-Forwarded-For": "198.51.100.99"})).is_success
        # Logins are audited through the writer: read once it has written them.
        trail = await read_after_writes(site.pop, lambda: entries(database, AuditFilter()))
        assert {e.detail for e in trail if e.action.startswith("login")} == {"depuis 127.0.0.1"}


async def test_forwarded_for_is_believed_from_a_trusted_proxy_only(database: Database) -> None:
    async with running_site(database, trusted_proxies=["127.0.0.2/32"]) as site:
        async with site.client("127.0.0.2") as proxy, site.client("127.0.0.1") as other:
            forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
            assert (await _login(proxy, "marie", **forwarded)).status_code == 200
            assert (await _login(other, "paul", **{"X-Forwarded-For": "203.0.113.8"})).is_success
            # Behind the proxy, each client has limits of its own.
            for _ in range(6):
                await _fail(proxy, "chef", **{"X-Forwarded-For": "203.0.113.66"})
            assert (
                await _login(proxy, "chef", **{"X-Forwarded-For": "203.0.113.66"})
            ).status_code == 429
            assert (await _login(proxy, "chef", **{"X-Forwarded-For": "203.0.113.67"})).is_success
        logins = await read_after_writes(
            site.pop, lambda: entries(database, AuditFilter(action="login"))
        )
        by_user = {e.username: e.detail for e in logins}
        assert by_user["marie"] == "depuis 203.0.113.7"
        assert by_user["paul"] == "depuis 127.0.0.1"


async def test_the_session_cookie_is_secure_except_plain_http_from_this_machine(
    database: Database,
) -> None:
    async with running_site(database, trusted_proxies=["127.0.0.2"]) as site:
        async with site.client("127.0.0.1") as local, site.client("127.0.0.2") as proxy:
            plain = await _login(local, "marie")
            assert "secure" not in plain.headers["set-cookie"].lower()  # make demo, the tests
            assert "httponly" in plain.headers["set-cookie"].lower()
            over_tls = await _login(
                proxy, "paul", **{"X-Forwarded-For": "192.168.1.20", "X-Forwarded-Proto": "https"}
            )
            assert "secure" in over_tls.headers["set-cookie"].lower()
            from_lan = await _login(proxy, "chef", **{"X-Forwarded-For": "192.168.1.21"})
            assert "secure" in from_lan.headers["set-cookie"].lower()


@pytest.mark.parametrize("mode", ["true", "false"])
async def test_the_cookie_setting_forces_secure_or_not(database: Database, mode: str) -> None:
    async with running_site(database, cookie_secure=mode) as site:  # type: ignore[arg-type]
        async with site.client() as client:
            cookie = (await _login(client, "marie")).headers["set-cookie"].lower()
            assert ("secure" in cookie) == (mode == "true")
