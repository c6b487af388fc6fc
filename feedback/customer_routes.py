"""HTTP routes of a customer's reports about their ride, by the ride's tracking token or a rating link's token.

The customer page (/book) and the rating page (/rate/<token>) show what the customer reported and let them report
a problem; the case joins the complaints queue with the customer page as its channel.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from feedback import complaints, rating_service, ratings, service
from feedback.keys import LINK_KEY, SLA_POLICY
from feedback.model import Category, Complaint
from taxicrm.auth import public
from taxicrm.keys import DB, PUBLISHER
from taxicrm.validation import json_object, optional, required

MAX_TOKEN: Final = 100
MAX_CATEGORY_CODE: Final = 40


def setup(app: web.Application) -> None:
    """Register the customer's report routes."""
    app.router.add_get("/api/public/complaints/{token}", show_reports)
    app.router.add_post("/api/public/complaints/{token}", report_problem)


@public
async def show_reports(request: web.Request) -> web.Response:
    """Show what the customer may report their ride under and what they reported already, with each case's status."""
    ride_id, _ = await rating_service.ride_of_token(request.app[DB], request.app[LINK_KEY], _token(request),
                                                    datetime.now(UTC))
    categories, reported = await service.customer_reports(request.app[DB], ride_id)
    return web.json_response({
        "ride_id": ride_id, "categories": [_category(c) for c in categories],
        "reports": [_report(c) for c in reported], "max_reports": complaints.MAX_CUSTOMER_REPORTS_PER_RIDE,
        "can_report": len(reported) < complaints.MAX_CUSTOMER_REPORTS_PER_RIDE,
    }, headers={"Cache-Control": "no-store"})


@public
async def report_problem(request: web.Request) -> web.Response:
    """Open a case about the token's ride from what the customer wrote; the center follows it up."""
    body = await json_object(request)
    now = datetime.now(UTC)
    ride_id, _ = await rating_service.ride_of_token(request.app[DB], request.app[LINK_KEY], _token(request), now)
    ratings.check_same_ride(ride_id, optional(body, "ride_id", int))
    opened = await service.open_by_customer(
        request.app[DB], request.app[PUBLISHER], request.app[SLA_POLICY], ride_id,
        required(body, "category", str, max_length=MAX_CATEGORY_CODE), required(body, "description", str), now)
    return web.json_response({"report": _report(opened)}, status=201)


def _token(request: web.Request) -> str:
    return request.match_info["token"][:MAX_TOKEN]


def _category(category: Category) -> dict[str, Any]:
    return {"code": category.code, "names": {"en": category.name_en, "fa": category.name_fa}}


def _report(complaint: Complaint) -> dict[str, Any]:
    """Render a case as its customer sees it: what and when, and where it stands; nothing of its handling."""
    return {
        "id": complaint.id, "category": complaint.category.code,
        "category_names": {"en": complaint.category.name_en, "fa": complaint.category.name_fa},
        "status": complaint.status.value, "is_open": complaint.status in complaints.OPEN_STATUSES,
        "description": complaint.description, "created_at": complaint.created_at.isoformat(),
        "closed_at": None if complaint.closed_at is None else complaint.closed_at.isoformat(),
    }
