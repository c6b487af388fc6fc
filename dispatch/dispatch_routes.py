"""Live dispatch on the web: the driver websocket's conversation, manual assignment, offers, live drivers.

Also starts dispatch's machinery on the instance (see runtime.py) and stops it at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiohttp import web

from dispatch import dispatch_service, pricing
from dispatch.dispatcher import Dispatcher, DispatchPolicy
from dispatch.driver_ws import DriverConversation
from dispatch.fleet import Fleet
from dispatch.keys import PRICER, RUNTIME
from dispatch.model import Actor, ActorKind, DriverId, RideId
from dispatch.positions import LivePositions
from dispatch.presence import Presence
from dispatch.runtime import DispatchRuntime
from dispatch.trace_store import TraceBuffer
from dispatch.trips import Trips
from dispatch.zone_keys import ZONE_MAP, ZONE_QUEUES
from dispatch.zones import service_bounds
from realtime.keys import add_conversation
from taxicrm.auth import STAFF_ROLES, Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL, PUBLISHER, REDIS, SETTINGS
from taxicrm.validation import json_object, optional, parse_time, path_id, required

MAX_REASON = 500
MAX_MESSAGE_LENGTH = 500


def setup(app: web.Application) -> None:
    """Start dispatch with the app, hold drivers' websocket conversations, and add the live-dispatch routes."""
    app.cleanup_ctx.append(_runtime)
    add_conversation(app, Role.DRIVER, DriverConversation)
    app.router.add_post("/api/rides/{ride_id}/assign", assign_ride)
    app.router.add_post("/api/rides/{ride_id}/retry", retry_ride)
    app.router.add_get("/api/rides/{ride_id}/offers", ride_offers)
    app.router.add_get("/api/rides/{ride_id}/nearby-drivers", nearby_drivers)
    app.router.add_get("/api/drivers/live", live_drivers)
    app.router.add_get("/api/drivers/{driver_id}/decisions", driver_decisions)
    app.router.add_post("/api/drivers/{driver_id}/messages", message_driver)


async def _runtime(app: web.Application) -> AsyncIterator[None]:
    # Runs after the PostgreSQL, Redis, bus, pricer and zone contexts: everything it uses exists.
    settings = app[SETTINGS]
    pool, publisher, redis = app[DB], app[PUBLISHER], app[REDIS]
    positions = LivePositions(redis)
    policy = DispatchPolicy(
        offer_timeout=timedelta(seconds=settings.offer_timeout_seconds), max_tries=settings.offer_max_tries,
        freshness=timedelta(seconds=settings.position_freshness_seconds),
        silence=timedelta(seconds=settings.driver_silence_seconds),
        retry_every=timedelta(seconds=settings.unassigned_retry_seconds),
        give_up_after=timedelta(minutes=settings.unassigned_give_up_minutes),
    )
    zone_map, queues = app[ZONE_MAP], app[ZONE_QUEUES]
    dispatcher = Dispatcher(pool, publisher, positions, settings.timezone, policy, zone_map, queues)
    traces = TraceBuffer(pool)
    presence = Presence(redis, ttl=timedelta(seconds=3 * settings.ws_heartbeat_seconds))
    runtime = DispatchRuntime(
        pool=pool, publisher=publisher, positions=positions,
        fleet=Fleet(positions, traces, presence, zone_map, queues), presence=presence,
        dispatcher=dispatcher,
        trips=Trips(pool, publisher, positions, traces, app[PRICER], pricing.fare_json,
                    destination_tolerance_m=settings.destination_tolerance_m, zone_code_at=zone_map.code_at,
                    queues=queues, on_free=dispatcher.wake_near, clock=lambda: datetime.now(UTC)),
        zone_map=zone_map, queues=queues,
        service_bounds=service_bounds(settings.service_area, settings.service_area_margin_km),
        reconnect_grace=timedelta(seconds=settings.reconnect_grace_seconds),
        presence_refresh=timedelta(seconds=settings.ws_heartbeat_seconds), silence=policy.silence,
    )
    app[RUNTIME] = runtime
    loops = runtime.start()
    try:
        yield
    finally:
        for loop in loops:
            loop.cancel()
        await dispatch_service.wait_stopped(loops)
        await dispatcher.close()


def _ride_id(request: web.Request) -> RideId:
    return RideId(path_id(request, "ride_id", "ride"))


def _driver_id(request: web.Request) -> DriverId:
    return DriverId(path_id(request, "driver_id", "driver"))


def _operator(request: web.Request) -> Actor:
    return Actor(ActorKind.OPERATOR, request[PRINCIPAL].id)


@allow(*STAFF_ROLES)
async def assign_ride(request: web.Request) -> web.Response:
    """Give a ride to a driver by hand; whichever of this and a driver's accept commits first wins."""
    body = await json_object(request)
    driver_id = DriverId(required(body, "driver_id", int))
    reason = optional(body, "reason", str, max_length=MAX_REASON)
    ride = await request.app[RUNTIME].dispatcher.assign(_ride_id(request), driver_id, _operator(request), reason)
    return web.json_response({"ride": dispatch_service.ride_json(ride)})


@allow(*STAFF_ROLES)
async def retry_ride(request: web.Request) -> web.Response:
    """Offer an unassigned ride to drivers again now, or release a pre-booking to dispatch early."""
    ride = await request.app[RUNTIME].dispatcher.retry_now(_ride_id(request), _operator(request))
    return web.json_response({"ride": dispatch_service.ride_json(ride)}, status=202)


@allow(*STAFF_ROLES)
async def ride_offers(request: web.Request) -> web.Response:
    """List a ride's offers and the searches behind them: who was chosen, who was skipped, and why."""
    found = await dispatch_service.matching_record(request.app[DB], _ride_id(request))
    return web.json_response(found)


@allow(*STAFF_ROLES)
async def nearby_drivers(request: web.Request) -> web.Response:
    """List drivers near a ride's pickup, nearest first, with what stops each from taking it, for assigning by hand."""
    found = await dispatch_service.nearby_for_ride(request.app[RUNTIME], _ride_id(request), datetime.now(UTC))
    return web.json_response({"drivers": found})


@allow(*STAFF_ROLES)
async def live_drivers(request: web.Request) -> web.Response:
    """List every driver with their live status, position and last-seen time, and the counts by status."""
    return web.json_response(await dispatch_service.live_drivers(request.app[RUNTIME], datetime.now(UTC)))


@allow(Role.SUPERVISOR, Role.ADMIN)
async def driver_decisions(request: web.Request) -> web.Response:
    """Answer a driver's "why not me": the searches that looked at them and what each decided."""
    since, until = _period(request)
    found = await dispatch_service.decisions_of_driver(request.app[DB], _driver_id(request), since, until)
    return web.json_response({"decisions": found})


@allow(*STAFF_ROLES)
async def message_driver(request: web.Request) -> web.Response:
    """Send a message from the center to one driver's app (a changed pickup detail, a call-the-office)."""
    text = required(await json_object(request), "text", str, max_length=MAX_MESSAGE_LENGTH)
    stream_id = await dispatch_service.message_driver(request.app[RUNTIME], _driver_id(request), text,
                                                      request[PRINCIPAL], datetime.now(UTC))
    return web.json_response({"id": stream_id}, status=202)


def _period(request: web.Request) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    zone = request.app[SETTINGS].timezone
    since = parse_time(request.query.get("since"), "since", zone) or now - timedelta(days=1)
    until = parse_time(request.query.get("until"), "until", zone) or now
    if until <= since:
        raise InvalidInput("'until' must come after 'since'.", code="inverted_period")
    return since, until
