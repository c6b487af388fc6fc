import json
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from dispatch import zone_store
from dispatch.model import StrategyWindow, ZoneId, ZoneStrategy
from dispatch.zone_service import ZoneMap
from dispatch.zones import ZoneFields

T0 = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
SQUARE = ((35.60, 51.30), (35.60, 51.40), (35.70, 51.40), (35.70, 51.30))
NIGHT = StrategyWindow(days=frozenset({4, 5}), start=time(22), end=time(2), strategy=ZoneStrategy.NEAREST)


def fields(code: str = "D1", **changes) -> dict:
    base = ZoneFields(code=code, name="District 1", polygon=SQUARE, default_strategy=ZoneStrategy.QUEUE_FIRST,
                      windows=(NIGHT,), is_active=True)
    return {**base.sent(), **changes}


async def test_a_zone_reads_back_as_it_was_written_with_its_box(db):
    async with db.acquire() as conn:
        written = await zone_store.insert_zone(conn, fields(), T0)
        read = await zone_store.zone(conn, written.id)
        row = await conn.fetchrow("SELECT min_lat, max_lat, min_lng, max_lng, windows FROM zones")
    assert read == written
    assert (read.code, read.polygon, read.windows, read.updated_at) == ("D1", SQUARE, (NIGHT,), T0)
    assert tuple(row[:4]) == (35.60, 35.70, 51.30, 51.40)
    assert json.loads(row["windows"]) == [{"days": [4, 5], "start": "22:00", "end": "02:00", "strategy": "nearest"}]


async def test_an_update_sets_only_what_it_is_given_and_moves_the_box_with_the_polygon(db):
    moved = ((35.62, 51.32), (35.62, 51.38), (35.68, 51.35))
    async with db.acquire() as conn:
        zone = await zone_store.insert_zone(conn, fields(), T0)
        changed = await zone_store.update_zone(conn, zone.id, {"polygon": moved}, T0 + timedelta(minutes=1))
        box = await conn.fetchrow("SELECT min_lat, max_lat, min_lng, max_lng FROM zones")
        assert await zone_store.update_zone(conn, ZoneId(999), {"name": "x"}, T0) is None
    assert changed is not None and (changed.polygon, changed.name, changed.windows) == (moved, "District 1", (NIGHT,))
    assert tuple(box) == (35.62, 35.68, 51.32, 51.38)


async def test_the_database_refuses_a_zone_the_rules_would_refuse(db):
    async with db.acquire() as conn:
        for bad in ({"polygon": ((35.6, 51.3), (35.7, 51.4))}, {"code": "ika"}, {"polygon": ((95.0, 51.3),) * 3}):
            with pytest.raises(asyncpg.CheckViolationError):
                await zone_store.insert_zone(conn, fields(**bad), T0)
        assert await conn.fetchval("SELECT count(*) FROM zones") == 0
        zone = await zone_store.insert_zone(conn, fields(), T0)
        for windows in ('[{"days": [7], "start": "07:00", "end": "08:00", "strategy": "nearest"}]',
                        '[{"days": [1], "start": "07:00", "end": "24:00", "strategy": "nearest"}]',
                        '[{"days": [1], "start": "07:00", "end": "08:00"}]'):
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute("UPDATE zones SET windows = $1", windows)
        assert await zone_store.zone(conn, zone.id) == zone


async def test_the_digest_changes_with_every_change_to_an_active_zone_and_only_then(db):
    async with db.acquire() as conn:
        empty = await zone_store.active_zones_digest(conn)
        zone = await zone_store.insert_zone(conn, fields(), T0)
        created = await zone_store.active_zones_digest(conn)
        await zone_store.update_zone(conn, zone.id, {"name": "Renamed"}, T0 + timedelta(seconds=1))
        renamed = await zone_store.active_zones_digest(conn)
        await zone_store.deactivate_zone(conn, zone.id, T0 + timedelta(seconds=2))
        gone = await zone_store.active_zones_digest(conn)
        again = await zone_store.deactivate_zone(conn, zone.id, T0 + timedelta(seconds=3))
        # A change committed with an earlier time than the newest still shows.
        other = await zone_store.insert_zone(conn, fields(code="D2"), T0 + timedelta(hours=1))
        newest = await zone_store.active_zones_digest(conn)
        await zone_store.update_zone(conn, other.id, {"name": "Late"}, T0 - timedelta(hours=1))
        late = await zone_store.active_zones_digest(conn)
    assert len({empty, created, renamed, newest, late}) == 5 and gone == empty
    assert again is not None and again.updated_at == T0 + timedelta(seconds=2)


async def test_a_zone_map_reloads_only_when_the_zones_changed(db):
    zone_map = ZoneMap(db)
    assert await zone_map.refresh() is True and zone_map.zones == ()
    assert await zone_map.refresh() is False
    async with db.acquire() as conn:
        zone = await zone_store.insert_zone(conn, fields(), T0)
    assert await zone_map.refresh() is True
    assert zone_map.zone(zone.id) == zone and zone_map.code_at(35.65, 51.35) == "D1"
    assert await zone_map.refresh() is False


async def test_driver_names_are_read_in_one_query(db, make_driver):
    first, _ = await make_driver("Reza")
    second, _ = await make_driver("Ali")
    async with db.acquire() as conn:
        assert await zone_store.driver_names(conn, [first.id, second.id, 999]) == {first.id: "Reza", second.id: "Ali"}
