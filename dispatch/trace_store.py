"""The GPS trace of each trip: fixes buffered as they arrive, written in batches, read back at completion."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import asyncpg

from dispatch.model import RideId
from dispatch.traces import TracePoint

log = logging.getLogger(__name__)

# One statement per batch, however many rides and fixes; a fix resent after a reconnect is stored once.
INSERT_POINTS = """
    INSERT INTO ride_trace_points (ride_id, at, lat, lng, accuracy_m)
    SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[])
    ON CONFLICT (ride_id, at) DO NOTHING
"""
SELECT_POINTS = "SELECT at, lat, lng, accuracy_m FROM ride_trace_points WHERE ride_id = $1 ORDER BY at"
# A trip's fixes as stored once `$2..$5` are stored too, in one round trip: the SELECT sees the table as the
# statement began, so the fixes new to it come from RETURNING (one already stored is neither stored nor returned twice).
STORE_AND_SELECT_POINTS = """
    WITH new AS (
        INSERT INTO ride_trace_points (ride_id, at, lat, lng, accuracy_m)
        SELECT $1, * FROM unnest($2::timestamptz[], $3::float8[], $4::float8[], $5::real[])
        ON CONFLICT (ride_id, at) DO NOTHING
        RETURNING at, lat, lng, accuracy_m
    )
    SELECT at, lat, lng, accuracy_m FROM ride_trace_points WHERE ride_id = $1
    UNION ALL
    SELECT at, lat, lng, accuracy_m FROM new
    ORDER BY at
"""
MAX_POINTS_PER_RIDE = 20_000  # A day's drive at one fix a second, and then some; past it a trace is garbage.


async def insert_points(conn: asyncpg.Connection, points: Iterable[tuple[RideId, TracePoint]]) -> None:
    """Store fixes of any rides."""
    rows = list(points)
    if rows:
        await conn.execute(INSERT_POINTS, [r for r, _ in rows], [p.at for _, p in rows], [p.lat for _, p in rows],
                           [p.lng for _, p in rows], [p.accuracy_m for _, p in rows])


async def points_of(conn: asyncpg.Connection, ride_id: RideId) -> list[TracePoint]:
    """Return a trip's fixes in time order."""
    return _points(await conn.fetch(SELECT_POINTS, ride_id))


async def store_and_read(conn: asyncpg.Connection, ride_id: RideId, points: Sequence[TracePoint]) -> list[TracePoint]:
    """Store more fixes of a trip and return all of its fixes in time order."""
    return _points(await conn.fetch(STORE_AND_SELECT_POINTS, ride_id, [p.at for p in points],
                                    [p.lat for p in points], [p.lng for p in points], [p.accuracy_m for p in points]))


def _points(rows: list[asyncpg.Record]) -> list[TracePoint]:
    return [TracePoint(r["lat"], r["lng"], r["at"], r["accuracy_m"]) for r in rows[:MAX_POINTS_PER_RIDE]]


class TraceBuffer:
    """The fixes of trips in progress on this instance, waiting for the next batch write."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._points: list[tuple[RideId, TracePoint]] = []

    def add(self, ride_id: RideId, point: TracePoint) -> None:
        """Buffer one fix of a trip."""
        self._points.append((ride_id, point))

    def take(self, ride_id: RideId) -> list[TracePoint]:
        """Remove and return one trip's buffered fixes, for its completion to store itself."""
        mine = [point for ride, point in self._points if ride == ride_id]
        if mine:
            self._points = [(ride, point) for ride, point in self._points if ride != ride_id]
        return mine

    def put_back(self, ride_id: RideId, points: Iterable[TracePoint]) -> None:
        """Return fixes taken for a completion that did not commit: the next flush writes them."""
        self._points.extend((ride_id, point) for point in points)

    async def flush(self) -> int:
        """Write every buffered fix; on failure they are kept for the next flush. Return how many were written."""
        batch, self._points = self._points, []
        if not batch:
            return 0
        try:
            async with self._pool.acquire() as conn:
                await insert_points(conn, batch)
        except (OSError, asyncpg.PostgresError):
            self._points = batch + self._points
            raise
        return len(batch)
