"""Ratings of rides through the real app: from the customer page, from a link sent after the ride, and by an
operator on a follow-up call; one per ride, a later one replacing the earlier with history kept."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from feedback import rating_service, reporting
from feedback.links import sign_link
from subscribers import service as subscribers
from subscribers.model import NewPhone
from subscribers.phones import PhonePlan
from tests.api.feedback_trips import Client, Headers, Json, book_by_phone, book_online, drive, online


@pytest.fixture
async def operator(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("operator")


async def call(client: Client, method: str, path: str, status: int, body: Any = None,
               headers: Headers | None = None) -> Json:
    response = await client.request(method, path, json=body, headers=headers or {})
    found: Json = await response.json()
    assert response.status == status, found
    return found


async def refused(client: Client, method: str, path: str, status: int, code: str, body: Any = None,
                  headers: Headers | None = None) -> None:
    found = await call(client, method, path, status, body, headers)
    assert found["error"]["code"] == code, found
    assert found["error"]["message"]


async def count(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM ride_ratings"))


async def test_the_customer_rates_their_completed_ride_on_the_tracking_page(client, operator, make_driver, db):
    driver, app = await online(client, make_driver)
    ride, token = await book_online(client)
    await drive(app, ride["id"])

    view = await call(client, "GET", f"/api/public/ratings/{token}", 200)
    assert view["ride"]["id"] == ride["id"] and view["ride"]["status"] == "completed"
    assert view["ride"]["pickup"] == "Azadi Square" and view["ride"]["destination"] == "Sharif University"
    assert view["driver"] == {"name": "Hassan Karimi"} and view["can_rate"] is True and view["rating"] is None

    given = await call(client, "PUT", f"/api/public/ratings/{token}", 200,
                       {"ride_id": ride["id"], "value": 5, "comment": "  Very   kind driver "})
    assert given["rating"]["value"] == 5 and given["rating"]["comment"] == "Very kind driver"
    # The customer sees their own rating and nothing of the center's.
    assert set(given["rating"]) == {"ride_id", "value", "comment", "rated_at"}
    assert (await call(client, "GET", f"/api/public/ratings/{token}", 200))["rating"]["value"] == 5

    shown = await call(client, "GET", f"/api/ratings/{ride['id']}", 200, headers=operator)
    rating = shown["rating"]
    assert (rating["channel"], rating["driver_id"], rating["entered_by"], rating["is_current"]) == (
        "customer_page", driver.id, None, True)
    assert [r["id"] for r in shown["history"]] == [rating["id"]]
    await app.close()


async def test_a_link_sent_after_the_ride_rates_it_and_replaces_the_earlier_rating_with_history_kept(
        client, operator, make_driver, db):
    driver, app = await online(client, make_driver)
    ride, token = await book_online(client)
    await drive(app, ride["id"])
    await call(client, "PUT", f"/api/public/ratings/{token}", 200, {"value": 2})

    link = await call(client, "POST", f"/api/ratings/{ride['id']}/link", 201, headers=operator)
    assert link["token"].startswith("f_") and link["path"] == f"/rate/{link['token']}"
    assert link["url"].endswith(link["path"]) and link["url"] in link["sms"]["en"] and link["url"] in link["sms"]["fa"]
    expires = datetime.fromisoformat(link["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    page = await client.get(link["path"])
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "/console/js/rate.js" in await page.text()
    view = await call(client, "GET", f"/api/public/ratings/{link['token']}", 200)
    assert view["ride"]["id"] == ride["id"] and view["rating"]["value"] == 2

    await call(client, "PUT", f"/api/public/ratings/{link['token']}", 200, {"value": 4, "comment": "Better now"})
    shown = await call(client, "GET", f"/api/ratings/{ride['id']}", 200, headers=operator)
    assert (shown["rating"]["value"], shown["rating"]["channel"]) == (4, "link")
    assert [(r["value"], r["channel"], r["is_current"]) for r in shown["history"]] == [
        (4, "link", True), (2, "customer_page", False)]
    assert shown["history"][1]["replaced_at"] is not None
    assert await db.fetchval("SELECT count(*) FROM ride_ratings WHERE ride_id = $1 AND is_current", ride["id"]) == 1
    assert all(r["driver_id"] == driver.id for r in shown["history"])
    await app.close()


async def test_an_operator_enters_a_rating_on_a_follow_up_call(client, operator, staff_headers, make_driver, db):
    driver, app = await online(client, make_driver)
    record = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone("+989121234567")], [], PhonePlan())
    subscriber_id = record.subscriber.id
    ride = await book_by_phone(client, operator, subscriber_id=subscriber_id, walk_in_name=None, walk_in_phone=None)
    await drive(app, ride["id"])

    entered = await call(client, "PUT", f"/api/ratings/{ride['id']}", 200,
                         {"value": 3, "comment": "Car was a bit dirty", "subscriber_id": subscriber_id},
                         headers=operator)
    rating = entered["rating"]
    assert (rating["value"], rating["channel"], rating["subscriber_id"], rating["driver_id"]) == (
        3, "operator", subscriber_id, driver.id)
    assert rating["entered_by"] is not None and rating["entered_by_name"]
    # A supervisor corrects it on a second call: one current rating, both kept.
    await call(client, "PUT", f"/api/ratings/{ride['id']}", 200, {"value": 4},
               headers=await staff_headers("supervisor"))
    shown = await call(client, "GET", f"/api/ratings/{ride['id']}", 200, headers=operator)
    assert [r["value"] for r in shown["history"]] == [4, 3] and shown["rating"]["value"] == 4
    await app.close()


async def test_bad_ratings_are_refused_with_a_code_and_change_nothing(client, operator, make_driver, db):
    _, app = await online(client, make_driver)
    done, done_token = await book_online(client)
    await drive(app, done["id"])
    await call(client, "PUT", f"/api/public/ratings/{done_token}", 200, {"value": 5})
    under_way, under_way_token = await book_online(client, phone="0935 765 4321")
    await drive(app, under_way["id"], until="on_board")
    before = await count(db)
    key = await rating_service.signing_key(db)
    expired = sign_link(key, done["id"], datetime.now(UTC) - timedelta(minutes=1))
    forged = sign_link(b"x" * 32, done["id"], datetime.now(UTC) + timedelta(days=1))

    for value in (0, 6, -3, 4.5, "5", True, None):
        await refused(client, "PUT", f"/api/public/ratings/{done_token}", 400, "rating_out_of_range", {"value": value})
        await refused(client, "PUT", f"/api/ratings/{done['id']}", 400, "rating_out_of_range", {"value": value},
                      headers=operator)
    await refused(client, "PUT", f"/api/public/ratings/{done_token}", 400, "missing_field", {"comment": "x"})
    await refused(client, "PUT", f"/api/public/ratings/{done_token}", 400, "too_long",
                  {"value": 3, "comment": "x" * 1001})
    # A token for one ride never rates another: the page that asks about someone else's ride is refused.
    await refused(client, "PUT", f"/api/public/ratings/{under_way_token}", 403, "not_your_ride",
                  {"value": 1, "ride_id": done["id"]})
    await refused(client, "PUT", f"/api/public/ratings/{done_token}", 403, "not_your_ride",
                  {"value": 1, "ride_id": under_way["id"]})
    # Not completed yet: not by the customer, not by an operator, and no link for it.
    await refused(client, "PUT", f"/api/public/ratings/{under_way_token}", 409, "ride_not_completed", {"value": 1})
    await refused(client, "PUT", f"/api/ratings/{under_way['id']}", 409, "ride_not_completed", {"value": 1},
                  headers=operator)
    await refused(client, "POST", f"/api/ratings/{under_way['id']}/link", 409, "ride_not_completed", headers=operator)
    for token in ("r_" + "a" * 43, forged, "f_short", "nonsense", "x" * 300):
        await refused(client, "PUT", f"/api/public/ratings/{token}", 404, "rating_link_invalid", {"value": 4})
        await refused(client, "GET", f"/api/public/ratings/{token}", 404, "rating_link_invalid")
    await refused(client, "PUT", f"/api/public/ratings/{expired}", 410, "rating_link_expired", {"value": 4})
    await refused(client, "PUT", "/api/ratings/999999", 404, "ride_not_found", {"value": 4}, headers=operator)
    await refused(client, "PUT", "/api/ratings/abc", 404, "ride_not_found", {"value": 4}, headers=operator)
    await refused(client, "PUT", f"/api/ratings/{done['id']}", 400, "links_disagree",
                  {"value": 4, "subscriber_id": 424242}, headers=operator)
    await refused(client, "PUT", f"/api/ratings/{done['id']}", 404, "call_not_found",
                  {"value": 4, "call_id": 424242}, headers=operator)
    not_json = await client.put(f"/api/public/ratings/{done_token}", data="value=5")
    assert not_json.status == 415
    assert await count(db) == before
    shown = await call(client, "GET", f"/api/ratings/{done['id']}", 200, headers=operator)
    assert [r["value"] for r in shown["history"]] == [5]
    await app.close()


async def test_only_staff_enter_ratings_and_issue_links(client, operator, make_driver, db):
    _, app = await online(client, make_driver)
    ride = await book_by_phone(client, operator)
    await drive(app, ride["id"])
    _, driver_token = await make_driver("Other Driver")
    for method, path, body in (("GET", f"/api/ratings/{ride['id']}", None),
                               ("PUT", f"/api/ratings/{ride['id']}", {"value": 1}),
                               ("POST", f"/api/ratings/{ride['id']}/link", None)):
        await refused(client, method, path, 401, "not_authenticated", body)
        await refused(client, method, path, 403, "forbidden", body, headers={"Authorization": f"Bearer {driver_token}"})
    assert await count(db) == 0
    await app.close()


async def test_reports_read_ratings_given_and_replaced_since_their_cursor(client, operator, make_driver, db):
    driver, app = await online(client, make_driver)
    ride = await book_by_phone(client, operator)
    await drive(app, ride["id"])
    await call(client, "PUT", f"/api/ratings/{ride['id']}", 200, {"value": 2}, headers=operator)
    first = await reporting.ratings_changed_since(db)
    assert [(f.ride_id, f.driver_id, f.value, f.channel.value, f.is_current) for f in first.facts] == [
        (ride["id"], driver.id, 2, "operator", True)]
    assert (await reporting.ratings_changed_since(db, first.cursor)).facts == ()

    await call(client, "PUT", f"/api/ratings/{ride['id']}", 200, {"value": 5}, headers=operator)
    later = await reporting.ratings_changed_since(db, first.cursor)
    # The replaced rating comes back no longer current, the new one current: a reader upserts both by id.
    assert sorted((f.value, f.is_current) for f in later.facts) == [(2, False), (5, True)]
    assert later.facts[0].id == first.facts[0].id or later.facts[1].id == first.facts[0].id
    paged = await reporting.ratings_changed_since(db, limit=1)
    assert len(paged.facts) == 1
    rest = await reporting.ratings_changed_since(db, paged.cursor, limit=10)
    assert {f.id for f in paged.facts + rest.facts} == {f.id for f in later.facts}
    await app.close()


async def test_a_merge_moves_a_subscriber_s_ratings_with_their_rides(client, operator, staff_headers, make_driver, db):
    _, app = await online(client, make_driver)
    kept = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone("+989121234567")], [], PhonePlan())
    other = await subscribers.create_subscriber(db, "Maryam R", [NewPhone("+989351112233")], [], PhonePlan())
    ride = await book_by_phone(client, operator, subscriber_id=other.subscriber.id, walk_in_name=None,
                               walk_in_phone=None)
    await drive(app, ride["id"])
    await call(client, "PUT", f"/api/ratings/{ride['id']}", 200, {"value": 5}, headers=operator)
    merged = await call(client, "POST", f"/api/subscribers/{kept.subscriber.id}/merge", 200,
                        {"other_id": other.subscriber.id}, headers=await staff_headers("supervisor"))
    assert merged["merge"]["moved"]["ratings"] == 1
    shown = await call(client, "GET", f"/api/ratings/{ride['id']}", 200, headers=operator)
    assert shown["rating"]["subscriber_id"] == kept.subscriber.id
    await app.close()
