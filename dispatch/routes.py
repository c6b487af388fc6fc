"""HTTP routes for managing drivers, and the authenticator for the driver app's token."""

from __future__ import annotations

from aiohttp import web

from dispatch import service
from dispatch.model import DriverId
from taxicrm.auth import Principal, Role, allow, bearer_token
from taxicrm.errors import NotFound
from taxicrm.keys import AUTHENTICATORS, DB
from taxicrm.records import record_json
from taxicrm.validation import json_object, required


def setup(app: web.Application) -> None:
    """Register the driver admin routes and the driver-token authenticator."""
    app[AUTHENTICATORS].append(authenticate_driver)
    app.router.add_get("/api/drivers", list_drivers)
    app.router.add_post("/api/drivers", create_driver)
    app.router.add_post("/api/drivers/{driver_id}/token", issue_token)
    app.router.add_delete("/api/drivers/{driver_id}/token", revoke_token)


def _driver_id(request: web.Request) -> DriverId:
    raw = request.match_info["driver_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"There is no driver {raw!r}.", code="driver_not_found")
    return DriverId(int(raw))


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
    drivers = await service.list_drivers(request.app[DB])
    return web.json_response({"drivers": [record_json(d) for d in drivers]})


@allow(Role.ADMIN)
async def create_driver(request: web.Request) -> web.Response:
    """Register a driver."""
    body = await json_object(request)
    driver = await service.register_driver(request.app[DB], required(body, "name", str, max_length=200))
    return web.json_response({"driver": record_json(driver)}, status=201)


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
