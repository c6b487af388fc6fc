"""The driver app's side of its websocket: state on connect, commands in, offers and ride news out.

The protocol is documented for app developers in docs/driver-protocol.md; keep the two in step.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from dispatch import events, ride_store
from dispatch.errors import DriverBusy, OfferNotFound, OutsideServiceArea, RideNotFound
from dispatch.keys import RUNTIME
from dispatch.model import DriverAvailability, DriverId, Ride, RideId, RideStatus
from dispatch.positions import check_coordinates
from dispatch.runtime import DispatchRuntime
from dispatch.traces import TracePoint
from realtime import messages
from realtime.broadcasts import BROADCAST_SENT
from realtime.messages import Message
from taxicrm.auth import Principal
from taxicrm.errors import InvalidInput
from taxicrm.events import PublishedEvent
from taxicrm.validation import optional, required

log = logging.getLogger(__name__)

# What the app may say about itself; `busy` and `unreachable` are the center's to set.
APP_STATUSES = frozenset({DriverAvailability.AVAILABLE, DriverAvailability.ON_BREAK, DriverAvailability.OFFLINE})
# An uploaded trace fix must lie between a day ago and a little ahead (phone clocks drift).
MAX_TRACE_AGE = timedelta(days=1)
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_TRACE_UPLOAD = 5_000
MAX_REASON = 300
# Ids are PostgreSQL bigints: a number past them names nothing (and must be refused, not sent to the database).
MAX_ID = 2**63 - 1
# Ride news the driver's app gets as {"type": "ride", "event": ...}.
_RIDE_TOPICS = {topic: status.value for status, topic in events.STATUS_TOPICS.items()} | {"ride.changed": "changed"}

# Words from the center: a supervisor's broadcast to every driver, or a message to this one.
_MESSAGE_TOPICS = frozenset({BROADCAST_SENT, events.DRIVER_MESSAGE})

Handler = Callable[["DriverConversation", dict[str, Any]], Awaitable[list[Message]]]


class DriverConversation:
    """One driver app connection."""

    def __init__(self, request: web.Request, principal: Principal) -> None:
        self.runtime: DispatchRuntime = request.app[RUNTIME]
        self.driver_id = DriverId(principal.id)
        self.connection = uuid.uuid4().hex
        self._status: DriverAvailability | None = None
        self.ride: Ride | None = None
        self._refreshed_at = datetime.now(UTC)
        # Commands are answered one at a time. News of the ride heard while one is under way is most often that
        # command's own change, and its result brings the ride as committed: reloading waits until it is known.
        self._answering = False
        self._heard_while_answering: Mapping[str, Any] | None = None

    @property
    def status(self) -> DriverAvailability | None:
        """What this connection knows of its driver's availability."""
        return self._status

    @status.setter
    def status(self, status: DriverAvailability | None) -> None:
        self._status = status
        # A fix buffered before the change must not put the driver in (or keep them out of) a rank queue.
        self.runtime.fleet.note_availability(self.driver_id, status is DriverAvailability.AVAILABLE)

    # The Conversation protocol (see realtime/conversations.py).

    async def opening(self) -> list[Message]:
        """Mark the driver connected and send the state the app must show: its ride, or its pending offer."""
        await self.runtime.presence.connect(self.driver_id, self.connection)
        return [await self.state()]

    async def answer(self, command: dict[str, Any]) -> list[Message]:
        """Act on one command from the app."""
        handler = HANDLERS.get(command["type"])
        if handler is None:
            return [messages.error("unknown_type", f"Unknown message type '{str(command['type'])[:40]}'.")]
        await self.heard()
        self._answering = True
        try:
            return await handler(self, command)
        finally:
            self._answering = False
            heard, self._heard_while_answering = self._heard_while_answering, None
            if heard is not None and not self._knows(heard):
                self._reload_soon()

    async def heard(self) -> None:
        """Keep the driver alive in dispatch and marked connected (written with the fleet's next flush)."""
        now = datetime.now(UTC)
        self.runtime.positions.heard(self.driver_id, now)
        if now - self._refreshed_at > self.runtime.presence_refresh:
            self._refreshed_at = now
            self.runtime.presence.alive(self.driver_id, self.connection)

    def render(self, event: PublishedEvent) -> Message | None:
        """Turn the driver's events into protocol messages, keeping this connection's view of its ride."""
        data = dict(event.data)
        if event.topic == "offer.made":
            return {"type": "offer", **data}
        if event.topic == "offer.withdrawn":
            return {"type": "offer_withdrawn", **data}
        if event.topic in _MESSAGE_TOPICS:
            return {"type": "message", "text": data.get("message"), "sender": data.get("sender"),
                    "sent_at": data.get("sent_at")}
        if event.topic in _RIDE_TOPICS and "job" in data:
            self._follow(data["job"])
            return {"type": "ride", "event": _RIDE_TOPICS[event.topic], **data}
        return messages.event(event)

    async def close(self) -> None:
        """Mark the driver gone; a pending offer waits the reconnect grace, then goes to the next driver."""
        try:
            await self.runtime.presence.disconnect(self.driver_id, self.connection)
        except Exception:  # The mark lapses by itself; the rest of the clean-up must still run.
            log.warning("could not clear driver %s's connection mark", self.driver_id, exc_info=True)
        self.runtime.dispatcher.spawn(self._release_offer_if_gone(), f"driver {self.driver_id} reconnect grace")

    async def _release_offer_if_gone(self) -> None:
        await asyncio.sleep(self.runtime.reconnect_grace.total_seconds())
        if not await self.runtime.presence.is_connected(self.driver_id):
            await self.runtime.dispatcher.driver_lost(self.driver_id)

    # The state.

    async def state(self) -> Message:
        """Return everything the app must show now."""
        runtime = self.runtime
        # Redis restarted empty knows no status: this connection's stands, and its next position writes it back.
        self.status = await runtime.positions.status_of(self.driver_id) or self.status
        async with runtime.pool.acquire() as conn:
            self.ride = await ride_store.active_ride_of_driver(conn, self.driver_id)
        pending = None if self.ride else await runtime.dispatcher.pending_offer_of(self.driver_id)
        now = datetime.now(UTC)
        return {
            "type": "state", "driver_id": self.driver_id,
            "status": None if self.status is None else self.status.value,
            "ride": None if self.ride is None else events.job_json(self.ride),
            "offer": None if pending is None else events.offer_for_driver(*pending, now),
            "server_time": now.isoformat(),
        }

    def _follow(self, job: Mapping[str, Any]) -> None:
        """Track the ride this connection's driver is on from the news about it."""
        status = RideStatus(job["status"])
        if status in (RideStatus.ASSIGNED, RideStatus.ARRIVED, RideStatus.ON_BOARD):
            self.status = DriverAvailability.BUSY
            if self._answering:
                self._heard_while_answering = job
            elif not self._knows(job):
                self._reload_soon()
        elif self.ride is not None and self.ride.id == job["ride_id"]:
            self.ride = None
            self.status = DriverAvailability.AVAILABLE

    def _knows(self, job: Mapping[str, Any]) -> bool:
        """Whether this connection's view of its ride already is the ride in that news."""
        return (self.ride is not None and self.ride.id == job["ride_id"]
                and self.ride.status is RideStatus(job["status"]))

    def _reload_soon(self) -> None:
        self.runtime.dispatcher.spawn(self._reload_ride(), f"driver {self.driver_id} ride reload")

    async def _reload_ride(self) -> None:
        async with self.runtime.pool.acquire() as conn:
            self.ride = await ride_store.active_ride_of_driver(conn, self.driver_id)

    @property
    def on_trip(self) -> RideId | None:
        """The ride whose trace this driver's fixes belong to, if the passenger is aboard."""
        return self.ride.id if self.ride is not None and self.ride.status is RideStatus.ON_BOARD else None


# Commands.

async def _position(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    point = _point(command, c.runtime, datetime.now(UTC))
    available = c.status is DriverAvailability.AVAILABLE
    c.runtime.fleet.record(c.driver_id, point, is_available=available, on_trip=c.on_trip, status=c.status)
    return []  # Positions come every few seconds: no reply, unless something is wrong.


async def _status(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    raw = required(command, "status", str, max_length=20)
    if raw not in APP_STATUSES:
        raise InvalidInput(f"'status' must be one of {', '.join(sorted(APP_STATUSES))}.", code="invalid_choice")
    status = DriverAvailability(raw)
    if status is DriverAvailability.AVAILABLE:
        async with c.runtime.pool.acquire() as conn:
            ride = await ride_store.active_ride_of_driver(conn, c.driver_id)
        if ride is not None:
            raise DriverBusy(f"You are on ride {ride.id}; finish it before taking new jobs.")
    now = datetime.now(UTC)
    await c.runtime.set_driver_status(c.driver_id, status, now)
    c.status = status
    return [{"type": "status", "status": status.value}]


async def _accept(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    ride = await c.runtime.dispatcher.accept(c.driver_id, _offer_id(command))
    c.ride, c.status = ride, DriverAvailability.BUSY
    return [{"type": "accepted", "offer_id": command["offer_id"], "job": events.job_json(ride)}]


async def _decline(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    offer_id = _offer_id(command)
    await c.runtime.dispatcher.decline(c.driver_id, offer_id, _reason(command))
    return [{"type": "declined", "offer_id": offer_id}]


async def _arrived(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    return _job(c, "arrived", await c.runtime.trips.arrive(c.driver_id, _ride_id(command), c.ride))


async def _picked_up(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    return _job(c, "on_board", await c.runtime.trips.pick_up(c.driver_id, _ride_id(command), c.ride))


async def _completed(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    ride_id = _ride_id(command)
    now = datetime.now(UTC)
    trace = optional(command, "trace", list, max_length=MAX_TRACE_UPLOAD) or []
    points = [_point(_fix(item), c.runtime, now, keep_device_time=True) for item in trace]
    return _job(c, "completed", await c.runtime.trips.complete(c.driver_id, ride_id, points, c.ride))


async def _no_show(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    return _job(c, "no_show", await c.runtime.trips.no_show(c.driver_id, _ride_id(command), _reason(command), c.ride))


async def _check_in(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    queued = await c.runtime.check_in(c.driver_id, required(command, "zone_id", int), datetime.now(UTC))
    return [{"type": "checked_in", "zone_id": queued.zone_id, "place": queued.place,
             "joined_at": queued.joined_at.isoformat()}]


async def _send_state(c: DriverConversation, command: dict[str, Any]) -> list[Message]:
    return [await c.state()]


HANDLERS: Mapping[str, Handler] = {
    "position": _position,
    "status": _status,
    "accept": _accept,
    "decline": _decline,
    "arrived": _arrived,
    "picked_up": _picked_up,
    "completed": _completed,
    "no_show": _no_show,
    "check_in": _check_in,
    "state": _send_state,
}


def _job(c: DriverConversation, event: str, ride: Ride) -> list[Message]:
    finished = ride.status in (RideStatus.COMPLETED, RideStatus.NO_SHOW)
    c.ride = None if finished else ride
    c.status = DriverAvailability.AVAILABLE if finished else DriverAvailability.BUSY
    return [{"type": "ride", "event": event, "job": events.job_json(ride)}]


def _ride_id(command: dict[str, Any]) -> RideId:
    ride_id = required(command, "ride_id", int)
    if not 0 < ride_id <= MAX_ID:
        raise RideNotFound(ride_id)
    return RideId(ride_id)


def _offer_id(command: dict[str, Any]) -> int:
    offer_id = required(command, "offer_id", int)
    if not 0 < offer_id <= MAX_ID:
        raise OfferNotFound(offer_id)
    return offer_id


def _reason(command: dict[str, Any]) -> str | None:
    text = " ".join((optional(command, "reason", str, max_length=MAX_REASON) or "").split())
    return text or None


def _fix(item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidInput("Each trace fix must be an object with lat, lng and at.", code="malformed_trace")
    return item


def _point(command: dict[str, Any], runtime: DispatchRuntime, now: datetime, *,
           keep_device_time: bool = False) -> TracePoint:
    """Read a fix, refusing coordinates off the map or far outside the service area."""
    lat, lng = _number(command, "lat"), _number(command, "lng")
    if lat is None or lng is None:
        raise InvalidInput("'lat' and 'lng' must be numbers.", code="invalid_coordinates")
    check_coordinates(lat, lng)
    if not runtime.service_bounds.contains(lat, lng):
        raise OutsideServiceArea(f"{lat:.5f}, {lng:.5f} is far outside the service area; check the phone's GPS.")
    accuracy = _number(command, "accuracy")
    if "accuracy" in command and command["accuracy"] is not None and (accuracy is None or not 0 <= accuracy <= 1e5):
        raise InvalidInput("'accuracy' must be a number of metres.", code="invalid_accuracy")
    return TracePoint(lat, lng, _fix_time(command.get("at"), now, keep_device_time), accuracy)


def _number(command: dict[str, Any], name: str) -> float | None:
    value = command.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _fix_time(raw: object, now: datetime, keep_device_time: bool) -> datetime:
    """Stamp a live fix on arrival; keep the app's time for a fix it kept offline (a trace upload), if sane."""
    if raw is None and not keep_device_time:
        return now
    try:
        at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidInput("'at' must be an ISO 8601 time with its offset.", code="invalid_time")
    if not keep_device_time:
        return now  # Freshness must not depend on the phone's clock.
    if not now - MAX_TRACE_AGE <= at <= now + MAX_CLOCK_SKEW:
        raise InvalidInput(f"Trace fix time {raw} is not within the last day.", code="invalid_time")
    return at
