"""Use cases of matching and offers: find the driver, offer the ride, take the answer, move on.

Every change to one ride's dispatch runs in a transaction holding the ride's row lock, so an accept, a
timeout, a cancel and a manual assignment arriving together take turns, on any instance; the unique
indexes on offers and rides are the last word on "one driver per ride, one ride per driver". Events go
out after the commit. Work that must outlive an instance (offer timeouts, pre-booking releases, retries
of unassigned rides) is found in PostgreSQL by whichever instance looks first (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

import asyncpg
from redis.exceptions import RedisError

from dispatch import events, offer_store, ride_store
from dispatch.errors import (
    DriverBusy,
    DriverNotDispatchable,
    DriverNotFound,
    IllegalTransition,
    OfferClosed,
    OfferNotFound,
)
from dispatch.model import (
    Actor,
    ActorKind,
    Candidate,
    Decision,
    DriverAvailability,
    DriverId,
    LivePosition,
    Offer,
    OfferId,
    OfferStatus,
    OfferVia,
    Ride,
    RideAction,
    RideId,
    RideStatus,
    Zone,
    ZoneStrategy,
)
from dispatch.offers import (
    DEFAULT_FRESHNESS,
    DEFAULT_MAX_TRIES,
    DEFAULT_OFFER_TIMEOUT,
    SEARCH_COUNTS,
    SEARCH_RADII_M,
    offer_expires_at,
    rank_candidates,
)
from dispatch.positions import LivePositions
from dispatch.ride_changes import Changes, RankQueues, apply_action, lock_existing, publish, update_ride
from dispatch.traces import LatLng, haversine_m
from dispatch.zones import strategy_at
from taxicrm.events import Publisher

log = logging.getLogger(__name__)

SYSTEM = Actor(ActorKind.SYSTEM)
# The most drivers a search looks at (its widest circle's count); more would only be skipped as too far or outranked.
SEARCH_LIMIT = SEARCH_COUNTS[-1]
# Rides taken from the due list per pass, so one pass never holds a worker for long.
DUE_BATCH = 20
# A driver becoming free wakes unassigned rides this close to them.
WAKE_RADIUS_M = SEARCH_RADII_M[-1]


class ZoneLookup(Protocol):
    """Which zone a point is in."""

    def zone_at(self, lat: float, lng: float) -> Zone | None:
        """Return the zone containing the point, if any."""
        ...


@dataclass(frozen=True)
class DispatchPolicy:
    """The center's dispatch settings."""

    offer_timeout: timedelta = DEFAULT_OFFER_TIMEOUT
    max_tries: int = DEFAULT_MAX_TRIES
    freshness: timedelta = DEFAULT_FRESHNESS
    silence: timedelta = timedelta(seconds=90)
    retry_every: timedelta = timedelta(seconds=30)
    give_up_after: timedelta = timedelta(minutes=20)
    # A new ride is dispatched at once by the instance that booked it; if that instance dies first,
    # any instance picks the ride up after this long.
    first_look_grace: timedelta = timedelta(seconds=3)


@dataclass(frozen=True)
class _Choice:
    """What a search around a pickup decided: its zone, strategy and radius, and each driver's decision."""

    zone: Zone | None
    strategy: ZoneStrategy
    radius_m: int
    decisions: list[Decision]


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Offers rides to drivers and takes their answers; one per instance, all instances cooperating."""

    def __init__(self, pool: asyncpg.Pool, publisher: Publisher, positions: LivePositions, timezone: tzinfo,
                 policy: DispatchPolicy | None = None, zones: ZoneLookup | None = None,
                 queues: RankQueues | None = None, clock: Clock = _utc_now) -> None:
        self.pool, self.publisher, self.positions = pool, publisher, positions
        self.timezone = timezone
        self.policy = policy or DispatchPolicy()
        self.zones, self.queues = zones, queues
        self.clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[OfferId, asyncio.Task[Any]] = {}  # offers made here, by id: their expiry

    # Starting dispatch.

    async def offer_at_booking(self, conn: asyncpg.Connection, ride: Ride, now: datetime, changes: Changes) -> Ride:
        """Make a just-booked ride's first offer inside the booking's own transaction: one commit for both.

        The search reads Redis before anything is written, so Redis being away leaves the booking whole: the
        ride waits as requested and the due list offers it once Redis is back.
        """
        if ride.pickup.lat is None or ride.pickup.lng is None:
            return await self._offer_next(conn, ride, now, changes)
        try:
            choice = await self._choose(conn, ride, now, history=[])  # A new ride has no offers yet.
        except (RedisError, OSError, TimeoutError):
            log.warning("could not search drivers for ride %s at booking; the due list will retry", ride.id,
                        exc_info=True)
            return ride
        return await self._offer_next(conn, ride, now, changes, choice)

    async def dispatch_due(self) -> int:
        """Handle rides whose time has come (releases, first searches, retries); return how many."""
        handled = 0
        while handled < DUE_BATCH:
            changes = Changes()
            async with self.pool.acquire() as conn, conn.transaction():
                now = self.clock()
                ride = await ride_store.claim_due(conn, now)
                if ride is None:
                    return handled
                await self._handle_due(conn, ride, now, changes)
            await self.publish(changes)
            handled += 1
        return handled

    async def _handle_due(self, conn: asyncpg.Connection, ride: Ride, now: datetime, changes: Changes) -> None:
        if ride.status is RideStatus.SCHEDULED:
            ride = await apply_action(conn, ride, RideAction.RELEASE, SYSTEM, now, changes)
            await self._offer_next(conn, ride, now, changes)
        elif ride.status is RideStatus.REQUESTED:
            await self._offer_next(conn, ride, now, changes)
        elif _wanted_at(ride) + self.policy.give_up_after <= now:
            await apply_action(conn, ride, RideAction.MARK_NO_DRIVER_FOUND, SYSTEM, now, changes,
                              reason="No driver was found in time.")
        else:
            # A new round: drivers who let earlier offers lapse may take this one.
            ride = await update_ride(conn, ride, now, {"offer_count": 0})
            await self._offer_next(conn, ride, now, changes)

    def wake_near(self, driver_id: DriverId) -> None:
        """Have unassigned rides near a driver who just became free offered again, in the background."""

        async def wake() -> None:
            await self.positions.flush_driver(driver_id)  # Their newest fix, so "near" means near now.
            await self.wake_unassigned_near_driver(driver_id)

        self.spawn(wake(), f"wake rides near driver {driver_id}")

    async def retry_now(self, ride_id: RideId, operator: Actor) -> Ride:
        """Send an unassigned ride to drivers again, or a pre-booking early, at an operator's request."""
        changes = Changes()
        async with self.pool.acquire() as conn, conn.transaction():
            now = self.clock()
            ride = await lock_existing(conn, ride_id)
            if ride.status is RideStatus.SCHEDULED:
                ride = await apply_action(conn, ride, RideAction.RELEASE, operator, now, changes)
            elif ride.status is RideStatus.UNASSIGNED:
                ride = await update_ride(conn, ride, now, {"offer_count": 0})
            else:
                words = ride.status.value.replace("_", " ")
                raise IllegalTransition(ride.id, ride.status, "retry",
                                        f"Ride {ride.id} is {words}; only unassigned or pre-booked rides can be "
                                        "sent to drivers again.")
            ride = await self._offer_next(conn, ride, now, changes)
        await self.publish(changes)
        return ride

    async def wake_unassigned_near_driver(self, driver_id: DriverId) -> int:
        """Have unassigned rides near a driver who just became free retried at once; return how many.

        The list is read first: it is most often empty, and then where the driver is need not be asked.
        """
        async with self.pool.acquire() as conn:
            waiting = await ride_store.unassigned_rides(conn)
        where = await self.positions.position_of(driver_id) if waiting else None
        if where is None:
            return 0
        here = LatLng(where.lat, where.lng)
        near = [r.id for r in waiting if r.pickup.lat is not None and r.pickup.lng is not None
                and haversine_m(here, LatLng(r.pickup.lat, r.pickup.lng)) <= WAKE_RADIUS_M]
        if near:
            async with self.pool.acquire() as conn:
                await ride_store.wake(conn, near, self.clock())
        return len(near)

    # Answers from drivers.

    async def accept(self, driver_id: DriverId, offer_id: int) -> Ride:
        """Give the ride to the driver if the offer is still theirs; accepting twice changes nothing."""
        changes = Changes()
        expired: Offer | None = None
        async with self.pool.acquire() as conn, conn.transaction():
            now = self.clock()
            # The usual answer in one statement: the ride locked and its offer, pending and on time, accepted. Only
            # if that fails is the offer read, to say why; under the ride's lock nobody else can change it meanwhile.
            locked = await ride_store.lock_ride_accepting_offer(conn, offer_id, driver_id, now)
            if locked is None:  # Someone else's offer is "not found": a driver learns nothing of others' work.
                raise OfferNotFound(offer_id)
            ride, accepted = locked
            if not accepted:
                offer = await self._offer_under_lock(conn, offer_id)
                if offer.status is OfferStatus.ACCEPTED and ride.driver_id == driver_id:
                    return ride
                if offer.status is not OfferStatus.PENDING:
                    raise OfferClosed(offer.id, offer.status.value)
                # Pending but out of time: the sweeper has not got to it yet; the driver is told, the ride moves on
                # either way.
                await self._close_offer(conn, offer, ride, OfferStatus.EXPIRED, now, changes, "Timed out.")
                expired = offer
            else:
                ride = await apply_action(conn, ride, RideAction.ACCEPT, Actor(ActorKind.DRIVER, driver_id), now,
                                         changes, drivers=(driver_id,), assigned_at=now)
                changes.statuses[driver_id] = DriverAvailability.BUSY
                changes.leave_queue.add(driver_id)
        await self.publish(changes)
        if expired is not None:
            raise OfferClosed(expired.id, OfferStatus.EXPIRED.value)
        self._answered_here(OfferId(offer_id))
        return ride

    async def decline(self, driver_id: DriverId, offer_id: int, reason: str | None = None) -> None:
        """Take the driver's no and offer the ride to the next driver at once."""
        changes = Changes()
        async with self.pool.acquire() as conn, conn.transaction():
            now = self.clock()
            ride = await self._lock_ride_of_offer(conn, driver_id, offer_id)
            declined = await offer_store.end_offer(conn, OfferId(offer_id), OfferStatus.DECLINED, now, reason)
            if declined is None:  # It was no longer pending: declining twice changes nothing, else say how it ended.
                offer = await self._offer_under_lock(conn, offer_id)
                if offer.status is OfferStatus.DECLINED:
                    return
                raise OfferClosed(offer.id, offer.status.value)
            await self._move_on(conn, declined, ride, now, changes, tell_driver=False)
        await self.publish(changes)
        self._answered_here(declined.id)

    async def expire_due(self) -> int:
        """Close offers whose time ran out and offer their rides to the next drivers; return how many."""
        async with self.pool.acquire() as conn:
            due = await offer_store.due_offers(conn, self.clock(), DUE_BATCH)
        for offer_id, ride_id in due:
            await self.end_if_pending(offer_id, ride_id, OfferStatus.EXPIRED, "Timed out.")
        return len(due)

    async def driver_lost(self, driver_id: DriverId) -> None:
        """Give a driver's pending offer to the next driver: they dropped off and did not come back in time."""
        async with self.pool.acquire() as conn:
            offer = await offer_store.pending_offer_of_driver(conn, driver_id)
        if offer is not None:
            await self.end_if_pending(offer.id, offer.ride_id, OfferStatus.LOST, "The driver's app went offline.")

    async def end_if_pending(self, offer_id: OfferId, ride_id: RideId, how: OfferStatus, reason: str) -> bool:
        """End an offer that is still pending (on time, or for a reason) and move its ride on."""
        changes = Changes()
        async with self.pool.acquire() as conn:
            # An ended offer never becomes pending again, so most timers, finding theirs answered, need no lock
            # and no transaction to know there is nothing to do.
            seen = await offer_store.offer(conn, offer_id)
            if seen is None or seen.status is not OfferStatus.PENDING:
                return False
            async with conn.transaction():
                ride = await ride_store.lock_ride(conn, ride_id)
                offer = await offer_store.offer(conn, offer_id)  # Read again under the ride's lock.
                now = self.clock()
                if ride is None or offer is None or offer.status is not OfferStatus.PENDING:
                    return False
                if how is OfferStatus.EXPIRED and offer.expires_at > now:
                    return False
                await self._close_offer(conn, offer, ride, how, now, changes, reason)
        await self.publish(changes)
        return True

    # Operators.

    async def assign(self, ride_id: RideId, driver_id: DriverId, operator: Actor, reason: str | None) -> Ride:
        """Give a ride to a driver by hand; if a driver was offered it meanwhile, the offer is withdrawn."""
        changes = Changes()
        async with self.pool.acquire() as conn, conn.transaction():
            now = self.clock()
            ride = await lock_existing(conn, ride_id)
            facts = (await offer_store.candidate_facts(conn, [driver_id])).get(driver_id)
            if facts is None:
                raise DriverNotFound(driver_id)
            if facts.suspended:
                raise DriverNotDispatchable(f"Driver {driver_id} is suspended and cannot take rides.")
            if facts.on_a_ride or (facts.has_offer and ride.offered_to != driver_id):
                raise DriverBusy(f"Driver {driver_id} is busy with another ride or offer; choose another driver.")
            pending = await offer_store.pending_offer_of_ride(conn, ride.id)
            ride = await apply_action(conn, ride, RideAction.ASSIGN, operator, now, changes, reason=reason,
                                     driver_id=driver_id, drivers=(driver_id,), assigned_at=now,
                                     dispatch_after=None)
            if pending is not None:
                ended = await offer_store.end_offer(conn, pending.id, OfferStatus.WITHDRAWN, now,
                                                    "Assigned by an operator.")
                if ended is not None and ended.driver_id != driver_id:
                    changes.events.append(events.offer_ended(ended))
            changes.statuses[driver_id] = DriverAvailability.BUSY
            changes.leave_queue.add(driver_id)
        await self.publish(changes)
        return ride

    # Reading.

    async def pending_offer_of(self, driver_id: DriverId) -> tuple[Offer, Ride] | None:
        """Return the offer a driver holds with its ride, for a reconnecting app."""
        async with self.pool.acquire() as conn:
            offer = await offer_store.pending_offer_of_driver(conn, driver_id)
            ride = None if offer is None else await ride_store.ride(conn, offer.ride_id)
        return None if offer is None or ride is None else (offer, ride)

    # The machinery.

    async def _lock_ride_of_offer(self, conn: asyncpg.Connection, driver_id: DriverId, offer_id: int) -> Ride:
        # Someone else's offer is "not found": a driver learns nothing about other drivers' work.
        ride = await ride_store.lock_ride_of_offer(conn, offer_id, driver_id)
        if ride is None:
            raise OfferNotFound(offer_id)
        return ride

    async def _offer_under_lock(self, conn: asyncpg.Connection, offer_id: int) -> Offer:
        offer = await offer_store.offer(conn, offer_id)  # Read after the ride's lock: it is as it stands now.
        if offer is None:
            raise OfferNotFound(offer_id)
        return offer

    async def _close_offer(self, conn: asyncpg.Connection, offer: Offer, ride: Ride, how: OfferStatus,
                           now: datetime, changes: Changes, reason: str | None) -> None:
        ended = await offer_store.end_offer(conn, offer.id, how, now, reason)
        if ended is not None:
            await self._move_on(conn, ended, ride, now, changes)

    async def _move_on(self, conn: asyncpg.Connection, ended: Offer, ride: Ride, now: datetime, changes: Changes,
                       *, tell_driver: bool = True) -> None:
        """After an offer ended, tell its driver, and offer the ride to the next driver if it was waiting on them."""
        if tell_driver:
            changes.events.append(events.offer_ended(ended))
        if ride.status is RideStatus.OFFERING and ride.offered_to == ended.driver_id:
            await self._offer_next(conn, ride, now, changes)

    async def _offer_next(self, conn: asyncpg.Connection, ride: Ride, now: datetime, changes: Changes,
                          choice: _Choice | None = None) -> Ride:
        """Offer the locked ride to the best driver not yet tried, or put it on the unassigned list.

        `choice` is a search already made for it (at booking, before anything was written).
        """
        if ride.pickup.lat is None or ride.pickup.lng is None:
            return await self._unassign(conn, ride, now, changes,
                                        "The pickup has no map position: assign a driver by hand.")
        if ride.offer_count >= self.policy.max_tries:
            return await self._unassign(conn, ride, now, changes,
                                        f"No driver took the ride after {ride.offer_count} offers.")
        if choice is None:
            choice = await self._choose(conn, ride, now, await offer_store.offers_of_ride(conn, ride.id))
        expires_at = offer_expires_at(now, self.policy.offer_timeout)
        # Best first: the search's own statement offers the ride to the first; the next are tried one by one only
        # if another ride's offer reached that driver first.
        wanted = [offer_store.NewOffer(ride.id, d.candidate.driver_id, d.rank or 0, d.candidate.distance_m,
                                       d.via or OfferVia.NEAREST, now, expires_at)
                  for d in choice.decisions if d.is_eligible]
        search_id, offer = await offer_store.insert_search(
            conn, ride.id, choice.radius_m, choice.strategy, choice.zone.id if choice.zone else None, now,
            choice.decisions, wanted[0] if wanted else None)
        for next_best in wanted[1:]:
            if offer is not None:
                break
            offer = await offer_store.insert_offer(conn, search_id, next_best)
        if offer is None:
            return await self._unassign(conn, ride, now, changes, "No driver is free near the pickup.")
        ride = await apply_action(conn, ride, RideAction.OFFER, SYSTEM, now, changes,
                                 driver_id=offer.driver_id, offer_count=ride.offer_count + 1, dispatch_after=None)
        changes.events.append(events.offer_made(offer, ride, now))
        changes.offers.append(offer)
        return ride

    async def _choose(self, conn: asyncpg.Connection, ride: Ride, now: datetime, history: list[Offer]) -> _Choice:
        """Search ever wider around the pickup until some driver may be offered the ride, and rank them.

        Small circles first: in a dense city most rides find their driver within the first, and a search of a
        small circle costs Redis a fraction of a wide one. Nothing is written here.
        """
        lat, lng = ride.pickup.lat or 0.0, ride.pickup.lng or 0.0
        declined = {o.driver_id for o in history if o.status is OfferStatus.DECLINED}
        this_round = history[len(history) - ride.offer_count:] if ride.offer_count else []
        lapsed = {o.driver_id for o in this_round if o.status in (OfferStatus.EXPIRED, OfferStatus.LOST)}
        zone = self.zones.zone_at(lat, lng) if self.zones else None
        strategy = ZoneStrategy.NEAREST if zone is None else strategy_at(zone, now.astimezone(self.timezone))
        queue = ([q.driver_id for q in await self.queues.queue(zone.id)]
                 if zone is not None and self.queues is not None and strategy is ZoneStrategy.QUEUE_FIRST else [])
        # The rank's drivers count wherever they stand in the zone, however wide it is.
        queued = await self.positions.positions_of(queue, lat, lng)
        facts: dict[DriverId, offer_store.CandidateFacts] = {}
        decisions: list[Decision] = []
        radius = SEARCH_RADII_M[0]
        for radius, count in zip(SEARCH_RADII_M, SEARCH_COUNTS, strict=True):
            # Drivers silent for longer than the freshness are still found, so the search can say they were stale.
            near = await self.positions.nearby(lat, lng, radius, now, self.policy.silence, limit=count)
            live = {p.driver_id: p for p in [*queued, *near]}
            unknown = [d for d in live if d not in facts]
            if unknown:
                facts.update(await offer_store.candidate_facts(conn, unknown))
            candidates = [candidate_from(p, facts[d], now) for d, p in live.items() if d in facts]
            decisions = rank_candidates(candidates, ride.state, now=now, radius_m=radius, declined_by=declined,
                                        offered=lapsed, freshness=self.policy.freshness, queue=queue)
            if any(d.is_eligible for d in decisions):
                break
        return _Choice(zone, strategy, radius, decisions)

    async def _unassign(self, conn: asyncpg.Connection, ride: Ride, now: datetime, changes: Changes,
                        reason: str) -> Ride:
        retry_at = now + self.policy.retry_every
        if ride.status is RideStatus.UNASSIGNED:
            return await update_ride(conn, ride, now, {"dispatch_after": retry_at})  # A quiet retry, no news.
        return await apply_action(conn, ride, RideAction.MARK_UNASSIGNED, SYSTEM, now, changes,
                                 reason=reason, dispatch_after=retry_at)

    async def publish(self, changes: Changes) -> None:
        """Publish what a committed transaction did, and time the offers it made."""
        await publish(changes, self.publisher, self.positions, self.queues, self.clock())
        for offer in changes.offers:
            self._expire_on_time(offer)

    def _expire_on_time(self, offer: Offer) -> None:
        # The sweeper would find the offer too, within its interval; this makes the timeout exact.
        async def expire() -> None:
            await asyncio.sleep(max(0.0, (offer.expires_at - self.clock()).total_seconds()))
            await self.end_if_pending(offer.id, offer.ride_id, OfferStatus.EXPIRED, "Timed out.")

        timer = self.spawn(expire(), f"expire offer {offer.id}")
        self._timers[offer.id] = timer
        timer.add_done_callback(lambda _: self._timers.pop(offer.id, None))

    def _answered_here(self, offer_id: OfferId) -> None:
        # An offer answered on this instance needs no timer here: at its time it would only read the offer to find
        # it closed. (Answered elsewhere, the timer reads it; a pending one is ended by whichever comes first.)
        timer = self._timers.pop(offer_id, None)
        if timer is not None:
            timer.cancel()

    def spawn(self, work: Awaitable[Any], name: str) -> asyncio.Task[None]:
        """Run `work` in the background on this instance; a failure is logged, and shutdown cancels it."""

        async def run() -> None:
            try:
                await work
            except Exception:  # The due list and the sweeper retry whatever this did not finish.
                log.exception("%s failed", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel background work at shutdown; what it left undone is in PostgreSQL for any instance."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)


def _wanted_at(ride: Ride) -> datetime:
    return ride.pickup_at or ride.created_at


def candidate_from(position: LivePosition, facts: offer_store.CandidateFacts, now: datetime) -> Candidate:
    """Join what the live map and PostgreSQL know about a nearby driver into what matching judges."""
    return Candidate(
        driver_id=position.driver_id, distance_m=position.distance_m,
        # Never known to be idle: counts as just became free, so known long-idle drivers keep their edge.
        idle_since=position.idle_since or now, vehicle_class=facts.vehicle_class, status=position.status,
        last_seen=position.last_seen, suspended=facts.suspended, has_other_offer=facts.has_offer,
        on_a_ride=facts.on_a_ride,
    )
