"""SQL for drivers and their app tokens."""

from __future__ import annotations

import asyncpg

from dispatch.model import Driver, DriverId, DriverStatus

_DRIVER_COLUMNS = "id, name, status, suspended_reason, created_at"

INSERT_DRIVER = f"INSERT INTO drivers (name) VALUES ($1) RETURNING {_DRIVER_COLUMNS}"
SELECT_DRIVERS = f"SELECT {_DRIVER_COLUMNS} FROM drivers ORDER BY id"
LOCK_DRIVER = "SELECT id FROM drivers WHERE id = $1 FOR UPDATE"
REVOKE_TOKENS = "UPDATE driver_tokens SET revoked_at = now() WHERE driver_id = $1 AND revoked_at IS NULL"
INSERT_TOKEN = "INSERT INTO driver_tokens (driver_id, token_hash) VALUES ($1, $2)"
# Only a live token of an active driver authenticates: revoking or suspending takes effect at once.
SELECT_TOKEN_DRIVER = f"""
    SELECT {", ".join("d." + c.strip() for c in _DRIVER_COLUMNS.split(","))}
    FROM driver_tokens t JOIN drivers d ON d.id = t.driver_id
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND d.status = 'active'
"""


def _driver(row: asyncpg.Record) -> Driver:
    return Driver(id=DriverId(row["id"]), name=row["name"], status=DriverStatus(row["status"]),
                  suspended_reason=row["suspended_reason"], created_at=row["created_at"])


async def insert_driver(conn: asyncpg.Connection, name: str) -> Driver:
    """Insert an active driver."""
    return _driver(await conn.fetchrow(INSERT_DRIVER, name))


async def list_drivers(conn: asyncpg.Connection) -> list[Driver]:
    """Return every driver by id."""
    return [_driver(row) for row in await conn.fetch(SELECT_DRIVERS)]


async def lock_driver(conn: asyncpg.Connection, driver_id: DriverId) -> bool:
    """Lock the driver's row for this transaction; False if there is no such driver."""
    return await conn.fetchval(LOCK_DRIVER, driver_id) is not None


async def revoke_tokens(conn: asyncpg.Connection, driver_id: DriverId) -> int:
    """Revoke the driver's live tokens and return how many."""
    return int((await conn.execute(REVOKE_TOKENS, driver_id)).split()[-1])


async def insert_token(conn: asyncpg.Connection, driver_id: DriverId, token_hash: bytes) -> None:
    """Store a new live token by its hash."""
    await conn.execute(INSERT_TOKEN, driver_id, token_hash)


async def driver_by_token(conn: asyncpg.Connection, token_hash: bytes) -> Driver | None:
    """Return the active driver holding this live token, or None."""
    row = await conn.fetchrow(SELECT_TOKEN_DRIVER, token_hash)
    return None if row is None else _driver(row)
