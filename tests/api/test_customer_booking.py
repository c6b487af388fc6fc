"""The customer page's API: quote, book for a mobile number, follow by tracking token, cancel; limits and privacy."""

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch import service as drivers
from dispatch.model import Driver
from dispatch.tokens import token_hash
from subscribers import service as subscribers
from subscribers.model import NewPhone, SubscriberId
from subscribers.phones import PhonePlan
from taxicrm.app import create_app
from taxicrm.settings import Settings
from tests.api.test_realtime import HANDSHAKE
from tests.driver_app import AZADI, DriverApp

Client = TestClient[web.Request, web.Application]
Json = dict[str, Any]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
PICKUP = {"text": "Azadi Square, north gate", "lat": LAT, "lng": LNG}
DESTINATION = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515}
MOBILE = "۰۹۱۲ ۷۶۵ ۴۳۲۱"  # Typed with Persian digits, as customers do.
MOBILE_E164 = "+989127654321"
LIMIT = 2
CAR = {"phone": "0935 111 2233", "licence_number": "5566778899", "plate": "12 ب 345 ایران 67",
       "vehicle_make": "Iran Khodro", "vehicle_model": "Samand", "vehicle_colour": "White"}


@pytest.fixture
def app(settings: Settings) -> web.Application:
    # Behind a proxy, so each test can book from the client addresses it names in X-Forwarded-For.
    return create_app(dataclasses.replace(settings, customer_bookings_per_hour=LIMIT, behind_proxy=True,
                                          offer_timeout_seconds=5))


def booking(**extra: Any) -> Json:
    return {"phone": MOBILE, "name": "Sara", "pickup": PICKUP, "destination": DESTINATION, **extra}


async def book(client: Client, body: Json | None = None, *, key: str | None = None, address: str = "10.0.0.1",
               status: int = 201) -> Json:
    response = await client.post("/api/public/rides", json=booking() if body is None else body,
                                 headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-Forwarded-For": address})
    assert response.status == status, await response.text()
    found: Json = await response.json()
    return found


async def refused(response: Any, status: int, code: str) -> Json:
    body: Json = await response.json()
    assert (response.status, body["error"]["code"]) == (status, code), body
    return body


async def follow(client: Client, token: str) -> Json:
    response = await client.get(f"/api/public/rides/{token}")
    assert response.status == 200, await response.text()
    view: Json = await response.json()
    return view


async def cancel(client: Client, token: str, status: int = 200) -> Json:
    response = await client.post(f"/api/public/rides/{token}/cancel", json={})
    assert response.status == status, await response.text()
    found: Json = await response.json()
    return found


async def ride_count(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM rides"))


async def driver_with_car(db: asyncpg.Pool, make_driver: MakeDriver, name: str = "Hassan Karimi") -> tuple[Driver, str]:
    driver, token = await make_driver(name)
    await drivers.change_driver(db, driver.id, drivers.driver_fields(CAR, PhonePlan(), creating=False))
    return driver, token


async def status_becomes(client: Client, token: str, status: str) -> Json:
    for _ in range(100):
        view = await follow(client, token)
        if view["ride"]["status"] == status:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"the ride never became {status}: {view}")


async def test_a_quote_needs_no_login_and_is_itemised(client: Client) -> None:
    response = await client.post("/api/public/fares/quote", json={"pickup": PICKUP, "destination": DESTINATION})
    assert response.status == 200, await response.text()
    quote = (await response.json())["quote"]
    assert quote["total_rials"] > 0 and sum(line["amount_rials"] for line in quote["lines"]) == quote["total_rials"]
    assert quote["distance_m"] > 1000 and quote["duration_s"] > 0 and quote["vehicle_class"] == "sedan"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"pickup": {"lat": 35.84, "lng": 50.97}, "destination": DESTINATION}, 400, "outside_service_area"),  # Karaj
    ({"pickup": {"lat": LAT}, "destination": DESTINATION}, 400, "invalid_coordinates"),
    ({"pickup": PICKUP}, 400, "missing_field"),
    ({"pickup": PICKUP, "destination": DESTINATION, "vehicle_class": "rickshaw"}, 400, "invalid_choice"),
])
async def test_a_quote_refuses_what_it_cannot_price(client: Client, body: Json, status: int, code: str) -> None:
    await refused(await client.post("/api/public/fares/quote", json=body), status, code)


async def test_a_walk_in_books_with_a_mobile_number_and_gets_a_token_kept_only_as_a_hash(
        client: Client, db: asyncpg.Pool) -> None:
    booked = await book(client)
    token, ride = booked["token"], booked["ride"]
    assert token.startswith("r_") and len(token) > 40
    assert ride["status"] in {"requested", "unassigned"} and ride["can_cancel"] is True
    assert ride["pickup"] == {"text": PICKUP["text"], "landmark": None, "lat": LAT, "lng": LNG}
    assert ride["quote"]["total_rials"] > 0 and booked["driver"] is None and booked["arrival"] is None
    row = await db.fetchrow("SELECT booked_via, walk_in_name, walk_in_phone, subscriber_id, quote_locked "
                            "FROM rides WHERE id = $1", ride["id"])
    assert dict(row) == {"booked_via": "self_service", "walk_in_name": "Sara", "walk_in_phone": MOBILE_E164,
                         "subscriber_id": None, "quote_locked": False}
    stored = await db.fetchrow("SELECT token_hash, phone FROM ride_tracking WHERE ride_id = $1", ride["id"])
    assert (bytes(stored["token_hash"]), stored["phone"]) == (token_hash(token), MOBILE_E164)
    assert await db.fetchval("SELECT count(*) FROM ride_tracking WHERE token_hash = $1", token.encode()) == 0
    steps = await db.fetch("SELECT action, actor_kind FROM ride_events WHERE ride_id = $1 ORDER BY id", ride["id"])
    assert (steps[0]["action"], steps[0]["actor_kind"]) == ("book", "customer")


async def test_a_subscribers_number_books_for_that_subscriber(client: Client, db: asyncpg.Pool) -> None:
    record = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone(MOBILE_E164)], [], PhonePlan())
    ride = (await book(client, booking(name="Not Maryam")))["ride"]
    row = await db.fetchrow("SELECT subscriber_id, walk_in_name FROM rides WHERE id = $1", ride["id"])
    assert (row["subscriber_id"], row["walk_in_name"]) == (record.subscriber.id, None)
    # Anyone can type a subscriber's number: what they type does not land on the subscriber's card.
    assert (await subscribers.get_subscriber(db, record.subscriber.id)).addresses == ()


@pytest.mark.parametrize(("phone", "code"), [
    ("not a phone", "invalid_phone"),
    ("0912", "invalid_phone"),
    ("021 8800 1122", "mobile_required"),  # A Tehran landline: the driver could not reach the passenger.
    ("88001122", "mobile_required"),
])
async def test_a_number_that_is_not_a_mobile_is_refused_and_books_nothing(
        client: Client, db: asyncpg.Pool, phone: str, code: str) -> None:
    response = await client.post("/api/public/rides", json=booking(phone=phone),
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    await refused(response, 400, code)
    assert await ride_count(db) == 0


@pytest.mark.parametrize(("body", "headers", "code"), [
    (booking(pickup={"text": "Somewhere"}), {}, "pickup_position_required"),
    (booking(pickup={"text": "Karaj", "lat": 35.84, "lng": 50.97}), {}, "outside_service_area"),
    (booking(pickup={"lat": LAT, "lng": LNG}), {}, "missing_field"),
    ({"pickup": PICKUP}, {}, "missing_field"),
    (booking(), {"Idempotency-Key": "short"}, "idempotency_key_required"),
    (booking(notes_for_driver="x" * 501), {}, "too_long"),
])
async def test_a_booking_refuses_bad_input_and_books_nothing(
        client: Client, db: asyncpg.Pool, body: Json, headers: dict[str, str], code: str) -> None:
    response = await client.post("/api/public/rides", json=body,
                                 headers={"Idempotency-Key": str(uuid.uuid4()), **headers})
    await refused(response, 400, code)
    assert await ride_count(db) == 0


async def test_a_retry_with_the_same_key_books_one_ride_and_either_token_follows_it(
        client: Client, db: asyncpg.Pool) -> None:
    key = str(uuid.uuid4())
    first = await book(client, key=key)
    again = await book(client, key=key, status=200)
    assert again["ride"]["id"] == first["ride"]["id"] and again["token"] != first["token"]
    assert await ride_count(db) == 1
    for token in (first["token"], again["token"]):
        assert (await follow(client, token))["ride"]["id"] == first["ride"]["id"]
    # The same key with other details is a mistake, said without naming any ride.
    response = await client.post("/api/public/rides", json=booking(name="Someone else"),
                                 headers={"Idempotency-Key": key})
    body = await refused(response, 409, "idempotency_key_reused")
    assert str(first["ride"]["id"]) not in body["error"]["message"]


async def test_a_number_with_a_ride_under_way_cannot_book_another(client: Client, db: asyncpg.Pool) -> None:
    await book(client)
    response = await client.post("/api/public/rides", json=booking(),
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    await refused(response, 409, "active_ride_exists")
    assert await ride_count(db) == 1


async def test_a_blocked_subscriber_is_refused_without_hearing_why(client: Client, db: asyncpg.Pool,
                                                                   make_staff: Any) -> None:
    record = await subscribers.create_subscriber(db, "Blocked Person", [NewPhone(MOBILE_E164)], [], PhonePlan())
    admin = await make_staff("admin")
    await subscribers.block(db, SubscriberId(record.subscriber.id), "Abusive to drivers", admin.id,
                            record.subscriber.created_at)
    response = await client.post("/api/public/rides", json=booking(), headers={"Idempotency-Key": str(uuid.uuid4())})
    body = await refused(response, 409, "booking_refused")
    assert "Abusive" not in body["error"]["message"]
    assert await ride_count(db) == 0


async def test_bookings_are_limited_per_number(client: Client, db: asyncpg.Pool) -> None:
    for n in range(LIMIT):
        await cancel(client, (await book(client, address=f"10.0.1.{n}"))["token"])
    response = await client.post("/api/public/rides", json=booking(),
                                 headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": "10.0.1.99"})
    await refused(response, 429, "too_many_bookings")
    assert 3500 <= int(response.headers["Retry-After"]) <= 3600
    assert await ride_count(db) == LIMIT


async def test_bookings_are_limited_per_client_address(client: Client, db: asyncpg.Pool) -> None:
    for n in range(LIMIT):
        await book(client, booking(phone=f"0912 000 000{n}"), address="10.0.2.1")
    response = await client.post("/api/public/rides", json=booking(phone="0912 000 0009"),
                                 headers={"Idempotency-Key": str(uuid.uuid4()), "X-Forwarded-For": "10.0.2.1"})
    await refused(response, 429, "too_many_bookings")
    assert response.headers["Retry-After"].isdigit()
    # Another address, another number: still welcome.
    await book(client, booking(phone="0912 000 0009"), address="10.0.2.2")
    assert await ride_count(db) == LIMIT + 1


async def test_a_retry_of_the_last_booking_allowed_is_not_refused_by_the_limit(client: Client) -> None:
    await cancel(client, (await book(client))["token"])
    key = str(uuid.uuid4())
    last = await book(client, key=key)
    assert (await book(client, key=key, status=200))["ride"]["id"] == last["ride"]["id"]


async def test_an_unknown_token_is_not_found(client: Client) -> None:
    await book(client)
    for token in ("r_" + "A" * 43, "nonsense", "d_" + "A" * 43, "r_" + "A" * 200):
        await refused(await client.get(f"/api/public/rides/{token}"), 404, "tracking_not_found")
        await refused(await client.post(f"/api/public/rides/{token}/cancel", json={}), 404, "tracking_not_found")


async def test_the_customer_follows_the_driver_car_and_arrival_but_nothing_private(
        client: Client, db: asyncpg.Pool, make_driver: MakeDriver, make_staff: Any) -> None:
    record = await subscribers.create_subscriber(db, "Maryam Rezaei", [NewPhone(MOBILE_E164)], [], PhonePlan())
    staff = await make_staff("operator")
    await subscribers.add_note(db, record.subscriber.id, "Tips badly; VIP's cousin", None, staff.id,
                               record.subscriber.created_at)
    _, driver_token = await driver_with_car(db, make_driver)
    app = await DriverApp.connect(client, "/ws/driver", driver_token)
    await app.wait_for("state")
    await app.go_online(LAT + 1000 / 111_000, LNG)  # A kilometre north of the pickup.
    booked = await book(client, booking(notes_for_driver="Blue door"))
    token = booked["token"]
    offer = await app.wait_for("offer")
    await app.ask("accept", offer_id=offer["offer_id"])

    view = await status_becomes(client, token, "assigned")
    assert view["driver"] == {
        "name": "Hassan Karimi", "vehicle_make": "Iran Khodro", "vehicle_model": "Samand",
        "vehicle_colour": "White", "vehicle_class": "sedan", "plate": "12 ب 345 - 67",
        "position": {"lat": pytest.approx(LAT + 1000 / 111_000), "lng": pytest.approx(LNG),
                     "seen_at": view["driver"]["position"]["seen_at"]},
    }
    # About 1 km by the road factor 1.3 at 25 km/h: some three minutes.
    arrival = view["arrival"]
    assert arrival["to"] == "pickup" and 1250 <= arrival["distance_m"] <= 1350 and 180 <= arrival["seconds"] <= 195
    text = str(view)
    for private in ("+989351112233", "5566778899", "Tips badly", "Blue door", "Maryam", MOBILE_E164, "9127654321"):
        assert private not in text
    assert set(view["ride"]) == {
        "id", "status", "version", "pickup", "destination", "vehicle_class", "passengers", "pickup_at",
        "booked_at", "assigned_at", "arrived_at", "picked_up_at", "finished_at", "quote", "fare", "cancelled_by",
        "can_cancel"}
    assert set(view["ride"]["quote"]) == {"total_rials", "lines", "distance_m", "duration_s"}

    await app.ask("arrived", ride_id=booked["ride"]["id"])
    waiting = await follow(client, token)
    assert waiting["ride"]["status"] == "arrived" and waiting["arrival"] is None
    assert waiting["driver"]["position"] is not None and waiting["ride"]["can_cancel"] is True
    await app.ask("picked_up", ride_id=booked["ride"]["id"])
    aboard = await follow(client, token)
    assert aboard["ride"]["status"] == "on_board" and aboard["ride"]["can_cancel"] is False
    assert aboard["arrival"]["to"] == "destination"
    await refused(await client.post(f"/api/public/rides/{token}/cancel", json={}), 409, "not_cancellable")
    await app.ask("completed", ride_id=booked["ride"]["id"])
    done = await follow(client, token)
    assert done["ride"]["status"] == "completed" and done["ride"]["fare"]["total_rials"] > 0
    assert set(done["ride"]["fare"]) <= {"total_rials", "lines", "distance_m", "duration_s"}
    assert done["driver"]["name"] == "Hassan Karimi" and done["driver"]["position"] is None
    assert done["arrival"] is None
    await app.close()


async def test_the_customer_cancels_before_pickup_and_the_driver_is_told(
        client: Client, db: asyncpg.Pool, make_driver: MakeDriver) -> None:
    _, driver_token = await driver_with_car(db, make_driver)
    app = await DriverApp.connect(client, "/ws/driver", driver_token)
    await app.wait_for("state")
    await app.go_online(LAT + 300 / 111_000, LNG)
    booked = await book(client)
    offer = await app.wait_for("offer")
    await app.ask("accept", offer_id=offer["offer_id"])
    await status_becomes(client, booked["token"], "assigned")

    view = await cancel(client, booked["token"])
    assert (view["ride"]["status"], view["ride"]["cancelled_by"], view["ride"]["can_cancel"]) == (
        "cancelled", "customer", False)
    assert view["driver"] is None  # Whoever was coming is no longer the customer's business.
    told = await app.wait_for("ride", event="cancelled")
    assert told["job"]["ride_id"] == booked["ride"]["id"]
    reason = await db.fetchval("SELECT cancel_reason FROM rides WHERE id = $1", booked["ride"]["id"])
    assert reason == "Cancelled by the customer on the booking page."
    await refused(await client.post(f"/api/public/rides/{booked['token']}/cancel", json={}), 409, "not_cancellable")
    # With that ride over, the number may book again.
    await book(client, address="10.0.3.1")
    await app.close()


async def test_the_rider_socket_carries_only_that_rides_small_news(
        client: Client, db: asyncpg.Pool, make_driver: MakeDriver) -> None:
    _, driver_token = await driver_with_car(db, make_driver)
    app = await DriverApp.connect(client, "/ws/driver", driver_token)
    await app.wait_for("state")
    await app.go_online(LAT + 300 / 111_000, LNG)
    booked = await book(client)
    other = await book(client, booking(phone="0912 000 1111"), address="10.0.4.1")
    async with client.ws_connect("/ws/rider", params={"token": booked["token"]}) as rider:
        hello = await rider.receive_json(timeout=5)
        assert hello["type"] == "hello" and hello["principal"] == {"role": "rider", "id": booked["ride"]["id"]}
        offer = await app.wait_for("offer", ride_id=booked["ride"]["id"])
        await app.ask("accept", offer_id=offer["offer_id"])
        await cancel(client, other["token"])
        await app.ask("arrived", ride_id=booked["ride"]["id"])
        seen = []
        while len(seen) < 2:
            message = await rider.receive_json(timeout=5)
            if message["type"] == "event":
                seen.append(message)
    assert [(m["topic"], m["data"]["status"]) for m in seen] == [("ride.assigned", "assigned"),
                                                                 ("ride.arrived", "arrived")]
    assert all(set(m["data"]) == {"ride_id", "status", "version"} for m in seen)
    assert {m["data"]["ride_id"] for m in seen} == {booked["ride"]["id"]}
    await app.close()


async def test_the_rider_socket_refuses_a_missing_or_unknown_token(client: Client) -> None:
    for params in ({}, {"token": "r_" + "B" * 43}):
        response = await client.get("/ws/rider", params=params, headers=HANDSHAKE)
        assert response.status == 401
    # A tracking token opens nothing but its own ride's socket.
    token = (await book(client))["token"]
    response = await client.get("/api/rides", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403
    response = await client.get("/ws", params={"token": token}, headers=HANDSHAKE)
    assert response.status == 403
