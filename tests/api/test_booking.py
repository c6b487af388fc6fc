import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver
from subscribers import service as subscribers
from subscribers.model import NewAddress, NewPhone, SubscriberId
from subscribers.phones import PhonePlan
from taxicrm.app import create_app
from taxicrm.settings import Settings

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
SECRET = "pbx-shared-secret-1"
SUBSCRIBER_PHONE = "+989121234567"
keys = iter(range(1, 1_000_000))


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET))


@pytest.fixture
async def operator(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("operator")


@pytest.fixture
async def subscriber(db: asyncpg.Pool) -> tuple[int, int]:
    """A subscriber with one saved address; returns (subscriber id, address id)."""
    record = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone(SUBSCRIBER_PHONE)],
                                                 [NewAddress("12 Valiasr Street", "home")], PhonePlan())
    return record.subscriber.id, record.addresses[0].id


def keyed(headers: Headers, key: str | None = None) -> Headers:
    return {**headers, "Idempotency-Key": key or f"key-{next(keys)}"}


def walk_in(**extra: Any) -> Json:
    return {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321", "pickup": {"text": "Azadi Square"},
            **extra}


async def book(client: Client, headers: Headers, body: Json, *, status: int = 201,
               key: str | None = None) -> Json:
    response = await client.post("/api/rides", json=body, headers=keyed(headers, key))
    assert response.status == status, await response.text()
    ride: Json = (await response.json())["ride"]
    return ride


async def error_code(response: Any, status: int) -> str:
    assert response.status == status, await response.text()
    code: str = (await response.json())["error"]["code"]
    return code


async def finish(db: asyncpg.Pool, make_driver: Callable[..., Awaitable[tuple[Driver, str]]], ride: Json,
                 status: str) -> None:
    """Put a ride where a driver's trip would leave it; the trip itself is tested with the driver protocol."""
    driver, _ = await make_driver()
    await db.execute("UPDATE rides SET status = $2, driver_id = $3, version = version + 1 WHERE id = $1",
                     ride["id"], status, driver.id)


async def ride_count(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM rides"))


async def history(client: Client, headers: Headers, ride_id: int) -> list[Json]:
    response = await client.get(f"/api/rides/{ride_id}", headers=headers)
    assert response.status == 200, await response.text()
    events: list[Json] = (await response.json())["events"]
    return events


async def test_a_subscriber_is_booked_from_a_saved_address(client: Client, operator: Headers,
                                                            subscriber: tuple[int, int], db: asyncpg.Pool) -> None:
    subscriber_id, address_id = subscriber
    ride = await book(client, operator, {"subscriber_id": subscriber_id, "pickup": {"address_id": address_id},
                                         "passengers": 3, "vehicle_class": "van", "notes_for_driver": "Ring twice"})
    # Without a map position no driver can be searched for: the ride is on the unassigned list at once.
    assert ride["status"] == "unassigned"
    assert ride["pickup"] == {"text": "12 Valiasr Street", "landmark": None, "lat": None, "lng": None,
                              "address_id": address_id}
    assert (ride["passengers"], ride["vehicle_class"], ride["notes_for_driver"]) == (3, "van", "Ring twice")
    assert await db.fetchval("SELECT pickup_count FROM subscriber_addresses WHERE id = $1", address_id) == 1
    booked, unassigned = await history(client, operator, ride["id"])
    assert (booked["action"], booked["from_status"], booked["to_status"]) == ("book", None, "requested")
    assert (unassigned["action"], unassigned["actor"]["kind"]) == ("mark_unassigned", "system")
    assert booked["actor"]["kind"] == "operator" and booked["actor"]["id"] is not None


async def test_a_new_address_typed_for_a_subscriber_is_saved_to_their_card(
        client: Client, operator: Headers, subscriber: tuple[int, int], db: asyncpg.Pool) -> None:
    subscriber_id, _ = subscriber
    ride = await book(client, operator, {
        "subscriber_id": subscriber_id,
        "pickup": {"text": "  Tajrish  Square ", "landmark": "By the bazaar", "lat": 35.80, "lng": 51.43},
        "destination": {"text": "Imam Khomeini Airport"},
    })
    record = await subscribers.get_subscriber(db, SubscriberId(subscriber_id))
    saved = {a.full_text: a for a in record.addresses}
    assert set(saved) == {"12 Valiasr Street", "Tajrish Square", "Imam Khomeini Airport"}
    assert ride["pickup"]["address_id"] == saved["Tajrish Square"].id
    assert ride["destination"]["address_id"] == saved["Imam Khomeini Airport"].id
    assert saved["Tajrish Square"].landmark == "By the bazaar"
    assert (saved["Tajrish Square"].pickup_count, saved["Imam Khomeini Airport"].dropoff_count) == (1, 1)


async def test_an_address_typed_again_reuses_the_saved_one(client: Client, operator: Headers,
                                                           subscriber: tuple[int, int], db: asyncpg.Pool) -> None:
    subscriber_id, address_id = subscriber
    ride = await book(client, operator, {"subscriber_id": subscriber_id, "pickup": {"text": "12 valiasr street"}})
    assert ride["pickup"]["address_id"] == address_id
    assert await db.fetchval("SELECT count(*) FROM subscriber_addresses") == 1


async def test_a_walk_in_is_booked_by_name_and_normalized_phone(client: Client, operator: Headers) -> None:
    ride = await book(client, operator, walk_in())
    assert (ride["walk_in_name"], ride["walk_in_phone"], ride["subscriber_id"]) == (
        "Hasan Walker", "+989127654321", None)
    assert ride["booked_via"] == "console" and ride["booked_by"] is not None


async def test_a_retry_with_the_same_key_returns_the_same_ride(client: Client, operator: Headers,
                                                               db: asyncpg.Pool) -> None:
    first = await book(client, operator, walk_in(), key="same")
    again = await book(client, operator, walk_in(), key="same", status=200)
    assert again["id"] == first["id"]
    assert await ride_count(db) == 1


async def test_a_double_submit_books_one_ride(client: Client, operator: Headers, db: asyncpg.Pool) -> None:
    responses = await asyncio.gather(*(client.post("/api/rides", json=walk_in(), headers=keyed(operator, "dbl"))
                                       for _ in range(2)))
    assert sorted(r.status for r in responses) == [200, 201]
    assert len({(await r.json())["ride"]["id"] for r in responses}) == 1
    assert await ride_count(db) == 1
    assert await db.fetchval("SELECT count(*) FROM ride_events WHERE action = 'book'") == 1


async def test_a_key_reused_for_another_booking_is_refused(client: Client, operator: Headers,
                                                           db: asyncpg.Pool) -> None:
    await book(client, operator, walk_in(), key="k")
    response = await client.post("/api/rides", json=walk_in(passengers=2), headers=keyed(operator, "k"))
    assert await error_code(response, 409) == "idempotency_key_reused"
    assert await ride_count(db) == 1


async def test_the_same_key_from_another_operator_is_another_booking(
        client: Client, operator: Headers, staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    first = await book(client, operator, walk_in(), key="k")
    other = await staff_headers("supervisor")
    second = await book(client, other, walk_in(confirm_duplicate=True), key="k")
    assert second["id"] != first["id"]


async def test_a_second_ride_for_a_caller_must_be_confirmed(client: Client, operator: Headers,
                                                            subscriber: tuple[int, int], db: asyncpg.Pool) -> None:
    subscriber_id, address_id = subscriber
    body = {"subscriber_id": subscriber_id, "pickup": {"address_id": address_id}}
    first = await book(client, operator, body)
    response = await client.post("/api/rides", json=body, headers=keyed(operator))
    assert await error_code(response, 409) == "active_ride_exists"
    assert f"ride {first['id']}" in (await response.json())["error"]["message"]
    assert await ride_count(db) == 1
    second = await book(client, operator, {**body, "confirm_duplicate": True})
    assert second["id"] != first["id"]


async def test_a_walk_in_with_an_active_ride_is_warned_by_phone(client: Client, operator: Headers) -> None:
    await book(client, operator, walk_in())
    response = await client.post("/api/rides", json=walk_in(walk_in_phone="+98 912 765 4321"),
                                 headers=keyed(operator))
    assert await error_code(response, 409) == "active_ride_exists"


async def test_a_finished_ride_does_not_warn(client: Client, operator: Headers, db: asyncpg.Pool,
                                            make_driver: Callable[..., Awaitable[tuple[Driver, str]]]) -> None:
    first = await book(client, operator, walk_in())
    await finish(db, make_driver, first, "completed")
    await book(client, operator, walk_in())


async def test_a_prebooked_ride_is_scheduled_and_listed(client: Client, operator: Headers) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    soon = datetime.now(UTC) + timedelta(minutes=5)  # Inside the release lead: straight to dispatch.
    scheduled = await book(client, operator, walk_in(pickup_at=later.isoformat()))
    requested = await book(client, operator, walk_in(pickup_at=soon.isoformat(), walk_in_phone="09120000001"))
    assert (scheduled["status"], requested["status"]) == ("scheduled", "unassigned")
    assert datetime.fromisoformat(scheduled["pickup_at"]) == later
    response = await client.get("/api/rides", params={"status": "scheduled"}, headers=operator)
    assert [r["id"] for r in (await response.json())["rides"]] == [scheduled["id"]]
    window = {"since": (later - timedelta(minutes=1)).isoformat(), "until": (later + timedelta(minutes=1)).isoformat()}
    response = await client.get("/api/rides", params=window, headers=operator)
    assert [r["id"] for r in (await response.json())["rides"]] == [scheduled["id"]]


async def test_rides_are_listed_by_subscriber_and_by_phone(client: Client, operator: Headers,
                                                           subscriber: tuple[int, int]) -> None:
    subscriber_id, address_id = subscriber
    mine = await book(client, operator, {"subscriber_id": subscriber_id, "pickup": {"address_id": address_id}})
    walker = await book(client, operator, walk_in())
    by_subscriber = await client.get("/api/rides", params={"subscriber_id": str(subscriber_id)}, headers=operator)
    assert [r["id"] for r in (await by_subscriber.json())["rides"]] == [mine["id"]]
    by_phone = await client.get("/api/rides", params={"phone": "09127654321"}, headers=operator)
    assert [r["id"] for r in (await by_phone.json())["rides"]] == [walker["id"]]


async def test_a_cancel_keeps_the_reason_and_the_operator(client: Client, operator: Headers) -> None:
    ride = await book(client, operator, walk_in())
    response = await client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "Customer changed plans"},
                                 headers=operator)
    assert response.status == 200, await response.text()
    cancelled = (await response.json())["ride"]
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Customer changed plans")
    booked, _, cancel = await history(client, operator, ride["id"])
    assert (cancel["action"], cancel["from_status"], cancel["to_status"]) == ("cancel", "unassigned", "cancelled")
    assert cancel["reason"] == "Customer changed plans"
    assert cancel["actor"] == booked["actor"] == cancelled["cancelled_by"]


async def test_a_cancel_needs_a_reason(client: Client, operator: Headers) -> None:
    ride = await book(client, operator, walk_in())
    response = await client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "  "}, headers=operator)
    assert await error_code(response, 400) == "reason_required"


async def test_a_completed_ride_cannot_be_cancelled(client: Client, operator: Headers, db: asyncpg.Pool,
                                                    make_driver: Callable[..., Awaitable[tuple[Driver, str]]]) -> None:
    ride = await book(client, operator, walk_in())
    await finish(db, make_driver, ride, "completed")
    response = await client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "late"}, headers=operator)
    assert await error_code(response, 409) == "illegal_transition"
    assert "completed" in (await response.json())["error"]["message"]
    assert len(await history(client, operator, ride["id"])) == 2


async def test_the_route_changes_before_pickup(client: Client, operator: Headers) -> None:
    ride = await book(client, operator, walk_in())
    response = await client.patch(f"/api/rides/{ride['id']}/route", headers=operator,
                                  json={"destination": {"text": "Milad Tower", "lat": 35.74, "lng": 51.37}})
    assert response.status == 200, await response.text()
    changed = (await response.json())["ride"]
    assert changed["pickup"]["text"] == "Azadi Square"
    assert (changed["destination"]["text"], changed["destination"]["lat"]) == ("Milad Tower", 35.74)
    step = (await history(client, operator, ride["id"]))[-1]
    assert (step["action"], step["from_status"], step["to_status"]) == ("change_route", "unassigned", "unassigned")
    assert step["details"]["before"]["destination"] is None
    assert step["details"]["after"]["destination"]["text"] == "Milad Tower"


async def test_the_route_cannot_change_once_aboard(client: Client, operator: Headers, db: asyncpg.Pool,
                                                   make_driver: Callable[..., Awaitable[tuple[Driver, str]]]) -> None:
    ride = await book(client, operator, walk_in())
    await finish(db, make_driver, ride, "on_board")
    response = await client.patch(f"/api/rides/{ride['id']}/route", json={"pickup": {"text": "Elsewhere"}},
                                  headers=operator)
    assert await error_code(response, 409) == "illegal_transition"
    assert await db.fetchval("SELECT pickup_text FROM rides WHERE id = $1", ride["id"]) == "Azadi Square"


async def test_a_concurrent_cancel_and_change_never_both_apply_to_the_same_version(
        client: Client, operator: Headers, db: asyncpg.Pool) -> None:
    ride = await book(client, operator, walk_in())
    cancel, change = await asyncio.gather(
        client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "no longer needed"}, headers=operator),
        client.patch(f"/api/rides/{ride['id']}/route", json={"pickup": {"text": "Vanak Square"}}, headers=operator),
    )
    outcomes = {cancel.status, change.status}
    assert 200 in outcomes and outcomes <= {200, 409}
    for response in (cancel, change):
        if response.status == 409:
            assert (await response.json())["error"]["code"] in {"ride_changed", "illegal_transition"}
    steps = await history(client, operator, ride["id"])
    assert len(steps) == 2 + [cancel.status, change.status].count(200)
    stored = await db.fetchrow("SELECT status, pickup_text, version FROM rides WHERE id = $1", ride["id"])
    assert stored["version"] == len(steps)
    assert (stored["status"] == "cancelled") == (cancel.status == 200)
    assert (stored["pickup_text"] == "Vanak Square") == (change.status == 200)


BAD_BOOKINGS: list[tuple[str, Json | None, int, str]] = [
    ("no key", None, 400, "idempotency_key_required"),
    ("no rider", {"pickup": {"text": "Azadi Square"}}, 400, "rider_required"),
    ("name without phone", {"walk_in_name": "A", "pickup": {"text": "x"}}, 400, "rider_required"),
    ("bad phone", walk_in(walk_in_phone="12"), 400, "invalid_phone"),
    ("both rider kinds", walk_in(subscriber_id=1), 400, "ambiguous_rider"),
    ("unknown subscriber", {"subscriber_id": 999999, "pickup": {"text": "x"}}, 404, "subscriber_not_found"),
    ("no pickup", {"walk_in_name": "A", "walk_in_phone": "09121111111"}, 400, "missing_field"),
    ("empty pickup", walk_in(pickup={"text": "   "}), 400, "missing_field"),
    ("pickup not a place", walk_in(pickup="Azadi"), 400, "wrong_type"),
    ("address of nobody", walk_in(pickup={"address_id": 1}), 400, "address_not_found"),
    ("half a position", walk_in(pickup={"text": "x", "lat": 35.7}), 400, "invalid_position"),
    ("off the map", walk_in(pickup={"text": "x", "lat": 95, "lng": 51}), 400, "invalid_position"),
    ("no passengers", walk_in(passengers=0), 400, "invalid_passengers"),
    ("too many passengers", walk_in(passengers=9), 400, "invalid_passengers"),
    ("passengers as text", walk_in(passengers="2"), 400, "wrong_type"),
    ("unknown class", walk_in(vehicle_class="bus"), 400, "invalid_choice"),
    ("long notes", walk_in(notes_for_driver="x" * 501), 400, "too_long"),
    ("past pickup", walk_in(pickup_at="2020-01-01T10:00:00+00:00"), 400, "pickup_in_past"),
    ("far pickup", walk_in(pickup_at=(datetime.now(UTC) + timedelta(days=40)).isoformat()), 400, "pickup_too_far"),
    ("garbled time", walk_in(pickup_at="tomorrow"), 400, "invalid_time"),
    ("unknown call", walk_in(call_id=999999), 404, "call_not_found"),
]


@pytest.mark.parametrize(("case", "body", "status", "code"), BAD_BOOKINGS, ids=[c[0] for c in BAD_BOOKINGS])
async def test_a_bad_booking_is_refused_and_changes_nothing(client: Client, operator: Headers, db: asyncpg.Pool,
                                                            case: str, body: Json | None, status: int,
                                                            code: str) -> None:
    before = await ride_count(db)
    headers = operator if body is None else keyed(operator)
    response = await client.post("/api/rides", json=body or walk_in(), headers=headers)
    assert await error_code(response, status) == code
    assert await ride_count(db) == before == 0
    assert await db.fetchval("SELECT count(*) FROM ride_events") == 0


async def test_a_blocked_subscriber_is_booked_only_after_confirming(
        client: Client, operator: Headers, subscriber: tuple[int, int], db: asyncpg.Pool,
        make_staff: Callable[..., Awaitable[Any]]) -> None:
    subscriber_id, address_id = subscriber
    admin = await make_staff("admin")
    await subscribers.block(db, SubscriberId(subscriber_id), "abusive", admin.id, datetime.now(UTC))
    body = {"subscriber_id": subscriber_id, "pickup": {"address_id": address_id}}
    response = await client.post("/api/rides", json=body, headers=keyed(operator, "blocked-1"))
    assert await error_code(response, 409) == "subscriber_blocked"
    assert "abusive" in (await response.json())["error"]["message"]
    assert await ride_count(db) == 0
    ride = await book(client, operator, {**body, "confirm_blocked": True}, key="blocked-1")
    assert ride["subscriber_id"] == subscriber_id and await ride_count(db) == 1


async def test_an_unknown_ride_is_not_found(client: Client, operator: Headers) -> None:
    for path in ("/api/rides/999999", "/api/rides/abc"):
        assert await error_code(await client.get(path, headers=operator), 404) == "ride_not_found"


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
async def test_every_staff_role_may_book(client: Client, staff_headers: Callable[[str], Awaitable[Headers]],
                                         role: str) -> None:
    await book(client, await staff_headers(role), walk_in())


async def test_drivers_and_the_pbx_may_not_touch_rides(
        client: Client, operator: Headers, make_driver: Callable[[], Awaitable[tuple[Driver, str]]],
        db: asyncpg.Pool) -> None:
    ride = await book(client, operator, walk_in())
    _, token = await make_driver()
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Taxicrm-Secret": SECRET}):
        requests = [
            client.post("/api/rides", json=walk_in(confirm_duplicate=True), headers=keyed(headers)),
            client.get("/api/rides", headers=headers),
            client.get(f"/api/rides/{ride['id']}", headers=headers),
            client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "x"}, headers=headers),
            client.patch(f"/api/rides/{ride['id']}/route", json={"pickup": {"text": "x"}}, headers=headers),
        ]
        for response in await asyncio.gather(*requests):
            assert await error_code(response, 403) == "forbidden"
    assert await ride_count(db) == 1
    assert (await db.fetchval("SELECT version FROM rides")) == ride["version"]


async def test_a_merged_subscriber_s_rides_follow_them(client: Client, operator: Headers,
                                                        staff_headers: Callable[[str], Awaitable[Headers]],
                                                        subscriber: tuple[int, int], db: asyncpg.Pool) -> None:
    merged_id, address_id = subscriber
    ride = await book(client, operator, {"subscriber_id": merged_id, "pickup": {"address_id": address_id}})
    kept = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone("+989351112233")], [], PhonePlan())
    response = await client.post(f"/api/subscribers/{kept.subscriber.id}/merge", json={"other_id": merged_id},
                                 headers=await staff_headers("supervisor"))
    assert response.status == 200, await response.text()
    assert (await response.json())["merge"]["moved"]["rides"] == 1
    assert await db.fetchval("SELECT subscriber_id FROM rides WHERE id = $1", ride["id"]) == kept.subscriber.id
