"""HTTP routes for managing drivers, and the authenticator for the driver app's token."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from dispatch import service
from dispatch.model import DriverId, DriverProfile
from subscribers.phones import PhonePlan
from taxicrm.auth import Principal, Role, allow, bearer_token
from taxicrm.keys import AUTHENTICATORS, DB, PRINCIPAL, SETTINGS
from taxicrm.records import record_json
from taxicrm.validation import json_object, path_id, required


def setup(app: web.Application) -> None:
    """Register the driver admin routes and the driver-token authenticator."""
    app[AUTHENTICATORS].append(authenticate_driver)
    app.router.add_get("/api/drivers", list_drivers)
    app.router.add_post("/api/drivers", create_driver)
    app.router.add_get("/api/drivers/{driver_id}", get_driver)
    app.router.add_patch("/api/drivers/{driver_id}", change_driver)
    app.router.add_post("/api/drivers/{driver_id}/suspend", suspend_driver)
    app.router.add_post("/api/drivers/{driver_id}/reinstate", reinstate_driver)
    app.router.add_post("/api/drivers/{driver_id}/token", issue_token)
    app.router.add_delete("/api/drivers/{driver_id}/token", revoke_token)


def _driver_id(request: web.Request) -> DriverId:
    return DriverId(path_id(request, "driver_id", "driver"))


def _plan(request: web.Request) -> PhonePlan:
    settings = request.app[SETTINGS]
    return PhonePlan(region=settings.phone_region, area_code=settings.area_code)


def _profile_json(profile: DriverProfile) -> dict[str, Any]:
    # record_json renders times; contract dates are plain dates and need the same ISO treatment.
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in record_json(profile).items()}


async def authenticate_driver(request: web.Request) -> Principal | None:
    """Recognise a driver by the bearer token, or by `?token=` on a websocket upgrade (mobile clients)."""
    token = bearer_token(request)
    if token is None and request.headers.get("Upgrade", "").lower() == "websocket":
        token = request.query.get("token")
    if not token:
        return None
    driver = await service.driver_for_token(request.app[DB], token)
    return None if driver is None else Principal(role=Role.DRIVER, id=driver.id, name=driver.name)


@allow(Role.ADMIN, Role.SUPERVISOR)
async def list_drivers(request: web.Request) -> web.Response:
    """List the fleet."""
    drivers = await service.list_driver_profiles(request.app[DB])
    return web.json_response({"drivers": [_profile_json(d) for d in drivers]})


@allow(Role.ADMIN)
async def create_driver(request: web.Request) -> web.Response:
    """Register a driver with their car and contract."""
    fields = service.driver_fields(await json_object(request), _plan(request), creating=True)
    driver = await service.add_driver(request.app[DB], fields)
    return web.json_response({"driver": _profile_json(driver)}, status=201)


@allow(Role.ADMIN, Role.SUPERVISOR)
async def get_driver(request: web.Request) -> web.Response:
    """Show everything recorded about a driver."""
    driver = await service.driver_profile(request.app[DB], _driver_id(request))
    return web.json_response({"driver": _profile_json(driver)})


@allow(Role.ADMIN)
async def change_driver(request: web.Request) -> web.Response:
    """Change the fields sent (null clears one); the others stay as they are."""
    driver_id = _driver_id(request)
    fields = service.driver_fields(await json_object(request), _plan(request), creating=False)
    driver = await service.change_driver(request.app[DB], driver_id, fields)
    return web.json_response({"driver": _profile_json(driver)})


@allow(Role.ADMIN)
async def suspend_driver(request: web.Request) -> web.Response:
    """Suspend a driver with a reason; their app is locked out at once."""
    driver_id = _driver_id(request)
    reason = required(await json_object(request), "reason", str, max_length=service.MAX_SUSPENSION_REASON)
    driver = await service.suspend_driver(request.app[DB], driver_id, reason, request[PRINCIPAL].id,
                                          datetime.now(UTC))
    return web.json_response({"driver": _profile_json(driver)})


@allow(Role.ADMIN)
async def reinstate_driver(request: web.Request) -> web.Response:
    """Lift a driver's suspension."""
    driver = await service.reinstate_driver(request.app[DB], _driver_id(request))
    return web.json_response({"driver": _profile_json(driver)})


@allow(Role.ADMIN)
async def issue_token(request: web.Request) -> web.Response:
    """Issue the driver's app token (shown once), revoking any earlier one."""
    token = await service.issue_token(request.app[DB], _driver_id(request))
    return web.json_response({"token": token}, status=201)


@allow(Role.ADMIN)
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke the driver's app token."""
    revoked = await service.revoke_tokens(request.app[DB], _driver_id(request))
    return web.json_response({"revoked": revoked})
