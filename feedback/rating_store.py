"""SQL for ratings of rides: the current one of each ride, the ones it replaced, and the link-signing key."""

from __future__ import annotations

import asyncpg

from feedback.model import NewRating, Rating, RatingChannel, RatingId

_RATING_COLUMNS = """r.id, r.ride_id, r.driver_id, r.subscriber_id, r.value, r.comment, r.channel, r.entered_by,
    u.display_name AS entered_by_name, r.call_id, r.is_current, r.replaced_at, r.created_at"""
# Staff names are read for display only (who entered a rating on a call); callcenter owns staff_users.
_RATING_FROM = "ride_ratings r LEFT JOIN staff_users u ON u.id = r.entered_by"
SELECT_CURRENT = f"SELECT {_RATING_COLUMNS} FROM {_RATING_FROM} WHERE r.ride_id = $1 AND r.is_current"
SELECT_HISTORY = f"""
    SELECT {_RATING_COLUMNS} FROM {_RATING_FROM} WHERE r.ride_id = $1 ORDER BY r.created_at DESC, r.id DESC
"""
# The ride's current rating steps aside for the new one; the unique index on current ratings makes a concurrent
# second rating of the same ride fail rather than leave two current.
RETIRE_CURRENT = "UPDATE ride_ratings SET is_current = false, replaced_at = $2 WHERE ride_id = $1 AND is_current"
INSERT_RATING = f"""
    WITH r AS (
        INSERT INTO ride_ratings (ride_id, driver_id, subscriber_id, value, comment, channel, entered_by, call_id,
                                  created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING *
    )
    SELECT {_RATING_COLUMNS} FROM r LEFT JOIN staff_users u ON u.id = r.entered_by
"""
# A merged subscriber's ratings follow them, as their rides do.
MOVE_RATINGS = "UPDATE ride_ratings SET subscriber_id = $2 WHERE subscriber_id = $1"
SELECT_KEY = "SELECT secret FROM feedback_keys WHERE name = $1"


async def current_rating(conn: asyncpg.Connection, ride_id: int) -> Rating | None:
    """Return a ride's current rating, or None if it has none."""
    row = await conn.fetchrow(SELECT_CURRENT, ride_id)
    return None if row is None else _rating(row)


async def rating_history(conn: asyncpg.Connection, ride_id: int) -> list[Rating]:
    """Return every rating a ride was given, newest (the current one) first."""
    return [_rating(row) for row in await conn.fetch(SELECT_HISTORY, ride_id)]


async def replace_rating(conn: asyncpg.Connection, new: NewRating) -> Rating:
    """Make `new` the ride's current rating, keeping any earlier one as history; run inside a transaction."""
    await conn.execute(RETIRE_CURRENT, new.ride.ride_id, new.at)
    row = await conn.fetchrow(INSERT_RATING, new.ride.ride_id, new.driver_id, new.ride.subscriber_id, new.value,
                              new.comment, new.channel.value, new.entered_by, new.call_id, new.at)
    return _rating(row)


async def move_ratings(conn: asyncpg.Connection, from_subscriber: int, to_subscriber: int) -> tuple[str, int]:
    """Re-point one subscriber's ratings at another (a merge); say how many moved."""
    status = await conn.execute(MOVE_RATINGS, from_subscriber, to_subscriber)
    return "ratings", int(status.split()[-1])


async def signing_key(conn: asyncpg.Connection, name: str) -> bytes:
    """Return one of feedback's signing keys (made by the migrations)."""
    secret: bytes = await conn.fetchval(SELECT_KEY, name)
    return secret


def _rating(row: asyncpg.Record) -> Rating:
    return Rating(id=RatingId(row["id"]), ride_id=row["ride_id"], driver_id=row["driver_id"],
                  subscriber_id=row["subscriber_id"], value=row["value"], comment=row["comment"],
                  channel=RatingChannel(row["channel"]), entered_by=row["entered_by"],
                  entered_by_name=row["entered_by_name"], call_id=row["call_id"], is_current=row["is_current"],
                  replaced_at=row["replaced_at"], created_at=row["created_at"])

