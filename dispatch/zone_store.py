"""SQL for dispatch zones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

import asyncpg

from dispatch.model import DriverId, StrategyWindow, Zone, ZoneId, ZoneStrategy

_ZONE_COLUMNS = "id, code, name, polygon, default_strategy, windows, is_active, updated_at"
# What an admin may set, as the columns they are stored in; also the whitelist update_zone builds SET from.
_SETTABLE = ("code", "name", "polygon", "min_lat", "max_lat", "min_lng", "max_lng", "default_strategy", "windows",
             "is_active")

INSERT_ZONE = f"""
    INSERT INTO zones ({", ".join(_SETTABLE)}, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
    RETURNING {_ZONE_COLUMNS}
"""
SELECT_ZONE = f"SELECT {_ZONE_COLUMNS} FROM zones WHERE id = $1"
SELECT_ACTIVE_ZONES = f"SELECT {_ZONE_COLUMNS} FROM zones WHERE is_active ORDER BY code"
SELECT_ALL_ZONES = f"SELECT {_ZONE_COLUMNS} FROM zones ORDER BY is_active DESC, code"
# Deactivating twice changes nothing the second time, so instances do not reload for nothing.
DEACTIVATE_ZONE = f"""
    UPDATE zones SET is_active = false, updated_at = CASE WHEN is_active THEN $2 ELSE updated_at END
    WHERE id = $1
    RETURNING {_ZONE_COLUMNS}
"""
# A digest of every active zone's id and last change. Not max(updated_at): a change committed late with an
# earlier timestamp would hide behind a newer one and never be noticed.
ACTIVE_ZONES_DIGEST = """
    SELECT md5(coalesce(string_agg(id::text || '@' || updated_at::text, ',' ORDER BY id), ''))
    FROM zones WHERE is_active
"""
SELECT_DRIVER_NAMES = "SELECT id, name FROM drivers WHERE id = ANY($1::bigint[])"


def _windows_json(windows: Iterable[StrategyWindow]) -> str:
    return json.dumps([{"days": sorted(w.days), "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}",
                        "strategy": w.strategy.value} for w in windows])


def _window(raw: dict[str, Any]) -> StrategyWindow:
    return StrategyWindow(days=frozenset(raw["days"]), start=time.fromisoformat(raw["start"]),
                          end=time.fromisoformat(raw["end"]), strategy=ZoneStrategy(raw["strategy"]))


def _zone(row: asyncpg.Record) -> Zone:
    # asyncpg returns jsonb as text unless a codec is set; the pool is shared, so no codec is assumed.
    return Zone(id=ZoneId(row["id"]), code=row["code"], name=row["name"],
                polygon=tuple((float(lat), float(lng)) for lat, lng in json.loads(row["polygon"])),
                default_strategy=ZoneStrategy(row["default_strategy"]),
                windows=tuple(_window(w) for w in json.loads(row["windows"])),
                is_active=row["is_active"], updated_at=row["updated_at"])


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn checked zone fields into column values: JSON for the polygon and windows, its box beside it."""
    columns = {name: value for name, value in fields.items() if value is not None}
    if "polygon" in columns:
        polygon = columns["polygon"]
        lats, lngs = [lat for lat, _ in polygon], [lng for _, lng in polygon]
        columns.update(polygon=json.dumps([list(vertex) for vertex in polygon]), min_lat=min(lats),
                       max_lat=max(lats), min_lng=min(lngs), max_lng=max(lngs))
    if "windows" in columns:
        columns["windows"] = _windows_json(columns["windows"])
    if "default_strategy" in columns:
        columns["default_strategy"] = ZoneStrategy(columns["default_strategy"]).value
    return columns


async def insert_zone(conn: asyncpg.Connection, fields: dict[str, Any], at: datetime) -> Zone:
    """Insert a zone from complete checked fields (code, name, polygon, default_strategy, windows, is_active)."""
    columns = _columns(fields)
    return _zone(await conn.fetchrow(INSERT_ZONE, *(columns[name] for name in _SETTABLE), at))


async def update_zone(conn: asyncpg.Connection, zone_id: ZoneId, fields: dict[str, Any], at: datetime
                      ) -> Zone | None:
    """Set the fields given (None values are left alone); None if there is no such zone."""
    columns = _columns(fields)
    names = [name for name in _SETTABLE if name in columns]
    if not names:
        return await zone(conn, zone_id)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
    sql = f"UPDATE zones SET {assignments}, updated_at = $2 WHERE id = $1 RETURNING {_ZONE_COLUMNS}"
    row = await conn.fetchrow(sql, zone_id, at, *(columns[name] for name in names))
    return None if row is None else _zone(row)


async def deactivate_zone(conn: asyncpg.Connection, zone_id: ZoneId, at: datetime) -> Zone | None:
    """Mark a zone inactive (it keeps its code, for the tariffs and rides that name it); None if there is none."""
    row = await conn.fetchrow(DEACTIVATE_ZONE, zone_id, at)
    return None if row is None else _zone(row)


async def zone(conn: asyncpg.Connection, zone_id: ZoneId) -> Zone | None:
    """Return one zone, active or not, or None."""
    row = await conn.fetchrow(SELECT_ZONE, zone_id)
    return None if row is None else _zone(row)


async def list_zones(conn: asyncpg.Connection, *, include_inactive: bool = False) -> list[Zone]:
    """Return the active zones by code, or every zone (active ones first)."""
    return [_zone(row) for row in await conn.fetch(SELECT_ALL_ZONES if include_inactive else SELECT_ACTIVE_ZONES)]


async def active_zones_digest(conn: asyncpg.Connection) -> str:
    """Return a digest that changes whenever an active zone is added, changed or deactivated."""
    return str(await conn.fetchval(ACTIVE_ZONES_DIGEST))


async def driver_names(conn: asyncpg.Connection, driver_ids: Iterable[DriverId]) -> dict[DriverId, str]:
    """Return the names of the given drivers in one query; unknown ids are left out."""
    rows = await conn.fetch(SELECT_DRIVER_NAMES, [int(i) for i in driver_ids])
    return {DriverId(row["id"]): row["name"] for row in rows}
