"""The report rollups fold real facts in as they arrive: rides booked and driven over real driver websockets, calls
rung through the PBX webhook, complaints and ratings through feedback's API; each counted once, in its latest form."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver
from reports import report_service, service
from reports.calendar import Calendar, month_label, month_start
from reports.model import Period
from reports.routes import REPORT_BASIS
from taxicrm.app import create_app
from taxicrm.keys import DB
from taxicrm.settings import Settings
from tests.conftest import PASSWORD
from tests.driver_app import AZADI, DriverApp

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
SECRET = "pbx-shared-secret-6"
PBX = {"X-Taxicrm-Secret": SECRET}
LAT, LNG = AZADI
DESTINATION = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515}
ROLLUPS = ("report_hourly", "report_area_daily", "report_driver_daily", "report_operator_daily", "report_customers",
           "report_customer_months", "report_cohorts", "report_complaints", "report_ratings", "report_rides")
keys = iter(range(1, 1_000_000))


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET, offer_timeout_seconds=3))


async def log_in(client: Client, make_staff: Callable[..., Any], role: str, extension: str | None = None
                 ) -> tuple[int, Headers]:
    user = await make_staff(role, extension=extension)
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    client.session.cookie_jar.clear()
    return user.id, {"Authorization": f"Bearer {(await response.json())['token']}"}


@pytest.fixture
async def operator(client: Client, make_staff: Callable[..., Any]) -> tuple[int, Headers]:
    return await log_in(client, make_staff, "operator", extension="201")


@pytest.fixture
async def supervisor(client: Client, make_staff: Callable[..., Any]) -> Headers:
    return (await log_in(client, make_staff, "supervisor"))[1]


async def fold(client: Client) -> None:
    """One pass of the rollup job, as the leader runs it every few seconds."""
    await service.catch_up(client.app[DB], client.app[REPORT_BASIS])


async def report(client: Client, headers: Headers, name: str, **params: str) -> Json:
    response = await client.get(f"/api/reports/{name}", params=params, headers=headers)
    assert response.status == 200, await response.text()
    found: Json = await response.json()
    return found


async def online(client: Client, make_driver: MakeDriver, name: str) -> tuple[Driver, DriverApp]:
    driver, token = await make_driver(name)
    app = await DriverApp.connect(client, "/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + 0.002, LNG)
    return driver, app


async def book(client: Client, headers: Headers, **extra: Any) -> Json:
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": "0912 765 4321",
            "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG}, "destination": DESTINATION,
            "confirm_duplicate": True, **extra}
    response = await client.post("/api/rides", json=body, headers={**headers, "Idempotency-Key": f"k{next(keys)}"})
    assert response.status == 201, await response.text()
    ride: Json = (await response.json())["ride"]
    return ride


async def drive(app: DriverApp, ride_id: int) -> None:
    """Accept the ride's offer and drive it to the end."""
    offer = await app.wait_for("offer", ride_id=ride_id)
    assert (await app.ask("accept", offer_id=offer["offer_id"]))["type"] == "accepted"
    for step in ("arrived", "picked_up"):
        assert (await app.ask(step, ride_id=ride_id))["type"] == "ride"
    await app.send("position", lat=DESTINATION["lat"], lng=DESTINATION["lng"])
    await asyncio.sleep(0.05)
    assert (await app.ask("completed", ride_id=ride_id))["job"]["status"] == "completed"


async def ring(client: Client, call_id: str, caller: str, *, answered: bool) -> None:
    events = [{"event": "ringing", "call_id": call_id, "caller": caller, "extensions": ["201"]}]
    if answered:
        events.append({"event": "answered", "call_id": call_id, "extension": "201"})
    events.append({"event": "ended", "call_id": call_id})
    for event in events:
        response = await client.post("/api/pbx/call-events", json=event, headers=PBX)
        assert response.status == 202, await response.text()
        await asyncio.sleep(0.02)


def cell(peak: Json) -> Json:
    """The heatmap cell of this hour."""
    now = datetime.now(UTC).astimezone(ZoneInfo(peak["timezone"]))
    weekday = (now.weekday() + 2) % 7
    found: Json = next(c for c in peak["cells"] if (c["weekday"], c["hour"]) == (weekday, now.hour))
    return found


async def rollups(db: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup's rows with a count in them, in a stable order."""
    found = {}
    async with db.acquire() as conn:
        for table in ROLLUPS:
            rows = await conn.fetch(f"SELECT * FROM {table}")
            found[table] = sorted(tuple(r.values()) for r in rows if any(
                v not in (0, None, []) for k, v in r.items() if k not in {"hour", "day", "grid", "area", "month"}))
    return found


async def test_a_ride_is_counted_once_in_its_latest_form_as_it_moves_from_booked_to_completed(
        client: Client, operator: tuple[int, Headers], supervisor: Headers, make_driver: MakeDriver) -> None:
    operator_id, headers = operator
    driver, driver_app = await online(client, make_driver, "Reza Rollup")
    ride = await book(client, headers)
    offer = await driver_app.wait_for("offer", ride_id=ride["id"])
    await fold(client)

    peak = await report(client, supervisor, "peak-hours")
    assert (cell(peak)["rides_booked"], cell(peak)["rides_completed"]) == (1, 0)
    assert peak["rollup_as_of"] is not None

    assert (await driver_app.ask("accept", offer_id=offer["offer_id"]))["type"] == "accepted"
    for step in ("arrived", "picked_up"):
        await driver_app.ask(step, ride_id=ride["id"])
    await driver_app.send("position", lat=DESTINATION["lat"], lng=DESTINATION["lng"])
    await asyncio.sleep(0.05)
    assert (await driver_app.ask("completed", ride_id=ride["id"]))["job"]["status"] == "completed"
    fare = (await (await client.get(f"/api/rides/{ride['id']}", headers=headers)).json())["ride"]["fare_total_rials"]
    await fold(client)
    await fold(client)  # A pass with nothing new changes nothing.

    peak = await report(client, supervisor, "peak-hours")
    assert (cell(peak)["rides_booked"], cell(peak)["rides_completed"]) == (1, 1)
    assert cell(peak)["median_assign_s"] is not None
    drivers = await report(client, supervisor, "drivers")
    row = next(r for r in drivers["rows"] if r["driver_id"] == driver.id)
    assert (row["offered"], row["accepted"], row["completed"], row["name"]) == (1, 1, 1, "Reza Rollup")
    assert row["acceptance_rate"] == 1.0 and fare > 0
    assert row["revenue_rials"] == fare
    assert row["commission_rials"] == row["revenue_rials"] * 1500 // 10_000
    operators = await report(client, supervisor, "operators")
    assert [(r["operator_id"], r["bookings"]) for r in operators["rows"]] == [(operator_id, 1)]
    areas = await report(client, supervisor, "areas", grid="hex")
    assert [(a["rides"], a["completed"], a["revenue_rials"]) for a in areas["rows"]] == [
        (1, 1, row["revenue_rials"])]
    assert abs(areas["rows"][0]["lat"] - LAT) < 0.01 and abs(areas["rows"][0]["lng"] - LNG) < 0.01
    await driver_app.close()


async def test_calls_count_when_they_end_answered_or_abandoned_with_wait_and_talk_time(
        client: Client, operator: tuple[int, Headers], supervisor: Headers) -> None:
    operator_id, _ = operator
    await ring(client, "call-1", "09121110001", answered=True)
    await ring(client, "call-2", "09121110002", answered=False)
    await client.post("/api/pbx/call-events", json={"event": "ringing", "call_id": "call-3", "caller": "09121110003",
                                                    "extensions": ["201"]}, headers=PBX)
    await fold(client)

    peak = await report(client, supervisor, "peak-hours", sl_seconds="5")
    here = cell(peak)
    # The call still ringing is not counted until it ends.
    assert (here["calls_offered"], here["calls_answered"], here["calls_abandoned"]) == (2, 1, 1)
    assert here["answered_within_sl"] == 1 and here["service_level"] == 0.5
    assert here["avg_handle_s"] is not None and here["avg_handle_s"] < 5
    operators = await report(client, supervisor, "operators")
    assert [(r["operator_id"], r["calls_handled"]) for r in operators["rows"]] == [(operator_id, 1)]

    await client.post("/api/pbx/call-events", json={"event": "ended", "call_id": "call-3"}, headers=PBX)
    await fold(client)
    assert cell(await report(client, supervisor, "peak-hours"))["calls_abandoned"] == 2
    # Taking a missed call off the call-back list is no new call.
    response = await client.get("/api/calls/callbacks", headers=operator[1])
    missed = (await response.json())["calls"][0]["id"]
    assert (await client.post(f"/api/calls/{missed}/callback-handled", headers=operator[1])).status == 200
    await fold(client)
    assert cell(await report(client, supervisor, "peak-hours"))["calls_offered"] == 3


async def test_unserved_rides_complaints_and_ratings_fold_in_and_a_rebuild_agrees_with_the_folds(
        client: Client, operator: tuple[int, Headers], supervisor: Headers, make_driver: MakeDriver,
        db: asyncpg.Pool) -> None:
    _, headers = operator
    await fold(client)
    # Nobody online: the customer gives up waiting.
    waiting = await book(client, headers, walk_in_phone="0912 765 0001")
    response = await client.post(f"/api/rides/{waiting['id']}/cancel", json={"reason": "Waited too long"},
                                 headers=headers)
    assert response.status == 200, await response.text()
    driver, driver_app = await online(client, make_driver, "Sara Rated")
    ride = await book(client, headers, walk_in_phone="0912 765 0002")
    await drive(driver_app, ride["id"])
    await fold(client)

    peak_cell = cell(await report(client, supervisor, "peak-hours"))
    assert (peak_cell["rides_booked"], peak_cell["rides_cancelled"], peak_cell["rides_completed"]) == (2, 1, 1)
    zones = await report(client, supervisor, "areas")
    assert [(r["area"], r["rides"], r["unserved"]) for r in zones["rows"]] == [(0, 2, 1)]

    complaint = await client.post("/api/complaints", headers=headers, json={
        "category": "late_pickup", "description": "The car came 20 minutes late.", "ride_id": ride["id"]})
    assert complaint.status == 201, await complaint.text()
    assert (await client.put(f"/api/ratings/{ride['id']}", json={"value": 2}, headers=headers)).status == 200
    await fold(client)
    by_category = await report(client, supervisor, "complaints")
    assert [(r["key"], r["label"], r["complaints"], r["rate_per_1000"]) for r in by_category["rows"]] == [
        ("late_pickup", "Late pickup", 1, 1000.0)]
    assert (by_category["open"], by_category["overdue"]) == (1, 0)
    by_driver = await report(client, supervisor, "complaints", by="driver")
    assert [(r["key"], r["complaints"], r["completed_rides"]) for r in by_driver["rows"]] == [(str(driver.id), 1, 1)]
    row = (await report(client, supervisor, "drivers"))["rows"][0]
    assert (row["avg_rating"], row["ratings"], row["complaints"], row["complaint_rate_per_1000"]) == (2.0, 1, 1, 1000.0)

    # A later rating replaces the first: the driver's average moves, the count stays.
    assert (await client.put(f"/api/ratings/{ride['id']}", json={"value": 5}, headers=headers)).status == 200
    await fold(client)
    row = (await report(client, supervisor, "drivers"))["rows"][0]
    assert (row["avg_rating"], row["ratings"]) == (5.0, 1)

    folded = await rollups(db)
    rebuilt = await service.rebuild(client.app[DB], client.app[REPORT_BASIS])
    assert rebuilt.rides == 2
    assert await rollups(db) == folded
    await fold(client)  # Reading on from the rebuild counts nothing twice.
    assert await rollups(db) == folded
    await driver_app.close()


async def test_customers_are_counted_from_their_completed_rides_and_a_merge_moves_their_rides(
        client: Client, operator: tuple[int, Headers], make_staff: Callable[..., Any], make_driver: MakeDriver,
        db: asyncpg.Pool) -> None:
    from subscribers import service as subscribers
    from subscribers.model import NewPhone
    from subscribers.phones import PhonePlan

    _, headers = operator
    _, admin = await log_in(client, make_staff, "admin")
    maryam = (await subscribers.create_subscriber(db, "مریم رضایی", [NewPhone("+989121234567")], [],
                                                  PhonePlan())).subscriber.id
    twin = (await subscribers.create_subscriber(db, "Maryam R.", [NewPhone("+989351234567")], [],
                                                PhonePlan())).subscriber.id
    _, driver_app = await online(client, make_driver, "Ali Driver")
    for subscriber_id in (maryam, maryam, twin):
        ride = await book(client, headers, walk_in_name=None, walk_in_phone=None, subscriber_id=subscriber_id)
        await drive(driver_app, ride["id"])
    assert (await client.put(f"/api/subscribers/{maryam}/loyalty", json={"tier": "gold"}, headers=admin)).status == 200
    await fold(client)

    customers = await report(client, admin, "customers")
    this_month = customers["cohorts"][-1]
    today = datetime.now(UTC).astimezone(ZoneInfo(customers["timezone"])).date()
    first_day = month_start(today, Calendar.JALALI)  # the center's calendar by default
    assert (customers["calendar"], this_month["cohort"], this_month["first_day"]) == (
        "jalali", month_label(first_day, Calendar.JALALI), first_day.isoformat())
    assert (this_month["size"], this_month["active"]) == (2, [2])
    segments = {s["segment"]: s for s in customers["rfm"]}
    assert list(segments) == ["champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost"]
    # Two rides lately: potential; one: new.
    assert (segments["potential"]["customers"], segments["new"]["customers"]) == (1, 1)
    assert segments["potential"]["value_rials"] > 0
    tiers = {t["tier"]: t for t in customers["loyalty_tiers"]}
    assert (tiers["gold"]["customers"], tiers["gold"]["rides"]) == (1, 2)
    assert (tiers["none"]["customers"], tiers["none"]["rides"]) == (1, 1)

    response = await client.post(f"/api/subscribers/{maryam}/merge", json={"other_id": twin}, headers=admin)
    assert response.status == 200, await response.text()
    await fold(client)
    customers = await report(client, admin, "customers")
    assert (customers["cohorts"][-1]["size"], customers["cohorts"][-1]["active"]) == (1, [1])
    assert {s["segment"]: s["customers"] for s in customers["rfm"]}["potential"] == 1
    assert {t["tier"]: t["rides"] for t in customers["loyalty_tiers"]} == {
        "gold": 3, "silver": 0, "bronze": 0, "none": 0}

    # A center on the Gregorian calendar: rollups built in Jalali months are rebuilt in its months.
    gregorian = dataclasses.replace(client.app[REPORT_BASIS], calendar=Calendar.GREGORIAN)
    await service.catch_up(db, gregorian)
    assert await db.fetchval("SELECT calendar FROM report_basis") == "gregorian"
    period = Period(today, today, gregorian.timezone)
    [cohort] = (await report_service.customers(db, period, Calendar.GREGORIAN)).cohorts
    assert (cohort.cohort, cohort.first_day, cohort.size) == (f"{today:%Y-%m}", today.replace(day=1), 1)
    await driver_app.close()


async def test_the_leaders_job_folds_new_facts_in_without_being_asked(client: Client, operator: tuple[int, Headers],
                                                                      supervisor: Headers) -> None:
    await ring(client, "call-by-the-job", "09121110009", answered=True)
    for _ in range(300):  # The job passes every few seconds once its instance holds the lease.
        peak = await report(client, supervisor, "peak-hours")
        if cell(peak)["calls_offered"] == 1:
            break
        await asyncio.sleep(0.1)
    assert cell(peak)["calls_answered"] == 1 and peak["rollup_as_of"] is not None
