"""Use cases of ratings: rate a completed ride (customer page, link, operator), show its rating, issue links.

The customer page rates with the ride's tracking token (dispatch says which ride it follows); the link sent
after a ride carries a signed token of its own (links.py). Either way the token alone names the ride.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import asyncpg

from dispatch import booking, customer_service
from dispatch import service as drivers
from dispatch.model import DriverId
from feedback import links, rating_store, ratings
from feedback.errors import LinkNotFound, RatingLinkInvalid
from feedback.events import rating_json
from feedback.model import NewRating, RatedRide, Rating, RatingChannel, RatingRequest

LINK_KEY_NAME: Final = "rating_link"


@dataclass(frozen=True)
class RatingLink:
    """A link the center sends after a ride, to rate it."""

    token: str
    ride_id: int
    expires_at: datetime


async def signing_key(pool: asyncpg.Pool) -> bytes:
    """Return the key rating links are signed with (the same on every instance)."""
    async with pool.acquire() as conn:
        return await rating_store.signing_key(conn, LINK_KEY_NAME)


async def rated_ride(pool: asyncpg.Pool, ride_id: int) -> RatedRide:
    """Return what a rating needs of a ride, from dispatch; raises if there is no such ride."""
    ride = await booking.find_ride(pool, ride_id)
    return RatedRide(ride_id=ride.id, status=ride.status.value, driver_id=ride.driver_id,
                     subscriber_id=ride.subscriber_id)


async def rate(pool: asyncpg.Pool, ride_id: int, request: RatingRequest, now: datetime) -> Rating:
    """Rate a completed ride; a rating it already had is kept as history and this one counts."""
    new = ratings.new_rating(await rated_ride(pool, ride_id), request, now)
    try:
        return await _replace(pool, new)
    except asyncpg.UniqueViolationError:
        # Another rating of the ride was stored between this one's two statements; this one is the later.
        return await _replace(pool, new)


async def _replace(pool: asyncpg.Pool, new: NewRating) -> Rating:
    try:
        async with pool.acquire() as conn, conn.transaction():
            return await rating_store.replace_rating(conn, new)
    except asyncpg.ForeignKeyViolationError as err:
        if err.constraint_name != "ride_ratings_call_id_fkey" or new.call_id is None:
            raise
        raise LinkNotFound("call", new.call_id) from err


async def ratings_of(pool: asyncpg.Pool, ride_id: int) -> list[Rating]:
    """Return every rating a ride was given, the current one first; raises if there is no such ride."""
    await booking.find_ride(pool, ride_id)
    async with pool.acquire() as conn:
        return await rating_store.rating_history(conn, ride_id)


async def issue_link(pool: asyncpg.Pool, key: bytes, ride_id: int, valid_for: timedelta, now: datetime
                     ) -> RatingLink:
    """Make a link to rate a completed ride, valid for `valid_for`."""
    ratings.check_rateable(await rated_ride(pool, ride_id))
    # Whole seconds: the token carries its expiry to the second.
    expires_at = (now + valid_for).replace(microsecond=0)
    return RatingLink(links.sign_link(key, ride_id, expires_at), ride_id, expires_at)


async def ride_of_token(pool: asyncpg.Pool, key: bytes, token: str, now: datetime) -> tuple[int, RatingChannel]:
    """Return the ride a customer's token names and the channel it rates through: a link, or the tracking page."""
    if links.is_link_token(token):
        ride_id, _ = links.read_link(key, token, now)
        return ride_id, RatingChannel.LINK
    tracked = await customer_service.tracked_ride_id(pool, token)
    if tracked is None:
        raise RatingLinkInvalid()
    return tracked, RatingChannel.CUSTOMER_PAGE


async def customer_view(pool: asyncpg.Pool, key: bytes, token: str, now: datetime) -> dict[str, Any]:
    """Return what the rating page shows: the ride (when, from, to, the driver's name) and its current rating."""
    ride_id, _ = await ride_of_token(pool, key, token, now)
    ride = await booking.find_ride(pool, ride_id)
    async with pool.acquire() as conn:
        current = await rating_store.current_rating(conn, ride_id)
    driver = None if ride.driver_id is None else await _driver_name(pool, ride.driver_id)
    return {
        "ride": {"id": ride.id, "status": ride.status.value,
                 "finished_at": None if ride.finished_at is None else ride.finished_at.isoformat(),
                 "pickup": ride.pickup.text,
                 "destination": None if ride.destination is None else ride.destination.text},
        "driver": None if driver is None else {"name": driver},
        "can_rate": ride.status.value == ratings.COMPLETED,
        "rating": None if current is None else rating_json(current, for_staff=False),
    }


async def rate_by_token(pool: asyncpg.Pool, key: bytes, token: str, asked_ride_id: int | None, value: int,
                        comment: str | None, now: datetime) -> Rating:
    """Rate the ride a customer's token names; a token for another ride than the page asks about is refused."""
    ride_id, channel = await ride_of_token(pool, key, token, now)
    ratings.check_same_ride(ride_id, asked_ride_id)
    return await rate(pool, ride_id, RatingRequest(value=value, comment=comment, channel=channel), now)


async def _driver_name(pool: asyncpg.Pool, driver_id: int) -> str:
    # Only the name: the customer has no business with the driver's phone or licence.
    return (await drivers.driver_profile(pool, DriverId(driver_id))).name
