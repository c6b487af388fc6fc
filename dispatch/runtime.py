"""Dispatch's live machinery on one instance: created at start-up, its background loops, and driver-wide actions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch import events
from dispatch.dispatcher import Dispatcher
from dispatch.errors import NotInZone, ZoneNotFound
from dispatch.fleet import Fleet
from dispatch.model import DriverAvailability, DriverId, ZoneId
from dispatch.positions import LivePositions
from dispatch.presence import Presence
from dispatch.trips import Trips
from dispatch.zone_queue import ZoneQueues
from dispatch.zone_service import ZoneMap
from dispatch.zones import Bounds
from taxicrm.events import Publisher

log = logging.getLogger(__name__)

DUE_SECONDS = 0.5
EXPIRY_SECONDS = 0.5
SWEEP_SECONDS = 2.0


@dataclass(frozen=True)
class CheckIn:
    """A driver's place in a zone's rank queue after checking in."""

    zone_id: ZoneId
    place: int
    joined_at: datetime


@dataclass
class DispatchRuntime:
    """Everything dispatch runs on one instance."""

    pool: asyncpg.Pool
    publisher: Publisher
    positions: LivePositions
    fleet: Fleet
    presence: Presence
    dispatcher: Dispatcher
    trips: Trips
    zone_map: ZoneMap
    queues: ZoneQueues
    service_bounds: Bounds
    reconnect_grace: timedelta
    presence_refresh: timedelta
    silence: timedelta

    async def set_driver_status(self, driver_id: DriverId, status: DriverAvailability, now: datetime) -> None:
        """Record what a driver says about their readiness, and tell the console."""
        await self.positions.set_status(driver_id, status, now)
        if status is not DriverAvailability.AVAILABLE:
            await self.queues.leave(driver_id)
        await self.publisher.publish(events.driver_status_changed(driver_id, status, now))
        if status is DriverAvailability.AVAILABLE:
            self.dispatcher.wake_near(driver_id)

    async def check_in(self, driver_id: DriverId, zone_id: int, now: datetime) -> CheckIn:
        """Put a driver in the rank queue of the zone they are waiting in."""
        zone = self.zone_map.zone(ZoneId(zone_id))
        if zone is None:
            raise ZoneNotFound(zone_id)
        await self.positions.flush_driver(driver_id)
        where = await self.positions.position_of(driver_id)
        # Inside a smaller zone (the airport within its district) the driver belongs to that one's queue:
        # the position sync would move them there anyway.
        if where is None or self.zone_map.zone_at(where.lat, where.lng) != zone:
            raise NotInZone(zone.code)
        queued = await self.queues.check_in(driver_id, zone, where.lat, where.lng, now)
        place = await self.queues.position_of(driver_id)
        return CheckIn(queued.zone_id, place[1] if place else 1, queued.joined_at)

    async def sweep_silent(self, now: datetime) -> list[DriverId]:
        """Take drivers whose apps went silent out of dispatch, show them unreachable, and move their offers on."""
        swept = await self.positions.sweep_silent(now, self.silence)
        for driver_id in swept:
            await self.queues.leave(driver_id)
            await self.publisher.publish(events.driver_status_changed(driver_id, DriverAvailability.UNREACHABLE, now))
            await self.dispatcher.driver_lost(driver_id)
        return swept

    def start(self) -> list[asyncio.Task[None]]:
        """Start the background loops; cancelling them stops the instance's share of the work, nothing more."""
        return [
            asyncio.create_task(self.fleet.run(), name="dispatch-fleet-flush"),
            asyncio.create_task(_every(DUE_SECONDS, self.dispatcher.dispatch_due), name="dispatch-due-rides"),
            asyncio.create_task(_every(EXPIRY_SECONDS, self.dispatcher.expire_due), name="dispatch-offer-expiry"),
            asyncio.create_task(_every(SWEEP_SECONDS, lambda: self.sweep_silent(datetime.now(UTC))),
                                name="dispatch-silence-sweep"),
        ]


async def _every(seconds: float, work: Callable[[], Awaitable[object]]) -> None:
    """Run `work` every `seconds` until cancelled; a failure is logged and the loop goes on."""
    me = asyncio.current_task()
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception:  # PostgreSQL or Redis away: the work is still there next time.
            if me is not None and me.cancelling():
                raise
            log.warning("%s failed; retrying", getattr(me, "get_name", lambda: "dispatch loop")(), exc_info=True)
