import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver
from subscribers import service as subscribers
from subscribers.model import NewPhone
from subscribers.phones import PhonePlan
from taxicrm.app import create_app
from taxicrm.settings import Settings
from tests.conftest import PASSWORD

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
SECRET = "pbx-shared-secret-1"
PHONE = "+989121234567"
keys = iter(range(1, 1_000_000))


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET))


@pytest.fixture
async def operator(client: Client, make_staff: Callable[..., Awaitable[Any]]) -> tuple[int, Headers]:
    """An operator at extension 201, logged in: (user id, auth headers)."""
    user = await make_staff("operator", extension="201")
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    client.session.cookie_jar.clear()
    return user.id, {"Authorization": f"Bearer {(await response.json())['token']}"}


@pytest.fixture
def make_subscriber(db: asyncpg.Pool) -> Callable[..., Awaitable[int]]:
    async def make(name: str = "Maryam Rezaei", phone: str = PHONE) -> int:
        record = await subscribers.create_subscriber(db, name, [NewPhone(phone)], [], PhonePlan())
        return record.subscriber.id

    return make


@pytest.fixture
def make_ride(client: Client, operator: tuple[int, Headers], db: asyncpg.Pool,
              make_driver: Callable[..., Awaitable[tuple[Driver, str]]]) -> Callable[..., Awaitable[Json]]:
    """Factory: a ride booked through the API for a subscriber, put where a driver's trip would leave it."""

    async def make(subscriber_id: int, *, with_driver: bool = True) -> Json:
        response = await client.post("/api/rides", headers={**operator[1], "Idempotency-Key": f"k{next(keys)}"},
                                     json={"subscriber_id": subscriber_id, "pickup": {"text": "12 Valiasr Street"},
                                           "confirm_duplicate": True})
        assert response.status == 201, await response.text()
        ride: Json = (await response.json())["ride"]
        if with_driver:
            driver, _ = await make_driver()
            # The trip itself is tested with the driver protocol; here the ride only needs its driver.
            await db.execute("UPDATE rides SET status = 'completed', driver_id = $2, version = version + 1 "
                             "WHERE id = $1", ride["id"], driver.id)
            ride["driver_id"] = driver.id
        return ride

    return make


async def open_complaint(client: Client, headers: Headers, status: int = 201, **body: Any) -> Json:
    response = await client.post("/api/complaints", json={"category": "late_pickup",
                                                          "description": "The driver came 20 minutes late.", **body},
                                 headers=headers)
    assert response.status == status, await response.text()
    found: Json = await response.json()
    return found["complaint"] if status == 201 else found["error"]


async def listed(client: Client, headers: Headers, query: str) -> list[int]:
    response = await client.get(f"/api/complaints?{query}", headers=headers)
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["complaints"]]


async def test_categories_are_listed_in_order_in_both_languages(client, operator):
    response = await client.get("/api/complaint-categories?kind=complaint", headers=operator[1])
    assert response.status == 200
    categories = (await response.json())["categories"]
    assert [c["code"] for c in categories] == [
        "late_pickup", "driver_no_show", "rude_driver", "unsafe_driving", "fare_dispute", "wrong_route",
        "vehicle_condition", "lost_item", "operator_behaviour", "other"]
    assert categories[1]["names"] == {"en": "Driver no-show", "fa": "نیامدن راننده"}
    assert categories[1]["default_priority"] == "high" and categories[1]["kind"] == "complaint"
    # Praise has categories of its own, listed after the complaints' when no kind is asked for.
    everything = (await (await client.get("/api/complaint-categories", headers=operator[1])).json())["categories"]
    assert [c["code"] for c in everything[:10]] == [c["code"] for c in categories]
    assert {c["kind"] for c in everything[10:]} == {"praise"} and len(everything) == 17


async def test_a_complaint_about_a_ride_takes_the_ride_s_subscriber_and_driver(client, operator, make_subscriber,
                                                                                make_ride):
    operator_id, headers = operator
    subscriber_id = await make_subscriber()
    ride = await make_ride(subscriber_id)
    complaint = await open_complaint(client, headers, category="driver_no_show", ride_id=ride["id"],
                                     description="  Nobody came;   waited ۲۰ minutes ")
    assert (complaint["ride_id"], complaint["subscriber_id"], complaint["driver_id"]) == (
        ride["id"], subscriber_id, ride["driver_id"])
    assert complaint["opened_by"] == operator_id and complaint["opened_by_name"]
    assert (complaint["status"], complaint["is_open"], complaint["channel"]) == ("new", True, "phone")
    assert complaint["priority"] == "high"  # the category's default
    assert complaint["description"] == "Nobody came; waited 20 minutes"
    assert complaint["category_names"]["fa"] == "نیامدن راننده"

    response = await client.get(f"/api/complaints/{complaint['id']}", headers=headers)
    assert response.status == 200
    shown = await response.json()
    assert shown["complaint"] == complaint
    [opened] = shown["events"]
    assert opened["kind"] == "opened" and opened["to_status"] == "new"
    assert opened["actor"] == {"kind": "staff", "id": operator_id, "name": complaint["opened_by_name"]}


async def test_a_chosen_priority_channel_and_links_are_kept(client, operator, make_subscriber, make_driver,
                                                            make_staff):
    _, headers = operator
    subscriber_id = await make_subscriber()
    driver, _ = await make_driver()
    rude_colleague = await make_staff("operator")
    complaint = await open_complaint(client, headers, category="operator_behaviour", priority="urgent",
                                     channel="social_media", subscriber_id=subscriber_id, driver_id=driver.id,
                                     operator_id=rude_colleague.id)
    assert (complaint["priority"], complaint["channel"], complaint["ride_id"]) == ("urgent", "social_media", None)
    assert (complaint["subscriber_id"], complaint["driver_id"], complaint["operator_id"]) == (
        subscriber_id, driver.id, rude_colleague.id)


async def test_bad_complaints_are_refused_with_a_code_and_change_nothing(client, operator, make_subscriber,
                                                                         make_ride, db):
    _, headers = operator
    subscriber_id = await make_subscriber()
    other_id = await make_subscriber(name="Someone Else", phone="+989351112233")
    ride = await make_ride(subscriber_id)
    await db.execute("UPDATE complaint_categories SET is_active = false WHERE code = 'wrong_route'")
    cases = [
        ({"category": None}, 400, "missing_field"),
        ({"category": "aliens"}, 400, "unknown_category"),
        ({"category": "wrong_route"}, 400, "retired_category"),
        ({"description": "   "}, 400, "missing_field"),
        ({"description": "x" * 4001}, 400, "too_long"),
        ({"description": 12}, 400, "wrong_type"),
        ({"priority": "whenever"}, 400, "invalid_choice"),
        ({"channel": "pigeon"}, 400, "invalid_choice"),
        ({"ride_id": "7"}, 400, "wrong_type"),
        ({"ride_id": 0}, 400, "wrong_type"),
        ({"ride_id": 2**70}, 400, "wrong_type"),
        ({"ride_id": True}, 400, "wrong_type"),
        ({"ride_id": 999_999}, 404, "ride_not_found"),
        ({"subscriber_id": 999_999}, 404, "subscriber_not_found"),
        ({"driver_id": 999_999}, 404, "driver_not_found"),
        ({"call_id": 999_999}, 404, "call_not_found"),
        ({"operator_id": 999_999}, 404, "operator_not_found"),
        ({"ride_id": ride["id"], "subscriber_id": other_id}, 400, "links_disagree"),
        ({"ride_id": ride["id"], "driver_id": ride["driver_id"] + 1}, 400, "links_disagree"),
    ]
    for body, status, code in cases:
        error = await open_complaint(client, headers, status=status, **body)
        assert error["code"] == code, (body, error)
        assert error["message"]
    not_json = await client.post("/api/complaints", data="category=late_pickup", headers=headers)
    assert not_json.status == 415
    assert await db.fetchval("SELECT count(*) FROM complaints") == 0
    assert await db.fetchval("SELECT count(*) FROM complaint_events") == 0


async def test_a_complaint_against_a_merged_away_subscriber_names_the_kept_one(client, operator, make_subscriber,
                                                                               staff_headers):
    _, headers = operator
    kept = await make_subscriber()
    other = await make_subscriber(name="Maryam R", phone="+989351112233")
    merged = await client.post(f"/api/subscribers/{kept}/merge", json={"other_id": other},
                               headers=await staff_headers("supervisor"))
    assert merged.status == 200, await merged.text()
    error = await open_complaint(client, headers, status=404, subscriber_id=other)
    assert error["code"] == "subscriber_merged" and str(kept) in error["message"]


ENDPOINTS = [("GET", "/api/complaint-categories", None), ("GET", "/api/complaints", None),
             ("POST", "/api/complaints", {"category": "other", "description": "x"}),
             ("GET", "/api/complaints/{id}", None),
             ("POST", "/api/complaints/{id}/comments", {"body": "x"})]


async def test_only_staff_may_handle_complaints(client, operator, make_driver, staff_headers, db):
    complaint = await open_complaint(client, operator[1])
    _, driver_token = await make_driver()
    before = await db.fetchval("SELECT count(*) FROM complaint_events")
    for method, path, body in ENDPOINTS:
        url = path.format(id=complaint["id"])
        assert (await client.request(method, url, json=body)).status == 401, url
        as_driver = await client.request(method, url, json=body, headers={"Authorization": f"Bearer {driver_token}"})
        assert as_driver.status == 403, url
        assert (await as_driver.json())["error"]["code"] == "forbidden"
    assert await db.fetchval("SELECT count(*) FROM complaint_events") == before
    for role in ("supervisor", "admin"):
        headers = await staff_headers(role)
        assert (await open_complaint(client, headers))["opened_by"] is not None
        response = await client.post(f"/api/complaints/{complaint['id']}/comments", json={"body": role},
                                     headers=headers)
        assert response.status == 201


async def test_complaints_are_listed_by_subscriber_ride_driver_and_status(client, operator, make_subscriber,
                                                                          make_ride, make_driver, db):
    _, headers = operator
    first, second = await make_subscriber(), await make_subscriber(name="Reza", phone="+989351112233")
    ride = await make_ride(first)
    other_driver, _ = await make_driver()
    about_ride = await open_complaint(client, headers, ride_id=ride["id"])
    about_first = await open_complaint(client, headers, subscriber_id=first, category="lost_item")
    about_second = await open_complaint(client, headers, subscriber_id=second)
    about_driver = await open_complaint(client, headers, driver_id=other_driver.id, category="unsafe_driving")
    # Closing a case is issue 6's workflow; here the row is put where a resolution would leave it.
    await db.execute("UPDATE complaints SET status = 'resolved', outcome = 'no_action', closed_at = now() "
                     "WHERE id = $1", about_first["id"])

    assert await listed(client, headers, "") == [about_driver["id"], about_second["id"], about_first["id"],
                                                 about_ride["id"]]
    assert await listed(client, headers, f"subscriber_id={first}") == [about_first["id"], about_ride["id"]]
    assert await listed(client, headers, f"ride_id={ride['id']}") == [about_ride["id"]]
    assert await listed(client, headers, f"driver_id={ride['driver_id']}") == [about_ride["id"]]
    assert await listed(client, headers, f"driver_id={other_driver.id}") == [about_driver["id"]]
    assert await listed(client, headers, f"subscriber_id={first}&open=true") == [about_ride["id"]]
    assert await listed(client, headers, "open=false") == [about_first["id"]]
    assert await listed(client, headers, "status=resolved,new&limit=2") == [about_driver["id"], about_second["id"]]
    assert await listed(client, headers, f"subscriber_id={second}&driver_id={other_driver.id}") == []

    for query, code in (("subscriber_id=abc", "wrong_type"), ("ride_id=0", "wrong_type"),
                        ("status=lost", "invalid_choice"), ("open=yes", "wrong_type"),
                        ("status=resolved&open=true", "contradictory_filter")):
        response = await client.get(f"/api/complaints?{query}", headers=headers)
        assert response.status == 400, query
        assert (await response.json())["error"]["code"] == code, query


async def test_comments_join_the_history_in_order(client, operator, db):
    operator_id, headers = operator
    complaint = await open_complaint(client, headers)
    url = f"/api/complaints/{complaint['id']}/comments"
    for text in ("Called the driver.", "Customer offered a discount code."):
        response = await client.post(url, json={"body": text}, headers=headers)
        assert response.status == 201, await response.text()
        event = (await response.json())["event"]
        assert event["kind"] == "commented" and event["body"] == text and event["actor"]["id"] == operator_id
    shown = await (await client.get(f"/api/complaints/{complaint['id']}", headers=headers)).json()
    assert [(e["kind"], e["body"]) for e in shown["events"]] == [
        ("opened", None), ("commented", "Called the driver."), ("commented", "Customer offered a discount code.")]
    assert shown["complaint"]["version"] == complaint["version"] + 2
    assert shown["complaint"]["status"] == "new"  # a comment changes no status

    for target, body, status, code in ((url, {"body": " "}, 400, "missing_field"), (url, {}, 400, "missing_field"),
                                       ("/api/complaints/999999/comments", {"body": "x"}, 404, "complaint_not_found"),
                                       ("/api/complaints/abc/comments", {"body": "x"}, 404, "complaint_not_found")):
        response = await client.post(target, json=body, headers=headers)
        assert response.status == status and (await response.json())["error"]["code"] == code
    assert await db.fetchval("SELECT count(*) FROM complaint_events") == 3
    missing = await client.get("/api/complaints/999999", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "complaint_not_found"


async def test_the_screen_pop_card_carries_the_caller_s_open_complaints(client, operator, make_subscriber, db):
    _, headers = operator
    subscriber_id = await make_subscriber()
    closed = await open_complaint(client, headers, subscriber_id=subscriber_id)
    await db.execute("UPDATE complaints SET status = 'rejected', closed_at = now() WHERE id = $1", closed["id"])
    older = await open_complaint(client, headers, subscriber_id=subscriber_id, category="rude_driver")
    newer = await open_complaint(client, headers, subscriber_id=subscriber_id, category="lost_item",
                                 description="Left a black umbrella " + "on the back seat " * 20)
    ws = await client.ws_connect("/ws", headers=headers)
    try:
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == "hello"
        response = await client.post("/api/pbx/call-events", headers={"X-Taxicrm-Secret": SECRET},
                                     json={"event": "ringing", "call_id": "c-1", "caller": "09121234567",
                                           "extensions": "201"})
        assert response.status == 202, await response.text()
        card = await next_card(ws)
    finally:
        await ws.close()
    assert [c["id"] for c in card["open_complaints"]] == [newer["id"], older["id"]]
    first = card["open_complaints"][0]
    assert first["category"] == "lost_item" and first["category_names"] == {"en": "Lost item", "fa": "جاماندن وسیله"}
    assert first["status"] == "new" and first["priority"] == "high"
    assert first["summary"].startswith("Left a black umbrella") and len(first["summary"]) == 140


async def next_card(ws: Any) -> Json:
    while True:
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.TEXT, message
        data = json.loads(message.data)
        if data.get("topic") == "call.ringing":
            card: Json = data["data"]
            return card


async def test_an_unknown_caller_s_card_has_no_complaints(client, operator):
    ws = await client.ws_connect("/ws", headers=operator[1])
    try:
        await ws.receive(timeout=5)
        await client.post("/api/pbx/call-events", headers={"X-Taxicrm-Secret": SECRET},
                          json={"event": "ringing", "call_id": "c-2", "caller": "09350000000", "extensions": "201"})
        assert (await next_card(ws))["open_complaints"] == []
    finally:
        await ws.close()


async def test_a_merge_moves_complaints_without_losing_one_and_notes_it_in_their_history(
        client, operator, make_subscriber, make_ride, staff_headers, db):
    _, headers = operator
    kept = await make_subscriber()
    other = await make_subscriber(name="Maryam R", phone="+989351112233")
    ride = await make_ride(other)
    kept_complaint = await open_complaint(client, headers, subscriber_id=kept)
    moving = [await open_complaint(client, headers, ride_id=ride["id"]),
              await open_complaint(client, headers, subscriber_id=other, category="fare_dispute")]
    before = await db.fetchval("SELECT count(*) FROM complaints")

    response = await client.post(f"/api/subscribers/{kept}/merge", json={"other_id": other},
                                 headers=await staff_headers("supervisor"))
    assert response.status == 200, await response.text()
    assert (await response.json())["merge"]["moved"]["complaints"] == 2
    assert await db.fetchval("SELECT count(*) FROM complaints") == before
    assert await listed(client, headers, f"subscriber_id={kept}") == [moving[1]["id"], moving[0]["id"],
                                                                      kept_complaint["id"]]
    assert await listed(client, headers, f"subscriber_id={other}") == []
    for complaint in moving:
        shown = await (await client.get(f"/api/complaints/{complaint['id']}", headers=headers)).json()
        merged = shown["events"][-1]
        assert merged["kind"] == "subscriber_merged" and merged["actor"]["kind"] == "system"
        assert merged["details"] == {"from_subscriber_id": other, "to_subscriber_id": kept}
    untouched = await (await client.get(f"/api/complaints/{kept_complaint['id']}", headers=headers)).json()
    assert [e["kind"] for e in untouched["events"]] == ["opened"]
