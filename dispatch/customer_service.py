"""Use cases of the customer page: quote a trip, book it for a mobile number, follow it by its token, cancel it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from dispatch import booking, customer_store, customers, ride_store, store, tokens
from dispatch.booking import Booker, BookingRequest, PlaceRequest, Quoter, RideDesk
from dispatch.customers import ArrivalModel
from dispatch.errors import (
    ActiveRideExists,
    BookingKeyReused,
    BookingRefused,
    CustomerRideUnderWay,
    IdempotencyKeyReused,
    IllegalTransition,
    NotCancellable,
    OutsideServiceArea,
    PickupPositionRequired,
    SubscriberBlocked,
    TooManyBookings,
    TooManyQuotes,
    TrackingNotFound,
)
from dispatch.model import Actor, ActorKind, Channel, Ride, RideId, RideStatus, VehicleClass
from dispatch.positions import LivePositions
from dispatch.pricing import Quote
from dispatch.traces import LatLng
from dispatch.zones import Bounds
from subscribers import service as subscribers
from subscribers.phones import parse_phone
from taxicrm import ratelimit

# Longer than any token we issue: anything longer is not one, and is not worth hashing.
MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class CustomerDesk:
    """What the customer page needs: booking's desk, Redis for its limits, live positions for arrival times."""

    rides: RideDesk
    quoter: Quoter
    redis: aioredis.Redis
    positions: LivePositions
    # Pickups must be inside the service area itself: no operator is there to catch a pin dropped far away.
    service_area: Bounds
    bookings_per_hour: int
    arrival: ArrivalModel


@dataclass(frozen=True)
class CustomerRequest:
    """A booking as the customer page sends it, before validation."""

    phone: str
    pickup: PlaceRequest
    name: str | None = None
    destination: PlaceRequest | None = None
    vehicle_class: VehicleClass = VehicleClass.SEDAN
    notes_for_driver: str | None = None


@dataclass(frozen=True)
class Booked:
    """A booked (or, for a retry, re-found) ride: the customer's view of it and a token to follow it with."""

    token: str
    view: dict[str, Any]
    is_new: bool


async def quote(desk: CustomerDesk, pickup: LatLng, destination: LatLng, vehicle_class: VehicleClass,
                address: str | None, now: datetime) -> Quote:
    """Price a trip from a pickup inside the service area, a limited number of times a minute per address."""
    keys = customers.quote_limit_keys(address)
    wait = await ratelimit.retry_after(desk.redis, keys, customers.QUOTES_PER_MINUTE)
    if wait:
        raise TooManyQuotes(wait)
    await ratelimit.count(desk.redis, keys, customers.QUOTE_WINDOW_SECONDS)
    _check_pickup(desk, pickup.lat, pickup.lng)
    code_at = desk.rides.zone_code_at or (lambda lat, lng: None)
    return await desk.quoter.quote_trip(pickup, destination, vehicle_class, now, code_at(pickup.lat, pickup.lng),
                                        code_at(destination.lat, destination.lng))


async def book(desk: CustomerDesk, asked: CustomerRequest, key: str, address: str | None, now: datetime) -> Booked:
    """Book a ride for a mobile number (its subscriber's, if it has one), or re-find the one this key booked."""
    phone = parse_phone(asked.phone, desk.rides.plan)
    customers.check_mobile(phone)
    _check_pickup(desk, asked.pickup.lat, asked.pickup.lng)
    subscriber_id = await subscribers.owner_of_phone(desk.rides.pool, phone.e164)
    request = BookingRequest(
        pickup=asked.pickup, destination=asked.destination, subscriber_id=subscriber_id,
        walk_in_name=None if subscriber_id else (asked.name or customers.DEFAULT_NAME),
        walk_in_phone=None if subscriber_id else phone.e164,
        vehicle_class=asked.vehicle_class, notes_for_driver=asked.notes_for_driver,
    )
    booker = Booker(Actor(ActorKind.CUSTOMER, subscriber_id), Channel.SELF_SERVICE)
    limits = customers.booking_limit_keys(phone.e164, address)
    async with desk.rides.pool.acquire() as conn:
        is_retry = await ride_store.ride_by_key(conn, booker.scope, key) is not None
    # A retry books nothing, so it is not refused for the booking it is the retry of.
    if not is_retry:
        wait = await ratelimit.retry_after(desk.redis, limits, desk.bookings_per_hour)
        if wait:
            raise TooManyBookings(wait)
    try:
        booked = await booking.book(desk.rides, request, booker, key, now)
    except SubscriberBlocked as err:
        raise BookingRefused() from err
    except ActiveRideExists as err:
        raise CustomerRideUnderWay() from err
    except IdempotencyKeyReused as err:
        raise BookingKeyReused() from err
    if booked.is_new:
        await ratelimit.count(desk.redis, limits, customers.BOOKING_WINDOW_SECONDS)
    # Only the hash is kept, so a retry (whose first answer was lost) gets a token of its own.
    token = tokens.new_tracking_token()
    async with desk.rides.pool.acquire() as conn:
        await customer_store.insert_tracking(conn, tokens.token_hash(token), booked.ride.id, phone.e164, now)
    return Booked(token, await _view(desk, booked.ride, now), booked.is_new)


async def view(desk: CustomerDesk, token: str, now: datetime) -> dict[str, Any]:
    """Return the customer's view of the ride a token follows."""
    return await _view(desk, await _tracked(desk, token), now)


async def cancel(desk: CustomerDesk, token: str, reason: str | None, now: datetime) -> dict[str, Any]:
    """Cancel the ride a token follows, if the customer is not aboard yet; its driver is told at once."""
    ride = await _tracked(desk, token)
    if not customers.can_cancel(ride.status):
        raise NotCancellable(ride.status.value)
    try:
        cancelled = await booking.cancel(desk.rides, ride.id, Actor(ActorKind.CUSTOMER, ride.subscriber_id),
                                         reason or customers.CANCEL_REASON, now)
    except IllegalTransition as err:  # The driver started the trip in the meantime.
        raise NotCancellable(RideStatus(err.ride_status).value) from err
    return await _view(desk, cancelled, now)


async def rider_for_token(desk: CustomerDesk, token: str) -> RideId | None:
    """Return the ride a tracking token follows, or None if it is not one."""
    return await tracked_ride_id(desk.rides.pool, token)


async def tracked_ride_id(pool: asyncpg.Pool, token: str) -> RideId | None:
    """Return the ride a tracking token follows, or None: for another domain (a rating from the customer page)."""
    if not tokens.is_tracking_token(token) or len(token) > MAX_TOKEN_LENGTH:
        return None
    async with pool.acquire() as conn:
        return await customer_store.tracked_ride(conn, tokens.token_hash(token))


async def _tracked(desk: CustomerDesk, token: str) -> Ride:
    ride_id = await rider_for_token(desk, token)
    ride = None
    if ride_id is not None:
        async with desk.rides.pool.acquire() as conn:
            ride = await ride_store.ride(conn, ride_id)
    if ride is None:
        raise TrackingNotFound()
    return ride


async def _view(desk: CustomerDesk, ride: Ride, now: datetime) -> dict[str, Any]:
    driver = position = None
    if ride.driver_id is not None and ride.status in customers.DRIVER_SHOWN:
        async with desk.rides.pool.acquire() as conn:
            driver = await store.driver_profile(conn, ride.driver_id)
        if ride.status in customers.POSITION_SHOWN:
            position = customers.fresh_position(await desk.positions.position_of(ride.driver_id), now, desk.arrival)
    arrival = customers.estimate_arrival(ride, position, now, desk.arrival)
    return customers.customer_view(ride, driver, position, arrival)


def _check_pickup(desk: CustomerDesk, lat: float | None, lng: float | None) -> None:
    if lat is None or lng is None:
        raise PickupPositionRequired()
    if not desk.service_area.contains(lat, lng):
        raise OutsideServiceArea("The pickup is outside the area we serve; move the pin, or call the center.")
