"""The web core's middlewares: metrics, the one error envelope, and authentication with role checks."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from taxicrm.auth import PUBLIC, allowed_roles, authorize
from taxicrm.errors import DomainError, TooManyRequests
from taxicrm.keys import AUTHENTICATORS, PRINCIPAL
from taxicrm.metrics import METRICS
from taxicrm.outages import UNAVAILABLE, UNAVAILABLE_MESSAGE

log = logging.getLogger("taxicrm.web")


# Stable codes for the errors aiohttp itself raises (unknown route, wrong method, body too large...).
HTTP_ERROR_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Please log in first."),
    403: ("forbidden", "Your role may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("body_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the request body as JSON."),
}


def error_response(status: int, code: str, message: str) -> web.Response:
    """Build the envelope every 4xx/5xx uses: {"error": {"code", "message"}}."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request and time it, labelled by route template rather than raw path."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        METRICS.observe(request, status, time.perf_counter() - started)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into the JSON envelope; nothing but a generic message leaves on a 500."""
    try:
        return await handler(request)
    except TooManyRequests as err:
        response = error_response(err.status, err.code, err.message)
        response.headers["Retry-After"] = str(err.retry_after)
        return response
    except DomainError as err:
        return error_response(err.status, err.code, err.message)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code, message = HTTP_ERROR_CODES.get(err.status, ("http_error", err.reason))
        response = error_response(err.status, code, message)
        if "Allow" in err.headers:
            response.headers["Allow"] = err.headers["Allow"]
        return response
    except UNAVAILABLE as err:  # Losing PostgreSQL or Redis mid-request is an outage: 503, so clients retry.
        log.warning("backing service unreachable on %s %s: %r", request.method, request.path, err)
        return error_response(503, "service_unavailable", UNAVAILABLE_MESSAGE)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find who is calling and refuse them unless the matched route allows their role."""
    route = request.match_info.route
    if request.match_info.http_exception is not None:
        return await handler(request)  # No route matched: let the 404/405 through.
    roles = PUBLIC if isinstance(route.resource, web.StaticResource) else allowed_roles(route.handler)
    principal = None
    for authenticate in request.app[AUTHENTICATORS]:
        principal = await authenticate(request)
        if principal is not None:
            break
    authorize(principal, roles)
    if principal is not None:
        request[PRINCIPAL] = principal
    return await handler(request)
