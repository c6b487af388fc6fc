"""SQL for tariffs, their versions, and the holiday calendar."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

import asyncpg

from dispatch import tariffs
from dispatch.fares import Tariff
from dispatch.model import VehicleClass
from dispatch.tariffs import Holiday, TariffVersion

_VERSION_COLUMNS = (
    "code, version, vehicle_class, effective_from, effective_until, flag_fall_rials, included_metres, per_km_rials, "
    "per_minute_waiting_rials, slow_speed_kmh, time_or_distance_higher, minimum_fare_rials, rounding_unit_rials, "
    "schedules, zone_prices, created_by, created_at, withdrawn_at"
)
# Versions that price rides: a withdrawn one never took effect.
_LIVE = "withdrawn_at IS NULL"

# Writers queue here (readers do not): numbering a version and closing the one before it are one decision.
LOCK_TARIFFS = "LOCK TABLE tariffs IN SHARE ROW EXCLUSIVE MODE"
SELECT_TARIFF_CLASS = "SELECT vehicle_class FROM tariffs WHERE code = $1"
INSERT_TARIFF = "INSERT INTO tariffs (code, vehicle_class) VALUES ($1, $2)"
SELECT_LAST_NUMBER = "SELECT coalesce(max(version), 0) FROM tariff_versions WHERE code = $1"
SELECT_OPEN_VERSION = f"""
    SELECT {_VERSION_COLUMNS} FROM tariff_versions WHERE code = $1 AND effective_until IS NULL AND {_LIVE}
"""
CLOSE_VERSION = f"""
    UPDATE tariff_versions SET effective_until = $3 WHERE code = $1 AND version = $2 RETURNING {_VERSION_COLUMNS}
"""
SELECT_OVERLAPPING = f"""
    SELECT {_VERSION_COLUMNS} FROM tariff_versions
    WHERE vehicle_class = $1 AND {_LIVE}
      AND tstzrange(effective_from, effective_until, '[)') && tstzrange($2, $3, '[)')
    ORDER BY effective_from LIMIT 1
"""
INSERT_VERSION = f"""
    INSERT INTO tariff_versions (code, version, vehicle_class, effective_from, effective_until, flag_fall_rials,
        included_metres, per_km_rials, per_minute_waiting_rials, slow_speed_kmh, time_or_distance_higher,
        minimum_fare_rials, rounding_unit_rials, schedules, zone_prices, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16)
    RETURNING {_VERSION_COLUMNS}
"""
SELECT_ALL_VERSIONS = f"SELECT {_VERSION_COLUMNS} FROM tariff_versions ORDER BY code, version"
SELECT_VERSIONS_OF = f"SELECT {_VERSION_COLUMNS} FROM tariff_versions WHERE code = $1 ORDER BY version"
SELECT_VERSION_FOR_UPDATE = f"""
    SELECT {_VERSION_COLUMNS} FROM tariff_versions WHERE code = $1 AND version = $2 FOR UPDATE
"""
WITHDRAW_VERSION = f"""
    UPDATE tariff_versions SET withdrawn_at = $3, withdrawn_by = $4
    WHERE code = $1 AND version = $2 AND {_LIVE}
    RETURNING {_VERSION_COLUMNS}
"""
# The version a withdrawn one had closed gets back the end it had before, so the tariff has no gap.
REOPEN_PREVIOUS = f"""
    UPDATE tariff_versions SET effective_until = $3
    WHERE code = $1 AND effective_until = $2 AND {_LIVE}
"""
# What pricing a trip needs, in one round trip: the version in force for the class, and the holidays around the
# trip's local day. Read at every price on purpose (no cache): a version published or a holiday declared on one
# instance prices the very next trip on every instance.
SELECT_PRICING = f"""
    SELECT {_VERSION_COLUMNS}, ARRAY(SELECT day FROM holidays WHERE day BETWEEN $3 AND $4) AS holidays
    FROM tariff_versions
    WHERE vehicle_class = $1 AND {_LIVE} AND effective_from <= $2 AND (effective_until IS NULL OR $2 < effective_until)
"""
SELECT_HOLIDAYS = "SELECT day, name FROM holidays ORDER BY day"
# Two replacements at once would each delete only the rows they saw, then collide inserting: take turns.
LOCK_HOLIDAYS = "LOCK TABLE holidays IN SHARE ROW EXCLUSIVE MODE"
DELETE_HOLIDAYS = "DELETE FROM holidays"
INSERT_HOLIDAYS = "INSERT INTO holidays (day, name) SELECT * FROM unnest($1::date[], $2::text[])"


def _version(row: asyncpg.Record) -> TariffVersion:
    tariff = Tariff(
        id=row["code"], version=row["version"], effective_from=row["effective_from"],
        effective_until=row["effective_until"], flag_fall_rials=row["flag_fall_rials"],
        included_metres=row["included_metres"], per_km_rials=row["per_km_rials"],
        per_minute_waiting_rials=row["per_minute_waiting_rials"], slow_speed_kmh=row["slow_speed_kmh"],
        time_or_distance_higher=row["time_or_distance_higher"], minimum_fare_rials=row["minimum_fare_rials"],
        rounding_unit_rials=row["rounding_unit_rials"],
        schedules=tariffs.schedules_from_json(json.loads(row["schedules"])),
        zone_prices=tariffs.zone_prices_from_json(json.loads(row["zone_prices"])),
    )
    return TariffVersion(tariff=tariff, vehicle_class=VehicleClass(row["vehicle_class"]),
                         created_by=row["created_by"], created_at=row["created_at"], withdrawn_at=row["withdrawn_at"])


async def lock_tariffs(conn: asyncpg.Connection) -> None:
    """Make this transaction the only one changing tariffs until it ends."""
    await conn.execute(LOCK_TARIFFS)


async def tariff_class(conn: asyncpg.Connection, code: str) -> VehicleClass | None:
    """Return the vehicle class a tariff prices, or None if there is no such tariff."""
    found = await conn.fetchval(SELECT_TARIFF_CLASS, code)
    return None if found is None else VehicleClass(found)


async def insert_tariff(conn: asyncpg.Connection, code: str, vehicle_class: VehicleClass) -> None:
    """Record a new tariff code for a vehicle class."""
    await conn.execute(INSERT_TARIFF, code, vehicle_class.value)


async def last_version_number(conn: asyncpg.Connection, code: str) -> int:
    """Return the highest version number a tariff has used (withdrawn ones too), or 0."""
    return int(await conn.fetchval(SELECT_LAST_NUMBER, code))


async def open_version(conn: asyncpg.Connection, code: str) -> TariffVersion | None:
    """Return the tariff's live version with no end, if it has one."""
    row = await conn.fetchrow(SELECT_OPEN_VERSION, code)
    return None if row is None else _version(row)


async def close_version(conn: asyncpg.Connection, code: str, version: int, until: datetime) -> TariffVersion:
    """End a version at `until` and return it so."""
    return _version(await conn.fetchrow(CLOSE_VERSION, code, version, until))


async def overlapping_version(conn: asyncpg.Connection, vehicle_class: VehicleClass, effective_from: datetime,
                              effective_until: datetime | None) -> TariffVersion | None:
    """Return the earliest live version for the class that is in force at some instant of the period, if any."""
    row = await conn.fetchrow(SELECT_OVERLAPPING, vehicle_class.value, effective_from, effective_until)
    return None if row is None else _version(row)


async def insert_version(conn: asyncpg.Connection, version: TariffVersion, created_by: int | None) -> TariffVersion:
    """Store a numbered version and return it as stored."""
    t = version.tariff
    row = await conn.fetchrow(
        INSERT_VERSION, t.id, t.version, version.vehicle_class.value, t.effective_from, t.effective_until,
        t.flag_fall_rials, t.included_metres, t.per_km_rials, t.per_minute_waiting_rials, t.slow_speed_kmh,
        t.time_or_distance_higher, t.minimum_fare_rials, t.rounding_unit_rials,
        json.dumps(tariffs.schedules_json(t.schedules), ensure_ascii=False),
        json.dumps(tariffs.zone_prices_json(t.zone_prices)), created_by,
    )
    return _version(row)


async def all_versions(conn: asyncpg.Connection) -> list[TariffVersion]:
    """Return every version of every tariff, by code and version."""
    return [_version(row) for row in await conn.fetch(SELECT_ALL_VERSIONS)]


async def versions_of(conn: asyncpg.Connection, code: str) -> list[TariffVersion]:
    """Return every version of one tariff, by version; empty if there is no such tariff."""
    return [_version(row) for row in await conn.fetch(SELECT_VERSIONS_OF, code)]


async def lock_version(conn: asyncpg.Connection, code: str, version: int) -> TariffVersion | None:
    """Return one version, locked for this transaction, or None."""
    row = await conn.fetchrow(SELECT_VERSION_FOR_UPDATE, code, version)
    return None if row is None else _version(row)


async def pricing_in_force(conn: asyncpg.Connection, vehicle_class: VehicleClass, at: datetime, first_day: date,
                           last_day: date) -> tuple[list[Tariff], frozenset[date]]:
    """Return the live versions pricing the class at `at`, and the holidays from `first_day` to `last_day`.

    With no version in force there is nothing to price, and no holidays are returned either.
    """
    rows = await conn.fetch(SELECT_PRICING, vehicle_class.value, at, first_day, last_day)
    holidays = frozenset(day for row in rows[:1] for day in row["holidays"])
    return [_version(row).tariff for row in rows], holidays


async def withdraw_version(conn: asyncpg.Connection, code: str, version: int, at: datetime,
                           by: int) -> TariffVersion | None:
    """Mark a live version withdrawn; None if it is not live."""
    row = await conn.fetchrow(WITHDRAW_VERSION, code, version, at, by)
    return None if row is None else _version(row)


async def reopen_previous(conn: asyncpg.Connection, code: str, ended_at: datetime, until: datetime | None) -> None:
    """Give the live version that ended at `ended_at` the end `until` instead."""
    await conn.execute(REOPEN_PREVIOUS, code, ended_at, until)


async def holidays(conn: asyncpg.Connection) -> list[Holiday]:
    """Return the holiday calendar by day."""
    return [Holiday(day=row["day"], name=row["name"]) for row in await conn.fetch(SELECT_HOLIDAYS)]


async def replace_holidays(conn: asyncpg.Connection, days: Iterable[Holiday]) -> None:
    """Replace the whole calendar (call inside a transaction)."""
    listed = list(days)
    await conn.execute(LOCK_HOLIDAYS)
    await conn.execute(DELETE_HOLIDAYS)
    await conn.execute(INSERT_HOLIDAYS, [h.day for h in listed], [h.name for h in listed])
