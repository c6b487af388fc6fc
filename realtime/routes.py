"""Realtime wiring: the bus and hub resources, the websocket routes, and floor broadcasts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import redis.asyncio as aioredis
from aiohttp import web

from realtime import ws
from realtime.broadcasts import MAX_MESSAGE_LENGTH, broadcast_sent
from realtime.bus import RedisEventBus
from realtime.hub import Hub
from realtime.keys import BUS, CONVERSATIONS, HUB
from taxicrm.auth import Role, allow
from taxicrm.keys import PRINCIPAL, PUBLISHER, REDIS, SETTINGS
from taxicrm.validation import json_object, required

log = logging.getLogger(__name__)

# Shutdown waits this long for the bus reader; it must never hang an instance that is stopping.
READER_STOP_SECONDS = 5.0


def setup(app: web.Application) -> None:
    """Add the event bus, the websocket hub and their routes to the app."""
    if CONVERSATIONS not in app:
        app[CONVERSATIONS] = {}
    app.cleanup_ctx.append(_bus_and_hub)
    app.on_shutdown.append(_close_connections)
    app.router.add_get("/ws", ws.staff_socket)
    app.router.add_get("/ws/driver", ws.driver_socket)
    app.router.add_get("/ws/rider", ws.rider_socket)
    app.router.add_post("/api/broadcasts", post_broadcast)


@allow(Role.SUPERVISOR, Role.ADMIN)
async def post_broadcast(request: web.Request) -> web.Response:
    """Announce a message to every operator (or every supervisor) connected to any instance."""
    body = await json_object(request)
    event = broadcast_sent(
        required(body, "message", str, max_length=MAX_MESSAGE_LENGTH),
        required(body, "audience", str, max_length=50),
        request[PRINCIPAL], datetime.now(UTC),
    )
    stream_id = await request.app[PUBLISHER].publish(event)
    return web.json_response({"id": stream_id}, status=202)


async def _bus_and_hub(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    # The reader blocks on a connection of its own, with no socket timeout cutting its waits short.
    reader_client = aioredis.from_url(settings.redis_url or "", decode_responses=True, socket_timeout=None)
    bus = RedisEventBus(app[REDIS], retention=settings.event_retention, reader=reader_client)
    hub = Hub(queue_size=settings.ws_queue_size)
    unsubscribe = bus.subscribe(hub.deliver)
    app[BUS] = app[PUBLISHER] = bus
    app[HUB] = hub
    reader = asyncio.create_task(bus.run(), name="realtime-bus-reader")
    reader.add_done_callback(_report_reader_death)
    try:
        yield
    finally:
        # Websockets were closed earlier, on shutdown: handlers must return before cleanup can start.
        reader.cancel()
        await asyncio.wait({reader}, timeout=READER_STOP_SECONDS)
        unsubscribe()
        await reader_client.aclose()


async def _close_connections(app: web.Application) -> None:
    # Shutdown waits for every handler to return, so open websockets must be told to close first.
    if HUB in app:
        app[HUB].stop_all()


def _report_reader_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the event bus reader stopped; this instance gets no live events",
                  exc_info=task.exception())
