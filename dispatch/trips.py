"""Use cases of a trip under way: the driver arrives, picks the passenger up, and completes it at the fare."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from dispatch import fares, store, trace_store
from dispatch.errors import RideChanged
from dispatch.fares import Fare, Trip
from dispatch.model import (
    Actor,
    ActorKind,
    DriverAvailability,
    DriverId,
    FareBasis,
    Place,
    Ride,
    RideAction,
    RideId,
    VehicleClass,
)
from dispatch.positions import LivePositions
from dispatch.pricing import PricingBasis
from dispatch.ride_changes import Changes, RankQueues, apply_action, lock_existing, publish, read_existing
from dispatch.rides import transition
from dispatch.trace_store import TraceBuffer
from dispatch.traces import LatLng, TracePoint, haversine_m, measure_trace
from taxicrm.errors import DomainError
from taxicrm.events import Publisher

MAX_REASON = 300
# A driver's step is read and judged again this often if the ride keeps changing under it, then refused.
STEP_ATTEMPTS = 3


class TripPricer(Protocol):
    """Prices a measured trip under the tariff in force for its class (see pricing.Pricer)."""

    async def basis_for(self, conn: asyncpg.Connection, vehicle_class: VehicleClass, at: datetime) -> PricingBasis:
        """Return the tariff version in force for the class at `at`, and the holidays around that day."""
        ...

    def price(self, basis: PricingBasis, trip: Trip) -> Fare:
        """Price the trip on that basis."""
        ...


ZoneCodeAt = Callable[[float, float], str | None]


@dataclass(frozen=True)
class FinalFare:
    """The fare charged at completion, what it came from, and the driver's and the center's shares."""

    fare: dict[str, Any]
    total_rials: int
    basis: FareBasis
    split: fares.Split


def choose_fare(ride: Ride, metered: dict[str, Any], metered_total: int, end: LatLng | None,
                tolerance_m: float) -> tuple[dict[str, Any], int, FareBasis]:
    """Charge the locked phone quote if the trip went where it was booked to, else the meter.

    A trip with no known end (the app sent no fix) is given the benefit of the doubt: the quote the customer
    was told stands.
    """
    if ride.quote_locked and ride.quote is not None and ride.quote_total_rials is not None:
        destination = ride.destination
        booked = (None if destination is None or destination.lat is None or destination.lng is None
                  else LatLng(destination.lat, destination.lng))
        if booked is not None and (end is None or haversine_m(end, booked) <= tolerance_m):
            return dict(ride.quote), ride.quote_total_rials, FareBasis.LOCKED_QUOTE
    return metered, metered_total, FareBasis.METER


class Trips:
    """The driver's steps once a ride is theirs."""

    def __init__(self, pool: asyncpg.Pool, publisher: Publisher, positions: LivePositions, traces: TraceBuffer,
                 pricer: TripPricer, fare_json: Callable[[Fare], dict[str, Any]], *,
                 destination_tolerance_m: float, zone_code_at: ZoneCodeAt | None = None,
                 queues: RankQueues | None = None, on_free: Callable[[DriverId], None] | None = None,
                 clock: Callable[[], datetime]) -> None:
        self.pool, self.publisher, self.positions, self.traces = pool, publisher, positions, traces
        self.pricer, self.fare_json = pricer, fare_json
        self.destination_tolerance_m = destination_tolerance_m
        self.zone_code_at, self.queues, self.on_free, self.clock = zone_code_at, queues, on_free, clock

    async def arrive(self, driver_id: DriverId, ride_id: RideId, known: Ride | None = None) -> Ride:
        """Record that the driver is at the pickup; `known` is the ride as the driver's connection last saw it."""
        return await self._step(driver_id, ride_id, RideAction.ARRIVE, known=known, arrived_at=self.clock())

    async def pick_up(self, driver_id: DriverId, ride_id: RideId, known: Ride | None = None) -> Ride:
        """Start the trip: the passenger is aboard, and positions from now on make the trace."""
        return await self._step(driver_id, ride_id, RideAction.PICK_UP, known=known, picked_up_at=self.clock())

    async def no_show(self, driver_id: DriverId, ride_id: RideId, reason: str | None,
                      known: Ride | None = None) -> Ride:
        """Close the ride as a no-show: the passenger never came out, and the driver is free again."""
        return await self._step(driver_id, ride_id, RideAction.NO_SHOW, reason=reason, known=known,
                                finished_at=self.clock())

    async def complete(self, driver_id: DriverId, ride_id: RideId, points: Sequence[TracePoint] = (),
                       known: Ride | None = None) -> Ride:
        """End the trip and charge its fare; `points` are fixes the app kept while it was offline.

        `known` is the ride as the driver's connection last saw it: tried first, without a lock (see `_step`).
        """
        # The trip's fixes still buffered here are stored with the app's own by the statement that reads the trace,
        # rather than by a flush of the whole buffer first: a round trip fewer per ride.
        buffered = self.traces.take(ride_id)
        fixes = [*points, *buffered]
        guess = _same_ride(known, ride_id)
        try:
            try:
                ride, changes = await self._complete(driver_id, ride_id, fixes, guess)
            except DomainError:
                if guess is None:
                    raise
                ride, changes = await self._complete(driver_id, ride_id, fixes, None)  # Locked and judged again.
        except BaseException:
            self.traces.put_back(ride_id, buffered)  # Not stored: the next flush writes them, as if never taken.
            raise
        await self._free(driver_id, ride, changes)
        return ride

    async def _complete(self, driver_id: DriverId, ride_id: RideId, fixes: Sequence[TracePoint],
                        guess: Ride | None) -> tuple[Ride, Changes]:
        changes = Changes()
        async with self.pool.acquire() as conn, conn.transaction():
            now = self.clock()
            # A guess is not locked: the completing update below changes the ride only at the guess's version.
            ride = guess if guess is not None else await lock_existing(conn, ride_id)
            actor = Actor(ActorKind.DRIVER, driver_id)
            # Checked before any pricing, so a wrong driver or status is refused without touching the tariff,
            # and before the app's offline fixes are stored: they must never join another driver's trace.
            transition(ride.state, RideAction.COMPLETE, actor, at=now)
            final = await self._final_fare(conn, ride, now, fixes)
            ride = await apply_action(
                conn, ride, RideAction.COMPLETE, actor, now, changes, drivers=(driver_id,), finished_at=now,
                fare=final.fare, fare_total_rials=final.total_rials, fare_basis=final.basis.value,
                driver_share_rials=final.split.driver_rials, center_share_rials=final.split.center_rials)
        return ride, changes

    async def _step(self, driver_id: DriverId, ride_id: RideId, action: RideAction, reason: str | None = None,
                    known: Ride | None = None, **columns: Any) -> Ride:
        # No transaction and no lock: the step is one statement that changes the ride only at the version read, so
        # a change in between (an operator's cancel, a new pickup) makes it read the ride again and judge the step
        # anew, as it would have after waiting for a lock. Two round trips instead of four (BEGIN, lock, COMMIT).
        # The ride as the driver's connection knows it is tried first, without reading: one round trip. A version
        # that still matches is that very ride; anything else (changed since, or the step refused on what may be
        # an old view) is read and judged again as committed.
        actor = Actor(ActorKind.DRIVER, driver_id)
        guess = _same_ride(known, ride_id)
        reads = 0
        while True:
            changes = Changes()
            async with self.pool.acquire() as conn:
                if guess is not None:
                    ride, guess, as_committed = guess, None, False
                else:
                    ride, as_committed = await read_existing(conn, ride_id), True
                    reads += 1
                try:
                    ride = await apply_action(conn, ride, action, actor, self.clock(), changes, reason=reason,
                                              drivers=(driver_id,), **columns)
                    break
                except RideChanged:
                    if reads == STEP_ATTEMPTS:
                        raise
                except DomainError:
                    if as_committed:  # Judged on the ride as committed: the refusal stands.
                        raise
        if action is RideAction.NO_SHOW:
            await self._free(driver_id, ride, changes)
        else:
            await publish(changes, self.publisher, self.positions, self.queues, self.clock())
        return ride

    async def _free(self, driver_id: DriverId, ride: Ride, changes: Changes) -> None:
        changes.statuses[driver_id] = DriverAvailability.AVAILABLE
        await publish(changes, self.publisher, self.positions, self.queues, self.clock())
        if self.on_free is not None:
            self.on_free(driver_id)

    async def _final_fare(self, conn: asyncpg.Connection, ride: Ride, now: datetime,
                          new_points: Sequence[TracePoint]) -> FinalFare:
        started = ride.picked_up_at or now
        # One read of the tariff, on the transaction's own connection: it measures the trace (by its slow speed)
        # and prices it. A second connection from the pool, wanted by every completion of a burst while each holds
        # its first, once took the whole pool and hung the instance (found by tests/faults).
        pricing = await self.pricer.basis_for(conn, ride.vehicle_class, started)
        points = await trace_store.store_and_read(conn, ride.id, new_points)
        measure = measure_trace(points, slow_speed_kmh=pricing.tariff.slow_speed_kmh)
        start = LatLng(points[0].lat, points[0].lng) if points else _place_point(ride.pickup)
        end = LatLng(points[-1].lat, points[-1].lng) if points else None
        trip = Trip(distance_m=measure.distance_m, duration_s=max(measure.duration_s, measure.waiting_s),
                    waiting_s=measure.waiting_s, started_at=started,
                    pickup_zone=self._zone(start), dropoff_zone=self._zone(end))
        metered = self.pricer.price(pricing, trip)
        metered_json = {**self.fare_json(metered), "distance_m": measure.distance_m,
                        "duration_s": measure.duration_s, "waiting_s": measure.waiting_s,
                        "trace_points": len(points), "dropped_points": measure.dropped_points}
        fare, total, basis = choose_fare(ride, metered_json, metered.total_rials, end, self.destination_tolerance_m)
        if basis is FareBasis.LOCKED_QUOTE:
            fare = {**fare, "metered": metered_json}  # Kept for disputes: what the meter would have said.
        commission = await store.commission_of(conn, ride.driver_id) if ride.driver_id is not None else 0
        return FinalFare(fare, total, basis, fares.split(total, commission))

    def _zone(self, point: LatLng | None) -> str | None:
        return None if point is None or self.zone_code_at is None else self.zone_code_at(point.lat, point.lng)


def _same_ride(known: Ride | None, ride_id: RideId) -> Ride | None:
    """Return the connection's view of the driver's ride if it is of this ride: a guess to try before reading."""
    return known if known is not None and known.id == ride_id else None


def _place_point(place: Place) -> LatLng | None:
    return None if place.lat is None or place.lng is None else LatLng(place.lat, place.lng)
