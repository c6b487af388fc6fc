"""HTTP routes of subscriber import and export as CSV (larger files go through `taxicrm import-subscribers`)."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from datetime import UTC, datetime

from aiohttp import web

from subscribers import transfer
from subscribers.importer import Rejection
from subscribers.phones import PhonePlan
from taxicrm.auth import Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, SETTINGS

# Browsers label .csv uploads variously; Windows ones say Excel.
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"})
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def setup(app: web.Application) -> None:
    """Register the import and export routes."""
    app.router.add_post("/api/subscribers/import", import_csv)
    app.router.add_get("/api/subscribers/export", export_csv)


@allow(Role.SUPERVISOR, Role.ADMIN)
async def import_csv(request: web.Request) -> web.Response:
    """Import subscribers from a CSV body; with ?dry_run=true, only report what would happen."""
    dry_run = _flag(request.query.get("dry_run", "false"), "dry_run")
    if request.content_type not in CSV_TYPES:
        raise InvalidInput("Send the file as the request body with Content-Type: text/csv.",
                           code="unsupported_media_type", status=415)
    body = await request.read()  # Raises 413 past the app's client_max_size.
    settings = request.app[SETTINGS]
    rejections: list[Rejection] = []
    summary = await transfer.import_subscribers(
        request.app[DB], body.splitlines(keepends=True), PhonePlan(settings.phone_region, settings.area_code),
        dry_run=dry_run, on_rejection=rejections.append)
    return web.json_response({
        **asdict(summary),
        "rejections": [{"line": r.line, "code": r.code, "reason": r.reason, **asdict(r.source)} for r in rejections],
    })


@allow(Role.SUPERVISOR, Role.ADMIN)
async def export_csv(request: web.Request) -> web.StreamResponse:
    """Stream every live subscriber as CSV, in the layout the import reads."""
    filename = f"subscribers-{datetime.now(UTC):%Y%m%d}.csv"
    response = web.StreamResponse(headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    async with contextlib.aclosing(transfer.export_subscribers(request.app[DB])) as chunks:
        async for chunk in chunks:
            await response.write(chunk.encode())
    await response.write_eof()
    return response


def _flag(raw: str, name: str) -> bool:
    value = _FLAGS.get(raw.strip().lower())
    if value is None:
        raise InvalidInput(f"'{name}' must be true or false.", code="wrong_type")
    return value
