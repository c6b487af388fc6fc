"""HTTP routes of booking for the console: book, list, show, cancel and re-route rides.

The customer page books through the same service with `Channel.SELF_SERVICE` and a customer actor (see
customer_routes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from callcenter.keys import add_card_section
from dispatch import booking, ride_store
from dispatch.booking import Booker, BookingRequest, PlaceRequest, RideDesk
from dispatch.events import offer_json, ride_json, step_json
from dispatch.keys import PRICER, RUNTIME
from dispatch.model import Actor, ActorKind, Channel, Ride, RideFilter, RideStatus, VehicleClass
from subscribers.keys import add_merge_participant
from subscribers.phones import PhonePlan, parse_phone
from taxicrm.auth import STAFF_ROLES, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL, PUBLISHER, SETTINGS
from taxicrm.validation import json_object, optional, parse_time, path_id

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
MAX_LISTED = 500
MAX_REASON = 500
E = TypeVar("E", bound=Enum)


def setup(app: web.Application) -> None:
    """Register the booking routes; a merged subscriber's rides follow them."""
    add_merge_participant(app, ride_store.move_rides)
    add_card_section(app, booking.rides_on_card)  # The screen-pop shows the caller's rides.
    app.router.add_post("/api/rides", book_ride)
    app.router.add_get("/api/rides", list_rides)
    app.router.add_get("/api/rides/{ride_id}", get_ride)
    app.router.add_post("/api/rides/{ride_id}/cancel", cancel_ride)
    app.router.add_patch("/api/rides/{ride_id}/route", change_route)


@allow(*STAFF_ROLES)
async def book_ride(request: web.Request) -> web.Response:
    """Book a ride; a retry with the same Idempotency-Key answers 200 with the ride booked the first time."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"Send an {IDEMPOTENCY_HEADER} header of 1 to {MAX_KEY_LENGTH} characters, "
                           "new for each booking and the same for its retries.", code="idempotency_key_required")
    asked = _booking_request(await json_object(request), request)
    booker = Booker(_actor(request), Channel.CONSOLE)
    result = await booking.book(_desk(request), asked, booker, key, datetime.now(UTC))
    return web.json_response({"ride": _ride_json(result.ride)}, status=201 if result.is_new else 200)


@allow(*STAFF_ROLES)
async def list_rides(request: web.Request) -> web.Response:
    """List rides by status, due time, subscriber or walk-in phone, latest due first."""
    query = request.query
    phone = query.get("phone")
    wanted = RideFilter(
        statuses=frozenset(_enum(RideStatus, s.strip(), "status") for s in query.get("status", "").split(",")
                           if s.strip()),
        since=parse_time(query.get("since"), "since", _zone(request)),
        until=parse_time(query.get("until"), "until", _zone(request)),
        subscriber_id=_positive(query.get("subscriber_id"), "subscriber_id"),
        phone=parse_phone(phone, _plan(request)).e164 if phone else None,
        limit=min(_positive(query.get("limit"), "limit") or 100, MAX_LISTED),
    )
    rides = await booking.list_rides(_desk(request), wanted)
    return web.json_response({"rides": [_ride_json(r) for r in rides]})


@allow(*STAFF_ROLES)
async def get_ride(request: web.Request) -> web.Response:
    """Show a ride with every step of its history and every offer made for it."""
    record = await booking.get_ride(_desk(request), _ride_id(request))
    return web.json_response({"ride": _ride_json(record.ride), "events": [step_json(s) for s in record.steps],
                              "offers": [offer_json(o) for o in record.offers]})


@allow(*STAFF_ROLES)
async def cancel_ride(request: web.Request) -> web.Response:
    """Cancel a ride that has not started; the reason is required and kept in its history."""
    body = await json_object(request)
    reason = optional(body, "reason", str, max_length=MAX_REASON)
    ride = await booking.cancel(_desk(request), _ride_id(request), _actor(request), reason, datetime.now(UTC))
    return web.json_response({"ride": _ride_json(ride)})


@allow(*STAFF_ROLES)
async def change_route(request: web.Request) -> web.Response:
    """Change a ride's pickup or destination before the passenger is aboard."""
    body = await json_object(request)
    pickup, destination = _place(body, "pickup"), _place(body, "destination")
    ride = await booking.change_route(_desk(request), _ride_id(request), _actor(request), pickup, destination,
                                      datetime.now(UTC))
    return web.json_response({"ride": _ride_json(ride)})


def _desk(request: web.Request) -> RideDesk:
    app = request.app
    settings, runtime = app[SETTINGS], app[RUNTIME]
    return RideDesk(app[DB], app[PUBLISHER], _plan(request), settings.timezone,
                    release_lead=timedelta(minutes=settings.prebooking_lead_minutes), dispatcher=runtime.dispatcher,
                    quoter=app[PRICER], zone_code_at=runtime.zone_map.code_at, service_bounds=runtime.service_bounds)


def _zone(request: web.Request) -> ZoneInfo:
    # A time without an offset is the center's wall clock: that is what an operator types.
    return request.app[SETTINGS].timezone


def _plan(request: web.Request) -> PhonePlan:
    settings = request.app[SETTINGS]
    return PhonePlan(settings.phone_region, settings.area_code)


def _actor(request: web.Request) -> Actor:
    return Actor(ActorKind.OPERATOR, request[PRINCIPAL].id)


def _booking_request(body: dict[str, Any], request: web.Request) -> BookingRequest:
    pickup = _place(body, "pickup")
    passengers = optional(body, "passengers", int)
    if pickup is None:
        raise InvalidInput("'pickup' is required.", code="missing_field")
    return BookingRequest(
        pickup=pickup, destination=_place(body, "destination"),
        subscriber_id=optional(body, "subscriber_id", int), call_id=optional(body, "call_id", int),
        walk_in_name=optional(body, "walk_in_name", str, max_length=booking.MAX_NAME),
        walk_in_phone=optional(body, "walk_in_phone", str, max_length=40),
        passengers=1 if passengers is None else passengers,
        vehicle_class=_enum(VehicleClass, optional(body, "vehicle_class", str) or "sedan", "vehicle_class"),
        notes_for_driver=optional(body, "notes_for_driver", str, max_length=booking.MAX_NOTES),
        pickup_at=parse_time(optional(body, "pickup_at", str), "pickup_at", _zone(request)),
        confirm_duplicate=optional(body, "confirm_duplicate", bool) or False,
        confirm_blocked=optional(body, "confirm_blocked", bool) or False,
    )


def _place(body: dict[str, Any], name: str) -> PlaceRequest | None:
    raw = optional(body, name, dict)
    if raw is None:
        return None
    return PlaceRequest(
        address_id=optional(raw, "address_id", int),
        text=optional(raw, "text", str, max_length=booking.MAX_PLACE_TEXT),
        landmark=optional(raw, "landmark", str, max_length=booking.MAX_LANDMARK),
        lat=_number(raw, "lat"), lng=_number(raw, "lng"),
    )


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"'{name}' must be a number.", code="wrong_type")
    return float(value)


def _enum(kind: type[E], raw: str, name: str) -> E:
    try:
        return kind(raw)
    except ValueError:
        options = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"'{name}' must be one of {options}.", code="invalid_choice") from None


def _positive(raw: str | None, name: str) -> int | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19 and int(raw) > 0):
        raise InvalidInput(f"'{name}' must be a positive whole number.", code="wrong_type")
    return int(raw)


def _ride_id(request: web.Request) -> int:
    return path_id(request, "ride_id", "ride")


def _ride_json(ride: Ride) -> dict[str, Any]:
    return ride_json(ride)
