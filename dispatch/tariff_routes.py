"""HTTP routes of pricing: tariff versions and the holiday calendar for admins, fare quotes for the console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from aiohttp import web

from dispatch import pricing, tariffs
from dispatch.errors import InvalidCoordinates, TariffNotFound
from dispatch.keys import PRICER
from dispatch.model import VehicleClass
from dispatch.positions import check_coordinates
from dispatch.pricing import Pricer
from dispatch.tariffs import TariffVersion
from dispatch.traces import LatLng
from dispatch.zone_keys import ZONE_MAP
from taxicrm.auth import STAFF_ROLES, Role, allow
from taxicrm.errors import InvalidInput, NotFound
from taxicrm.keys import DB, PRINCIPAL, SETTINGS
from taxicrm.validation import json_object, optional, parse_time


def setup(app: web.Application) -> None:
    """Register the tariff, holiday and quote routes, and the pricer the rest of dispatch quotes with."""
    app.cleanup_ctx.append(_pricer)
    app.router.add_get("/api/tariffs", list_tariffs)
    app.router.add_post("/api/tariffs", publish_version)
    app.router.add_get("/api/tariffs/{code}", get_tariff)
    app.router.add_post("/api/tariffs/{code}/versions/{version}/withdraw", withdraw_version)
    app.router.add_get("/api/holidays", list_holidays)
    app.router.add_put("/api/holidays", replace_holidays)
    app.router.add_post("/api/fares/quote", quote_fare)


async def _pricer(app: web.Application) -> AsyncIterator[None]:
    # Runs after the composition root's PostgreSQL context, so the pool exists.
    settings = app[SETTINGS]
    app[PRICER] = Pricer(app[DB], settings.timezone, settings.road_factor, settings.average_speed_kmh)
    yield


@allow(Role.ADMIN, Role.SUPERVISOR)
async def list_tariffs(request: web.Request) -> web.Response:
    """List every tariff with all its versions, each with its status now."""
    versions = await pricing.all_tariffs(request.app[DB])
    now = datetime.now(UTC)
    return web.json_response({"tariffs": [_tariff_json(list(group), now)
                                          for _, group in groupby(versions, key=lambda v: v.code)]})


@allow(Role.ADMIN)
async def publish_version(request: web.Request) -> web.Response:
    """Publish the next version of a tariff (a new code starts a new tariff); it ends the open-ended one."""
    now = datetime.now(UTC)
    new = tariffs.parse_tariff(await json_object(request), local_tz=request.app[SETTINGS].timezone, now=now)
    published = await pricing.publish_version(request.app[DB], new, request[PRINCIPAL].id)
    closed = None if published.closed is None else tariffs.version_json(published.closed, now)
    return web.json_response({"version": tariffs.version_json(published.version, now), "closed": closed},
                             status=201)


@allow(Role.ADMIN, Role.SUPERVISOR)
async def get_tariff(request: web.Request) -> web.Response:
    """Show one tariff with all its versions."""
    versions = await pricing.tariff_versions(request.app[DB], _code(request))
    return web.json_response({"tariff": _tariff_json(versions, datetime.now(UTC))})


@allow(Role.ADMIN)
async def withdraw_version(request: web.Request) -> web.Response:
    """Withdraw a version that has not taken effect yet (a mistake caught in time)."""
    code, raw = _code(request), request.match_info["version"]
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise NotFound(f"There is no version {raw[:10]!r} of tariff '{code}'.", code=TariffNotFound.code)
    now = datetime.now(UTC)
    withdrawn = await pricing.withdraw_version(request.app[DB], code, int(raw), request[PRINCIPAL].id, now)
    return web.json_response({"version": tariffs.version_json(withdrawn, now)})


@allow(*STAFF_ROLES)
async def list_holidays(request: web.Request) -> web.Response:
    """List the holiday calendar by day."""
    days = await pricing.holidays(request.app[DB])
    return web.json_response({"holidays": [tariffs.holiday_json(day) for day in days]})


@allow(Role.ADMIN)
async def replace_holidays(request: web.Request) -> web.Response:
    """Replace the whole holiday calendar."""
    days = tariffs.parse_holidays(await json_object(request))
    stored = await pricing.replace_holidays(request.app[DB], days)
    return web.json_response({"holidays": [tariffs.holiday_json(day) for day in stored]})


@allow(*STAFF_ROLES)
async def quote_fare(request: web.Request) -> web.Response:
    """Quote a trip between two points, itemised, with the estimated road distance and duration."""
    body = await json_object(request)
    pickup, destination = _position(body, "pickup"), _position(body, "destination")
    vehicle_class = _vehicle_class(optional(body, "vehicle_class", str) or VehicleClass.SEDAN.value)
    # A time without an offset is the center's wall clock: that is what an operator types.
    at = parse_time(optional(body, "at", str), "at", request.app[SETTINGS].timezone) or datetime.now(UTC)
    zones = request.app[ZONE_MAP]  # A fixed price between two zones replaces the meter.
    quote = await request.app[PRICER].quote_trip(pickup, destination, vehicle_class, at,
                                                 zones.code_at(pickup.lat, pickup.lng),
                                                 zones.code_at(destination.lat, destination.lng))
    return web.json_response({"quote": {**pricing.quote_json(quote), "vehicle_class": vehicle_class.value,
                                        "at": at.isoformat()}})


def _tariff_json(versions: Iterable[TariffVersion], now: datetime) -> dict[str, Any]:
    listed = list(versions)
    return {"code": listed[0].code, "vehicle_class": listed[0].vehicle_class.value,
            "versions": [tariffs.version_json(version, now) for version in listed]}


def _code(request: web.Request) -> str:
    code = request.match_info["code"]
    if not tariffs.TARIFF_CODE.match(code):
        raise TariffNotFound(code[:40])
    return code


def _position(body: dict[str, Any], name: str) -> LatLng:
    raw = optional(body, name, dict)
    if raw is None:
        raise InvalidInput(f"'{name}' is required, as {{\"lat\": ..., \"lng\": ...}}.", code="missing_field")
    lat, lng = raw.get("lat"), raw.get("lng")
    if lat is None or lng is None:
        raise InvalidCoordinates(f"'{name}' needs both 'lat' and 'lng'.")
    check_coordinates(lat, lng)
    return LatLng(float(lat), float(lng))


def _vehicle_class(raw: str) -> VehicleClass:
    try:
        return VehicleClass(raw)
    except ValueError:
        options = ", ".join(c.value for c in VehicleClass)
        raise InvalidInput(f"'vehicle_class' must be one of {options}.", code="invalid_choice") from None


