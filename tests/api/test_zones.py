import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver, DriverId, ZoneId
from dispatch.zone_keys import ZONE_MAP, ZONE_QUEUES
from dispatch.zone_service import REFRESH_SECONDS
from taxicrm.app import create_app
from taxicrm.settings import Settings

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
SECRET = "pbx-shared-secret-1"
DISTRICT = [[35.60, 51.30], [35.60, 51.40], [35.70, 51.40], [35.70, 51.30]]
AIRPORT = [[35.40, 51.14], [35.40, 51.16], [35.42, 51.16], [35.42, 51.14]]
RUSH = {"days": ["saturday", "sunday"], "start": "07:00", "end": "10:00", "strategy": "nearest"}


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(dataclasses.replace(settings, webhook_secret=SECRET))


@pytest.fixture
async def admin(staff_headers: Callable[[str], Awaitable[Headers]]) -> Headers:
    return await staff_headers("admin")


def airport(**extra: Any) -> Json:
    return {"code": "ika", "name": "Imam Khomeini Airport", "polygon": AIRPORT, **extra}


async def create(client: Client, headers: Headers, body: Json) -> Json:
    response = await client.post("/api/zones", json=body, headers=headers)
    assert response.status == 201, await response.text()
    zone: Json = (await response.json())["zone"]
    return zone


async def error_code(response: Any, status: int) -> str:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    code: str = body["error"]["code"]
    return code


async def rows(db: asyncpg.Pool) -> list[Json]:
    return [dict(r) for r in await db.fetch("SELECT * FROM zones ORDER BY id")]


async def test_an_admin_draws_a_zone_and_staff_see_it(client: Client, admin: Headers, db: asyncpg.Pool,
                                                      staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    zone = await create(client, admin, airport(default_strategy="queue_first", windows=[RUSH]))

    assert zone == {
        "id": zone["id"], "code": "IKA", "name": "Imam Khomeini Airport", "polygon": AIRPORT,
        "default_strategy": "queue_first", "windows": [RUSH], "strategy_now": zone["strategy_now"],
        "is_active": True, "updated_at": zone["updated_at"],
    }
    row = (await rows(db))[0]
    assert (row["min_lat"], row["max_lat"], row["min_lng"], row["max_lng"]) == (35.40, 35.42, 51.14, 51.16)
    for role in ("operator", "supervisor", "admin"):
        headers = await staff_headers(role)
        listed = await client.get("/api/zones", headers=headers)
        assert listed.status == 200 and (await listed.json())["zones"] == [zone]
        shown = await client.get(f"/api/zones/{zone['id']}", headers=headers)
        assert shown.status == 200 and (await shown.json())["zone"] == zone


async def test_a_new_zone_is_found_by_position_on_this_instance_at_once(client: Client, admin: Headers,
                                                                         app: web.Application) -> None:
    await create(client, admin, {"code": "D1", "name": "District 1", "polygon": DISTRICT})
    airport_zone = await create(client, admin, airport(polygon=[[35.64, 51.34], [35.64, 51.36], [35.66, 51.36],
                                                                [35.66, 51.34]]))
    zone_map = app[ZONE_MAP]
    assert zone_map.code_at(35.65, 51.35) == "IKA" and zone_map.code_at(35.61, 51.31) == "D1"
    assert zone_map.zone_id_at(35.65, 51.35) == airport_zone["id"]
    assert zone_map.zone_at(35.80, 51.60) is None


async def test_the_strategy_now_follows_the_windows(client: Client, admin: Headers) -> None:
    every_day = {"days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                 "start": "00:00", "end": "00:00", "strategy": "nearest"}
    zone = await create(client, admin, airport(windows=[every_day]))
    assert (zone["default_strategy"], zone["strategy_now"]) == ("queue_first", "nearest")


async def test_an_admin_changes_only_the_fields_sent(client: Client, admin: Headers) -> None:
    zone = await create(client, admin, airport(windows=[RUSH]))
    response = await client.patch(f"/api/zones/{zone['id']}", headers=admin,
                                  json={"name": "IKA Terminal 1", "default_strategy": "nearest"})
    assert response.status == 200, await response.text()
    changed = (await response.json())["zone"]
    assert changed == {**zone, "name": "IKA Terminal 1", "default_strategy": "nearest",
                       "strategy_now": changed["strategy_now"], "updated_at": changed["updated_at"]}
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(zone["updated_at"])

    cleared = await client.patch(f"/api/zones/{zone['id']}", headers=admin, json={"windows": None})
    assert (await cleared.json())["zone"]["windows"] == []
    moved = await client.patch(f"/api/zones/{zone['id']}", headers=admin, json={"polygon": DISTRICT})
    assert (await moved.json())["zone"]["polygon"] == DISTRICT


async def test_a_deactivated_zone_leaves_dispatch_and_its_queue_empties(client: Client, admin: Headers,
                                                                         app: web.Application) -> None:
    zone = await create(client, admin, airport())
    queues = app[ZONE_QUEUES]
    await queues.join(DriverId(1), ZoneId(zone["id"]), datetime.now(UTC))

    response = await client.delete(f"/api/zones/{zone['id']}", headers=admin)
    assert response.status == 200 and (await response.json())["zone"]["is_active"] is False
    assert await queues.queue(ZoneId(zone["id"])) == [] and await queues.position_of(DriverId(1)) is None
    assert app[ZONE_MAP].zone_at(35.41, 51.15) is None
    assert (await (await client.get("/api/zones", headers=admin)).json())["zones"] == []
    everything = await client.get("/api/zones?include_inactive=true", headers=admin)
    assert [z["code"] for z in (await everything.json())["zones"]] == ["IKA"]
    # It is still on record, with its code, and can be brought back.
    assert (await client.get(f"/api/zones/{zone['id']}", headers=admin)).status == 200
    back = await client.patch(f"/api/zones/{zone['id']}", headers=admin, json={"is_active": True})
    assert (await back.json())["zone"]["is_active"] is True and app[ZONE_MAP].code_at(35.41, 51.15) == "IKA"


async def test_staff_see_a_zones_queue_in_order_with_names_and_join_times(
        client: Client, admin: Headers, app: web.Application, staff_headers: Callable[[str], Awaitable[Headers]],
        make_driver: Callable[[str], Awaitable[tuple[Driver, str]]]) -> None:
    zone = await create(client, admin, airport())
    first, _ = await make_driver("Reza First")
    second, _ = await make_driver("Ali Second")
    joined = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
    queues = app[ZONE_QUEUES]
    await queues.join(second.id, ZoneId(zone["id"]), joined + timedelta(seconds=30))
    await queues.check_in(first.id, app[ZONE_MAP].zone(ZoneId(zone["id"])), 35.41, 51.15, joined)

    response = await client.get(f"/api/zones/{zone['id']}/queue", headers=await staff_headers("operator"))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["zone"]["code"] == "IKA"
    assert body["queue"] == [
        {"place": 1, "driver_id": first.id, "name": "Reza First", "joined_at": joined.isoformat()},
        {"place": 2, "driver_id": second.id, "name": "Ali Second",
         "joined_at": (joined + timedelta(seconds=30)).isoformat()},
    ]


async def test_operators_and_supervisors_may_not_change_zones(
        client: Client, admin: Headers, db: asyncpg.Pool,
        staff_headers: Callable[[str], Awaitable[Headers]]) -> None:
    zone = await create(client, admin, airport())
    before = await rows(db)
    for role in ("operator", "supervisor"):
        headers = await staff_headers(role)
        for response in await asyncio.gather(
                client.post("/api/zones", json=airport(code="X1"), headers=headers),
                client.patch(f"/api/zones/{zone['id']}", json={"name": "Mine"}, headers=headers),
                client.delete(f"/api/zones/{zone['id']}", headers=headers)):
            assert await error_code(response, 403) == "forbidden"
    assert await rows(db) == before


async def test_drivers_and_the_pbx_may_not_touch_zones(
        client: Client, admin: Headers, db: asyncpg.Pool,
        make_driver: Callable[[], Awaitable[tuple[Driver, str]]]) -> None:
    zone = await create(client, admin, airport())
    before = await rows(db)
    _, token = await make_driver()
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Taxicrm-Secret": SECRET}):
        for response in await asyncio.gather(
                client.get("/api/zones", headers=headers),
                client.post("/api/zones", json=airport(code="X1"), headers=headers),
                client.get(f"/api/zones/{zone['id']}", headers=headers),
                client.patch(f"/api/zones/{zone['id']}", json={"name": "Mine"}, headers=headers),
                client.delete(f"/api/zones/{zone['id']}", headers=headers),
                client.get(f"/api/zones/{zone['id']}/queue", headers=headers)):
            assert await error_code(response, 403) == "forbidden"
    assert await error_code(await client.get("/api/zones"), 401) == "not_authenticated"
    assert await rows(db) == before


@pytest.mark.parametrize(("body", "code"), [
    ({**airport(), "colour": "red"}, "unknown_field"),
    ({"name": "Airport", "polygon": AIRPORT}, "missing_field"),
    (airport(code="I K A"), "invalid_zone_code"),
    (airport(name=" "), "empty_field"),
    (airport(polygon=AIRPORT[:2]), "polygon_too_few_vertices"),
    (airport(polygon=[[35.40, 51.14], [35.42, 51.16], [35.40, 51.16], [35.42, 51.14]]), "polygon_self_intersecting"),
    (airport(polygon=[[40.0, 51.14], [40.0, 51.16], [40.02, 51.16]]), "polygon_outside_service_area"),
    (airport(polygon=[[35.40, "51.14"], [35.40, 51.16], [35.42, 51.16]]), "invalid_vertex"),
    (airport(default_strategy="fastest"), "invalid_choice"),
    (airport(windows=[RUSH, {**RUSH, "days": ["sunday"], "start": "09:00", "end": "11:00"}]), "overlapping_windows"),
    (airport(windows=[{**RUSH, "start": "7am"}]), "invalid_window"),
])
async def test_a_bad_zone_is_refused_and_nothing_is_stored(client: Client, admin: Headers, db: asyncpg.Pool,
                                                           body: Json, code: str) -> None:
    assert await error_code(await client.post("/api/zones", json=body, headers=admin), 400) == code
    assert await rows(db) == []


async def test_overlapping_windows_are_refused_with_a_message_naming_both(client: Client, admin: Headers) -> None:
    late = {**RUSH, "days": ["sunday"], "start": "09:00", "end": "11:00", "strategy": "queue_first"}
    response = await client.post("/api/zones", json=airport(windows=[RUSH, late]), headers=admin)
    assert (await response.json())["error"]["message"] == (
        "Window 1 (saturday, sunday 07:00-10:00 nearest) overlaps window 2 (sunday 09:00-11:00 queue_first) "
        "on sunday at 09:00.")


async def test_a_bad_change_changes_nothing(client: Client, admin: Headers, db: asyncpg.Pool) -> None:
    zone = await create(client, admin, airport(windows=[RUSH]))
    before = await rows(db)
    for body, code in [({"polygon": None}, "missing_field"), ({"polygon": [[35.4, 51.1]]}, "polygon_too_few_vertices"),
                       ({"name": "New", "windows": [RUSH, RUSH]}, "overlapping_windows"),
                       ({"is_active": "no"}, "wrong_type"), ({"id": 9}, "unknown_field")]:
        response = await client.patch(f"/api/zones/{zone['id']}", json=body, headers=admin)
        assert await error_code(response, 400) == code
    malformed = await client.patch(f"/api/zones/{zone['id']}", data="{", headers={
        **admin, "Content-Type": "application/json"})
    assert await error_code(malformed, 400) == "malformed_json"
    assert await rows(db) == before


async def test_a_zone_code_is_taken_once_whatever_its_case(client: Client, admin: Headers, db: asyncpg.Pool) -> None:
    await create(client, admin, airport(code="IKA"))
    response = await client.post("/api/zones", json=airport(code=" ika "), headers=admin)
    assert await error_code(response, 409) == "zone_code_taken"
    other = await create(client, admin, {"code": "D1", "name": "District", "polygon": DISTRICT})
    renamed = await client.patch(f"/api/zones/{other['id']}", json={"code": "IKA"}, headers=admin)
    assert await error_code(renamed, 409) == "zone_code_taken"
    assert [r["code"] for r in await rows(db)] == ["IKA", "D1"]


async def test_two_admins_creating_the_same_code_at_once_get_one_zone(client: Client, admin: Headers,
                                                                      db: asyncpg.Pool) -> None:
    responses = await asyncio.gather(*(client.post("/api/zones", json=airport(), headers=admin) for _ in range(2)))
    assert sorted(r.status for r in responses) == [201, 409]
    assert len(await rows(db)) == 1


@pytest.mark.parametrize("path", ["/api/zones/999", "/api/zones/abc", "/api/zones/999/queue"])
async def test_an_unknown_zone_is_not_found(client: Client, admin: Headers, path: str) -> None:
    assert await error_code(await client.get(path, headers=admin), 404) == "zone_not_found"


async def test_changing_or_deactivating_an_unknown_zone_is_not_found(client: Client, admin: Headers) -> None:
    assert await error_code(await client.patch("/api/zones/999", json={"name": "x"}, headers=admin),
                            404) == "zone_not_found"
    assert await error_code(await client.delete("/api/zones/999", headers=admin), 404) == "zone_not_found"


async def test_a_bad_list_filter_is_refused(client: Client, admin: Headers) -> None:
    response = await client.get("/api/zones?include_inactive=maybe", headers=admin)
    assert await error_code(response, 400) == "wrong_type"


async def test_another_instance_sees_a_new_and_a_deactivated_zone_within_its_refresh_period(
        client: Client, admin: Headers, settings: Settings,
        aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> None:
    other_app = create_app(settings)
    await aiohttp_client(other_app)  # Starts the second instance: its cleanup context loads its own zone map.
    other_map = other_app[ZONE_MAP]
    assert other_map.code_at(35.41, 51.15) is None

    zone = await create(client, admin, airport())
    assert await seconds_until(lambda: other_map.code_at(35.41, 51.15) == "IKA") <= REFRESH_SECONDS + 1

    await client.delete(f"/api/zones/{zone['id']}", headers=admin)
    assert await seconds_until(lambda: other_map.code_at(35.41, 51.15) is None) <= REFRESH_SECONDS + 1


async def seconds_until(condition: Callable[[], bool]) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < 3 * REFRESH_SECONDS, "the other instance never saw the change"
        await asyncio.sleep(0.05)
    return time.monotonic() - started
