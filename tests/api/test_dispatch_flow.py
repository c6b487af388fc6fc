"""A ride from booking to the fare, through the real app, its PostgreSQL and Redis, and real driver websockets."""

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
from taxicrm.app import create_app
from taxicrm.settings import Settings
from tests.driver_app import AZADI, DriverApp

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
# About 1.3 km north-east of Azadi Square: inside Tehran, with a quote from the seeded tariff.
DESTINATION = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515}
keys = iter(range(1, 1_000_000))


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Short timers, so timeouts and graces pass within a test."""
    return dataclasses.replace(settings, offer_timeout_seconds=2, reconnect_grace_seconds=1, offer_max_tries=3)


@pytest.fixture
def app(fast: Settings) -> web.Application:
    return create_app(fast)


@pytest.fixture
async def operator(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("operator")


async def online(client: Client, make_driver: MakeDriver, name: str, north_m: float) -> tuple[Driver, DriverApp]:
    """A driver whose app is connected, available, and `north_m` metres north of Azadi Square."""
    driver, token = await make_driver(name)
    app = await DriverApp.connect(client, "/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + north_m / 111_000, LNG)
    return driver, app


async def book(client: Client, headers: Headers, **extra: Any) -> Json:
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321",
            "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG}, "destination": DESTINATION,
            "confirm_duplicate": True, **extra}
    response = await client.post("/api/rides", json=body, headers={**headers, "Idempotency-Key": f"k{next(keys)}"})
    assert response.status == 201, await response.text()
    ride: Json = (await response.json())["ride"]
    return ride


async def ride_of(client: Client, headers: Headers, ride_id: int) -> Json:
    response = await client.get(f"/api/rides/{ride_id}", headers=headers)
    assert response.status == 200, await response.text()
    found: Json = await response.json()
    return found


async def status_becomes(client: Client, headers: Headers, ride_id: int, status: str, within: float = 5) -> Json:
    for _ in range(int(within / 0.05)):
        ride = (await ride_of(client, headers, ride_id))["ride"]
        if ride["status"] == status:
            return ride
        await asyncio.sleep(0.05)
    raise AssertionError(f"ride {ride_id} never became {status}: {ride}")


async def test_the_nearest_driver_is_offered_the_ride_accepts_and_completes_it_at_the_fare(
        client: Client, operator: Headers, make_driver: MakeDriver, db: asyncpg.Pool) -> None:
    near, near_app = await online(client, make_driver, "Near", north_m=300)
    _, far_app = await online(client, make_driver, "Far", north_m=900)
    async with client.ws_connect("/ws", headers=operator) as console:
        ride = await book(client, operator, notes_for_driver="Blue door")
        assert ride["quote"]["total_rials"] == ride["quote_total_rials"] > 0 and ride["quote_locked"] is True

        offer = await near_app.wait_for("offer")
        assert (offer["ride_id"], offer["pickup"]["text"], offer["notes_for_driver"]) == (
            ride["id"], "Azadi Square", "Blue door")
        assert offer["destination"]["text"] == "Sharif University"
        assert 250 < offer["distance_to_pickup_m"] < 350
        assert offer["quote"]["total_rials"] == ride["quote_total_rials"]
        assert 0 < offer["expires_in_ms"] <= 2_000

        accepted = await near_app.ask("accept", offer_id=offer["offer_id"])
        assert accepted["type"] == "accepted" and accepted["job"]["status"] == "assigned"
        for step, status in (("arrived", "arrived"), ("picked_up", "on_board")):
            reply = await near_app.ask(step, ride_id=ride["id"])
            assert (reply["type"], reply["job"]["status"]) == ("ride", status)
        # The trip: fixes every few seconds on the way to the destination.
        for n in range(1, 11):
            await near_app.send("position", lat=LAT + (DESTINATION["lat"] - LAT) * n / 10,
                                lng=LNG + (DESTINATION["lng"] - LNG) * n / 10)
            await asyncio.sleep(0.02)
        done = await near_app.ask("completed", ride_id=ride["id"])
        assert (done["type"], done["job"]["status"]) == ("ride", "completed")

        topics = []
        while "ride.completed" not in topics:
            message = await console.receive_json(timeout=5)
            if message["type"] == "event" and message["topic"].startswith("ride."):
                topics.append(message["topic"])
    assert topics == ["ride.booked", "ride.offering", "ride.assigned", "ride.arrived", "ride.on_board",
                      "ride.completed"]
    assert not [m for m in far_app.seen if m["type"] == "offer"]

    record = await ride_of(client, operator, ride["id"])
    final = record["ride"]
    # It went where it was booked to: the price told on the phone stands, and the meter's reading is kept.
    assert (final["fare_basis"], final["fare_total_rials"]) == ("locked_quote", ride["quote_total_rials"])
    assert final["fare"]["metered"]["trace_points"] == 10
    assert final["driver_share_rials"] + final["center_share_rials"] == final["fare_total_rials"]
    assert final["center_share_rials"] == final["fare_total_rials"] * 1500 // 10_000
    assert [o["status"] for o in record["offers"]] == ["accepted"]
    assert record["offers"][0]["driver_id"] == near.id
    assert [e["action"] for e in record["events"]] == ["book", "offer", "accept", "arrive", "pick_up", "complete"]
    assert await db.fetchval("SELECT count(*) FROM ride_trace_points WHERE ride_id = $1", ride["id"]) == 10
    for app in (near_app, far_app):
        await app.close()


async def _step_while_the_ride_changes(db: asyncpg.Pool, app: DriverApp, ride_id: int, step: str,
                                      change: str) -> Json:
    """Send a driver's step while another transaction holds the ride with `change` made; commit it meanwhile."""
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(f"UPDATE rides SET {change}, version = version + 1 WHERE id = $1", ride_id)
        reply = asyncio.create_task(app.ask(step, ride_id=ride_id))
        await asyncio.sleep(0.3)
        assert not reply.done()  # The step waits for the change to commit or roll back.
        await transaction.commit()
        return await reply


@pytest.mark.parametrize(("change", "outcome"), [
    ("notes_for_driver = 'Ring twice'", ("ride", "arrived")),
    ("status = 'cancelled', cancelled_by_kind = 'operator', cancel_reason = 'Called off'",
     ("error", "illegal_transition")),
])
async def test_a_drivers_step_is_judged_on_a_change_committed_meanwhile(
        client: Client, operator: Headers, make_driver: MakeDriver, db: asyncpg.Pool, change: str,
        outcome: tuple[str, str]) -> None:
    _, near_app = await online(client, make_driver, "Near", north_m=300)
    ride = await book(client, operator)
    offer = await near_app.wait_for("offer")
    await near_app.ask("accept", offer_id=offer["offer_id"])

    reply = await _step_while_the_ride_changes(db, near_app, ride["id"], "arrived", change)
    assert (reply["type"], reply.get("job", {}).get("status") or reply.get("code")) == outcome
    record = await ride_of(client, operator, ride["id"])
    # Both changes stand, each once: the step was made on the changed ride, or refused by it.
    assert record["ride"]["status"] == ("arrived" if outcome[0] == "ride" else "cancelled")
    assert [e["action"] for e in record["events"]].count("arrive") == (outcome[0] == "ride")
    await near_app.close()


async def test_a_declined_ride_goes_to_the_next_driver_at_once_and_never_back(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    first, first_app = await online(client, make_driver, "First", north_m=200)
    second, second_app = await online(client, make_driver, "Second", north_m=600)
    ride = await book(client, operator)
    offer = await first_app.wait_for("offer")
    declined = await first_app.ask("decline", offer_id=offer["offer_id"], reason="Going home")
    assert declined == {**declined, "type": "declined", "offer_id": offer["offer_id"]}
    second_offer = await second_app.wait_for("offer")
    assert second_offer["ride_id"] == ride["id"]
    refused = await second_app.ask("decline", offer_id=second_offer["offer_id"])
    assert refused["type"] == "declined"
    unassigned = await status_becomes(client, operator, ride["id"], "unassigned")
    assert unassigned["offered_to"] is None
    record = await ride_of(client, operator, ride["id"])
    assert [(o["driver_id"], o["status"], o["reason"]) for o in record["offers"]] == [
        (first.id, "declined", "Going home"), (second.id, "declined", None)]
    # The first driver is not offered the ride again, even when retried.
    response = await client.post(f"/api/rides/{ride['id']}/retry", headers=operator)
    assert response.status == 202
    assert (await response.json())["ride"]["status"] == "unassigned"
    assert len([m for m in first_app.seen if m["type"] == "offer"]) == 1
    for app in (first_app, second_app):
        await app.close()


async def test_an_offer_nobody_answers_times_out_to_the_next_driver_then_the_ride_is_unassigned(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    _, first_app = await online(client, make_driver, "Sleepy", north_m=100)
    _, second_app = await online(client, make_driver, "Also sleepy", north_m=400)
    ride = await book(client, operator)
    first = await first_app.wait_for("offer")
    gone = await first_app.wait_for("offer_withdrawn", within=4)
    assert (gone["offer_id"], gone["status"]) == (first["offer_id"], "expired")
    assert (await second_app.wait_for("offer", within=2))["ride_id"] == ride["id"]
    late = await first_app.ask("accept", offer_id=first["offer_id"])
    assert (late["type"], late["code"]) == ("error", "offer_expired")
    await second_app.wait_for("offer_withdrawn", within=4)
    unassigned = await status_becomes(client, operator, ride["id"], "unassigned")
    assert unassigned["driver_id"] is None
    record = await ride_of(client, operator, ride["id"])
    assert [o["status"] for o in record["offers"]] == ["expired", "expired"]
    assert record["events"][-1]["action"] == "mark_unassigned"
    for app in (first_app, second_app):
        await app.close()


async def test_a_driver_who_reconnects_gets_the_pending_offer_with_the_time_left(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    driver, token = await make_driver("Tunnel")
    app = await DriverApp.connect(client, "/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + 0.001, LNG)
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    await app.close()  # Into a tunnel; back within the reconnect grace.
    again = await DriverApp.connect(client, "/ws/driver", token)
    state = await again.wait_for("state")
    assert state["offer"]["offer_id"] == offer["offer_id"] and state["ride"] is None
    assert 0 < state["offer"]["expires_in_ms"] < offer["expires_in_ms"]
    accepted = await again.ask("accept", offer_id=offer["offer_id"])
    assert accepted["type"] == "accepted"
    await again.close()
    # And a driver reconnecting while on a ride gets the ride.
    back = await DriverApp.connect(client, "/ws/driver", token)
    state = await back.wait_for("state")
    assert (state["ride"]["ride_id"], state["ride"]["status"], state["offer"]) == (ride["id"], "assigned", None)
    assert state["status"] == "busy" and state["driver_id"] == driver.id
    await back.close()


async def test_a_driver_who_drops_off_and_stays_away_loses_the_offer_to_the_next_driver(
        client: Client, operator: Headers, make_driver: MakeDriver, fast: Settings) -> None:
    _, gone_app = await online(client, make_driver, "Gone", north_m=100)
    _, next_app = await online(client, make_driver, "Next", north_m=500)
    ride = await book(client, operator)
    offer = await gone_app.wait_for("offer")
    await gone_app.close()
    # Sooner than the offer's timeout: the reconnect grace is shorter.
    assert fast.reconnect_grace_seconds < fast.offer_timeout_seconds
    second = await next_app.wait_for("offer", within=fast.reconnect_grace_seconds + 1.5)
    assert second["ride_id"] == ride["id"]
    record = await ride_of(client, operator, ride["id"])
    assert (record["offers"][0]["id"], record["offers"][0]["status"]) == (offer["offer_id"], "lost")
    await next_app.close()


async def test_an_accept_is_idempotent_and_an_offer_is_only_its_drivers(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    _, mine = await online(client, make_driver, "Mine", north_m=100)
    _, other = await online(client, make_driver, "Other", north_m=5_000)
    ride = await book(client, operator)
    offer = await mine.wait_for("offer")
    stolen = await other.ask("accept", offer_id=offer["offer_id"])
    assert (stolen["type"], stolen["code"]) == ("error", "offer_not_found")
    # A double tap: the second accept arrives before the first is answered.
    await mine.send("accept", offer_id=offer["offer_id"], ref="tap-1")
    await mine.send("accept", offer_id=offer["offer_id"], ref="tap-2")
    first, second = await mine.reply_to("tap-1"), await mine.reply_to("tap-2")
    assert first["type"] == second["type"] == "accepted"
    assert first["job"]["ride_id"] == second["job"]["ride_id"] == ride["id"]
    record = await ride_of(client, operator, ride["id"])
    assert [e["action"] for e in record["events"]].count("accept") == 1
    for app in (mine, other):
        await app.close()


async def test_an_unassigned_ride_is_offered_at_once_to_a_driver_who_becomes_free_near_it(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    ride = await book(client, operator)  # Nobody is online: straight to the unassigned list, retried in 30 s.
    await status_becomes(client, operator, ride["id"], "unassigned")
    _, far_app = await online(client, make_driver, "Far", north_m=12_000)  # Beyond the wake's 8 km.
    _, near_app = await online(client, make_driver, "Near", north_m=300)

    offer = await near_app.wait_for("offer", within=3)
    assert offer["ride_id"] == ride["id"]
    assert not [m for m in far_app.seen if m["type"] == "offer"]
    for app in (near_app, far_app):
        await app.close()


async def test_an_operator_assigns_an_unassigned_ride_by_hand_and_the_driver_is_told(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    ride = await book(client, operator)  # Nobody is online: straight to the unassigned list.
    await status_becomes(client, operator, ride["id"], "unassigned")
    listed = await client.get("/api/rides", params={"status": "unassigned"}, headers=operator)
    assert [r["id"] for r in (await listed.json())["rides"]] == [ride["id"]]
    driver, app = await online(client, make_driver, "Called in", north_m=2_500)
    nearby = await client.get(f"/api/rides/{ride['id']}/nearby-drivers", headers=operator)
    [candidate] = (await nearby.json())["drivers"]
    assert (candidate["driver_id"], candidate["can_take"], candidate["why_not"]) == (driver.id, True, None)
    assert 2_400 < candidate["distance_m"] < 2_600 and candidate["name"] == "Called in"
    response = await client.post(f"/api/rides/{ride['id']}/assign", json={"driver_id": driver.id,
                                                                         "reason": "Regular customer"},
                                 headers=operator)
    assert response.status == 200, await response.text()
    assert (await response.json())["ride"]["driver_id"] == driver.id
    news = await app.wait_for("ride", event="assigned")
    assert news["job"]["ride_id"] == ride["id"] and news["job"]["pickup"]["text"] == "Azadi Square"
    # The driver is busy now: another ride cannot be given to them.
    other = await book(client, operator, walk_in_phone="09120000002")
    await status_becomes(client, operator, other["id"], "unassigned")
    refused = await client.post(f"/api/rides/{other['id']}/assign", json={"driver_id": driver.id},
                                headers=operator)
    assert refused.status == 409 and (await refused.json())["error"]["code"] == "driver_busy"
    await app.close()


async def test_cancelling_an_offered_ride_withdraws_the_offer_from_the_driver(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    _, app = await online(client, make_driver, "Offered", north_m=100)
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    response = await client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "Found a bus"},
                                 headers=operator)
    assert response.status == 200
    withdrawn = await app.wait_for("offer_withdrawn")
    assert (withdrawn["offer_id"], withdrawn["status"]) == (offer["offer_id"], "withdrawn")
    late = await app.ask("accept", offer_id=offer["offer_id"])
    assert (late["type"], late["code"]) == ("error", "offer_withdrawn")
    await app.close()


async def test_cancelling_an_assigned_ride_tells_the_driver_and_frees_them(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    _, app = await online(client, make_driver, "Assigned", north_m=100)
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    await app.ask("accept", offer_id=offer["offer_id"])
    await client.post(f"/api/rides/{ride['id']}/cancel", json={"reason": "Changed plans"}, headers=operator)
    news = await app.wait_for("ride", event="cancelled")
    assert news["job"]["ride_id"] == ride["id"] and news["reason"] == "Changed plans"
    state = await app.ask("state")
    assert (state["ride"], state["status"]) == (None, "available")
    # Free again: the next ride near them is offered to them.
    await book(client, operator, walk_in_phone="09120000003")
    assert (await app.wait_for("offer"))["ride_id"] != ride["id"]
    await app.close()


async def test_a_prebooking_waits_then_is_released_to_dispatch_its_lead_time_before_pickup(
        client: Client, operator: Headers, make_driver: MakeDriver, fast: Settings) -> None:
    _, app = await online(client, make_driver, "Early bird", north_m=100)
    pickup_at = datetime.now(UTC) + timedelta(minutes=fast.prebooking_lead_minutes, seconds=2)
    ride = await book(client, operator, pickup_at=pickup_at.isoformat())
    assert ride["status"] == "scheduled"
    listed = await client.get("/api/rides", params={"status": "scheduled"}, headers=operator)
    assert [r["id"] for r in (await listed.json())["rides"]] == [ride["id"]]
    offer = await app.wait_for("offer", within=6)
    assert offer["ride_id"] == ride["id"] and datetime.fromisoformat(offer["pickup_at"]) == pickup_at
    actions = [e["action"] for e in (await ride_of(client, operator, ride["id"]))["events"]]
    assert actions == ["book", "release", "offer"]
    await app.close()


async def test_the_driver_protocol_refuses_bad_messages_and_changes_nothing(
        client: Client, operator: Headers, make_driver: MakeDriver, redis_client: Any) -> None:
    driver, app = await online(client, make_driver, "Careful", north_m=100)
    before = await redis_client.geopos("taxicrm:drivers:geo", str(driver.id))
    cases = [
        ({"type": "position", "lat": 91, "lng": 51.3}, "invalid_coordinates"),
        ({"type": "position", "lat": "35.7", "lng": 51.3}, "invalid_coordinates"),
        ({"type": "position", "lat": 48.85, "lng": 2.35}, "outside_service_area"),   # Paris.
        ({"type": "position", "lat": 35.7, "lng": 51.3, "accuracy": -5}, "invalid_accuracy"),
        ({"type": "position", "lat": 35.7, "lng": 51.3, "at": "yesterday"}, "invalid_time"),
        ({"type": "status", "status": "busy"}, "invalid_choice"),
        ({"type": "status"}, "missing_field"),
        ({"type": "accept"}, "missing_field"),
        ({"type": "accept", "offer_id": "seven"}, "wrong_type"),
        ({"type": "accept", "offer_id": 999_999}, "offer_not_found"),
        ({"type": "arrived", "ride_id": 999_999}, "ride_not_found"),
        ({"type": "check_in", "zone_id": 999_999}, "zone_not_found"),
        ({"type": "fly"}, "unknown_type"),
    ]
    for command, code in cases:
        reply = await app.ask(command.pop("type"), **command)
        assert (reply["type"], reply["code"]) == ("error", code), reply
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    # A driver can neither skip a step nor move someone else's ride.
    skipped = await app.ask("completed", ride_id=ride["id"])
    assert (skipped["type"], skipped["code"]) == ("error", "illegal_transition")
    await app.ask("accept", offer_id=offer["offer_id"])
    too_soon = await app.ask("completed", ride_id=ride["id"])
    assert (too_soon["type"], too_soon["code"]) == ("error", "illegal_transition")
    while_busy = await app.ask("status", status="available")
    assert (while_busy["type"], while_busy["code"]) == ("error", "driver_busy")
    _, stranger = await online(client, make_driver, "Stranger", north_m=5_000)
    meddling = await stranger.ask("arrived", ride_id=ride["id"])
    assert (meddling["type"], meddling["code"]) == ("error", "actor_not_allowed")
    assert (await ride_of(client, operator, ride["id"]))["ride"]["status"] == "assigned"
    assert await redis_client.geopos("taxicrm:drivers:geo", str(driver.id)) == before
    for each in (app, stranger):
        await each.close()


async def test_ids_too_large_for_the_database_are_refused_not_failed(
        client: Client, make_driver: MakeDriver) -> None:
    # Found by fuzzing: an offer or ride id past PostgreSQL's bigint was an internal_error.
    _, app = await online(client, make_driver, "Big numbers", north_m=100)
    for kind, field, code in (("accept", "offer_id", "offer_not_found"), ("decline", "offer_id", "offer_not_found"),
                              ("arrived", "ride_id", "ride_not_found"), ("picked_up", "ride_id", "ride_not_found"),
                              ("completed", "ride_id", "ride_not_found"), ("no_show", "ride_id", "ride_not_found"),
                              ("check_in", "zone_id", "zone_not_found")):
        for number in (2**63, 2**64, -(2**63) - 1):
            reply = await app.ask(kind, **{field: number})
            assert (reply["type"], reply["code"]) == ("error", code), reply
    assert (await app.ask("state"))["status"] == "available"
    await app.close()


async def test_a_trace_sent_with_a_completion_that_is_refused_is_not_stored(
        client: Client, operator: Headers, make_driver: MakeDriver, db: asyncpg.Pool) -> None:
    # Found by fuzzing: the fixes were stored before the ride was checked, so a stranger's trace joined
    # another driver's ride (and a ride that does not exist was an internal_error).
    _, app = await online(client, make_driver, "Owner", north_m=100)
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    await app.ask("accept", offer_id=offer["offer_id"])
    await app.ask("picked_up", ride_id=ride["id"])
    _, stranger = await online(client, make_driver, "Stranger", north_m=5_000)
    trace = [{"lat": LAT + 0.01, "lng": LNG, "at": datetime.now(UTC).isoformat(), "accuracy": 5}]
    meddling = await stranger.ask("completed", ride_id=ride["id"], trace=trace)
    assert (meddling["type"], meddling["code"]) == ("error", "actor_not_allowed")
    missing = await stranger.ask("completed", ride_id=ride["id"] + 1000, trace=trace)
    assert (missing["type"], missing["code"]) == ("error", "ride_not_found")
    assert await db.fetchval("SELECT count(*) FROM ride_trace_points") == 0
    assert (await ride_of(client, operator, ride["id"]))["ride"]["status"] == "on_board"
    for each in (app, stranger):
        await each.close()


async def test_a_silent_driver_is_taken_out_of_dispatch_and_shown_unreachable(
        aiohttp_client: Any, fast: Settings, staff_headers: Callable[[str], Awaitable[Headers]],
        make_driver: MakeDriver) -> None:
    client = await aiohttp_client(create_app(dataclasses.replace(fast, driver_silence_seconds=1)))
    operator = await staff_headers("operator")
    driver, app = await online(client, make_driver, "Frozen app", north_m=100)
    async with client.ws_connect("/ws", headers=operator) as console:
        while True:  # The app sends nothing more; within the silence and a sweep it is gone.
            message = await console.receive_json(timeout=6)
            if message.get("topic") == "driver.status" and message["data"]["status"] == "unreachable":
                break
    assert message["data"]["driver_id"] == driver.id
    live = await (await client.get("/api/drivers/live", headers=operator)).json()
    [listed] = [d for d in live["drivers"] if d["driver_id"] == driver.id]
    assert (listed["status"], listed["lat"]) == ("unreachable", None)
    assert live["counts"]["unreachable"] == 1
    ride = await book(client, operator)
    assert (await status_becomes(client, operator, ride["id"], "unassigned"))["offer_count"] == 0
    await app.close()


async def test_a_trip_that_ends_elsewhere_is_charged_by_the_meter_from_its_trace(
        client: Client, operator: Headers, make_driver: MakeDriver) -> None:
    _, app = await online(client, make_driver, "Detour", north_m=100)
    ride = await book(client, operator)
    offer = await app.wait_for("offer")
    await app.ask("accept", offer_id=offer["offer_id"])
    await app.ask("picked_up", ride_id=ride["id"])
    start = datetime.now(UTC)
    # The app was offline all trip long and uploads what it kept: 3 km due north, a fix every 10 s.
    trace = [{"lat": LAT + 0.0027 * n, "lng": LNG, "at": (start + timedelta(seconds=10 * n)).isoformat(),
              "accuracy": 10} for n in range(11)]
    done = await app.ask("completed", ride_id=ride["id"], trace=trace)
    fare = done["job"]["fare"]
    assert 2_900 < fare["distance_m"] < 3_100 and fare["trace_points"] == 11
    assert sum(line["amount_rials"] for line in fare["lines"]) == fare["total_rials"]
    final = (await ride_of(client, operator, ride["id"]))["ride"]
    assert (final["fare_basis"], final["fare_total_rials"]) == ("meter", fare["total_rials"])
    assert final["fare_total_rials"] != ride["quote_total_rials"]
    await app.close()


async def test_a_supervisor_can_see_why_a_driver_was_or_was_not_offered_a_ride(
        client: Client, operator: Headers, make_driver: MakeDriver,
        staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    first, first_app = await online(client, make_driver, "Chosen", north_m=100)
    second, second_app = await online(client, make_driver, "On a break", north_m=300)
    await second_app.ask("status", status="on_break")
    _, far_app = await online(client, make_driver, "Too far", north_m=20_000)
    ride = await book(client, operator)
    offer = await first_app.wait_for("offer")
    await first_app.ask("decline", offer_id=offer["offer_id"])
    await status_becomes(client, operator, ride["id"], "unassigned")
    record = await (await client.get(f"/api/rides/{ride['id']}/offers", headers=operator)).json()
    first_search, second_search = record["searches"]
    assert [(d["driver_id"], d["rank"], d["skip_reason"]) for d in first_search["decisions"]] == [
        (first.id, 1, None), (second.id, None, "not_available")]
    assert first_search["radius_m"] == 1_000 and first_search["strategy"] == "nearest"
    # After the decline the search widened as far as it goes, and still found nobody to offer the ride to.
    assert second_search["radius_m"] == 8_000
    assert {(d["driver_id"], d["skip_reason"]) for d in second_search["decisions"]} == {
        (first.id, "declined_before"), (second.id, "not_available")}
    supervisor = await staff_headers("supervisor")
    answer = await (await client.get(f"/api/drivers/{second.id}/decisions", headers=supervisor)).json()
    assert [(d["ride_id"], d["skip_reason"], d["offered"]) for d in answer["decisions"]] == [
        (ride["id"], "not_available", False), (ride["id"], "not_available", False)]
    refused = await client.get(f"/api/drivers/{second.id}/decisions", headers=operator)
    assert refused.status == 403
    inverted = await client.get(f"/api/drivers/{second.id}/decisions", headers=supervisor,
                                params={"since": "2026-12-02T00:00:00+00:00", "until": "2026-12-01T00:00:00+00:00"})
    assert inverted.status == 400 and (await inverted.json())["error"]["code"] == "inverted_period"
    for app in (first_app, second_app, far_app):
        await app.close()


# A rank around Azadi Square (about 1 km across) and an airport zone far to the south.
RANK = [[LAT - 0.005, LNG - 0.005], [LAT - 0.005, LNG + 0.005], [LAT + 0.005, LNG + 0.005], [LAT + 0.005, LNG - 0.005]]
AIRPORT = [[35.40, 51.14], [35.40, 51.17], [35.43, 51.17], [35.43, 51.14]]


async def make_zone(client: Client, admin: Headers, **body: Any) -> Json:
    response = await client.post("/api/zones", json=body, headers=admin)
    assert response.status == 201, await response.text()
    zone: Json = (await response.json())["zone"]
    return zone


async def test_a_zone_that_dispatches_from_its_rank_offers_the_ride_to_the_driver_waiting_longest(
        client: Client, operator: Headers, make_driver: MakeDriver,
        staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    zone = await make_zone(client, await staff_headers("admin"), code="AZD", name="Azadi rank", polygon=RANK,
                           default_strategy="queue_first")
    # The pickup is near the rank's north edge; the nearest driver is just outside it.
    pickup = {"text": "North side of the square", "lat": LAT + 530 / 111_000, "lng": LNG}
    first, first_app = await online(client, make_driver, "First at the rank", north_m=130)
    _, second_app = await online(client, make_driver, "Second at the rank", north_m=230)
    _, nearest_app = await online(client, make_driver, "Just passing", north_m=580)
    for app in (first_app, second_app):
        checked = await app.ask("check_in", zone_id=zone["id"])
        assert (checked["type"], checked["zone_id"]) == ("checked_in", zone["id"])
    assert checked["place"] == 2
    queue = await (await client.get(f"/api/zones/{zone['id']}/queue", headers=operator)).json()
    assert [d["driver_id"] for d in queue["queue"]][:1] == [first.id]
    ride = await book(client, operator, pickup=pickup)
    offer = await first_app.wait_for("offer")
    assert offer["ride_id"] == ride["id"]
    record = await (await client.get(f"/api/rides/{ride['id']}/offers", headers=operator)).json()
    search = record["searches"][0]
    assert (search["strategy"], search["zone_id"]) == ("queue_first", zone["id"])
    assert [(d["rank"], d["via"]) for d in search["decisions"]] == [(1, "zone_queue"), (2, "zone_queue"),
                                                                     (3, "nearest")]
    assert record["offers"][0]["via"] == "zone_queue"
    # Taking the ride takes the driver out of the queue.
    await first_app.ask("accept", offer_id=offer["offer_id"])
    queue = await (await client.get(f"/api/zones/{zone['id']}/queue", headers=operator)).json()
    assert first.id not in [d["driver_id"] for d in queue["queue"]]
    outside = await nearest_app.ask("check_in", zone_id=(await make_zone(
        client, await staff_headers("admin"), code="IKA", name="Airport", polygon=AIRPORT))["id"])
    assert (outside["type"], outside["code"]) == ("error", "not_in_zone")
    for app in (first_app, second_app, nearest_app):
        await app.close()


async def test_a_trip_between_zones_with_a_fixed_price_is_quoted_at_that_price(
        client: Client, operator: Headers, staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    admin = await staff_headers("admin")
    await make_zone(client, admin, code="AZD", name="Azadi", polygon=RANK)
    await make_zone(client, admin, code="IKA", name="Airport", polygon=AIRPORT)
    tariff = {"code": "standard", "vehicle_class": "sedan", "flag_fall_rials": 300_000, "included_metres": 1_000,
              "per_km_rials": 150_000, "per_minute_waiting_rials": 50_000, "minimum_fare_rials": 400_000,
              "rounding_unit_rials": 10_000, "schedules": [],
              "zone_prices": [{"from_zone": "AZD", "to_zone": "IKA", "price_rials": 12_000_000}]}
    response = await client.post("/api/tariffs", json=tariff, headers=admin)
    assert response.status == 201, await response.text()
    ride = await book(client, operator, destination={"text": "Imam Khomeini Airport", "lat": 35.415, "lng": 51.155})
    assert ride["quote"]["rule"] == "zone_fixed" and ride["quote_total_rials"] == 12_000_000


async def test_the_center_messages_one_driver_or_every_driver(
        client: Client, operator: Headers, make_driver: MakeDriver,
        staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    one, one_app = await online(client, make_driver, "One", north_m=100)
    _, other_app = await online(client, make_driver, "Other", north_m=200)
    response = await client.post(f"/api/drivers/{one.id}/messages", json={"text": "Call the office, please"},
                                 headers=operator)
    assert response.status == 202, await response.text()
    message = await one_app.wait_for("message")
    assert message["text"] == "Call the office, please" and message["sender"]["role"] == "operator"
    broadcast = await client.post("/api/broadcasts", json={"message": "Hemmat highway closed westbound",
                                                           "audience": "drivers"},
                                  headers=await staff_headers("supervisor"))
    assert broadcast.status == 202
    for app in (one_app, other_app):
        assert (await app.wait_for("message"))["text"] == "Hemmat highway closed westbound"
    assert not [m for m in other_app.seen if m.get("text") == "Call the office, please"]
    for bad, code in (({"text": "  "}, "empty_field"), ({}, "missing_field"), ({"text": "x" * 501}, "too_long")):
        refused = await client.post(f"/api/drivers/{one.id}/messages", json=bad, headers=operator)
        assert refused.status == 400 and (await refused.json())["error"]["code"] == code
    unknown = await client.post("/api/drivers/999999/messages", json={"text": "hi"}, headers=operator)
    assert unknown.status == 404
    for app in (one_app, other_app):
        await app.close()
