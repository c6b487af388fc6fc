"""The fuzzers' target: a real `taxicrm serve` on a database of its own, with a user of every role."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import redis
import requests

from dispatch import service as dispatch_service
from taxicrm.startup import create_user
from tests.support import ServiceProcess, with_database

PASSWORD = "correct horse battery"
STAFF_ROLES = ("operator", "supervisor", "admin")
WEBHOOK_SECRET = "fuzz-pbx-secret"
# Lines the service logs when a request or a websocket command failed on our side.
FAILURE_MARKS = ("unhandled error", "Traceback", "websocket command", "websocket pump failed")


@dataclass
class FuzzTarget:
    """The running service, its database and a way to get credentials of each kind."""

    service: ServiceProcess
    database_url: str
    _tokens: dict[str, str] = field(default_factory=dict)
    _checked: set[str] = field(default_factory=set)
    _driver_token: str | None = None
    _log_offset: int = 0

    @property
    def url(self) -> str:
        return self.service.url

    def begin_test(self) -> None:
        """Start a test afresh: check the sessions again, take a new driver, read the log from here."""
        self._checked.clear()
        self._driver_token = None
        self.new_failures()

    def staff_headers(self, role: str) -> dict[str, str]:
        """Return a bearer header of a user of this role, logging in again if an earlier test logged out."""
        token = self._tokens.get(role)
        if token is not None and role not in self._checked:
            me = requests.get(f"{self.url}/api/auth/me", headers=_bearer(token), timeout=10)
            token = token if me.status_code == 200 else None
        if token is None:
            response = requests.post(f"{self.url}/api/auth/login", json={"username": f"fuzz-{role}",
                                                                         "password": PASSWORD}, timeout=10)
            response.raise_for_status()
            token = self._tokens[role] = response.json()["token"]
        self._checked.add(role)
        return _bearer(token)

    def driver_token(self) -> str:
        """Return the app token of this test's driver (new for each test: an admin's test may suspend one)."""
        if self._driver_token is None:
            self._driver_token = asyncio.run(_new_driver(self.database_url))
        return self._driver_token

    def rider_token(self) -> str:
        """Book a ride on the customer page and return its tracking token (what /ws/rider takes)."""
        body = {"phone": f"0912 {uuid.uuid4().int % 10**7:07d}", "name": "Fuzz Rider",
                "pickup": {"text": "Azadi Square", "lat": 35.6997, "lng": 51.3380},
                "destination": {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515}}
        response = requests.post(f"{self.url}/api/public/rides", json=body,
                                 headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    def new_failures(self) -> list[str]:
        """Return the log lines about failures on our side since the last call."""
        text = self.service.log()
        fresh, self._log_offset = text[self._log_offset:], len(text)
        return [line for line in fresh.splitlines() if any(mark in line for mark in FAILURE_MARKS)]

    def assert_healthy(self) -> None:
        """The service still runs and both its servers answer."""
        assert self.service.process is not None and self.service.process.poll() is None, self.service.log()[-3000:]
        ready = requests.get(f"{self.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _new_driver(database_url: str) -> str:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        driver = await dispatch_service.register_driver(pool, f"Fuzz Driver {uuid.uuid4().hex[:6]}")
        return await dispatch_service.issue_token(pool, driver.id)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _create_staff(database_url: str) -> None:
    for role in STAFF_ROLES:
        await create_user(database_url, f"fuzz-{role}", f"Fuzz {role.title()}", role, PASSWORD, None)


def run_target(postgres_server_url: str, template_database: str, redis_server_url: str,
               log_dir: Path) -> Iterator[FuzzTarget]:
    """Start the service on a fresh clone of the migrated template and an emptied Redis; stop it after."""
    name = f"taxicrm_fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(postgres_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    database_url = with_database(postgres_server_url, name)
    redis.Redis.from_url(redis_server_url).flushdb()
    asyncio.run(_create_staff(database_url))
    process = ServiceProcess({
        "DATABASE_URL": database_url, "REDIS_URL": redis_server_url, "TAXICRM_LOG_LEVEL": "info",
        "TAXICRM_ACCESS_LOG": "false", "TAXICRM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The fuzzer tries thousands of bad logins from one address; the lockout is tested elsewhere.
        "TAXICRM_LOGIN_MAX_FAILURES": "1000000", "TAXICRM_CUSTOMER_BOOKINGS_PER_HOUR": "1000000",
    })
    try:
        process.start(log_dir)
        yield FuzzTarget(process, database_url)
    finally:
        process.stop()
        asyncio.run(_admin(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
