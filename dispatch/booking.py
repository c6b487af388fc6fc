"""Use cases of booking: book a ride once per idempotency key, cancel it, re-route it, list and show rides."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg

from dispatch import events, offer_store, ride_store
from dispatch.dispatcher import Dispatcher
from dispatch.errors import (
    ActiveRideExists,
    CallNotFound,
    IdempotencyKeyReused,
    IllegalTransition,
    NoTariffInForce,
    OutsideServiceArea,
    RideChanged,
    SubscriberBlocked,
)
from dispatch.model import (
    Actor,
    Channel,
    DriverAvailability,
    NewRide,
    Offer,
    OfferStatus,
    Place,
    Ride,
    RideAction,
    RideFilter,
    RideStatus,
    RideStep,
    VehicleClass,
)
from dispatch.pricing import Quote, quote_json
from dispatch.ride_changes import Changes, apply_action, lock_existing, read_existing, update_ride
from dispatch.rides import ACTIVE_STATUSES, DEFAULT_RELEASE_LEAD, release_time, status_at_booking
from dispatch.traces import LatLng
from dispatch.zones import Bounds
from subscribers import service as subscribers
from subscribers.model import Address, AddressId, NewAddress, Position, SubscriberId, SubscriberRecord
from subscribers.phones import PhonePlan, parse_phone
from subscribers.text import clean_text, search_key
from taxicrm.errors import Conflict, DomainError, InvalidInput
from taxicrm.events import Publisher, publish_committed

log = logging.getLogger(__name__)

MAX_PASSENGERS = 8
RIDES_ON_CARD = 5
MAX_NOTES = 500
MAX_PLACE_TEXT = 500
MAX_LANDMARK = 300
MAX_NAME = 200
MAX_BOOKING_AHEAD = timedelta(days=30)
# A pickup time a little in the past is a clock or a slow form, not a mistake: it means "now".
PAST_PICKUP_GRACE = timedelta(minutes=5)
BOOK, CHANGE_ROUTE = "book", "change_route"
# Once the passenger is aboard, the trip is the driver's: the route can no longer change from the console.
ROUTE_CHANGEABLE = frozenset({RideStatus.SCHEDULED, RideStatus.REQUESTED, RideStatus.OFFERING,
                              RideStatus.UNASSIGNED, RideStatus.ASSIGNED, RideStatus.ARRIVED})


@dataclass(frozen=True)
class PlaceRequest:
    """A pickup or destination as asked: a saved address by id, or typed text with optional details."""

    address_id: int | None = None
    text: str | None = None
    landmark: str | None = None
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class BookingRequest:
    """A booking as asked, before validation: for a subscriber, or a walk-in by name and phone."""

    pickup: PlaceRequest
    subscriber_id: int | None = None
    walk_in_name: str | None = None
    walk_in_phone: str | None = None
    call_id: int | None = None
    destination: PlaceRequest | None = None
    passengers: int = 1
    vehicle_class: VehicleClass = VehicleClass.SEDAN
    notes_for_driver: str | None = None
    pickup_at: datetime | None = None
    confirm_duplicate: bool = False
    # The card warns about a blocked caller; the operator may still book after confirming (a known customer's
    # relative calling from their phone, say).
    confirm_blocked: bool = False


@dataclass(frozen=True)
class Booker:
    """Who books and through which channel; idempotency keys are unique per booker."""

    actor: Actor
    channel: Channel

    @property
    def scope(self) -> str:
        """The namespace of this booker's idempotency keys."""
        return f"{self.actor.kind.value}:{self.actor.id}"


@dataclass(frozen=True)
class Booking:
    """The booked ride; `is_new` is False when a retried request found the ride it booked before."""

    ride: Ride
    is_new: bool


@dataclass(frozen=True)
class RideRecord:
    """A ride with its history and its offers."""

    ride: Ride
    steps: tuple[RideStep, ...]
    offers: tuple[Offer, ...]


class Quoter(Protocol):
    """Prices a trip between two points at booking (see pricing.Pricer)."""

    async def quote_trip(self, pickup: LatLng, dropoff: LatLng, vehicle_class: VehicleClass, at: datetime,
                         pickup_zone: str | None = None, dropoff_zone: str | None = None, *,
                         conn: asyncpg.Connection | None = None) -> Quote:
        """Estimate and price the trip (reading the tariff on `conn` if given, else on a pooled connection)."""
        ...


@dataclass(frozen=True)
class RideDesk:
    """What booking needs from the app: the database, the bus, the numbering plan, the zone, the release lead.

    With a dispatcher, new rides go to drivers at once and cancels reach them; with a quoter, rides with both
    ends on the map get a fare quote, locked for phone bookings.
    """

    pool: asyncpg.Pool
    publisher: Publisher
    plan: PhonePlan
    timezone: ZoneInfo
    release_lead: timedelta = DEFAULT_RELEASE_LEAD
    dispatcher: Dispatcher | None = None
    quoter: Quoter | None = None
    zone_code_at: Callable[[float, float], str | None] | None = None
    service_bounds: Bounds | None = None


@dataclass(frozen=True)
class _Rider:
    subscriber: SubscriberRecord | None
    walk_in_name: str | None
    walk_in_phone: str | None

    @property
    def lock_key(self) -> str:
        who = self.subscriber.subscriber.id if self.subscriber else self.walk_in_phone
        return f"ride-caller:{who}"


def request_hash(request: BookingRequest) -> str:
    """Fingerprint a booking as asked; confirming a warning does not make it another booking."""
    content = dataclasses.asdict(dataclasses.replace(request, confirm_duplicate=False, confirm_blocked=False))
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _bounded_text(raw: str | None, name: str, max_length: int) -> str | None:
    text = None if raw is None else clean_text(raw) or None
    if text is not None and len(text) > max_length:
        raise InvalidInput(f"'{name}' is longer than {max_length} characters.", code="too_long")
    return text


async def _rider(desk: RideDesk, request: BookingRequest) -> _Rider:
    has_walk_in = request.walk_in_name is not None or request.walk_in_phone is not None
    if request.subscriber_id is not None:
        if has_walk_in:
            raise InvalidInput("Book for a subscriber or for a walk-in caller, not both.", code="ambiguous_rider")
        record = await subscribers.get_subscriber(desk.pool, SubscriberId(request.subscriber_id))
        if record.subscriber.is_blocked and not request.confirm_blocked:
            raise SubscriberBlocked(record.subscriber.id, record.subscriber.blocked_reason)
        return _Rider(record, None, None)
    name = _bounded_text(request.walk_in_name, "walk_in_name", MAX_NAME)
    if name is None or request.walk_in_phone is None:
        raise InvalidInput("Name a subscriber, or give the walk-in caller's name and phone.", code="rider_required")
    return _Rider(None, name, parse_phone(request.walk_in_phone, desk.plan).e164)


def _place(asked: PlaceRequest, name: str, saved: tuple[Address, ...] | None) -> Place:
    """Resolve a place as asked; typed text matching a saved address counts as that address."""
    if asked.address_id is not None:
        found = next((a for a in saved or () if a.id == asked.address_id), None)
        if found is None:
            raise InvalidInput(f"'{name}': the rider has no saved address {asked.address_id}.",
                               code="address_not_found")
        position = found.position
        return Place(found.full_text, found.landmark, position.lat if position else None,
                     position.lng if position else None, found.id)
    text = _bounded_text(asked.text, f"{name}.text", MAX_PLACE_TEXT)
    if text is None:
        raise InvalidInput(f"'{name}' needs a saved address_id or the address text.", code="missing_field")
    if (asked.lat is None) != (asked.lng is None):
        raise InvalidInput(f"'{name}' needs both lat and lng, or neither.", code="invalid_position")
    if asked.lat is not None and asked.lng is not None and not (-90 <= asked.lat <= 90 and -180 <= asked.lng <= 180):
        raise InvalidInput(f"'{name}' has a position off the map.", code="invalid_position")
    key = search_key(text)
    same = next((a for a in saved or () if search_key(a.full_text) == key), None)
    return Place(text, _bounded_text(asked.landmark, f"{name}.landmark", MAX_LANDMARK), asked.lat, asked.lng,
                 same.id if same else None)


def _check_in_area(desk: RideDesk, place: Place, name: str) -> None:
    if desk.service_bounds is not None and place.lat is not None and place.lng is not None \
            and not desk.service_bounds.contains(place.lat, place.lng):
        raise OutsideServiceArea(f"The {name} is far outside the service area; check the position on the map.")


async def _quote(desk: RideDesk, pickup: Place, destination: Place | None, vehicle_class: VehicleClass,
                 at: datetime, conn: asyncpg.Connection | None = None) -> dict[str, Any] | None:
    """Price the trip if both ends are on the map; a missing tariff must not stop a ride, so it just has no quote."""
    if desk.quoter is None or destination is None or None in (pickup.lat, pickup.lng, destination.lat,
                                                                destination.lng):
        return None
    start = LatLng(pickup.lat or 0.0, pickup.lng or 0.0)
    end = LatLng(destination.lat or 0.0, destination.lng or 0.0)
    zone_of = desk.zone_code_at or (lambda lat, lng: None)
    try:
        quoted = await desk.quoter.quote_trip(start, end, vehicle_class, at, zone_of(start.lat, start.lng),
                                              zone_of(end.lat, end.lng), conn=conn)
    except NoTariffInForce:
        log.warning("no tariff in force for %s rides at %s: booking without a quote", vehicle_class, at)
        return None
    return quote_json(quoted)


def _check_booking(request: BookingRequest, now: datetime) -> None:
    if not 1 <= request.passengers <= MAX_PASSENGERS:
        raise InvalidInput(f"'passengers' must be 1 to {MAX_PASSENGERS}.", code="invalid_passengers")
    if request.pickup_at is not None:
        if request.pickup_at < now - PAST_PICKUP_GRACE:
            raise InvalidInput("'pickup_at' is in the past.", code="pickup_in_past")
        if request.pickup_at > now + MAX_BOOKING_AHEAD:
            raise InvalidInput(f"Rides can be booked at most {MAX_BOOKING_AHEAD.days} days ahead.",
                               code="pickup_too_far")


async def book(desk: RideDesk, request: BookingRequest, booker: Booker, key: str, now: datetime) -> Booking:
    """Book a ride, or return the one this booker already booked with the same key."""
    _check_booking(request, now)
    notes = _bounded_text(request.notes_for_driver, "notes_for_driver", MAX_NOTES)
    rider = await _rider(desk, request)
    saved = rider.subscriber.addresses if rider.subscriber else None
    pickup = _place(request.pickup, "pickup", saved)
    destination = None if request.destination is None else _place(request.destination, "destination", saved)
    for place, name in ((pickup, "pickup"), (destination, "destination")):
        if place is not None:
            _check_in_area(desk, place, name)
    fingerprint = request_hash(request)
    status = status_at_booking(request.pickup_at, now, desk.release_lead)
    async with desk.pool.acquire() as conn:
        # Priced on the booking's own connection, before its transaction: the caller's lock is not held meanwhile.
        quote = await _quote(desk, pickup, destination, request.vehicle_class, request.pickup_at or now, conn)
        new = NewRide(
            subscriber_id=rider.subscriber.subscriber.id if rider.subscriber else None,
            walk_in_name=rider.walk_in_name, walk_in_phone=rider.walk_in_phone, call_id=request.call_id,
            pickup=pickup, destination=destination, passengers=request.passengers,
            vehicle_class=request.vehicle_class, notes_for_driver=notes, pickup_at=request.pickup_at, status=status,
            booked_by=booker.actor.id if booker.channel is Channel.CONSOLE else None, booked_via=booker.channel,
            idempotency_scope=booker.scope, idempotency_key=key, request_hash=fingerprint, created_at=now,
            dispatch_after=_first_look(request.pickup_at, status, now, desk), quote=quote,
            # What the operator tells the caller on the phone is the price, unless the trip changes.
            quote_locked=booker.channel is Channel.CONSOLE,
        )
        async with conn.transaction():
            # Under the caller's lock a retry sees the first attempt's ride, so it replays instead of warning.
            await ride_store.lock_caller(conn, rider.lock_key)
            earlier, active = await ride_store.earlier_and_active(
                conn, booker.scope, key, new.subscriber_id, new.walk_in_phone,
                frozenset() if request.confirm_duplicate else ACTIVE_STATUSES)
            if earlier is not None:
                return _replay(earlier, fingerprint)
            if active is not None:
                raise ActiveRideExists(active)
            try:
                ride = await ride_store.insert_ride(
                    conn, new, ride_store.StepRecord(BOOK, None, new.status, booker.actor, now))
            except asyncpg.ForeignKeyViolationError as err:
                if request.call_id is not None and "call_id" in (err.constraint_name or ""):
                    raise CallNotFound(request.call_id) from err
                raise
            if ride is None:  # The same key, used at the same instant for another caller.
                winner = await ride_store.ride_by_key(conn, booker.scope, key)
                if winner is None:  # Only if the winner rolled back after all; a retry books afresh.
                    raise Conflict("The booking clashed with another one; try again.", code="ride_changed")
                return _replay(winner, fingerprint)
            await _count_address_uses(desk, conn, ride, now)
            changes = Changes(events=events.ride_changed(ride, topic="ride.booked"))
            if desk.dispatcher is not None and ride.status is RideStatus.REQUESTED:
                # The ride is this transaction's own until it commits: no one else can see it, let alone lock it.
                ride = await desk.dispatcher.offer_at_booking(conn, ride, now, changes)
    # The driver hears of the offer first; learning the typed addresses can come after.
    await _publish(desk, changes)
    # Only an operator's booking teaches the card new addresses: anyone can type a subscriber's number online.
    if booker.channel is Channel.CONSOLE:
        ride = await _save_new_addresses(desk, ride, rider.subscriber, now)
    return Booking(ride, is_new=True)


def _first_look(pickup_at: datetime | None, status: RideStatus, now: datetime, desk: RideDesk) -> datetime:
    """When the dispatcher's due list should pick the ride up if nothing has dispatched it by then."""
    if status is RideStatus.SCHEDULED and pickup_at is not None:
        return release_time(pickup_at, desk.release_lead)
    grace = desk.dispatcher.policy.first_look_grace if desk.dispatcher else timedelta(0)
    return now + grace


def _replay(earlier: Ride, fingerprint: str) -> Booking:
    if earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused(earlier.id)
    return Booking(earlier, is_new=False)


async def _count_address_uses(desk: RideDesk, conn: asyncpg.Connection, ride: Ride, now: datetime,
                              *, only: frozenset[int] | None = None) -> None:
    """Count the ride's saved addresses as used, so the subscriber's card offers them first next time."""
    hour = (ride.pickup_at or now).astimezone(desk.timezone).hour
    for place, as_pickup in ((ride.pickup, True), (ride.destination, False)):
        if place is not None and place.address_id is not None and (only is None or place.address_id in only):
            await subscribers.record_address_use(conn, AddressId(place.address_id), as_pickup=as_pickup,
                                                 local_hour=hour, at=now)


async def _save_new_addresses(desk: RideDesk, ride: Ride, subscriber: SubscriberRecord | None,
                              now: datetime) -> Ride:
    """Save the places typed for a subscriber to their card and link them to the ride, after it is booked."""
    if subscriber is None:
        return ride
    links: dict[str, int] = {}
    for end, place in (("pickup", ride.pickup), ("destination", ride.destination)):
        if place is None or place.address_id is not None:
            continue
        position = None if place.lat is None or place.lng is None else Position(place.lat, place.lng)
        try:
            address = await subscribers.add_address(desk.pool, subscriber.subscriber.id,
                                                    NewAddress(place.text, "", place.landmark, position))
        except DomainError as err:
            # A full address book (or a card merged meanwhile) must not undo a booked ride; it just learns nothing.
            log.info("ride %s: address not saved for subscriber %s: %s", ride.id, ride.subscriber_id, err.message)
            continue
        links[end] = address.id
    if not links:
        return ride
    async with desk.pool.acquire() as conn, conn.transaction():
        await ride_store.link_addresses(conn, ride.id, links.get("pickup"), links.get("destination"))
        linked = await ride_store.ride(conn, ride.id)
        if linked is None:
            return ride
        await _count_address_uses(desk, conn, linked, now, only=frozenset(links.values()))
    return linked


async def cancel(desk: RideDesk, ride_id: int, actor: Actor, reason: str | None, now: datetime) -> Ride:
    """Cancel a ride that has not started, saying why; its offered or assigned driver is told at once."""
    reason = (reason or "").strip() or None
    changes = Changes()
    async with desk.pool.acquire() as conn, conn.transaction():
        ride = await lock_existing(conn, ride_id)
        driver = ride.driver_id
        cancelled = await apply_action(
            conn, ride, RideAction.CANCEL, actor, now, changes, reason=reason,
            drivers=() if driver is None else (driver,), cancelled_by_kind=actor.kind.value,
            cancelled_by_id=actor.id, cancel_reason=reason, dispatch_after=None)
        pending = await offer_store.pending_offer_of_ride(conn, ride.id)
        ended = None if pending is None else await offer_store.end_offer(
            conn, pending.id, OfferStatus.WITHDRAWN, now, "The ride was cancelled.")
        if ended is not None:
            changes.events.append(events.offer_ended(ended))
        if driver is not None:
            changes.statuses[driver] = DriverAvailability.AVAILABLE
    await _publish(desk, changes)
    if driver is not None and desk.dispatcher is not None:
        desk.dispatcher.wake_near(driver)
    return cancelled


async def change_route(desk: RideDesk, ride_id: int, actor: Actor, pickup: PlaceRequest | None,
                       destination: PlaceRequest | None, now: datetime) -> Ride:
    """Change a ride's pickup or destination before the passenger is aboard; the quote follows the new route."""
    if pickup is None and destination is None:
        raise InvalidInput("Say what to change: pickup or destination.", code="no_changes")
    async with desk.pool.acquire() as conn:
        ride = await read_existing(conn, ride_id)
    _check_route_changeable(ride)
    record = None
    if ride.subscriber_id is not None:
        record = await subscribers.get_subscriber(desk.pool, SubscriberId(ride.subscriber_id))
    saved = record.addresses if record else None
    new_pickup = ride.pickup if pickup is None else _place(pickup, "pickup", saved)
    new_destination = ride.destination if destination is None else _place(destination, "destination", saved)
    for place, name in ((new_pickup, "pickup"), (new_destination, "destination")):
        if place is not None:
            _check_in_area(desk, place, name)
    quote = await _quote(desk, new_pickup, new_destination, ride.vehicle_class, ride.pickup_at or now)
    async with desk.pool.acquire() as conn, conn.transaction():
        changed = await ride_store.update_route(conn, ride.id, ride.version, new_pickup, new_destination, now)
        if changed is None:
            raise RideChanged(ride.id)
        if quote != ride.quote:
            changed = await update_ride(conn, changed, now, {
                "quote": quote, "quote_total_rials": None if quote is None else quote["total_rials"]})
        details = {"before": _route_json(ride), "after": _route_json(changed)}
        await ride_store.insert_step(conn, ride.id, CHANGE_ROUTE, ride.status, ride.status, actor, now,
                                     driver_id=ride.driver_id, details=details)
        used = {p.address_id for p in (new_pickup, new_destination) if p is not None and p.address_id is not None}
        before = {p.address_id for p in (ride.pickup, ride.destination) if p is not None}
        await _count_address_uses(desk, conn, changed, now, only=frozenset(used - before))
    changed = await _save_new_addresses(desk, changed, record, now)
    concerned = [d for d in (changed.driver_id, changed.offered_to) if d is not None]
    await publish_committed(desk.publisher, events.ride_changed(changed, topic="ride.changed", drivers=concerned))
    return changed


async def _publish(desk: RideDesk, changes: Changes) -> None:
    if desk.dispatcher is not None:
        await desk.dispatcher.publish(changes)
    elif changes.events:
        await publish_committed(desk.publisher, changes.events)


def _check_route_changeable(ride: Ride) -> None:
    if ride.status not in ROUTE_CHANGEABLE:
        status_words = ride.status.value.replace("_", " ")
        raise IllegalTransition(ride.id, ride.status, CHANGE_ROUTE,
                                f"Ride {ride.id} is {status_words}, so its route can no longer change.")


async def get_ride(desk: RideDesk, ride_id: int) -> RideRecord:
    """Return a ride with its history and its offers."""
    async with desk.pool.acquire() as conn:
        ride = await read_existing(conn, ride_id)
        return RideRecord(ride, tuple(await ride_store.steps_of(conn, ride.id)),
                          tuple(await offer_store.offers_of_ride(conn, ride.id)))


async def find_ride(pool: asyncpg.Pool, ride_id: int) -> Ride:
    """Return a ride without its history, for another domain tying its records to it (a complaint, a rating)."""
    async with pool.acquire() as conn:
        return await read_existing(conn, ride_id)


async def rides_on_card(pool: asyncpg.Pool, subscriber_id: int | None, phone: str) -> Mapping[str, Any]:
    """Return the ringing caller's last rides and any still under way (a section of the screen-pop card)."""
    async with pool.acquire() as conn:
        return await ride_store.card_rides(conn, subscriber_id, phone, RIDES_ON_CARD, ACTIVE_STATUSES)


async def list_rides(desk: RideDesk, wanted: RideFilter) -> list[Ride]:
    """Return the rides a console filter asks for, latest due first."""
    async with desk.pool.acquire() as conn:
        return await ride_store.list_rides(conn, wanted)


def _route_json(ride: Ride) -> dict[str, Any]:
    return {"pickup": dataclasses.asdict(ride.pickup),
            "destination": None if ride.destination is None else dataclasses.asdict(ride.destination)}
