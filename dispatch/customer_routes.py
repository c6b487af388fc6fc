"""HTTP routes of the customer page (public, under /api/public/), and the tracking-token authenticator.

Anyone may ask for a quote or book; a booking answers with a tracking token, and whoever holds it may follow
that one ride (over HTTP, or live on /ws/rider as a RIDER) and cancel it before pickup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from dispatch import customer_service
from dispatch.booking import MAX_LANDMARK, MAX_NAME, MAX_NOTES, MAX_PLACE_TEXT, PlaceRequest, RideDesk
from dispatch.customer_service import CustomerDesk, CustomerRequest
from dispatch.customers import ArrivalModel
from dispatch.errors import InvalidCoordinates
from dispatch.keys import PRICER, RUNTIME
from dispatch.model import VehicleClass
from dispatch.positions import check_coordinates
from dispatch.pricing import quote_json
from dispatch.ride_routes import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH
from dispatch.traces import LatLng
from dispatch.zones import Bounds
from subscribers.phones import MAX_RAW_LENGTH, PhonePlan
from taxicrm.auth import Principal, Role, bearer_token, public
from taxicrm.errors import InvalidInput
from taxicrm.keys import AUTHENTICATORS, DB, PUBLISHER, REDIS, SETTINGS
from taxicrm.remote import client_address
from taxicrm.validation import json_object, optional, required

# Keys from one shared namespace of anonymous bookers must be random to be unique: the page sends a UUID.
MIN_KEY_LENGTH = 16
MAX_REASON = 500
DESK = web.AppKey("dispatch.customer_desk", CustomerDesk)


def setup(app: web.Application) -> None:
    """Register the customer page's routes and the tracking-token authenticator (after dispatch's runtime)."""
    app.cleanup_ctx.append(_desk)
    app[AUTHENTICATORS].append(authenticate_rider)
    app.router.add_post("/api/public/fares/quote", quote_fare)
    app.router.add_post("/api/public/rides", book_ride)
    app.router.add_get("/api/public/rides/{token}", follow_ride)
    app.router.add_post("/api/public/rides/{token}/cancel", cancel_ride)


async def _desk(app: web.Application) -> AsyncIterator[None]:
    # Runs after dispatch's runtime context, so the dispatcher and live positions exist.
    settings, runtime = app[SETTINGS], app[RUNTIME]
    rides = RideDesk(app[DB], app[PUBLISHER], PhonePlan(settings.phone_region, settings.area_code),
                     settings.timezone, release_lead=timedelta(minutes=settings.prebooking_lead_minutes),
                     dispatcher=runtime.dispatcher, quoter=app[PRICER], zone_code_at=runtime.zone_map.code_at,
                     service_bounds=runtime.service_bounds)
    app[DESK] = CustomerDesk(
        rides=rides, quoter=app[PRICER], redis=app[REDIS], positions=runtime.positions,
        service_area=Bounds(*settings.service_area), bookings_per_hour=settings.customer_bookings_per_hour,
        arrival=ArrivalModel(settings.road_factor, settings.average_speed_kmh,
                             timedelta(seconds=settings.position_freshness_seconds)),
    )
    yield


async def authenticate_rider(request: web.Request) -> Principal | None:
    """Recognise the customer following a ride by its tracking token: a bearer, or `?token=` on a websocket."""
    token = bearer_token(request)
    if token is None and request.headers.get("Upgrade", "").lower() == "websocket":
        token = request.query.get("token")
    if not token:
        return None
    ride_id = await customer_service.rider_for_token(request.app[DESK], token)
    return None if ride_id is None else Principal(role=Role.RIDER, id=ride_id, name="rider")


@public
async def quote_fare(request: web.Request) -> web.Response:
    """Quote a trip from a pickup inside the service area, itemised, with its estimated distance and duration."""
    body = await json_object(request)
    pickup, destination = _point(body, "pickup"), _point(body, "destination")
    vehicle_class = _vehicle_class(body)
    quoted = await customer_service.quote(request.app[DESK], pickup, destination, vehicle_class,
                                          client_address(request), datetime.now(UTC))
    return web.json_response({"quote": {**quote_json(quoted), "vehicle_class": vehicle_class.value}})


@public
async def book_ride(request: web.Request) -> web.Response:
    """Book a ride for a mobile number; a retry with the same Idempotency-Key finds the ride booked the first time."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(f"Send an {IDEMPOTENCY_HEADER} header of {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} random "
                           "characters, new for each booking and the same for its retries.",
                           code="idempotency_key_required")
    asked = _customer_request(await json_object(request))
    booked = await customer_service.book(request.app[DESK], asked, key, client_address(request), datetime.now(UTC))
    return web.json_response({"token": booked.token, **booked.view}, status=201 if booked.is_new else 200)


@public
async def follow_ride(request: web.Request) -> web.Response:
    """Show the customer their ride: its state, route, price, driver, car and estimated arrival."""
    view = await customer_service.view(request.app[DESK], request.match_info["token"], datetime.now(UTC))
    return web.json_response(view, headers={"Cache-Control": "no-store"})


@public
async def cancel_ride(request: web.Request) -> web.Response:
    """Cancel the ride before pickup; the driver on the way is told at once."""
    reason = optional(await json_object(request), "reason", str, max_length=MAX_REASON)
    view = await customer_service.cancel(request.app[DESK], request.match_info["token"], reason, datetime.now(UTC))
    return web.json_response(view)


def _customer_request(body: dict[str, Any]) -> CustomerRequest:
    pickup = _place(body, "pickup")
    if pickup is None:
        raise InvalidInput("'pickup' is required.", code="missing_field")
    return CustomerRequest(
        phone=required(body, "phone", str, max_length=MAX_RAW_LENGTH), pickup=pickup,
        name=optional(body, "name", str, max_length=MAX_NAME), destination=_place(body, "destination"),
        vehicle_class=_vehicle_class(body),
        notes_for_driver=optional(body, "notes_for_driver", str, max_length=MAX_NOTES),
    )


def _place(body: dict[str, Any], name: str) -> PlaceRequest | None:
    """Read a typed place with an optional point; customers have no saved addresses to name."""
    raw = optional(body, name, dict)
    if raw is None:
        return None
    point = _point(body, name) if raw.get("lat") is not None or raw.get("lng") is not None else None
    return PlaceRequest(text=optional(raw, "text", str, max_length=MAX_PLACE_TEXT),
                        landmark=optional(raw, "landmark", str, max_length=MAX_LANDMARK),
                        lat=None if point is None else point.lat, lng=None if point is None else point.lng)


def _point(body: dict[str, Any], name: str) -> LatLng:
    raw = required(body, name, dict)
    lat, lng = raw.get("lat"), raw.get("lng")
    if lat is None or lng is None:
        raise InvalidCoordinates(f"'{name}' needs both 'lat' and 'lng'.")
    check_coordinates(lat, lng)
    return LatLng(float(lat), float(lng))


def _vehicle_class(body: dict[str, Any]) -> VehicleClass:
    raw = optional(body, "vehicle_class", str) or VehicleClass.SEDAN.value
    try:
        return VehicleClass(raw)
    except ValueError:
        options = ", ".join(c.value for c in VehicleClass)
        raise InvalidInput(f"'vehicle_class' must be one of {options}.", code="invalid_choice") from None
