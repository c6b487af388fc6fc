"""The call log as other domains read it: one call by id, as the console shows it (a complaint's evidence)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from callcenter import call_store


async def find_call(pool: asyncpg.Pool, call_id: int) -> dict[str, Any] | None:
    """Return a call (who called, when it rang, was answered and ended, by whom), or None if there is none."""
    async with pool.acquire() as conn:
        row = await call_store.call(conn, call_id)
    if row is None:
        return None
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in dict(row).items()}
