"""Start-up checks that turn an unreachable server or an empty database into one clear line."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from callcenter import service as accounts
from callcenter.model import StaffUser

log = logging.getLogger("taxicrm")
CONNECT_TIMEOUT_SECONDS = 10
FIRST_ADMIN = "admin"


class StartupError(Exception):
    """The service cannot start; the message names the setting and the problem."""


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or parts.path or url.split("?")[0]  # Never echo a password from the URL.


async def check_postgres(url: str) -> None:
    """Raise StartupError naming DATABASE_URL unless PostgreSQL answers."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise StartupError(f"DATABASE_URL: cannot connect to PostgreSQL at {_where(url)}: "
                           f"{str(err) or type(err).__name__}") from None
    await conn.close()


async def check_redis(url: str) -> None:
    """Raise StartupError naming REDIS_URL unless Redis answers."""
    client = aioredis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        await client.ping()
    except (OSError, RedisError) as err:
        raise StartupError(f"REDIS_URL: cannot connect to Redis at {_where(url)}: {err}") from None
    finally:
        await client.aclose()


async def create_user(database_url: str, username: str, display_name: str, role: str, password: str,
                      extension: str | None) -> StaffUser:
    """Create a staff account outside a running service (the CLI)."""
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        return await accounts.create_user(pool, username, display_name, role, password, extension)


async def ensure_first_admin(database_url: str, admin_password: str | None) -> None:
    """Leave a way in on an empty database: create `admin` from the password, or say how to."""
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        if await accounts.count_admins(pool):
            return
        if admin_password:
            await accounts.create_user(pool, FIRST_ADMIN, "Administrator", "admin", admin_password)
            log.warning("created the first admin account '%s' from TAXICRM_ADMIN_PASSWORD", FIRST_ADMIN)
            return
    log.warning("no admin account exists yet; create one with: "
                "taxicrm create-user --username admin --role admin "
                "(or set TAXICRM_ADMIN_PASSWORD before starting)")
