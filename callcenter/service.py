"""Use cases of staff accounts: create users, log in and out, recognise a session."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from callcenter import accounts, passwords, store
from callcenter.errors import InvalidCredentials, TooManyLoginFailures, UsernameTaken
from callcenter.model import NewSession, StaffUser, UserId
from taxicrm import ratelimit

# A session is extended on use, but at most this often, so a busy console is not a write per request.
SESSION_EXTEND_GRANULARITY = timedelta(minutes=5)


async def create_user(pool: asyncpg.Pool, username: str, display_name: str, role: str, password: str,
                      extension: str | None = None) -> StaffUser:
    """Create a staff account after checking its rules; the password is stored as an argon2 hash."""
    username = accounts.normalize_username(username)
    accounts.check_new_account(username, role, password, extension)
    password_hash = await passwords.hash_password(password)
    try:
        async with pool.acquire() as conn:
            return await store.insert_user(conn, username, display_name.strip() or username, role,
                                           password_hash, extension)
    except asyncpg.UniqueViolationError as err:
        raise UsernameTaken(username) from err


async def get_user(pool: asyncpg.Pool, user_id: UserId) -> StaffUser | None:
    """Return one staff user by id, or None."""
    async with pool.acquire() as conn:
        return await store.get_user(conn, user_id)


async def list_users(pool: asyncpg.Pool) -> list[StaffUser]:
    """Return every staff account."""
    async with pool.acquire() as conn:
        return await store.list_users(conn)


async def count_admins(pool: asyncpg.Pool) -> int:
    """Return how many active admins exist, to tell whether a first start needs one."""
    async with pool.acquire() as conn:
        return await store.count_admins(conn)


def _limit_keys(username: str, remote_addr: str | None) -> list[str]:
    # Both limits: one user attacked from many addresses, and one address guessing many users.
    return [f"taxicrm:login-failures:user:{username}", f"taxicrm:login-failures:addr:{remote_addr or '-'}"]


async def log_in(pool: asyncpg.Pool, redis: aioredis.Redis, *, username: str, password: str,
                 now: datetime, ttl: timedelta, max_failures: int, window_seconds: int,
                 user_agent: str | None = None, remote_addr: str | None = None) -> NewSession:
    """Open a session for valid credentials; count failures and refuse while there are too many."""
    username = accounts.normalize_username(username)
    keys = _limit_keys(username, remote_addr)
    wait = await ratelimit.retry_after(redis, keys, max_failures)
    if wait:
        raise TooManyLoginFailures(wait)
    async with pool.acquire() as conn:
        found = await store.user_for_login(conn, username)
    user, stored_hash = found if found is not None else (None, None)
    if not await passwords.verify_password(stored_hash, password) or user is None or stored_hash is None \
            or not user.is_active:
        await ratelimit.count(redis, keys, window_seconds)
        raise InvalidCredentials()
    await ratelimit.clear(redis, keys[:1])
    token = accounts.new_session_token()
    expires_at = now + ttl
    new_hash = await passwords.hash_password(password) if passwords.needs_rehash(stored_hash) else None
    async with pool.acquire() as conn, conn.transaction():
        await store.delete_expired_sessions(conn, now)
        await store.insert_session(conn, accounts.token_hash(token), user.id, expires_at, user_agent,
                                   remote_addr)
        await store.mark_login(conn, user.id, now)
        if new_hash is not None:
            await store.update_password_hash(conn, user.id, new_hash)
    return NewSession(token=token, user=user, expires_at=expires_at)


async def session_user(pool: asyncpg.Pool, token: str, *, now: datetime, ttl: timedelta) -> StaffUser | None:
    """Return the active user behind a live session token, sliding its expiry forward; else None."""
    if not token.startswith(accounts.SESSION_TOKEN_PREFIX):
        return None
    digest = accounts.token_hash(token)
    async with pool.acquire() as conn:
        found = await store.session_user(conn, digest, now)
        if found is None:
            return None
        user, expires_at = found
        if now + ttl - expires_at > SESSION_EXTEND_GRANULARITY:
            await store.extend_session(conn, digest, now + ttl)
    return user


async def log_out(pool: asyncpg.Pool, token: str) -> None:
    """End the session of this token (a no-op if it already ended)."""
    async with pool.acquire() as conn:
        await store.delete_session(conn, accounts.token_hash(token))


async def take_extension(pool: asyncpg.Pool, user_id: UserId, extension: str | None) -> StaffUser:
    """Tell the service which extension the user sits at now, so calls ringing there pop up on their screen."""
    accounts.check_extension(extension)
    async with pool.acquire() as conn, conn.transaction():
        return await store.set_extension(conn, user_id, extension)
