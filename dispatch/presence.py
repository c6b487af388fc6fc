"""Which drivers have an app connected right now, on any instance: a short-lived Redis key per driver."""

from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis

from dispatch.model import DriverId

_PREFIX = "taxicrm:drivers:connection:"  # + driver id -> the id of their newest connection, with a TTL
# Compare-and-act scripts: an old connection noticed dead late must not refresh or end a newer one's mark.
# KEYS are the marks to renew, ARGV the connection each must still hold, then the TTL: one call per flush.
_REFRESH = """
local renewed = 0
for i, key in ipairs(KEYS) do
    if redis.call('GET', key) == ARGV[i] then renewed = renewed + redis.call('PEXPIRE', key, ARGV[#ARGV]) end
end
return renewed
"""
_END = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Presence:
    """Marks a driver connected while an app holds a websocket; the mark lapses if its instance dies."""

    def __init__(self, redis: aioredis.Redis, ttl: timedelta) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._refresh = redis.register_script(_REFRESH)
        self._end = redis.register_script(_END)
        self._alive: dict[DriverId, str] = {}

    async def connect(self, driver_id: DriverId, connection: str) -> None:
        """Mark the driver connected through `connection`, the newest connection winning."""
        await self._redis.set(f"{_PREFIX}{driver_id}", connection, px=self._ttl_ms)

    def alive(self, driver_id: DriverId, connection: str) -> None:
        """Note that `connection` is alive; its mark is renewed with the next flush."""
        self._alive[driver_id] = connection

    async def flush(self) -> None:
        """Renew the marks of the connections noted alive, in one round trip, while each is its driver's newest."""
        batch, self._alive = self._alive, {}
        if batch:
            await self._refresh(keys=[f"{_PREFIX}{driver_id}" for driver_id in batch],
                                args=[*batch.values(), self._ttl_ms])

    async def disconnect(self, driver_id: DriverId, connection: str) -> None:
        """Drop the mark, unless a newer connection has taken it."""
        await self._end(keys=[f"{_PREFIX}{driver_id}"], args=[connection])

    async def is_connected(self, driver_id: DriverId) -> bool:
        """Tell whether an app of the driver's is connected to any instance."""
        return bool(await self._redis.exists(f"{_PREFIX}{driver_id}"))
