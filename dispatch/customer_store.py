"""Storage of the customer page: the tracking tokens of self-service rides, kept only as hashes."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from dispatch.model import RideId

INSERT_TRACKING = "INSERT INTO ride_tracking (token_hash, ride_id, phone, created_at) VALUES ($1, $2, $3, $4)"
SELECT_TRACKED_RIDE = "SELECT ride_id FROM ride_tracking WHERE token_hash = $1"


async def insert_tracking(conn: asyncpg.Connection, token_hash: bytes, ride_id: RideId, phone: str,
                          at: datetime) -> None:
    """Remember a tracking token's hash for a ride, with the number the customer booked it with."""
    await conn.execute(INSERT_TRACKING, token_hash, ride_id, phone, at)


async def tracked_ride(conn: asyncpg.Connection, token_hash: bytes) -> RideId | None:
    """Return the ride a tracking token's hash follows, or None."""
    ride_id = await conn.fetchval(SELECT_TRACKED_RIDE, token_hash)
    return None if ride_id is None else RideId(ride_id)
