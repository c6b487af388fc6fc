"""HTTP routes of ratings: staff enter them and issue links; customers rate by a token, on /book or on /rate/<token>."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from callcenter.console_routes import CONSOLE_DIR, NO_CACHE
from feedback import rating_service, rating_store, ratings
from feedback.events import rating_json
from feedback.keys import LINK_KEY
from feedback.model import RatingChannel, RatingRequest
from subscribers.keys import add_merge_participant
from taxicrm.auth import STAFF_ROLES, allow, public
from taxicrm.errors import InvalidInput
from taxicrm.keys import DB, PRINCIPAL, SETTINGS
from taxicrm.validation import json_object, optional, path_id

MAX_TOKEN: Final = 100
MAX_ID: Final = 2**63 - 1


def setup(app: web.Application) -> None:
    """Register the rating routes and the rating page; a merged subscriber's ratings follow them."""
    add_merge_participant(app, rating_store.move_ratings)
    app.router.add_get("/api/ratings/{ride_id}", get_ratings)
    app.router.add_put("/api/ratings/{ride_id}", rate_ride)
    app.router.add_post("/api/ratings/{ride_id}/link", issue_link)
    app.router.add_get("/api/public/ratings/{token}", show_for_customer)
    app.router.add_put("/api/public/ratings/{token}", rate_for_customer)
    app.router.add_get("/rate/{token}", rating_page)


@allow(*STAFF_ROLES)
async def get_ratings(request: web.Request) -> web.Response:
    """Show a ride's current rating and every one it replaced, newest first."""
    history = await rating_service.ratings_of(request.app[DB], _ride_id(request))
    current = next((r for r in history if r.is_current), None)
    return web.json_response({"rating": None if current is None else rating_json(current),
                              "history": [rating_json(r) for r in history]})


@allow(*STAFF_ROLES)
async def rate_ride(request: web.Request) -> web.Response:
    """Enter a rating given on a follow-up call; it replaces any earlier rating of the ride, which stays as history."""
    body = await json_object(request)
    asked = RatingRequest(value=_value(body), comment=optional(body, "comment", str, max_length=4000),
                          channel=RatingChannel.OPERATOR, entered_by=request[PRINCIPAL].id,
                          call_id=_id(body, "call_id"), subscriber_id=_id(body, "subscriber_id"))
    rating = await rating_service.rate(request.app[DB], _ride_id(request), asked, datetime.now(UTC))
    return web.json_response({"rating": rating_json(rating)})


@allow(*STAFF_ROLES)
async def issue_link(request: web.Request) -> web.Response:
    """Issue a signed link to rate a completed ride, to send to the customer by SMS."""
    now = datetime.now(UTC)
    days = request.app[SETTINGS].rating_link_days
    link = await rating_service.issue_link(request.app[DB], request.app[LINK_KEY], _ride_id(request),
                                           timedelta(days=days), now)
    path = f"/rate/{link.token}"
    url = f"{request.url.origin()}{path}"
    return web.json_response({
        "token": link.token, "ride_id": link.ride_id, "path": path, "url": url,
        "expires_at": link.expires_at.isoformat(),
        "sms": {"en": f"Thank you for riding with us. How was your trip? Rate it: {url}",
                "fa": f"از سفر با ما سپاسگزاریم. سفرتان چطور بود؟ امتیاز دهید: {url}"},
    }, status=201)


@public
async def show_for_customer(request: web.Request) -> web.Response:
    """Show the customer the ride their token names (when, from, to, the driver's name) and its rating."""
    view = await rating_service.customer_view(request.app[DB], request.app[LINK_KEY], _token(request),
                                              datetime.now(UTC))
    return web.json_response(view, headers={"Cache-Control": "no-store"})


@public
async def rate_for_customer(request: web.Request) -> web.Response:
    """Rate the ride a token names (a tracking token, or a link's); a later rating replaces the earlier."""
    body = await json_object(request)
    rating = await rating_service.rate_by_token(
        request.app[DB], request.app[LINK_KEY], _token(request), _id(body, "ride_id"), _value(body),
        optional(body, "comment", str, max_length=4000), datetime.now(UTC))
    return web.json_response({"rating": rating_json(rating, for_staff=False)})


@public
async def rating_page(request: web.Request) -> web.FileResponse:
    """Serve the page a rating link opens; it reads the token from its own address."""
    return web.FileResponse(CONSOLE_DIR / "rate.html", headers=NO_CACHE)


def _ride_id(request: web.Request) -> int:
    return path_id(request, "ride_id", "ride")


def _token(request: web.Request) -> str:
    # Anything longer than a token we issue is not one; the check that follows says so the same way.
    return request.match_info["token"][:MAX_TOKEN]


def _value(body: dict[str, Any]) -> int:
    if "value" not in body:
        raise InvalidInput("'value' is required: 1 to 5 stars.", code="missing_field")
    return ratings.check_value(body["value"])


def _id(body: dict[str, Any], name: str) -> int | None:
    value = optional(body, name, int)
    if value is not None and not 0 < value <= MAX_ID:
        raise InvalidInput(f"'{name}' must be a positive whole number.", code="wrong_type")
    return value

