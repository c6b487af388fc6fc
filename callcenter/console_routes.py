"""The operator console and the customer page: static files served by the service, and the settings they read.

Both are plain ES modules shipped in `callcenter/console/`; there is no build step. The pages themselves are
public (they hold no data); everything they show comes from the authenticated API and websockets.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from taxicrm.auth import public
from taxicrm.keys import SETTINGS

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
# The pages are small and change with every release: revalidate each time rather than serve a stale console.
NO_CACHE = {"Cache-Control": "no-cache"}


def setup(app: web.Application) -> None:
    """Serve the console at `/`, the customer page at `/book`, their assets under `/console/`."""
    app.router.add_get("/", console_page)
    app.router.add_get("/book", customer_page)
    app.router.add_get("/api/console/config", console_config)
    app.router.add_static("/console/", CONSOLE_DIR, append_version=False)


@public
async def console_page(request: web.Request) -> web.FileResponse:
    """Serve the operator console's single page."""
    return web.FileResponse(CONSOLE_DIR / "index.html", headers=NO_CACHE)


@public
async def customer_page(request: web.Request) -> web.FileResponse:
    """Serve the customer's booking page."""
    return web.FileResponse(CONSOLE_DIR / "book.html", headers=NO_CACHE)


@public
async def console_config(request: web.Request) -> web.Response:
    """Tell both pages what they need first: the center's time zone and calendar, service area and map tiles."""
    settings = request.app[SETTINGS]
    south, west, north, east = settings.service_area
    return web.json_response({
        "timezone": settings.timezone.key,
        "calendar": settings.calendar,
        "service_area": {"south": south, "west": west, "north": north, "east": east},
        "map_tiles_url": settings.map_tiles_url,
        "offer_timeout_seconds": settings.offer_timeout_seconds,
        "prebooking_lead_minutes": settings.prebooking_lead_minutes,
        "currency": "IRR",
    }, headers=NO_CACHE)
