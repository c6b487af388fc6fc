"""SQL for drivers and their app tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from dispatch.model import Driver, DriverId, DriverProfile, DriverStatus, PlateKind, VehicleClass

_DRIVER_COLUMNS = "id, name, status, suspended_reason, created_at"

INSERT_DRIVER = f"INSERT INTO drivers (name) VALUES ($1) RETURNING {_DRIVER_COLUMNS}"
LOCK_DRIVER = "SELECT id FROM drivers WHERE id = $1 FOR UPDATE"
REVOKE_TOKENS = "UPDATE driver_tokens SET revoked_at = now() WHERE driver_id = $1 AND revoked_at IS NULL"
INSERT_TOKEN = "INSERT INTO driver_tokens (driver_id, token_hash) VALUES ($1, $2)"
# Only a live token of an active driver authenticates: revoking or suspending takes effect at once.
SELECT_TOKEN_DRIVER = f"""
    SELECT {", ".join("d." + c.strip() for c in _DRIVER_COLUMNS.split(","))}
    FROM driver_tokens t JOIN drivers d ON d.id = t.driver_id
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND d.status = 'active'
"""


def _driver(row: asyncpg.Record) -> Driver:
    return Driver(id=DriverId(row["id"]), name=row["name"], status=DriverStatus(row["status"]),
                  suspended_reason=row["suspended_reason"], created_at=row["created_at"])


SELECT_COMMISSION = "SELECT commission_bp FROM drivers WHERE id = $1"


async def commission_of(conn: asyncpg.Connection, driver_id: DriverId) -> int:
    """Return the center's share of the driver's fares, in basis points."""
    return int(await conn.fetchval(SELECT_COMMISSION, driver_id))


async def insert_driver(conn: asyncpg.Connection, name: str) -> Driver:
    """Insert an active driver."""
    return _driver(await conn.fetchrow(INSERT_DRIVER, name))


async def lock_driver(conn: asyncpg.Connection, driver_id: DriverId) -> bool:
    """Lock the driver's row for this transaction; False if there is no such driver."""
    return await conn.fetchval(LOCK_DRIVER, driver_id) is not None


async def revoke_tokens(conn: asyncpg.Connection, driver_id: DriverId) -> int:
    """Revoke the driver's live tokens and return how many."""
    return int((await conn.execute(REVOKE_TOKENS, driver_id)).split()[-1])


async def insert_token(conn: asyncpg.Connection, driver_id: DriverId, token_hash: bytes) -> None:
    """Store a new live token by its hash."""
    await conn.execute(INSERT_TOKEN, driver_id, token_hash)


async def driver_by_token(conn: asyncpg.Connection, token_hash: bytes) -> Driver | None:
    """Return the active driver holding this live token, or None."""
    row = await conn.fetchrow(SELECT_TOKEN_DRIVER, token_hash)
    return None if row is None else _driver(row)


# The columns an admin may set, in the order INSERT_DRIVER_PROFILE takes them; also the whitelist
# update_driver builds its SET clause from, so no caller-supplied name ever reaches the SQL.
PROFILE_FIELDS = (
    "name", "phone", "licence_number", "plate_kind", "plate", "plate_display", "vehicle_make", "vehicle_model",
    "vehicle_colour", "vehicle_class", "contract_start", "contract_end", "commission_bp",
)
_PROFILE_COLUMNS = (
    "id, name, status, suspended_reason, suspended_at, suspended_by, phone, licence_number, plate_kind, plate, "
    "plate_display, vehicle_make, vehicle_model, vehicle_colour, vehicle_class, contract_start, contract_end, "
    "commission_bp, created_at"
)
INSERT_DRIVER_PROFILE = f"""
    INSERT INTO drivers ({", ".join(PROFILE_FIELDS)})
    VALUES ({", ".join(f"${i}" for i in range(1, len(PROFILE_FIELDS) + 1))})
    RETURNING {_PROFILE_COLUMNS}
"""
SELECT_DRIVER_PROFILE = f"SELECT {_PROFILE_COLUMNS} FROM drivers WHERE id = $1"
SELECT_DRIVER_PROFILES = f"SELECT {_PROFILE_COLUMNS} FROM drivers ORDER BY id"
# Conditional updates: suspending twice or reinstating an active driver changes nothing and says so.
SUSPEND_DRIVER = f"""
    UPDATE drivers SET status = 'suspended', suspended_reason = $2, suspended_at = $3, suspended_by = $4
    WHERE id = $1 AND status = 'active'
    RETURNING {_PROFILE_COLUMNS}
"""
REINSTATE_DRIVER = f"""
    UPDATE drivers SET status = 'active', suspended_reason = NULL, suspended_at = NULL, suspended_by = NULL
    WHERE id = $1 AND status = 'suspended'
    RETURNING {_PROFILE_COLUMNS}
"""


# What an INSERT gets for a field the admin left out; mirrors the migration's defaults.
_PROFILE_DEFAULTS: dict[str, Any] = {**dict.fromkeys(PROFILE_FIELDS), "vehicle_class": "sedan", "commission_bp": 1500}


def _profile(row: asyncpg.Record) -> DriverProfile:
    return DriverProfile(
        id=DriverId(row["id"]), name=row["name"], status=DriverStatus(row["status"]),
        suspended_reason=row["suspended_reason"], suspended_at=row["suspended_at"], suspended_by=row["suspended_by"],
        phone=row["phone"], licence_number=row["licence_number"],
        plate_kind=None if row["plate_kind"] is None else PlateKind(row["plate_kind"]),
        plate=row["plate"], plate_display=row["plate_display"], vehicle_make=row["vehicle_make"],
        vehicle_model=row["vehicle_model"], vehicle_colour=row["vehicle_colour"],
        vehicle_class=VehicleClass(row["vehicle_class"]), contract_start=row["contract_start"],
        contract_end=row["contract_end"], commission_bp=row["commission_bp"], created_at=row["created_at"],
    )


async def insert_driver_profile(conn: asyncpg.Connection, fields: Mapping[str, Any]) -> DriverProfile:
    """Insert an active driver with the given profile fields; absent ones take the column defaults below."""
    values = {**_PROFILE_DEFAULTS, **fields}
    return _profile(await conn.fetchrow(INSERT_DRIVER_PROFILE, *(values[f] for f in PROFILE_FIELDS)))



async def driver_profile(conn: asyncpg.Connection, driver_id: DriverId) -> DriverProfile | None:
    """Return the driver's full record, or None."""
    row = await conn.fetchrow(SELECT_DRIVER_PROFILE, driver_id)
    return None if row is None else _profile(row)


async def list_driver_profiles(conn: asyncpg.Connection) -> list[DriverProfile]:
    """Return every driver's full record by id."""
    return [_profile(row) for row in await conn.fetch(SELECT_DRIVER_PROFILES)]


async def update_driver(conn: asyncpg.Connection, driver_id: DriverId, fields: Mapping[str, Any]
                        ) -> DriverProfile | None:
    """Set the given profile fields and return the updated record, or None if there is no such driver."""
    names = [name for name in PROFILE_FIELDS if name in fields]
    if not names:
        return await driver_profile(conn, driver_id)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    sql = f"UPDATE drivers SET {assignments} WHERE id = $1 RETURNING {_PROFILE_COLUMNS}"
    row = await conn.fetchrow(sql, driver_id, *(fields[name] for name in names))
    return None if row is None else _profile(row)


async def suspend_driver(conn: asyncpg.Connection, driver_id: DriverId, reason: str, at: datetime,
                         by: int) -> DriverProfile | None:
    """Suspend an active driver; None if there is no such active driver."""
    row = await conn.fetchrow(SUSPEND_DRIVER, driver_id, reason, at, by)
    return None if row is None else _profile(row)


async def reinstate_driver(conn: asyncpg.Connection, driver_id: DriverId) -> DriverProfile | None:
    """Make a suspended driver active again; None if there is no such suspended driver."""
    row = await conn.fetchrow(REINSTATE_DRIVER, driver_id)
    return None if row is None else _profile(row)
