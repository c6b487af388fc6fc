"""SQL for staff accounts and sessions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from callcenter.model import StaffUser, UserId

_USER_COLUMNS = "id, username, display_name, role, extension, is_active, created_at, last_login_at"

INSERT_USER = f"""
    INSERT INTO staff_users (username, display_name, role, password_hash, extension)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING {_USER_COLUMNS}
"""
SELECT_USER_FOR_LOGIN = f"SELECT {_USER_COLUMNS}, password_hash FROM staff_users WHERE username = $1"
SELECT_USER = f"SELECT {_USER_COLUMNS} FROM staff_users WHERE id = $1"
SELECT_USERS = f"SELECT {_USER_COLUMNS} FROM staff_users ORDER BY username"
COUNT_ADMINS = "SELECT count(*) FROM staff_users WHERE role = 'admin' AND is_active"
UPDATE_PASSWORD_HASH = "UPDATE staff_users SET password_hash = $2 WHERE id = $1"
MARK_LOGIN = "UPDATE staff_users SET last_login_at = $2 WHERE id = $1"

INSERT_SESSION = """
    INSERT INTO staff_sessions (token_hash, user_id, expires_at, user_agent, remote_addr)
    VALUES ($1, $2, $3, $4, $5)
"""
# One indexed lookup per request: the session, if live, and its user, if still active.
SELECT_SESSION_USER = f"""
    SELECT s.expires_at, {", ".join("u." + c.strip() for c in _USER_COLUMNS.split(","))}
    FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id
    WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.is_active
"""
EXTEND_SESSION = "UPDATE staff_sessions SET expires_at = $2 WHERE token_hash = $1"
DELETE_SESSION = "DELETE FROM staff_sessions WHERE token_hash = $1"
DELETE_EXPIRED_SESSIONS = "DELETE FROM staff_sessions WHERE expires_at <= $1"


# Hot-desking: whoever sits down at an extension takes it over from whoever had it before.
RELEASE_EXTENSION = "UPDATE staff_users SET extension = NULL WHERE extension = $1 AND id <> $2"
SET_EXTENSION = f"UPDATE staff_users SET extension = $2 WHERE id = $1 RETURNING {_USER_COLUMNS}"


def _user(row: asyncpg.Record) -> StaffUser:
    return StaffUser(
        id=UserId(row["id"]), username=row["username"], display_name=row["display_name"],
        role=row["role"], extension=row["extension"], is_active=row["is_active"],
        created_at=row["created_at"], last_login_at=row["last_login_at"],
    )


async def insert_user(conn: asyncpg.Connection, username: str, display_name: str, role: str,
                      password_hash: str, extension: str | None) -> StaffUser:
    """Insert a staff user; raises asyncpg.UniqueViolationError if the username is taken."""
    return _user(await conn.fetchrow(INSERT_USER, username, display_name, role, password_hash, extension))


async def user_for_login(conn: asyncpg.Connection, username: str) -> tuple[StaffUser, str] | None:
    """Return the user and their password hash, or None if there is no such username."""
    row = await conn.fetchrow(SELECT_USER_FOR_LOGIN, username)
    return None if row is None else (_user(row), row["password_hash"])


async def get_user(conn: asyncpg.Connection, user_id: UserId) -> StaffUser | None:
    """Return one staff user by id, or None."""
    row = await conn.fetchrow(SELECT_USER, user_id)
    return None if row is None else _user(row)


async def list_users(conn: asyncpg.Connection) -> list[StaffUser]:
    """Return every staff user, by username."""
    return [_user(row) for row in await conn.fetch(SELECT_USERS)]


async def count_admins(conn: asyncpg.Connection) -> int:
    """Return how many active admins exist."""
    return int(await conn.fetchval(COUNT_ADMINS))


async def update_password_hash(conn: asyncpg.Connection, user_id: UserId, password_hash: str) -> None:
    """Store a new password hash."""
    await conn.execute(UPDATE_PASSWORD_HASH, user_id, password_hash)


async def mark_login(conn: asyncpg.Connection, user_id: UserId, at: datetime) -> None:
    """Record when the user last logged in."""
    await conn.execute(MARK_LOGIN, user_id, at)


async def insert_session(conn: asyncpg.Connection, token_hash: bytes, user_id: UserId, expires_at: datetime,
                         user_agent: str | None, remote_addr: str | None) -> None:
    """Store a new session by the hash of its token."""
    await conn.execute(INSERT_SESSION, token_hash, user_id, expires_at, user_agent, remote_addr)


async def session_user(conn: asyncpg.Connection, token_hash: bytes,
                       now: datetime) -> tuple[StaffUser, datetime] | None:
    """Return the live session's active user and its expiry, or None."""
    row = await conn.fetchrow(SELECT_SESSION_USER, token_hash, now)
    return None if row is None else (_user(row), row["expires_at"])


async def extend_session(conn: asyncpg.Connection, token_hash: bytes, expires_at: datetime) -> None:
    """Move a session's expiry forward."""
    await conn.execute(EXTEND_SESSION, token_hash, expires_at)


async def delete_session(conn: asyncpg.Connection, token_hash: bytes) -> None:
    """End a session."""
    await conn.execute(DELETE_SESSION, token_hash)


async def delete_expired_sessions(conn: asyncpg.Connection, now: datetime) -> int:
    """Remove sessions past their expiry and return how many."""
    return int((await conn.execute(DELETE_EXPIRED_SESSIONS, now)).split()[-1])


async def set_extension(conn: asyncpg.Connection, user_id: UserId, extension: str | None) -> StaffUser:
    """Seat the user at an extension (taking it from anyone else), or at none."""
    if extension is not None:
        await conn.execute(RELEASE_EXTENSION, extension, user_id)
    return _user(await conn.fetchrow(SET_EXTENSION, user_id, extension))
