"""The events dispatch publishes, and the JSON shapes of rides and offers they carry.

Every ride event to the console carries the whole ride (`ride_json`), so the board can put it in place
whatever it missed; drivers get the smaller, driver-facing shapes (`offer_json`, `job_json`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dispatch.model import Channel, DriverAvailability, DriverId, Offer, Place, Ride, RideStatus, RideStep
from taxicrm.events import OPERATORS, Event, driver_audience, rider_audience

DRIVER_MESSAGE = "driver.message"
# What each status's event is called on the bus.
STATUS_TOPICS: Mapping[RideStatus, str] = {
    RideStatus.SCHEDULED: "ride.scheduled",
    RideStatus.REQUESTED: "ride.requested",
    RideStatus.OFFERING: "ride.offering",
    RideStatus.UNASSIGNED: "ride.unassigned",
    RideStatus.ASSIGNED: "ride.assigned",
    RideStatus.ARRIVED: "ride.arrived",
    RideStatus.ON_BOARD: "ride.on_board",
    RideStatus.COMPLETED: "ride.completed",
    RideStatus.CANCELLED: "ride.cancelled",
    RideStatus.NO_DRIVER_FOUND: "ride.no_driver_found",
    RideStatus.NO_SHOW: "ride.no_show",
}


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# Rendered field by field rather than with dataclasses.asdict, which deep-copies every value: a ride is rendered
# for every event about it, many times a second at peak.
_RIDE_FIELDS = tuple(f.name for f in dataclasses.fields(Ride) if f.name != "request_hash")
_PLACE_FIELDS = tuple(f.name for f in dataclasses.fields(Place))


def ride_json(ride: Ride) -> dict[str, Any]:
    """Render a ride for the console and the API."""
    data = {name: getattr(ride, name) for name in _RIDE_FIELDS}
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = value.isoformat()
    data["pickup"] = {name: getattr(ride.pickup, name) for name in _PLACE_FIELDS}
    if ride.destination is not None:
        data["destination"] = {name: getattr(ride.destination, name) for name in _PLACE_FIELDS}
    if ride.cancelled_by is not None:
        data["cancelled_by"] = {"kind": ride.cancelled_by.kind.value, "id": ride.cancelled_by.id}
    return data


def step_json(step: RideStep) -> dict[str, Any]:
    """Render one step of a ride's history."""
    data: dict[str, Any] = _json_safe(dataclasses.asdict(step))
    return data


def offer_json(offer: Offer) -> dict[str, Any]:
    """Render an offer for the console and the API."""
    data: dict[str, Any] = _json_safe(dataclasses.asdict(offer))
    return data


def _place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"text": place.text, "landmark": place.landmark, "lat": place.lat, "lng": place.lng}


def job_json(ride: Ride) -> dict[str, Any]:
    """Render a ride as its driver needs it: where to go, for whom, for how much, nothing private."""
    return {
        "ride_id": ride.id, "status": ride.status.value, "pickup": _place_json(ride.pickup),
        "destination": _place_json(ride.destination), "passengers": ride.passengers,
        "vehicle_class": ride.vehicle_class.value, "notes_for_driver": ride.notes_for_driver,
        "pickup_at": None if ride.pickup_at is None else ride.pickup_at.isoformat(),
        "passenger_name": ride.walk_in_name, "quote": ride.quote, "quote_locked": ride.quote_locked,
        "fare": ride.fare,
    }


def offer_for_driver(offer: Offer, ride: Ride, now: datetime) -> dict[str, Any]:
    """Render an offer for the driver's app: the job, how far its pickup is, and the time left to accept."""
    return {
        "offer_id": offer.id, **job_json(ride), "distance_to_pickup_m": offer.distance_m,
        "expires_at": offer.expires_at.isoformat(),
        "expires_in_ms": max(0, round((offer.expires_at - now).total_seconds() * 1000)),
    }


def ride_changed(ride: Ride, *, topic: str | None = None, drivers: Iterable[DriverId] = (),
                 **extra: Any) -> list[Event]:
    """Announce a ride's new state to the console, and the same news to the drivers it concerns.

    A self-service ride's customer hears that it changed and nothing more (`extra` may hold an operator's
    reason); their page reloads its own view of the ride.
    """
    name = topic or STATUS_TOPICS[ride.status]
    events = [Event(name, (OPERATORS,), {"ride": ride_json(ride), **_json_safe(extra)})]
    audiences = tuple(sorted({driver_audience(d) for d in drivers}))
    if audiences:
        events.append(Event(name, audiences, {"job": job_json(ride), **_json_safe(extra)}))
    if ride.booked_via is Channel.SELF_SERVICE:
        events.append(Event(name, (rider_audience(ride.id),),
                            {"ride_id": ride.id, "status": ride.status.value, "version": ride.version}))
    return events


def offer_made(offer: Offer, ride: Ride, now: datetime) -> Event:
    """Make the offer known to the driver it is made to."""
    return Event("offer.made", (driver_audience(offer.driver_id),), offer_for_driver(offer, ride, now))


def offer_ended(offer: Offer) -> Event:
    """Tell a driver their offer is gone (it timed out, the ride was cancelled or given to someone else)."""
    return Event("offer.withdrawn", (driver_audience(offer.driver_id),),
                 {"offer_id": offer.id, "ride_id": offer.ride_id, "status": offer.status.value,
                  "reason": offer.reason})


def message_to_driver(driver_id: DriverId, text: str, sender: Mapping[str, Any], at: datetime) -> Event:
    """Carry a message from the center to one driver's app."""
    return Event(DRIVER_MESSAGE, (driver_audience(driver_id),),
                 {"message": text, "sender": dict(sender), "sent_at": at.isoformat()})


def driver_status_changed(driver_id: DriverId, status: DriverAvailability, at: datetime) -> Event:
    """Tell the console a driver's availability changed."""
    return Event("driver.status", (OPERATORS,), {"driver_id": driver_id, "status": status.value,
                                                 "at": at.isoformat()})
