"""Use cases of drivers: register them and manage the tokens their phone app logs in with."""

from __future__ import annotations

import asyncpg

from dispatch import store, tokens
from dispatch.errors import DriverNotFound
from dispatch.model import Driver, DriverId
from taxicrm.errors import InvalidInput


async def register_driver(pool: asyncpg.Pool, name: str) -> Driver:
    """Add an active driver to the fleet."""
    if not name.strip():
        raise InvalidInput("A driver needs a name.", code="invalid_driver")
    async with pool.acquire() as conn:
        return await store.insert_driver(conn, name.strip())


async def list_drivers(pool: asyncpg.Pool) -> list[Driver]:
    """Return the whole fleet."""
    async with pool.acquire() as conn:
        return await store.list_drivers(conn)


async def issue_token(pool: asyncpg.Pool, driver_id: DriverId) -> str:
    """Issue a driver a new app token, revoking the old one; the token is returned only this once."""
    token = tokens.new_driver_token()
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_driver(conn, driver_id):
            raise DriverNotFound(driver_id)
        await store.revoke_tokens(conn, driver_id)
        await store.insert_token(conn, driver_id, tokens.token_hash(token))
    return token


async def revoke_tokens(pool: asyncpg.Pool, driver_id: DriverId) -> int:
    """Revoke a driver's token (a lost phone); return how many were live."""
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_driver(conn, driver_id):
            raise DriverNotFound(driver_id)
        return await store.revoke_tokens(conn, driver_id)


async def driver_for_token(pool: asyncpg.Pool, token: str) -> Driver | None:
    """Return the active driver a token belongs to, or None."""
    if not tokens.is_driver_token(token):
        return None
    async with pool.acquire() as conn:
        return await store.driver_by_token(conn, tokens.token_hash(token))
