"""Rules of the customer page: whose number may book, how often, and what a customer sees of their ride.

What the customer sees is built here field by field from a short list, so nothing private (an operator's notes,
the driver's phone or licence, another customer) can reach them by a field being added elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.errors import MobileRequired
from dispatch.fares import estimate_trip
from dispatch.model import DriverProfile, LivePosition, Place, Ride, RideAction, RideStatus
from dispatch.rides import TRANSITIONS
from dispatch.traces import LatLng
from subscribers.phones import Phone, PhoneKind

BOOKING_WINDOW_SECONDS = 3600
QUOTE_WINDOW_SECONDS = 60
# A person moving pins on a map asks for a few quotes a minute; a scraper asks for hundreds.
QUOTES_PER_MINUTE = 30
# The driver reads this when the customer gives no name.
DEFAULT_NAME = "Online customer"
CANCEL_REASON = "Cancelled by the customer on the booking page."

# Who is driving is the customer's business from the accept on; a cancelled ride's driver no longer is.
DRIVER_SHOWN = frozenset({RideStatus.ASSIGNED, RideStatus.ARRIVED, RideStatus.ON_BOARD, RideStatus.COMPLETED})
# Where the car is, only while it is coming or carrying the customer.
POSITION_SHOWN = frozenset({RideStatus.ASSIGNED, RideStatus.ARRIVED, RideStatus.ON_BOARD})
# The customer may cancel exactly when the state machine lets a customer cancel: until they are aboard.
CANCELLABLE = frozenset(status for (status, action) in TRANSITIONS if action is RideAction.CANCEL)
# The lines of a fare a customer may read; the rest (tariff ids, the metered trace) is the center's.
_PRICE_FIELDS = ("total_rials", "lines", "distance_m", "duration_s")


@dataclass(frozen=True)
class ArrivalModel:
    """How arrival times are estimated: the road factor and average speed quotes use, and when a fix is too old."""

    road_factor: float
    average_speed_kmh: float
    freshness: timedelta


@dataclass(frozen=True)
class Arrival:
    """When the car should reach where it is going next (the pickup, or the destination once aboard)."""

    to: str
    distance_m: int
    seconds: int
    at: datetime


def check_mobile(phone: Phone) -> None:
    """Refuse anything but a mobile number: the driver must be able to reach the passenger at the kerb."""
    if phone.kind is not PhoneKind.MOBILE:
        raise MobileRequired()


def booking_limit_keys(e164: str, address: str | None) -> list[str]:
    """Name the counters of bookings per phone and per client address."""
    return [f"taxicrm:customer-bookings:phone:{e164}", f"taxicrm:customer-bookings:addr:{address or '-'}"]


def quote_limit_keys(address: str | None) -> list[str]:
    """Name the counter of quotes per client address."""
    return [f"taxicrm:customer-quotes:addr:{address or '-'}"]


def can_cancel(status: RideStatus) -> bool:
    """Tell whether the customer may still cancel a ride in this status."""
    return status in CANCELLABLE


def fresh_position(position: LivePosition | None, now: datetime, model: ArrivalModel) -> LivePosition | None:
    """Return the driver's position if it is recent enough to show and estimate from, else None."""
    return position if position is not None and now - position.last_seen <= model.freshness else None


def estimate_arrival(ride: Ride, position: LivePosition | None, now: datetime, model: ArrivalModel) -> Arrival | None:
    """Estimate when the car reaches the pickup (driver on the way) or the destination (customer aboard)."""
    if position is None:
        return None
    target = {RideStatus.ASSIGNED: ("pickup", ride.pickup), RideStatus.ON_BOARD: ("destination", ride.destination)}
    to, place = target.get(ride.status, ("", None))
    if place is None or place.lat is None or place.lng is None:
        return None
    trip = estimate_trip(LatLng(position.lat, position.lng), LatLng(place.lat, place.lng), started_at=now,
                         road_factor=model.road_factor, average_speed_kmh=model.average_speed_kmh)
    return Arrival(to, trip.distance_m, trip.duration_s, now + timedelta(seconds=trip.duration_s))


def customer_view(ride: Ride, driver: DriverProfile | None, position: LivePosition | None,
                  arrival: Arrival | None) -> dict[str, Any]:
    """Render a self-service ride as its customer may see it: its state, route and price, the car and its arrival."""
    shown_driver = driver if ride.status in DRIVER_SHOWN and driver is not None else None
    shown_position = position if ride.status in POSITION_SHOWN and shown_driver is not None else None
    return {
        "ride": {
            "id": ride.id, "status": ride.status.value, "version": ride.version,
            "pickup": _place(ride.pickup), "destination": _place(ride.destination),
            "vehicle_class": ride.vehicle_class.value, "passengers": ride.passengers,
            "pickup_at": _iso(ride.pickup_at), "booked_at": _iso(ride.created_at),
            "assigned_at": _iso(ride.assigned_at), "arrived_at": _iso(ride.arrived_at),
            "picked_up_at": _iso(ride.picked_up_at), "finished_at": _iso(ride.finished_at),
            "quote": _price(ride.quote), "fare": _price(ride.fare),
            "cancelled_by": None if ride.cancelled_by is None else ride.cancelled_by.kind.value,
            "can_cancel": can_cancel(ride.status),
        },
        "driver": None if shown_driver is None else {
            "name": shown_driver.name, "vehicle_make": shown_driver.vehicle_make,
            "vehicle_model": shown_driver.vehicle_model, "vehicle_colour": shown_driver.vehicle_colour,
            "vehicle_class": shown_driver.vehicle_class.value, "plate": shown_driver.plate_display,
            "position": None if shown_position is None else {
                "lat": shown_position.lat, "lng": shown_position.lng, "seen_at": shown_position.last_seen.isoformat()},
        },
        "arrival": None if arrival is None or shown_position is None else {
            "to": arrival.to, "distance_m": arrival.distance_m, "seconds": arrival.seconds,
            "at": arrival.at.isoformat()},
    }


def _place(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"text": place.text, "landmark": place.landmark, "lat": place.lat, "lng": place.lng}


def _price(rendered: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if rendered is None:
        return None
    return {name: rendered[name] for name in _PRICE_FIELDS if name in rendered}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
