"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import os

from aiohttp import web

from taxicrm.auth import public
from taxicrm.keys import DB, REDIS

PROBE_TIMEOUT_SECONDS = 2.0


@public
async def healthz(request: web.Request) -> web.Response:
    """Answer as long as the process serves requests, saying which process (worker) answered."""
    return web.json_response({"status": "ok", "pid": os.getpid()})


@public
async def readyz(request: web.Request) -> web.Response:
    """Answer 200 only when PostgreSQL and Redis both answer, else 503 naming the one that did not."""
    checks = {
        "postgres": _probe(request.app[DB].fetchval("SELECT 1")),
        "redis": _probe(request.app[REDIS].ping()),
    }
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    if all(results.values()):
        return web.json_response({"status": "ready", "checks": {k: "ok" for k in results}})
    failing = ", ".join(name for name, ok in results.items() if not ok)
    return web.json_response(
        {
            "error": {"code": "not_ready", "message": f"Not ready: {failing} unreachable."},
            "checks": {k: "ok" if ok else "unreachable" for k, ok in results.items()},
        },
        status=503,
    )


async def _probe(check: object) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            await check  # type: ignore[misc]
    except Exception:  # Any failure means "not ready"; the probe's job is only to say so.
        return False
    return True
