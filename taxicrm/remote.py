"""The caller's network address, trusting X-Forwarded-For only behind a configured proxy."""

from __future__ import annotations

from aiohttp import web

from taxicrm.keys import SETTINGS


def client_address(request: web.Request) -> str | None:
    """Return the caller's address; behind a load balancer, the one the balancer saw.

    Only the last X-Forwarded-For entry is used: it is the one our own proxy appended, while earlier
    entries come from the client and could be forged to dodge per-address rate limits.
    """
    if request.app[SETTINGS].behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote
