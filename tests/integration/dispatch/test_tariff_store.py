"""Tariff versions and holidays against a real PostgreSQL: numbering, closing, overlaps refused, pricing reads."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from dispatch import pricing, tariff_store
from dispatch.errors import (
    NoTariffInForce,
    TariffClassChanged,
    TariffNotFound,
    TariffOverlap,
    TariffVersionStarted,
    TariffVersionWithdrawn,
)
from dispatch.fares import Trip
from dispatch.model import VehicleClass
from dispatch.pricing import Pricer
from dispatch.tariffs import Holiday, TariffVersion, parse_tariff
from dispatch.traces import LatLng, haversine_m

TEHRAN = ZoneInfo("Asia/Tehran")
# Publishing checks a version does not start in the past; these tests publish as of this moment.
NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
SEEDED_FROM = datetime(2025, 3, 21, tzinfo=TEHRAN)
NOWRUZ_1405 = datetime(2026, 3, 21, tzinfo=TEHRAN)


def document(**changes: Any) -> dict[str, Any]:
    return {"code": "standard", "vehicle_class": "sedan", "effective_from": "2026-03-21", "flag_fall_rials": 350_000,
            "included_metres": 1_000, "per_km_rials": 170_000, "per_minute_waiting_rials": 55_000,
            "minimum_fare_rials": 450_000, "rounding_unit_rials": 10_000, **changes}


def version(now: datetime = NOW, **changes: Any) -> TariffVersion:
    return parse_tariff(document(**changes), local_tz=TEHRAN, now=now)


async def versions(db: asyncpg.Pool, code: str = "standard") -> list[tuple[int, datetime, datetime | None]]:
    async with db.acquire() as conn:
        found = await tariff_store.versions_of(conn, code)
    return [(v.tariff.version, v.tariff.effective_from, v.tariff.effective_until) for v in found]


def numbered(new: TariffVersion, number: int) -> TariffVersion:
    return dataclasses.replace(new, tariff=dataclasses.replace(new.tariff, version=number))


def trip(at: datetime, distance_m: int = 5_000) -> Trip:
    return Trip(distance_m=distance_m, duration_s=900, waiting_s=0, started_at=at)


def pricer(db: asyncpg.Pool) -> Pricer:
    return Pricer(db, TEHRAN, road_factor=1.3, average_speed_kmh=25)


async def test_a_fresh_database_has_a_tariff_in_force_for_every_vehicle_class(db: asyncpg.Pool) -> None:
    for vehicle_class in VehicleClass:
        fare = await pricer(db).price_trip(trip(datetime(2026, 6, 1, 14, 0, tzinfo=TEHRAN)), vehicle_class)
        assert (fare.tariff_version, fare.total_rials > 0) == (1, True)
    seeded = await versions(db)
    assert seeded == [(1, SEEDED_FROM, None)]


async def test_the_next_version_is_numbered_after_the_last_and_ends_the_open_one(db: asyncpg.Pool) -> None:
    published = await pricing.publish_version(db, version(), created_by=None)
    assert published.version.tariff.version == 2
    assert published.closed is not None and published.closed.tariff.effective_until == NOWRUZ_1405
    assert await versions(db) == [(1, SEEDED_FROM, NOWRUZ_1405), (2, NOWRUZ_1405, None)]
    before = await pricer(db).price_trip(trip(NOWRUZ_1405 - timedelta(seconds=1)), VehicleClass.SEDAN)
    after = await pricer(db).price_trip(trip(NOWRUZ_1405), VehicleClass.SEDAN)
    assert (before.tariff_version, before.lines[0].amount_rials) == (1, 300_000)
    assert (after.tariff_version, after.lines[0].amount_rials) == (2, 350_000)


async def test_a_version_is_stored_as_published(db: asyncpg.Pool, make_staff: Any) -> None:
    admin = await make_staff("admin")
    night = {"name": "night", "days": ["friday"], "start": "23:00", "end": "05:00", "kind": "multiplier",
             "value": 1.25, "label_en": "Night", "label_fa": "شبانه"}
    airport = {"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7_500_000, "both_directions": False}
    new = version(code="van", vehicle_class="van", effective_until="2027-03-21", time_or_distance_higher=True,
                  slow_speed_kmh=7.5, schedules=[night], zone_prices=[airport])
    stored = (await pricing.publish_version(db, new, created_by=admin.id)).version
    assert stored.tariff == dataclasses.replace(new.tariff, version=2)
    assert (stored.vehicle_class, stored.created_by, stored.withdrawn_at) == (VehicleClass.VAN, admin.id, None)
    assert stored.created_at is not None
    assert (await pricing.tariff_versions(db, "van"))[1] == stored


async def test_a_version_overlapping_a_closed_period_is_refused_and_changes_nothing(db: asyncpg.Pool) -> None:
    await pricing.publish_version(db, version(), created_by=None)
    before = await versions(db)
    # 1 to 20 March is still version 1's, which is closed now: the gap-filler would overlap it.
    with pytest.raises(TariffOverlap, match="Tariff 'standard' version 1 already prices sedan rides") as refused:
        await pricing.publish_version(db, version(effective_from="2026-03-01", effective_until="2026-03-15"), None)
    assert (refused.value.code, refused.value.status) == ("tariff_overlap", 409)
    with pytest.raises(TariffOverlap, match="version 2"):  # Version 2 starts at Nowruz and has no end.
        await pricing.publish_version(db, version(effective_from="2026-03-21"), None)
    with pytest.raises(TariffOverlap, match="version 1"):  # Starting before the open one does not end it.
        await pricing.publish_version(db, version(effective_from="2026-03-01"), None)
    assert await versions(db) == before


async def test_a_version_that_fits_a_gap_between_versions_is_accepted(db: asyncpg.Pool) -> None:
    await pricing.publish_version(db, version(effective_from="2026-03-21", effective_until="2026-04-01"), None)
    await pricing.publish_version(db, version(effective_from="2026-05-01"), None)
    # 1 to 30 April had no tariff for sedans; a version may fill exactly that.
    with pytest.raises(NoTariffInForce):
        await pricer(db).price_trip(trip(datetime(2026, 4, 15, 12, 0, tzinfo=TEHRAN)), VehicleClass.SEDAN)
    await pricing.publish_version(db, version(effective_from="2026-04-01", effective_until="2026-05-01"), None)
    assert [number for number, _, _ in await versions(db)] == [1, 2, 3, 4]
    fare = await pricer(db).price_trip(trip(datetime(2026, 4, 15, 12, 0, tzinfo=TEHRAN)), VehicleClass.SEDAN)
    assert fare.tariff_version == 4


async def test_another_tariff_for_a_class_already_priced_is_refused(db: asyncpg.Pool) -> None:
    with pytest.raises(TariffOverlap, match="Tariff 'standard' version 1"):
        await pricing.publish_version(db, version(code="standard_2"), None)
    with pytest.raises(TariffClassChanged, match="Tariff 'standard' prices sedan rides"):
        await pricing.publish_version(db, version(vehicle_class="van"), None)
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tariffs") == 3
        assert await conn.fetchval("SELECT count(*) FROM tariff_versions") == 3


async def test_the_database_refuses_overlapping_versions_for_a_class_whoever_writes_them(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await tariff_store.insert_tariff(conn, "night_sedan", VehicleClass.SEDAN)
        with pytest.raises(asyncpg.ExclusionViolationError):
            await tariff_store.insert_version(conn, numbered(version(code="night_sedan"), 1), None)
        with pytest.raises(asyncpg.ForeignKeyViolationError):  # A tariff keeps its class.
            before_any = version(datetime(2023, 1, 1, tzinfo=UTC), vehicle_class="van", effective_from="2024-01-01",
                                 effective_until="2024-06-01")
            await tariff_store.insert_version(conn, numbered(before_any, 2), None)


async def test_admins_publishing_at_once_never_share_a_number_or_a_period(db: asyncpg.Pool) -> None:
    outcomes = await asyncio.gather(*(pricing.publish_version(db, version(effective_from=f"2026-0{month}-01"), None)
                                      for month in (4, 5, 6)), return_exceptions=True)
    # Whichever ran first, the others were numbered after it; one that would overlap a later start is refused.
    assert all(isinstance(o, pricing.Published | TariffOverlap) for o in outcomes), outcomes
    stored = await versions(db)
    assert [number for number, _, _ in stored] == list(range(1, len(stored) + 1))
    assert len(stored) == 1 + sum(isinstance(o, pricing.Published) for o in outcomes) > 1
    periods = sorted((start, end) for _, start, end in stored)
    assert all(end == next_start for (_, end), (next_start, _) in itertools.pairwise(periods))
    assert periods[-1][1] is None


async def test_a_scheduled_version_withdrawn_gives_the_previous_one_back_its_end(db: asyncpg.Pool,
                                                                                  make_staff: Any) -> None:
    admin = await make_staff("admin")
    await pricing.publish_version(db, version(), created_by=admin.id)
    withdrawn = await pricing.withdraw_version(db, "standard", 2, admin.id, NOW)
    assert withdrawn.withdrawn_at == NOW
    assert await versions(db) == [(1, SEEDED_FROM, None), (2, NOWRUZ_1405, None)]
    fare = await pricer(db).price_trip(trip(NOWRUZ_1405 + timedelta(days=3)), VehicleClass.SEDAN)
    assert fare.tariff_version == 1
    with pytest.raises(TariffVersionWithdrawn):
        await pricing.withdraw_version(db, "standard", 2, admin.id, NOW)
    # Its number is not reused, and its period is free again.
    assert (await pricing.publish_version(db, version(), created_by=admin.id)).version.tariff.version == 3


async def test_a_version_that_has_taken_effect_cannot_be_withdrawn(db: asyncpg.Pool, make_staff: Any) -> None:
    admin = await make_staff("admin")
    with pytest.raises(TariffVersionStarted, match="has already taken effect"):
        await pricing.withdraw_version(db, "standard", 1, admin.id, NOW)
    with pytest.raises(TariffNotFound, match="There is no version 9 of tariff 'standard'"):
        await pricing.withdraw_version(db, "standard", 9, admin.id, NOW)
    assert await versions(db) == [(1, SEEDED_FROM, None)]


async def test_no_tariff_in_force_is_a_clear_error(db: asyncpg.Pool) -> None:
    with pytest.raises(NoTariffInForce, match="No tariff is in force at 2024-"):
        await pricer(db).price_trip(trip(datetime(2024, 6, 1, tzinfo=TEHRAN)), VehicleClass.LUXURY)


async def test_holidays_are_replaced_as_a_whole_and_priced_like_fridays(db: asyncpg.Pool) -> None:
    sizdah = Holiday(date(2026, 4, 2), "Sizdah Be-dar")  # A Thursday.
    await pricing.replace_holidays(db, [Holiday(date(2026, 3, 21), "Nowruz"), sizdah])
    assert await pricing.replace_holidays(db, [sizdah]) == [sizdah]
    assert await pricing.holidays(db) == [sizdah]
    on_holiday = await pricer(db).price_trip(trip(datetime(2026, 4, 2, 12, 0, tzinfo=TEHRAN)), VehicleClass.SEDAN)
    a_week_later = await pricer(db).price_trip(trip(datetime(2026, 4, 9, 12, 0, tzinfo=TEHRAN)), VehicleClass.SEDAN)
    assert "friday_holiday" in [line.code for line in on_holiday.lines]
    assert "friday_holiday" not in [line.code for line in a_week_later.lines]
    assert on_holiday.total_rials > a_week_later.total_rials


async def test_the_basis_read_on_the_callers_connection_sees_a_holiday_declared_a_moment_ago(
        db: asyncpg.Pool) -> None:
    at = datetime(2026, 4, 2, 12, 0, tzinfo=TEHRAN)
    async with db.acquire() as conn:
        before = await pricer(db).basis_for(conn, VehicleClass.SEDAN, at)
        await pricing.replace_holidays(db, [Holiday(date(2026, 4, 2), "Sizdah Be-dar")])
        after = await pricer(db).basis_for(conn, VehicleClass.SEDAN, at)
    assert (before.holidays, after.holidays) == (frozenset(), {date(2026, 4, 2)})
    assert after.tariff == before.tariff and after.tariff.effective_from == SEEDED_FROM


async def test_a_night_window_after_a_holiday_is_priced_from_the_day_it_started(db: asyncpg.Pool) -> None:
    night = {"name": "holiday_night", "days": ["holiday"], "start": "22:00", "end": "04:00",
             "kind": "fixed_surcharge", "value": 100_000, "label_en": "Holiday night", "label_fa": "شب تعطیل"}
    await pricing.publish_version(db, version(schedules=[night]), None)
    await pricing.replace_holidays(db, [Holiday(date(2026, 4, 1), "Islamic Republic Day")])
    fare = await pricer(db).price_trip(trip(datetime(2026, 4, 2, 1, 30, tzinfo=TEHRAN)), VehicleClass.SEDAN)
    assert {line.code: line.amount_rials for line in fare.lines}["holiday_night"] == 100_000


async def test_a_quote_estimates_the_road_distance_and_time_from_the_straight_line(db: asyncpg.Pool) -> None:
    azadi, tajrish = LatLng(35.6997, 51.3380), LatLng(35.8046, 51.4340)
    quoted = await pricer(db).quote_trip(azadi, tajrish, VehicleClass.SEDAN,
                                         datetime(2026, 6, 2, 14, 0, tzinfo=TEHRAN))
    # About 14.5 km in a straight line, times the road factor 1.3, driven at 25 km/h.
    assert quoted.distance_m == round(haversine_m(azadi, tajrish) * 1.3)
    assert 18_000 < quoted.distance_m < 20_000
    assert quoted.duration_s == round(quoted.distance_m / (25 / 3.6))
    lines = {line.code: line.amount_rials for line in quoted.fare.lines}
    assert lines["distance"] == round((quoted.distance_m - 1_000) * 150_000 / 1_000)
    assert sum(lines.values()) == quoted.fare.total_rials


async def test_a_fixed_zone_price_is_quoted_between_its_zones(db: asyncpg.Pool) -> None:
    airport = {"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7_500_000, "schedules_apply": False}
    await pricing.publish_version(db, version(zone_prices=[airport]), None)
    quoted = await pricer(db).quote_trip(LatLng(35.4161, 51.1522), LatLng(35.7, 51.3), VehicleClass.SEDAN,
                                         datetime(2026, 6, 2, 23, 30, tzinfo=TEHRAN), "WEST", "IKA")
    assert (quoted.fare.rule.value, quoted.fare.total_rials) == ("zone_fixed", 7_500_000)


async def test_every_tariff_is_listed_with_its_versions(db: asyncpg.Pool) -> None:
    await pricing.publish_version(db, version(), None)
    listed = await pricing.all_tariffs(db)
    assert [(v.code, v.tariff.version, v.vehicle_class) for v in listed] == [
        ("luxury", 1, VehicleClass.LUXURY), ("standard", 1, VehicleClass.SEDAN), ("standard", 2, VehicleClass.SEDAN),
        ("van", 1, VehicleClass.VAN)]
    with pytest.raises(TariffNotFound, match="There is no tariff 'taxi'"):
        await pricing.tariff_versions(db, "taxi")
