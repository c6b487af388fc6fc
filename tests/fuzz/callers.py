"""Who may call each route: read from the app's own role declarations, so the fuzzers follow the code."""

from __future__ import annotations

from aiohttp import web

from taxicrm.app import create_app
from taxicrm.auth import PUBLIC, Role, allowed_roles
from taxicrm.settings import load_settings

STAFF = ("operator", "supervisor", "admin")
# The kinds of caller the fuzzers play: a user of each staff role, a driver's app, the PBX, and nobody at all.
CALLERS = (*STAFF, "driver", "pbx", "anonymous")


def _callers(roles: frozenset[Role] | None) -> frozenset[str]:
    if roles == PUBLIC:
        return frozenset(CALLERS)
    names = {role.value for role in roles or ()}
    return frozenset(c for c in CALLERS if c in names)


def allowed_callers() -> dict[tuple[str, str], frozenset[str]]:
    """Return, for each (method, path template), which of CALLERS the route lets in."""
    # Building the app connects to nothing (that happens on start-up), so placeholder URLs do.
    app = create_app(load_settings({"DATABASE_URL": "postgresql://unused/x", "REDIS_URL": "redis://unused/0"}))
    allowed: dict[tuple[str, str], frozenset[str]] = {}
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        roles = PUBLIC if isinstance(route.resource, web.StaticResource) else allowed_roles(route.handler)
        allowed[(route.method.lower(), route.resource.canonical)] = _callers(roles)
    return allowed
