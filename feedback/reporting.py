"""Feedback's facts for reports: complaints, praise and ratings changed since a cursor, oldest change first.

reports/ keeps its rollups up to date by reading what changed since it last looked:

    changes = await complaints_changed_since(pool, cursor)   # cursor: ChangeCursor() the first time
    ... upsert changes.facts by id ...; store changes.cursor for next time

A row comes back whenever it changes (so a reader upserts by id), and a replaced rating comes back with
`is_current` False. The watermark is the changing transaction's id, read only below the oldest transaction
still running in this database: a slow transaction's rows are never skipped, as they could be by a timestamp or a
sequence; they come once it commits.
"""

from __future__ import annotations

from typing import Final

import asyncpg

from feedback.model import (
    ChangeCursor,
    Changes,
    ComplaintChannel,
    ComplaintFact,
    ComplaintId,
    ComplaintStatus,
    Kind,
    Outcome,
    Priority,
    RatingChannel,
    RatingFact,
    RatingId,
)
from taxicrm.changes import ChangePage, ChangeWindow, page_query, read_page

DEFAULT_LIMIT: Final = 1000
START: Final = ChangeCursor()  # before every change
# The oldest transaction that may still write our tables: below it everything has finished, so a reader sees all
# of it that committed. Transactions the snapshot sees running in another database of the cluster cannot write
# here and do not hold the horizon back (a long load elsewhere would otherwise stall reports); one whose database
# is not known (pg_stat_activity hides it, or it just ended) is counted, to be safe. pg_stat_activity names
# transactions by 32-bit xid, the snapshot by 64-bit xid8: they are compared modulo 2^32.
SELECT_HORIZON = """
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
         WHERE NOT EXISTS (SELECT FROM pg_stat_activity a
                           WHERE a.backend_xid::text::bigint = x::text::bigint % 4294967296
                             AND a.datname <> current_database())),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
"""
_SINCE = """(t.changed_xid, t.id) > ($1::text::xid8, $2) AND t.changed_xid < $3::text::xid8
    ORDER BY t.changed_xid, t.id LIMIT $4"""
SELECT_COMPLAINT_CHANGES = f"""
    SELECT t.changed_xid::text::bigint AS xid, t.id, t.kind, t.category, t.priority, t.channel, t.status, t.outcome,
           t.ride_id, t.driver_id, t.operator_id, t.subscriber_id, t.opened_by, t.assignee_id, t.created_at,
           t.first_response_at, t.first_response_due, t.resolution_due, t.closed_at, t.updated_at
    FROM complaints t WHERE {_SINCE}
"""
SELECT_RATING_CHANGES = f"""
    SELECT t.changed_xid::text::bigint AS xid, t.id, t.ride_id, t.driver_id, t.subscriber_id, t.value, t.channel,
           t.entered_by, t.is_current, t.created_at, t.replaced_at
    FROM ride_ratings t WHERE {_SINCE}
"""


async def complaints_changed_since(pool: asyncpg.Pool, cursor: ChangeCursor = START,
                                   limit: int = DEFAULT_LIMIT) -> Changes[ComplaintFact]:
    """Return complaints and praise changed since `cursor` (at most `limit`), and the cursor to read on from."""
    rows, horizon = await _changed(pool, SELECT_COMPLAINT_CHANGES, cursor, limit)
    facts = tuple(ComplaintFact(
        id=ComplaintId(r["id"]), kind=Kind(r["kind"]), category=r["category"], priority=Priority(r["priority"]),
        channel=ComplaintChannel(r["channel"]), status=ComplaintStatus(r["status"]),
        outcome=None if r["outcome"] is None else Outcome(r["outcome"]), ride_id=r["ride_id"],
        driver_id=r["driver_id"], operator_id=r["operator_id"], subscriber_id=r["subscriber_id"],
        opened_by=r["opened_by"], assignee_id=r["assignee_id"], created_at=r["created_at"],
        first_response_at=r["first_response_at"], first_response_due=r["first_response_due"],
        resolution_due=r["resolution_due"], closed_at=r["closed_at"], updated_at=r["updated_at"]) for r in rows)
    return Changes(facts, _next(rows, horizon, limit))


async def ratings_changed_since(pool: asyncpg.Pool, cursor: ChangeCursor = START,
                                limit: int = DEFAULT_LIMIT) -> Changes[RatingFact]:
    """Return ratings given or replaced since `cursor` (at most `limit`), and the cursor to read on from."""
    rows, horizon = await _changed(pool, SELECT_RATING_CHANGES, cursor, limit)
    facts = tuple(RatingFact(
        id=RatingId(r["id"]), ride_id=r["ride_id"], driver_id=r["driver_id"], subscriber_id=r["subscriber_id"],
        value=r["value"], channel=RatingChannel(r["channel"]), entered_by=r["entered_by"],
        is_current=r["is_current"], created_at=r["created_at"], replaced_at=r["replaced_at"]) for r in rows)
    return Changes(facts, _next(rows, horizon, limit))


async def _changed(pool: asyncpg.Pool, sql: str, cursor: ChangeCursor, limit: int
                   ) -> tuple[list[asyncpg.Record], int]:
    # One snapshot for both statements, so every row below the horizon that committed is visible to the second.
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        horizon: int = await conn.fetchval(SELECT_HORIZON)
        rows = await conn.fetch(sql, str(cursor.xid), cursor.id, str(horizon), limit)
    return rows, horizon


def _next(rows: list[asyncpg.Record], horizon: int, limit: int) -> ChangeCursor:
    if len(rows) == limit:
        return ChangeCursor(rows[-1]["xid"], rows[-1]["id"])
    return ChangeCursor(horizon, 0)


# The same facts as pages of JSON read by snapshot (taxicrm/changes.py), as reports/ folds dispatch's and
# callcenter's: no watermark below the oldest running transaction, so a long transaction anywhere in the cluster
# does not hold the reports back; and as whole queries, for a set-based rebuild. Their columns are a contract.
COMPLAINT_FACT_COLUMNS = """t.id, t.kind, t.category, t.status, t.created_at, t.closed_at, t.first_response_at,
    t.first_response_due, t.resolution_due, t.ride_id, t.subscriber_id, t.driver_id, t.operator_id"""
COMPLAINT_FACTS = f"SELECT {COMPLAINT_FACT_COLUMNS} FROM complaints t"
RATING_FACT_COLUMNS = "t.id, t.ride_id, t.driver_id, t.value, t.is_current, t.created_at"
RATING_FACTS = f"SELECT {RATING_FACT_COLUMNS} FROM ride_ratings t"
SELECT_COMPLAINT_FACT_PAGE = page_query(COMPLAINT_FACT_COLUMNS, "complaints t", "t")
SELECT_RATING_FACT_PAGE = page_query(RATING_FACT_COLUMNS, "ride_ratings t", "t")


async def complaint_facts(conn: asyncpg.Connection, window: ChangeWindow, limit: int) -> ChangePage:
    """Return the facts of up to `limit` complaints and praise changed in the window."""
    return await read_page(conn, SELECT_COMPLAINT_FACT_PAGE, window, limit)


async def rating_facts(conn: asyncpg.Connection, window: ChangeWindow, limit: int) -> ChangePage:
    """Return the facts of up to `limit` ratings given or replaced in the window."""
    return await read_page(conn, SELECT_RATING_FACT_PAGE, window, limit)
