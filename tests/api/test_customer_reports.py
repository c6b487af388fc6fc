"""A customer reports a problem with their ride from the customer page or a rating link, through the real app: the
case joins the complaints queue linked to the ride, its subscriber and driver, opened by the customer; a few per
ride; bad reports get a clear error and change nothing."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from feedback import rating_service
from feedback.links import sign_link
from subscribers import service as subscribers
from subscribers.model import NewPhone
from subscribers.phones import PhonePlan
from tests.api.feedback_trips import Client, Headers, Json, book_online, drive, online
from tests.api.test_complaint_cases import next_event


@pytest.fixture
async def operator(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("operator")


async def call(client: Client, method: str, path: str, status: int, body: Any = None,
               headers: Headers | None = None) -> Json:
    response = await client.request(method, path, json=body, headers=headers or {})
    found: Json = await response.json()
    assert response.status == status, found
    return found


async def cases(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM complaints") + await db.fetchval(
        "SELECT count(*) FROM complaint_events"))


async def test_a_customer_reports_a_problem_from_the_tracking_page_and_staff_work_it_as_a_case(
        client, operator, make_driver, db):
    record = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone("+989127654321")], [], PhonePlan())
    driver, app = await online(client, make_driver)
    ride, token = await book_online(client, phone="0912 765 4321")
    await drive(app, ride["id"])

    shown = await call(client, "GET", f"/api/public/complaints/{token}", 200)
    assert shown["ride_id"] == ride["id"] and shown["reports"] == [] and shown["can_report"] is True
    codes = [c["code"] for c in shown["categories"]]
    assert codes[:3] == ["late_pickup", "driver_no_show", "rude_driver"] and "courteous_driver" not in codes
    assert shown["categories"][0]["names"]["fa"]

    async with client.ws_connect("/ws", headers=operator) as console:
        assert (await console.receive_json(timeout=5))["type"] == "hello"
        reported = await call(client, "POST", f"/api/public/complaints/{token}", 201,
                              {"ride_id": ride["id"], "category": "fare_dispute", "description": " Charged  twice. "})
        report = reported["report"]
        assert (report["category"], report["status"], report["is_open"]) == ("fare_dispute", "new", True)
        assert report["description"] == "Charged twice." and report["category_names"]["en"]
        # The customer sees their report and nothing of the center's handling.
        assert set(report) == {"id", "category", "category_names", "status", "is_open", "description", "created_at",
                               "closed_at"}
        heard = await next_event(console, "complaint.")
        assert heard["topic"] == "complaint.opened" and heard["data"]["complaint"]["id"] == report["id"]

    case = (await call(client, "GET", f"/api/complaints/{report['id']}", 200, headers=operator))
    complaint = case["complaint"]
    assert (complaint["channel"], complaint["ride_id"], complaint["subscriber_id"], complaint["driver_id"]) == (
        "customer_page", ride["id"], record.subscriber.id, driver.id)
    assert complaint["opened_by"] is None and complaint["priority"] == "normal"
    assert complaint["sla"]["first_response"]["state"] == "running"
    [opened] = case["events"]
    assert opened["kind"] == "opened"
    assert opened["actor"] == {"kind": "customer", "id": record.subscriber.id, "name": None}
    listed = await call(client, "GET", f"/api/complaints?ride_id={ride['id']}", 200, headers=operator)
    assert [c["id"] for c in listed["complaints"]] == [report["id"]]
    # Staff move it along; the customer's page shows where it stands.
    await call(client, "POST", f"/api/complaints/{report['id']}/comments", 201, {"body": "Called back."},
               headers=operator)
    again = await call(client, "GET", f"/api/public/complaints/{token}", 200)
    assert [r["id"] for r in again["reports"]] == [report["id"]]
    await app.close()


async def test_a_rating_link_takes_reports_too_a_few_per_ride_and_a_walk_in_customer_is_named_by_no_record(
        client, operator, make_driver, db):
    _, app = await online(client, make_driver)
    ride, _ = await book_online(client, phone="0935 111 2233")  # no subscriber has this number
    await drive(app, ride["id"])
    link = await call(client, "POST", f"/api/ratings/{ride['id']}/link", 201, headers=operator)
    url = f"/api/public/complaints/{link['token']}"
    ids = []
    for category in ("wrong_route", "vehicle_condition", "lost_item"):
        ids.append((await call(client, "POST", url, 201, {"category": category, "description": "x"}))["report"]["id"])
    shown = await call(client, "GET", url, 200)
    assert [r["id"] for r in shown["reports"]] == ids and shown["can_report"] is False and shown["max_reports"] == 3
    before = await cases(db)
    found = await call(client, "POST", url, 409, {"category": "other", "description": "And another thing."})
    assert found["error"]["code"] == "too_many_reports" and "call the center" in found["error"]["message"]
    assert await cases(db) == before
    case = await call(client, "GET", f"/api/complaints/{ids[0]}", 200, headers=operator)
    assert case["complaint"]["subscriber_id"] is None and case["complaint"]["channel"] == "customer_page"
    assert case["events"][0]["actor"] == {"kind": "customer", "id": None, "name": None}
    await app.close()


async def test_bad_reports_are_refused_with_a_code_and_change_nothing(client, staff_headers, make_driver, db):
    _, app = await online(client, make_driver)
    ride, token = await book_online(client)
    other, other_token = await book_online(client, phone="0935 765 4321")
    await drive(app, ride["id"])
    key = await rating_service.signing_key(db)
    expired = sign_link(key, ride["id"], datetime.now(UTC) - timedelta(minutes=1))
    await call(client, "PATCH", "/api/complaint-categories/wrong_route", 200, {"is_active": False},
               headers=await staff_headers("admin"))
    before = await cases(db)
    url = f"/api/public/complaints/{token}"
    refusals = [
        (url, {"description": "x"}, 400, "missing_field"),
        (url, {"category": "late_pickup"}, 400, "missing_field"),
        (url, {"category": "late_pickup", "description": "   "}, 400, "missing_field"),
        (url, {"category": "late_pickup", "description": "x" * 4001}, 400, "too_long"),
        (url, {"category": "no_such_thing", "description": "x"}, 400, "unknown_category"),
        (url, {"category": "wrong_route", "description": "x"}, 400, "retired_category"),
        (url, {"category": "courteous_driver", "description": "Lovely."}, 400, "category_kind_mismatch"),
        (url, {"category": 7, "description": "x"}, 400, "wrong_type"),
        (url, {"category": "late_pickup", "description": "x", "ride_id": other["id"]}, 403, "not_your_ride"),
        (f"/api/public/complaints/{other_token}", {"category": "late_pickup", "description": "x",
                                                   "ride_id": ride["id"]}, 403, "not_your_ride"),
        ("/api/public/complaints/r_" + "a" * 43, {"category": "late_pickup", "description": "x"}, 404,
         "rating_link_invalid"),
        ("/api/public/complaints/" + "x" * 300, {"category": "late_pickup", "description": "x"}, 404,
         "rating_link_invalid"),
        (f"/api/public/complaints/{expired}", {"category": "late_pickup", "description": "x"}, 410,
         "rating_link_expired"),
    ]
    for path, body, status, code in refusals:
        found = await call(client, "POST", path, status, body)
        assert found["error"]["code"] == code, (body, found)
        assert found["error"]["message"]
    not_json = await client.post(url, data="category=late_pickup")
    assert not_json.status == 415
    assert await cases(db) == before
    await app.close()

