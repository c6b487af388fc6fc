"""Changing a locked ride by the state machine, and what to publish once the change has committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from dispatch import events, ride_store
from dispatch.errors import DriverBusy, RideChanged, RideNotFound
from dispatch.model import Actor, DriverAvailability, DriverId, Offer, QueuedDriver, Ride, RideAction, ZoneId
from dispatch.positions import LivePositions
from dispatch.rides import transition
from taxicrm.events import PUBLISH_FAILURES, Event, Publisher

log = logging.getLogger(__name__)


class RankQueues(Protocol):
    """The zones' rank queues."""

    async def queue(self, zone_id: ZoneId) -> list[QueuedDriver]:
        """Return the drivers waiting in a zone's queue, first come first."""
        ...

    async def leave(self, driver_id: DriverId) -> ZoneId | None:
        """Take a driver out of whatever queue they are in; return that zone, if any."""
        ...


@dataclass
class Changes:
    """What a transaction did, to publish once it has committed."""

    events: list[Event] = field(default_factory=list)
    # Drivers whose live status follows from the change (busy on a ride, free again).
    statuses: dict[DriverId, DriverAvailability] = field(default_factory=dict)
    # Offers made, so this instance can expire them on time.
    offers: list[Offer] = field(default_factory=list)
    # Drivers who took a ride, so they leave their zone's rank queue.
    leave_queue: set[DriverId] = field(default_factory=set)


async def read_existing(conn: asyncpg.Connection, ride_id: int) -> Ride:
    """Return the ride as last committed, without a lock, or raise RideNotFound."""
    ride = await ride_store.ride(conn, ride_id)
    if ride is None:
        raise RideNotFound(ride_id)
    return ride


async def lock_existing(conn: asyncpg.Connection, ride_id: int) -> Ride:
    """Return the ride locked until the transaction ends, or raise RideNotFound."""
    ride = await ride_store.lock_ride(conn, ride_id)
    if ride is None:
        raise RideNotFound(ride_id)
    return ride


async def apply_action(conn: asyncpg.Connection, ride: Ride, action: RideAction, actor: Actor, now: datetime,
                       changes: Changes, *, reason: str | None = None,
                       driver_id: DriverId | None = None, drivers: Sequence[DriverId] = (),
                       **columns: Any) -> Ride:
    """Move the locked ride by the state machine, store the step, and queue the news for `drivers` too."""
    state, step = transition(ride.state, action, actor, at=now, reason=reason, driver_id=driver_id)
    record = ride_store.StepRecord(step.action.value, step.from_status, step.to_status, actor, now,
                                   reason=step.reason, driver_id=step.driver_id)
    updated = await update_ride(conn, ride, now, {
        "status": state.status.value, "driver_id": state.driver_id, "offered_to": state.offered_to, **columns},
        step=record)
    changes.events.extend(events.ride_changed(updated, drivers=drivers, reason=step.reason))
    return updated


async def update_ride(conn: asyncpg.Connection, ride: Ride, now: datetime, columns: dict[str, Any],
                      step: ride_store.StepRecord | None = None) -> Ride:
    """Change columns of the locked ride, with its step if given, refusing a second active ride for its driver."""
    try:
        updated = await ride_store.update_ride(conn, ride.id, ride.version, now, columns, step)
    except asyncpg.UniqueViolationError as err:
        if err.constraint_name == "rides_one_active_per_driver":
            raise DriverBusy("The driver already has a ride under way.") from err
        raise
    if updated is None:
        raise RideChanged(ride.id)
    return updated


async def publish(changes: Changes, publisher: Publisher, positions: LivePositions, queues: RankQueues | None,
                  now: datetime) -> None:
    """Publish what a committed transaction did; the records are safe, so a failure here only delays news.

    Never raises for Redis being away: the change has committed, and an error would tell the driver or operator
    that it did not (a driver retries a step already taken; an operator books twice). Apps and the console
    learn what they missed from the `state` they get on reconnecting.
    """
    for driver_id, status in changes.statuses.items():
        try:
            await positions.set_status(driver_id, status, now)
        except PUBLISH_FAILURES:
            # Written with the fleet's next flush once Redis answers: a driver left "busy" would get no more rides.
            positions.defer_status(driver_id, status, now)
    try:
        await _publish(changes, publisher, queues, now)
    except PUBLISH_FAILURES:
        log.warning("could not publish %s after its commit; the records are safe",
                    [e.topic for e in changes.events], exc_info=True)


async def _publish(changes: Changes, publisher: Publisher, queues: RankQueues | None, now: datetime) -> None:
    if queues is not None:
        for driver_id in changes.leave_queue:
            await queues.leave(driver_id)
    # The console's drivers page hears of a driver becoming busy or free with the ride's own news.
    news = [*changes.events, *(events.driver_status_changed(d, s, now) for d, s in changes.statuses.items())]
    if news:
        await publisher.publish_all(news)
