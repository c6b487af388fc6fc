"""HTTP routes of zones: admins draw and change them, staff list them and watch their rank queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dispatch import zone_service, zones
from dispatch.fares import Weekday
from dispatch.model import StrategyWindow, Zone, ZoneId
from dispatch.zone_keys import ZONE_MAP, ZONE_QUEUES
from dispatch.zone_queue import ZoneQueues
from dispatch.zone_service import WaitingDriver, ZoneDesk, ZoneMap
from taxicrm.auth import STAFF_ROLES, Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, REDIS, SETTINGS
from taxicrm.validation import json_object, path_id


def setup(app: web.Application) -> None:
    """Register the zone routes and the zone map and queues they work with."""
    app.cleanup_ctx.append(_zone_map_and_queues)
    app.router.add_get("/api/zones", list_zones)
    app.router.add_post("/api/zones", create_zone)
    app.router.add_get("/api/zones/{zone_id}", get_zone)
    app.router.add_patch("/api/zones/{zone_id}", change_zone)
    app.router.add_delete("/api/zones/{zone_id}", deactivate_zone)
    app.router.add_get("/api/zones/{zone_id}/queue", zone_queue)


async def _zone_map_and_queues(app: web.Application) -> AsyncIterator[None]:
    zone_map = ZoneMap(app[DB])
    await zone_map.refresh()
    app[ZONE_MAP] = zone_map
    app[ZONE_QUEUES] = ZoneQueues(app[REDIS])
    refresher = asyncio.create_task(zone_map.run(), name="dispatch-zone-refresher")
    try:
        yield
    finally:
        refresher.cancel()
        await asyncio.wait({refresher})


@allow(*STAFF_ROLES)
async def list_zones(request: web.Request) -> web.Response:
    """List the active zones by code; `?include_inactive=true` adds the deactivated ones."""
    flag = request.query.get("include_inactive", "false").lower()
    if flag not in {"true", "false"}:
        raise InvalidInput("'include_inactive' must be true or false.", code="wrong_type")
    found = await zone_service.list_zones(request.app[DB], include_inactive=flag == "true")
    return web.json_response({"zones": [_zone_json(z, request) for z in found]})


@allow(Role.ADMIN)
async def create_zone(request: web.Request) -> web.Response:
    """Draw a zone with its border, default strategy and strategy windows."""
    fields = zones.parse_zone(await json_object(request), _allowed(request), creating=True)
    zone = await zone_service.create_zone(_desk(request), fields, datetime.now(UTC))
    return web.json_response({"zone": _zone_json(zone, request)}, status=201)


@allow(*STAFF_ROLES)
async def get_zone(request: web.Request) -> web.Response:
    """Show a zone, active or not."""
    zone = await zone_service.get_zone(request.app[DB], _zone_id(request))
    return web.json_response({"zone": _zone_json(zone, request)})


@allow(Role.ADMIN)
async def change_zone(request: web.Request) -> web.Response:
    """Change the fields sent (windows: null clears them); `is_active: true` brings a zone back."""
    zone_id = _zone_id(request)
    fields = zones.parse_zone(await json_object(request), _allowed(request), creating=False)
    zone = await zone_service.change_zone(_desk(request), zone_id, fields, datetime.now(UTC))
    return web.json_response({"zone": _zone_json(zone, request)})


@allow(Role.ADMIN)
async def deactivate_zone(request: web.Request) -> web.Response:
    """Deactivate a zone: it leaves dispatch and its queue empties, but it and its code stay on record."""
    zone = await zone_service.deactivate_zone(_desk(request), _zone_id(request), datetime.now(UTC))
    return web.json_response({"zone": _zone_json(zone, request)})


@allow(*STAFF_ROLES)
async def zone_queue(request: web.Request) -> web.Response:
    """Show the drivers waiting in a zone's rank queue, the next to be offered first, with their join times."""
    zone, waiting = await zone_service.zone_queue(_desk(request), _zone_id(request))
    return web.json_response({"zone": _zone_json(zone, request), "queue": [_waiting_json(w) for w in waiting]})


def _desk(request: web.Request) -> ZoneDesk:
    return ZoneDesk(request.app[DB], request.app[ZONE_MAP], request.app[ZONE_QUEUES])


def _allowed(request: web.Request) -> zones.Bounds:
    settings = request.app[SETTINGS]
    return zones.service_bounds(settings.service_area, settings.service_area_margin_km)


def _zone_id(request: web.Request) -> ZoneId:
    return ZoneId(path_id(request, "zone_id", "zone"))


def _zone_json(zone: Zone, request: web.Request) -> dict[str, Any]:
    now = datetime.now(request.app[SETTINGS].timezone)
    return {
        "id": zone.id, "code": zone.code, "name": zone.name, "polygon": [list(vertex) for vertex in zone.polygon],
        "default_strategy": zone.default_strategy.value, "windows": [_window_json(w) for w in zone.windows],
        # What the console shows beside the zone: the strategy a pickup there gets right now.
        "strategy_now": zones.strategy_at(zone, now).value,
        "is_active": zone.is_active, "updated_at": zone.updated_at.isoformat(),
    }


def _window_json(window: StrategyWindow) -> dict[str, Any]:
    return {"days": [Weekday(d).name.lower() for d in sorted(window.days)], "start": f"{window.start:%H:%M}",
            "end": f"{window.end:%H:%M}", "strategy": window.strategy.value}


def _waiting_json(waiting: WaitingDriver) -> dict[str, Any]:
    return {"place": waiting.place, "driver_id": waiting.driver_id, "name": waiting.name,
            "joined_at": waiting.joined_at.isoformat()}
