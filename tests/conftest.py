"""Fixtures: real PostgreSQL and Redis (the local ones when TEST_*_URL are set, embedded otherwise)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from callcenter.model import StaffUser
from dispatch.model import Driver
from taxicrm.app import create_app
from taxicrm.embedded import EmbeddedServers
from taxicrm.migrations import migrate
from taxicrm.settings import Settings, load_settings
from taxicrm.startup import create_user
from tests.support import ServiceProcess, with_database

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedServers]:
    """Embedded servers, started only for what TEST_DATABASE_URL / TEST_REDIS_URL do not provide."""
    # Not in pytest's tmp_path: a concurrent pytest run prunes old tmp folders, servers' data included.
    folder = Path(tempfile.mkdtemp(prefix="taxicrm-test-"))
    servers = EmbeddedServers(folder)
    yield servers
    servers.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(embedded: EmbeddedServers) -> str:
    """A URL of a PostgreSQL server we may create and drop databases on."""
    return os.environ.get("TEST_DATABASE_URL") or embedded.start_postgres()


@pytest.fixture(scope="session")
def template_database(postgres_server_url: str) -> Iterator[str]:
    """A database with every migration applied once; each test clones it (much faster than migrating)."""
    name = f"taxicrm_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(postgres_server_url, f'CREATE DATABASE "{name}"'))
    asyncio.run(migrate(with_database(postgres_server_url, name)))
    yield name
    asyncio.run(_admin(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def database_url(postgres_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, fully migrated database of this test's own."""
    name = f"taxicrm_test_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield with_database(postgres_server_url, name)
    await _admin(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_server_url(embedded: EmbeddedServers) -> str:
    """A URL of a Redis database the tests may flush (use a spare database number, e.g. /15)."""
    return os.environ.get("TEST_REDIS_URL") or embedded.start_redis()


@pytest.fixture
async def redis_url(redis_server_url: str) -> AsyncIterator[str]:
    """The test Redis, emptied before the test."""
    client = aioredis.from_url(redis_server_url)
    await client.flushdb()
    await client.aclose()
    yield redis_server_url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the emptied test Redis, decoding replies to str."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on this test's database."""
    async with asyncpg.create_pool(database_url, min_size=1, max_size=4) as pool:
        yield pool


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Default settings pointed at this test's database and Redis."""
    return dataclasses.replace(load_settings({}), database_url=database_url, redis_url=redis_url,
                               data_dir=tmp_path / "data")


@pytest.fixture
def aiohttp_client(database_url: str, redis_url: str, aiohttp_client: Callable[..., Awaitable[TestClient]]
                   ) -> Callable[..., Awaitable[TestClient]]:
    """pytest-aiohttp's client factory, set up after (so torn down before) this test's database and Redis."""
    return aiohttp_client


@pytest.fixture
def app(settings: Settings) -> web.Application:
    """The real application, wired as in production."""
    return create_app(settings)


@pytest.fixture
async def client(aiohttp_client: Callable[..., Awaitable[TestClient]], app: web.Application) -> TestClient:
    """An HTTP client of the real application, running in this process."""
    return await aiohttp_client(app)


@pytest.fixture
def make_staff(database_url: str) -> Callable[..., Awaitable[StaffUser]]:
    """Factory: `await make_staff("operator")` creates a staff user whose password is PASSWORD."""
    counter = iter(range(1, 10_000))

    async def make(role: str = "operator", username: str | None = None,
                   extension: str | None = None) -> StaffUser:
        name = username or f"{role}{next(counter)}"
        return await create_user(database_url, name, name.title(), role, PASSWORD, extension)

    return make


@pytest.fixture
def staff_headers(client: TestClient, make_staff: Callable[..., Awaitable[StaffUser]]
                  ) -> Callable[[str], Awaitable[dict[str, str]]]:
    """Factory: `await staff_headers("admin")` makes a user of that role, logs in, returns auth headers."""

    async def headers(role: str) -> dict[str, str]:
        user = await make_staff(role)
        response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
        assert response.status == 200, await response.text()
        client.session.cookie_jar.clear()  # Each request names its user by the headers alone.
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    return headers


@pytest.fixture
def make_driver(db: asyncpg.Pool) -> Callable[..., Awaitable[tuple[Driver, str]]]:
    """Factory: `driver, token = await make_driver()` registers a driver and issues its app token."""
    from dispatch import service

    async def make(name: str = "Reza Driver") -> tuple[Driver, str]:
        driver = await service.register_driver(db, name)
        return driver, await service.issue_token(db, driver.id)

    return make


@pytest.fixture
def start_service(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Factory: start real `taxicrm serve` subprocesses on this test's database and Redis."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        process = ServiceProcess({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                                  "TAXICRM_LOG_LEVEL": "info", **env})
        started.append(process.start(tmp_path))
        return process

    yield start
    for process in started:
        process.stop()
