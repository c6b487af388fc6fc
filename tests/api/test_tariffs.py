"""Tariffs, holidays and fare quotes through the real app: who may do what, what answers, what is refused."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver
from dispatch.traces import LatLng, haversine_m
from taxicrm.app import create_app
from taxicrm.settings import Settings

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
StaffHeaders = Callable[[str], Awaitable[Headers]]
TEHRAN = ZoneInfo("Asia/Tehran")
SECRET = "pbx-shared-secret-1"
AZADI, TAJRISH = LatLng(35.6997, 51.3380), LatLng(35.8046, 51.4340)
# A Tuesday, when no schedule applies by day; the seeded tariff (from 1 Farvardin 1404) is in force.
TUESDAY = "2027-01-05"
EVERY_WEEKDAY = ["saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"]


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET))


@pytest.fixture
async def admin(staff_headers: StaffHeaders) -> Headers:
    return await staff_headers("admin")


@pytest.fixture
async def operator(staff_headers: StaffHeaders) -> Headers:
    return await staff_headers("operator")


def days_ahead(days: int) -> str:
    """A date `days` from today in Tehran: a version starting then begins at that local midnight."""
    return (datetime.now(TEHRAN) + timedelta(days=days)).date().isoformat()


def document(**changes: Any) -> Json:
    return {"code": "standard", "vehicle_class": "sedan", "effective_from": days_ahead(2),
            "flag_fall_rials": 350_000, "included_metres": 1_000, "per_km_rials": 170_000,
            "per_minute_waiting_rials": 55_000, "minimum_fare_rials": 450_000, "rounding_unit_rials": 10_000,
            "schedules": [{"name": "night", "days": EVERY_WEEKDAY, "start": "23:00", "end": "05:00",
                           "kind": "surcharge_percent", "value": 25, "label_en": "Night", "label_fa": "شبانه"}],
            **changes}


def trip_request(at: Any = f"{TUESDAY}T14:00:00", **changes: Any) -> Json:
    body: Json = {"pickup": {"lat": AZADI.lat, "lng": AZADI.lng},
                  "destination": {"lat": TAJRISH.lat, "lng": TAJRISH.lng}, "vehicle_class": "sedan", **changes}
    return body if at is None else {**body, "at": at}


async def answer(response: ClientResponse, status: int) -> Json:
    assert response.status == status, await response.text()
    body: Json = await response.json()
    return body


async def error_code(response: ClientResponse, status: int) -> str:
    return str((await answer(response, status))["error"]["code"])


async def quote(client: Client, headers: Headers, **body: Any) -> Json:
    quoted: Json = (await answer(await client.post("/api/fares/quote", json=trip_request(**body), headers=headers),
                                 200))["quote"]
    assert sum(line["amount_rials"] for line in quoted["lines"]) == quoted["total_rials"]
    return quoted


def percent_of(amount: int, percent: int) -> int:
    """A percent of a sum in rials, rounded half up as fares round it."""
    return (amount * percent + 50) // 100


def amounts(quoted: Json) -> dict[str, int]:
    return {line["code"]: line["amount_rials"] for line in quoted["lines"]}


async def counts(db: asyncpg.Pool) -> tuple[int, int, int]:
    return (await db.fetchval("SELECT count(*) FROM tariffs"),
            await db.fetchval("SELECT count(*) FROM tariff_versions"),
            await db.fetchval("SELECT count(*) FROM holidays"))


async def test_a_fresh_install_quotes_from_the_seeded_tariff_with_an_itemised_breakdown(client: Client,
                                                                                        operator: Headers) -> None:
    quoted = await quote(client, operator)
    # The straight line times the default road factor, driven at the default 25 km/h.
    distance_m = round(haversine_m(AZADI, TAJRISH) * 1.3)
    assert (quoted["distance_m"], quoted["duration_s"]) == (distance_m, round(distance_m / (25 / 3.6)))
    assert (quoted["tariff_id"], quoted["tariff_version"], quoted["rule"], quoted["vehicle_class"]) == (
        "standard", 1, "meter", "sedan")
    assert quoted["at"] == "2027-01-05T14:00:00+03:30"
    metered = 300_000 + round((distance_m - 1_000) * 150)
    assert amounts(quoted) == {"flag_fall": 300_000, "distance": metered - 300_000, "waiting": 0,
                               "rounding": quoted["total_rials"] - metered}
    assert quoted["total_rials"] % 10_000 == 0
    assert quoted["lines"][0] == {"code": "flag_fall", "label_en": "Flag fall", "label_fa": "ورودی",
                                  "amount_rials": 300_000}


async def test_a_quote_without_a_time_is_for_now(client: Client, operator: Headers) -> None:
    quoted = await quote(client, operator, at=None)
    assert abs(datetime.fromisoformat(quoted["at"]) - datetime.now(TEHRAN)) < timedelta(minutes=1)


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
async def test_every_staff_role_may_quote_and_read_the_holidays(client: Client, staff_headers: StaffHeaders,
                                                               role: str) -> None:
    headers = await staff_headers(role)
    await quote(client, headers)
    assert (await answer(await client.get("/api/holidays", headers=headers), 200)) == {"holidays": []}


async def test_a_quote_at_night_carries_the_night_line(client: Client, operator: Headers) -> None:
    day, night = await quote(client, operator), await quote(client, operator, at=f"{TUESDAY}T23:30:00")
    metered = amounts(day)["flag_fall"] + amounts(day)["distance"]
    assert amounts(night)["night"] == percent_of(metered, 20)
    assert [line["label_en"] for line in night["lines"] if line["code"] == "night"] == ["Night (23:00-05:00)"]
    assert "night" not in amounts(day) and night["total_rials"] > day["total_rials"]
    # The same instant written in UTC is still Tehran's night.
    assert "night" in amounts(await quote(client, operator, at=f"{TUESDAY}T20:00:00+00:00"))


async def test_bigger_cars_cost_more(client: Client, operator: Headers) -> None:
    totals = [(await quote(client, operator, vehicle_class=c))["total_rials"] for c in ("sedan", "van", "luxury")]
    assert totals == sorted(totals) and len(set(totals)) == 3


async def test_an_admin_publishes_a_version_that_ends_the_open_one(client: Client, admin: Headers,
                                                                    staff_headers: StaffHeaders) -> None:
    published = await answer(await client.post("/api/tariffs", json=document(), headers=admin), 201)
    version, closed = published["version"], published["closed"]
    assert (version["code"], version["version"], version["status"], version["flag_fall_rials"]) == (
        "standard", 2, "scheduled", 350_000)
    starts = datetime.fromisoformat(version["effective_from"])
    assert starts == datetime.fromisoformat(f"{days_ahead(2)}T00:00:00").replace(tzinfo=TEHRAN)
    assert (closed["version"], closed["status"]) == (1, "in_force")
    assert closed["effective_until"] == version["effective_from"]
    assert version["created_by"] is not None and version["schedules"][0]["value"] == 25

    supervisor = await staff_headers("supervisor")
    listed = (await answer(await client.get("/api/tariffs", headers=supervisor), 200))["tariffs"]
    assert [(t["code"], t["vehicle_class"], [v["version"] for v in t["versions"]]) for t in listed] == [
        ("luxury", "luxury", [1]), ("standard", "sedan", [1, 2]), ("van", "van", [1])]
    shown = (await answer(await client.get("/api/tariffs/standard", headers=supervisor), 200))["tariff"]
    assert shown == listed[1] and shown["versions"][1] == version


async def test_a_version_in_the_future_does_not_apply_yet(client: Client, admin: Headers, operator: Headers) -> None:
    await answer(await client.post("/api/tariffs", json=document(), headers=admin), 201)
    now = await quote(client, operator, at=None)
    later = await quote(client, operator, at=f"{days_ahead(3)}T14:00:00")
    assert (now["tariff_version"], amounts(now)["flag_fall"]) == (1, 300_000)
    assert (later["tariff_version"], amounts(later)["flag_fall"]) == (2, 350_000)


# Each kind of refusal once here; tests/unit/dispatch/test_tariffs.py has every rule.
BAD_TARIFFS: list[tuple[Json, str, str]] = [
    (document(schedules=[
        {"name": "night", "days": EVERY_WEEKDAY, "start": "23:00", "end": "05:00", "kind": "surcharge_percent",
         "value": 20, "label_en": "Night", "label_fa": "شبانه"},
        {"name": "late_friday", "days": ["friday"], "start": "22:00", "end": "00:30", "kind": "fixed_surcharge",
         "value": 50_000, "label_en": "Late Friday", "label_fa": "جمعه شب"}]),
     "overlapping_schedules", "Schedules 'night' and 'late_friday' overlap: both would apply on Friday at 23:00."),
    (document(surge=2), "unknown_field", "'surge' is not a field here"),
    (document(per_km_rials=-170_000), "out_of_range", "'per_km_rials' must be a whole number of rials from 0"),
    (document(rounding_unit_rials=0), "out_of_range", "'rounding_unit_rials' must be a whole number of rials from 1"),
    (document(effective_until=days_ahead(1)), "tariff_dates_reversed", "'effective_until' must come after"),
    (document(effective_from="2025-01-01"), "effective_from_in_past", "is in the past"),
    (document(schedules=[{"name": "storm", "days": ["friday"], "kind": "multiplier", "value": 0, "label_en": "Storm",
                          "label_fa": "طوفان"}]), "out_of_range", "'value' must be a factor above 0"),
    (document(schedules=[{"name": "night", "days": ["fri"], "start": "23:00", "end": "05:00",
                          "kind": "surcharge_percent", "value": 20, "label_en": "N", "label_fa": "ش"}]),
     "invalid_day", "'fri' is not a day"),
    (document(schedules=[{"name": "night", "days": ["friday"], "start": "11pm", "end": "05:00",
                          "kind": "surcharge_percent", "value": 20, "label_en": "N", "label_fa": "ش"}]),
     "invalid_time", "'start' must be a time of day as HH:MM"),
    (document(schedules=[{"name": "a", "days": ["friday"], "kind": "surcharge_percent", "value": 5, "label_en": "A",
                          "label_fa": "A"}] * 2), "duplicate_schedule", "Two schedules are named 'a'"),
    (document(zone_prices=[{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7_500_000},
                           {"from_zone": "WEST", "to_zone": "IKA", "price_rials": 7_000_000}]),
     "duplicate_zone_price", "both price trips from WEST to IKA"),
    (document(vehicle_class="bus"), "invalid_choice", "'vehicle_class' must be one of sedan, van, luxury"),
    # Found by fuzzing: an object or a list where a choice goes was a 500 (unhashable), not a refusal.
    (document(vehicle_class={}), "invalid_choice", "'vehicle_class' must be one of sedan, van, luxury"),
    (document(schedules=[{"name": "night", "days": ["friday"], "kind": ["surcharge_percent"], "value": 20,
                          "label_en": "N", "label_fa": "ش"}]), "invalid_choice", "must be one of"),
    ({key: value for key, value in document().items() if key != "flag_fall_rials"}, "missing_field",
     "'flag_fall_rials' is required"),
]


async def test_a_bad_tariff_is_refused_with_a_clear_error_and_changes_nothing(client: Client, admin: Headers,
                                                                             db: asyncpg.Pool) -> None:
    before = await counts(db)
    for body, code, says in BAD_TARIFFS:
        error = (await answer(await client.post("/api/tariffs", json=body, headers=admin), 400))["error"]
        assert error["code"] == code and says in error["message"], (code, error)
    assert await counts(db) == before
    # The open version that a valid document would have ended is still open.
    assert await db.fetchval("SELECT effective_until FROM tariff_versions WHERE code = 'standard'") is None


async def test_a_body_that_is_not_a_json_object_is_refused(client: Client, admin: Headers, db: asyncpg.Pool) -> None:
    before = await counts(db)
    for data, status, code in [("{", 400, "malformed_json"), ("[]", 400, "malformed_json")]:
        response = await client.post("/api/tariffs", data=data, headers={**admin, "Content-Type": "application/json"})
        assert await error_code(response, status) == code
    assert await error_code(await client.post("/api/tariffs", data="x", headers=admin), 415) == "unsupported_media_type"
    assert await counts(db) == before


async def test_a_version_overlapping_another_is_a_conflict_and_changes_nothing(client: Client, admin: Headers,
                                                                              db: asyncpg.Pool) -> None:
    await answer(await client.post("/api/tariffs", json=document(), headers=admin), 201)
    before = await counts(db)
    refusals = [
        # Starts before version 2 and has no end: it would overlap version 2 (and version 1's closed period).
        (document(effective_from=days_ahead(1)), "tariff_overlap", "already prices sedan rides"),
        (document(code="sedan_2027", effective_from=days_ahead(5)), "tariff_overlap", "a vehicle class has one tariff"),
        (document(vehicle_class="van", effective_from=days_ahead(5)), "tariff_vehicle_class_changed",
         "Tariff 'standard' prices sedan rides"),
    ]
    for body, code, says in refusals:
        error = (await answer(await client.post("/api/tariffs", json=body, headers=admin), 409))["error"]
        assert error["code"] == code and says in error["message"], error
    assert await counts(db) == before


async def test_a_scheduled_version_can_be_withdrawn_but_not_one_in_force(client: Client, admin: Headers,
                                                                          operator: Headers) -> None:
    await answer(await client.post("/api/tariffs", json=document(), headers=admin), 201)
    withdrawn = await answer(await client.post("/api/tariffs/standard/versions/2/withdraw", headers=admin), 200)
    assert (withdrawn["version"]["status"], withdrawn["version"]["withdrawn_at"] is not None) == ("withdrawn", True)
    assert (await quote(client, operator, at=f"{days_ahead(3)}T14:00:00"))["tariff_version"] == 1
    for path, status, code in [("/api/tariffs/standard/versions/2/withdraw", 409, "tariff_version_withdrawn"),
                               ("/api/tariffs/standard/versions/1/withdraw", 409, "tariff_version_started"),
                               ("/api/tariffs/standard/versions/7/withdraw", 404, "tariff_not_found"),
                               ("/api/tariffs/standard/versions/x/withdraw", 404, "tariff_not_found"),
                               ("/api/tariffs/Nope!/versions/1/withdraw", 404, "tariff_not_found")]:
        assert await error_code(await client.post(path, headers=admin), status) == code


async def test_an_unknown_tariff_is_not_found(client: Client, admin: Headers) -> None:
    assert await error_code(await client.get("/api/tariffs/taxi", headers=admin), 404) == "tariff_not_found"


async def test_an_admin_replaces_the_holidays_and_a_holiday_is_surcharged(client: Client, admin: Headers,
                                                                         operator: Headers) -> None:
    holidays = [{"day": "2027-01-05", "name": "Unplanned closure (air pollution)"},
                {"day": "2026-03-21", "name": "Nowruz"}]
    stored = await answer(await client.put("/api/holidays", json={"holidays": holidays}, headers=admin), 200)
    assert stored == {"holidays": [holidays[1], holidays[0]]}
    assert await answer(await client.get("/api/holidays", headers=operator), 200) == stored
    quoted = await quote(client, operator)
    metered = amounts(quoted)["flag_fall"] + amounts(quoted)["distance"]
    assert amounts(quoted)["friday_holiday"] == percent_of(metered, 10)
    await answer(await client.put("/api/holidays", json={"holidays": []}, headers=admin), 200)
    assert "friday_holiday" not in amounts(await quote(client, operator))


async def test_a_bad_holiday_list_is_refused_and_keeps_the_old_one(client: Client, admin: Headers) -> None:
    kept = {"holidays": [{"day": "2026-03-21", "name": "Nowruz"}]}
    await answer(await client.put("/api/holidays", json=kept, headers=admin), 200)
    for body, code in [
        ({"holidays": [{"day": "2027-01-05", "name": "A"}, {"day": "2027-01-05", "name": "B"}]}, "duplicate_holiday"),
        ({"holidays": [{"day": "1405-01-01", "name": "Nowruz"}]}, "invalid_date"),
        ({"holidays": [{"day": "2027-01-05", "name": " "}]}, "invalid_holiday"),
        ({"holidays": [{"date": "2027-01-05", "name": "A"}]}, "invalid_holiday"),
        ({"holiday": []}, "invalid_holiday"),
    ]:
        assert await error_code(await client.put("/api/holidays", json=body, headers=admin), 400) == code, body
    assert await answer(await client.get("/api/holidays", headers=admin), 200) == kept


async def test_admins_replacing_the_holidays_at_once_leave_one_whole_list(client: Client, admin: Headers) -> None:
    lists = [{"holidays": [{"day": f"2027-0{month}-0{day}", "name": f"Day {day}"} for day in range(1, 6)]}
             for month in (1, 2, 3)] + [{"holidays": [{"day": "2027-01-03", "name": "Overlapping"}]}]
    for response in await asyncio.gather(*(client.put("/api/holidays", json=body, headers=admin) for body in lists)):
        assert response.status == 200, await response.text()
    assert await answer(await client.get("/api/holidays", headers=admin), 200) in lists


async def test_a_bad_quote_request_is_refused(client: Client, operator: Headers) -> None:
    for body, code in [
        ({"pickup": {"lat": 35.7, "lng": 51.3}}, "missing_field"),
        (trip_request(destination={"lat": 35.8}), "invalid_coordinates"),
        (trip_request(pickup={"lat": 135.7, "lng": 51.3}), "invalid_coordinates"),
        (trip_request(pickup={"lat": "35.7", "lng": 51.3}), "invalid_coordinates"),
        (trip_request(pickup=[35.7, 51.3]), "wrong_type"),
        (trip_request(vehicle_class="bus"), "invalid_choice"),
        (trip_request(at="tomorrow at nine"), "invalid_time"),
        (trip_request(at=20270105), "wrong_type"),
    ]:
        assert await error_code(await client.post("/api/fares/quote", json=body, headers=operator), 400) == code, body


async def test_a_quote_when_no_tariff_is_in_force_says_so(client: Client, operator: Headers) -> None:
    response = await client.post("/api/fares/quote", json=trip_request(at="2024-06-01T12:00:00"), headers=operator)
    error = (await answer(response, 409))["error"]
    assert error["code"] == "no_tariff_in_force" and "2024-06-01" in error["message"]


async def test_only_admins_change_tariffs_and_holidays(client: Client, staff_headers: StaffHeaders,
                                                        db: asyncpg.Pool) -> None:
    before = await counts(db)
    for role in ("operator", "supervisor"):
        headers = await staff_headers(role)
        requests = [client.post("/api/tariffs", json=document(), headers=headers),
                    client.post("/api/tariffs/standard/versions/1/withdraw", headers=headers),
                    client.put("/api/holidays", json={"holidays": [{"day": "2027-01-05", "name": "X"}]},
                               headers=headers)]
        for response in await asyncio.gather(*requests):
            assert await error_code(response, 403) == "forbidden"
    operator = await staff_headers("operator")
    for path in ("/api/tariffs", "/api/tariffs/standard"):
        assert await error_code(await client.get(path, headers=operator), 403) == "forbidden"
    assert await counts(db) == before


async def test_drivers_the_pbx_and_strangers_may_not_touch_pricing(
        client: Client, make_driver: Callable[[], Awaitable[tuple[Driver, str]]], db: asyncpg.Pool) -> None:
    before = await counts(db)
    _, token = await make_driver()
    for headers, status in (({"Authorization": f"Bearer {token}"}, 403), ({"X-Taxicrm-Secret": SECRET}, 403),
                            ({}, 401)):
        requests = [
            client.get("/api/tariffs", headers=headers),
            client.post("/api/tariffs", json=document(), headers=headers),
            client.get("/api/tariffs/standard", headers=headers),
            client.post("/api/tariffs/standard/versions/1/withdraw", headers=headers),
            client.get("/api/holidays", headers=headers),
            client.put("/api/holidays", json={"holidays": []}, headers=headers),
            client.post("/api/fares/quote", json=trip_request(), headers=headers),
        ]
        for response in await asyncio.gather(*requests):
            assert response.status == status, await response.text()
    assert await counts(db) == before
