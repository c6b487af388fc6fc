"""SQL for the call log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from taxicrm.changes import ChangePage, ChangeWindow, page_query, read_page

# A retried webhook or a replayed AMI event finds its call and adds to it, never a second row. The same round
# trip returns who sits at the ringing extensions and the caller's last calls (the new row is not yet visible
# to the subqueries, so it is never among them).
UPSERT_RINGING = """
    WITH call AS (
        INSERT INTO calls (pbx_call_id, source, caller_raw, caller_e164, caller_status, caller_name, dialled,
                           ringing_extensions, subscriber_id, ringing_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (source, pbx_call_id) DO UPDATE SET
            ringing_extensions = ARRAY(SELECT DISTINCT e FROM unnest(calls.ringing_extensions
                                                                     || EXCLUDED.ringing_extensions) e ORDER BY e)
        RETURNING id, subscriber_id, ringing_extensions
    )
    SELECT call.id, call.subscriber_id, call.ringing_extensions,
        (SELECT coalesce(json_object_agg(u.extension, u.id), '{}') FROM staff_users u
         WHERE u.extension = ANY($8::text[]) AND u.is_active)::text AS operators,
        (SELECT coalesce(json_agg(r), '[]') FROM (
            SELECT c.id, c.ringing_at, c.answered_at IS NOT NULL AS answered, c.end_cause FROM calls c
            WHERE c.subscriber_id = $9 AND c.pbx_call_id <> $1
            ORDER BY c.ringing_at DESC LIMIT $11) r)::text AS recent_calls
    FROM call
"""
# The first answer sets the time; a transfer moves the call to the new extension and operator.
MARK_ANSWERED = """
    UPDATE calls SET answered_at = coalesce(answered_at, $3), answered_extension = $4,
        operator_id = (SELECT id FROM staff_users WHERE extension = $4 AND is_active)
    WHERE source = $1 AND pbx_call_id = $2 AND ended_at IS NULL
    RETURNING id, subscriber_id, ringing_extensions, operator_id
"""
MARK_ENDED = """
    UPDATE calls SET ended_at = $3,
        -- Answered calls end normally whatever the PBX says; an unanswered "normal" end is a caller who gave up.
        end_cause = CASE WHEN answered_at IS NOT NULL THEN 'normal' WHEN $4 = 'normal' THEN 'abandoned' ELSE $4 END
    WHERE source = $1 AND pbx_call_id = $2 AND ended_at IS NULL
    RETURNING id, subscriber_id, ringing_extensions, answered_at, end_cause
"""
SELECT_OPERATORS_AT = """
    SELECT id, extension FROM staff_users WHERE extension = ANY($1::text[]) AND is_active
"""
_CALL_COLUMNS = """c.id, c.pbx_call_id, c.source, c.caller_raw, c.caller_e164, c.caller_status, c.caller_name,
    c.dialled, c.ringing_extensions, c.answered_extension, c.operator_id, u.display_name AS operator_name,
    c.subscriber_id, c.ringing_at, c.answered_at, c.ended_at, c.end_cause, c.callback_handled_at"""
SELECT_CALLS = f"""
    SELECT {_CALL_COLUMNS} FROM calls c LEFT JOIN staff_users u ON u.id = c.operator_id
    WHERE c.ringing_at >= $1 AND c.ringing_at < $2 AND ($3::bigint IS NULL OR c.subscriber_id = $3)
    ORDER BY c.ringing_at DESC LIMIT $4
"""
SELECT_CALLBACKS = f"""
    SELECT {_CALL_COLUMNS} FROM calls c LEFT JOIN staff_users u ON u.id = c.operator_id
    WHERE c.answered_at IS NULL AND c.ended_at IS NOT NULL AND c.callback_handled_at IS NULL
    ORDER BY c.ringing_at DESC LIMIT $1
"""
MARK_CALLBACK_HANDLED = """
    UPDATE calls SET callback_handled_at = $2, callback_handled_by = $3
    WHERE id = $1 AND answered_at IS NULL AND ended_at IS NOT NULL AND callback_handled_at IS NULL
    RETURNING id
"""
CALL_EXISTS = "SELECT answered_at IS NULL AND ended_at IS NOT NULL FROM calls WHERE id = $1"
SELECT_CALL = f"SELECT {_CALL_COLUMNS} FROM calls c LEFT JOIN staff_users u ON u.id = c.operator_id WHERE c.id = $1"
MOVE_CALLS = "UPDATE calls SET subscriber_id = $2 WHERE subscriber_id = $1"


@dataclass(frozen=True)
class CallRow:
    """What the telephony service needs back after changing a call."""

    id: int
    subscriber_id: int | None
    ringing_extensions: list[str]


@dataclass(frozen=True)
class RingingCall:
    """A call just logged as ringing, who sits at its ringing extensions, and the caller's last calls."""

    id: int
    operators: dict[str, int]
    recent_calls: list[dict[str, Any]]


async def upsert_ringing(conn: asyncpg.Connection, *, pbx_call_id: str, source: str, caller_raw: str | None,
                         caller_e164: str | None, caller_status: str, caller_name: str | None, dialled: str | None,
                         extensions: list[str], subscriber_id: int | None, at: datetime,
                         recent_calls: int) -> RingingCall:
    """Log a ringing call (or add newly ringing extensions to one already logged), in one round trip."""
    row = await conn.fetchrow(UPSERT_RINGING, pbx_call_id, source, caller_raw, caller_e164, caller_status,
                              caller_name, dialled, extensions, subscriber_id, at, recent_calls)
    return RingingCall(row["id"], json.loads(row["operators"]), json.loads(row["recent_calls"]))


async def mark_answered(conn: asyncpg.Connection, source: str, pbx_call_id: str, extension: str | None,
                        at: datetime) -> CallRow | None:
    """Record who answered; None if the call is unknown or already over."""
    row = await conn.fetchrow(MARK_ANSWERED, source, pbx_call_id, at, extension)
    return None if row is None else CallRow(row["id"], row["subscriber_id"], list(row["ringing_extensions"]))


async def mark_ended(conn: asyncpg.Connection, source: str, pbx_call_id: str, cause: str,
                     at: datetime) -> tuple[CallRow, bool, str] | None:
    """Record the end; return the call, whether it was answered and the cause stored; None if unknown or over."""
    row = await conn.fetchrow(MARK_ENDED, source, pbx_call_id, at, cause)
    if row is None:
        return None
    call = CallRow(row["id"], row["subscriber_id"], list(row["ringing_extensions"]))
    return call, row["answered_at"] is not None, row["end_cause"]


async def operators_at(conn: asyncpg.Connection, extensions: list[str]) -> dict[str, int]:
    """Map the extensions where an active operator sits to that operator's user id."""
    return {r["extension"]: r["id"] for r in await conn.fetch(SELECT_OPERATORS_AT, extensions)}


async def list_calls(conn: asyncpg.Connection, since: datetime, until: datetime, subscriber_id: int | None,
                     limit: int) -> list[asyncpg.Record]:
    """Return calls that started in [since, until), newest first."""
    return list(await conn.fetch(SELECT_CALLS, since, until, subscriber_id, limit))


async def call(conn: asyncpg.Connection, call_id: int) -> asyncpg.Record | None:
    """Return one call of the log by id, or None."""
    return await conn.fetchrow(SELECT_CALL, call_id)


async def list_callbacks(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Return unanswered calls nobody has handled yet, newest first."""
    return list(await conn.fetch(SELECT_CALLBACKS, limit))


async def mark_callback_handled(conn: asyncpg.Connection, call_id: int, at: datetime, user_id: int) -> bool | None:
    """Take a call off the call-back list: True if done, False if it is not on the list, None if unknown."""
    if await conn.fetchval(MARK_CALLBACK_HANDLED, call_id, at, user_id) is not None:
        return True
    return None if await conn.fetchval(CALL_EXISTS, call_id) is None else False


async def move_calls(conn: asyncpg.Connection, from_subscriber: int, to_subscriber: int) -> tuple[str, int]:
    """Re-point one subscriber's calls at another (a merge) and say how many moved."""
    status = await conn.execute(MOVE_CALLS, from_subscriber, to_subscriber)
    return "calls", int(status.split()[-1])


# The facts reports/ rolls calls up from, one row per call, read by name (a contract). A call's change stamp moves
# only when it is answered or ends (calls_changed), so an ended call is read once more, and never again.
CALL_FACT_COLUMNS = "c.id AS call_id, c.ringing_at, c.answered_at, c.ended_at, c.operator_id"
CALL_FACTS = f"SELECT {CALL_FACT_COLUMNS} FROM calls c"  # Every call: what a rebuild of the rollups reads.
SELECT_CALL_FACT_PAGE = page_query(CALL_FACT_COLUMNS, "calls c", "c")


async def call_facts(conn: asyncpg.Connection, window: ChangeWindow, limit: int) -> ChangePage:
    """Return the facts of up to `limit` calls that rang, were answered or ended in the window."""
    return await read_page(conn, SELECT_CALL_FACT_PAGE, window, limit)
