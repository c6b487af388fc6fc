"""Use cases of drivers: register them and manage the tokens their phone app logs in with."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NoReturn

import asyncpg

from dispatch import plates, store, tokens
from dispatch.errors import (
    DriverAlreadySuspended,
    DriverNotFound,
    DriverNotSuspended,
    DriverPhoneTaken,
    ReasonRequired,
)
from dispatch.model import Driver, DriverId, DriverProfile, PlateKind, VehicleClass
from subscribers.phones import MAX_RAW_LENGTH, PhonePlan, parse_phone
from subscribers.text import to_ascii_digits
from taxicrm.errors import InvalidInput
from taxicrm.validation import optional, required


async def register_driver(pool: asyncpg.Pool, name: str) -> Driver:
    """Add an active driver to the fleet."""
    if not name.strip():
        raise InvalidInput("A driver needs a name.", code="invalid_driver")
    async with pool.acquire() as conn:
        return await store.insert_driver(conn, name.strip())


async def issue_token(pool: asyncpg.Pool, driver_id: DriverId) -> str:
    """Issue a driver a new app token, revoking the old one; the token is returned only this once."""
    token = tokens.new_driver_token()
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_driver(conn, driver_id):
            raise DriverNotFound(driver_id)
        await store.revoke_tokens(conn, driver_id)
        await store.insert_token(conn, driver_id, tokens.token_hash(token))
    return token


async def revoke_tokens(pool: asyncpg.Pool, driver_id: DriverId) -> int:
    """Revoke a driver's token (a lost phone); return how many were live."""
    async with pool.acquire() as conn, conn.transaction():
        if not await store.lock_driver(conn, driver_id):
            raise DriverNotFound(driver_id)
        return await store.revoke_tokens(conn, driver_id)


async def driver_for_token(pool: asyncpg.Pool, token: str) -> Driver | None:
    """Return the active driver a token belongs to, or None."""
    if not tokens.is_driver_token(token):
        return None
    async with pool.acquire() as conn:
        return await store.driver_by_token(conn, tokens.token_hash(token))


# Free-text fields and their longest length; blank text clears the field.
_TEXT_LIMITS = {"licence_number": 30, "vehicle_make": 50, "vehicle_model": 50, "vehicle_colour": 50}
_FIELDS = frozenset({"name", "phone", "plate_kind", "plate", "vehicle_class", "contract_start", "contract_end",
                     "commission_bp", *_TEXT_LIMITS})
MAX_SUSPENSION_REASON = 500


def driver_fields(body: dict[str, Any], plan: PhonePlan, *, creating: bool) -> dict[str, Any]:
    """Check and normalize the profile fields present in a request, as columns; raise InvalidInput on the first bad one.

    A field set to null is cleared; an absent field is left alone (or takes its default when creating).
    """
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a driver field.", code="unknown_field")
    fields: dict[str, Any] = {}
    if creating or "name" in body:
        name = " ".join(required(body, "name", str, max_length=200).split())
        if not name:
            raise InvalidInput("A driver needs a name.", code="empty_field")
        fields["name"] = name
    if "phone" in body:
        raw_phone = optional(body, "phone", str, max_length=MAX_RAW_LENGTH)
        fields["phone"] = None if raw_phone is None else parse_phone(raw_phone, plan).e164
    for name, limit in _TEXT_LIMITS.items():
        if name in body:
            text = " ".join(to_ascii_digits(optional(body, name, str, max_length=limit) or "").split())
            fields[name] = text or None
    fields.update(_plate_fields(body))
    if "vehicle_class" in body:
        fields["vehicle_class"] = _choice(body, "vehicle_class", VehicleClass)
    for name in ("contract_start", "contract_end"):
        if name in body:
            fields[name] = _date(body, name)
    start, end = fields.get("contract_start"), fields.get("contract_end")
    if start is not None and end is not None and end < start:
        raise InvalidInput("The contract cannot end before it starts.", code="contract_dates_reversed")
    if "commission_bp" in body:
        commission = required(body, "commission_bp", int)
        if not 0 <= commission <= 10_000:
            raise InvalidInput("'commission_bp' is in basis points, from 0 to 10000 (100%).", code="out_of_range")
        fields["commission_bp"] = commission
    return fields


def _plate_fields(body: dict[str, Any]) -> dict[str, Any]:
    if "plate" not in body:
        if "plate_kind" in body:
            raise InvalidInput("'plate_kind' is only sent with a 'plate'.", code="missing_field")
        return {}
    raw = optional(body, "plate", str, max_length=plates.MAX_RAW_LENGTH)
    if raw is None:
        return {"plate_kind": None, "plate": None, "plate_display": None}
    # Most of the fleet has Iranian plates: the kind need only be sent for the others.
    sent_kind = body.get("plate_kind")
    kind = PlateKind.IRANIAN if sent_kind is None else PlateKind(_choice(body, "plate_kind", PlateKind))
    plate = plates.parse_plate(kind, raw)
    return {"plate_kind": plate.kind.value, "plate": plate.canonical, "plate_display": plate.display}


def _choice(body: dict[str, Any], name: str, choices: type[StrEnum]) -> str:
    value = required(body, name, str)
    if value not in {c.value for c in choices}:
        raise InvalidInput(f"'{name}' must be one of {', '.join(c.value for c in choices)}.", code="invalid_choice")
    return value


def _date(body: dict[str, Any], name: str) -> date | None:
    raw = optional(body, name, str, max_length=10)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date like 2026-03-21.", code="invalid_date") from None


async def add_driver(pool: asyncpg.Pool, fields: Mapping[str, Any]) -> DriverProfile:
    """Add an active driver with checked profile fields (see driver_fields)."""
    async with pool.acquire() as conn:
        with _constraints():
            return await store.insert_driver_profile(conn, fields)


async def driver_profile(pool: asyncpg.Pool, driver_id: DriverId) -> DriverProfile:
    """Return a driver's full record."""
    async with pool.acquire() as conn:
        profile = await store.driver_profile(conn, driver_id)
    if profile is None:
        raise DriverNotFound(driver_id)
    return profile


async def list_driver_profiles(pool: asyncpg.Pool) -> list[DriverProfile]:
    """Return the whole fleet with everything recorded about each driver."""
    async with pool.acquire() as conn:
        return await store.list_driver_profiles(conn)


async def change_driver(pool: asyncpg.Pool, driver_id: DriverId, fields: Mapping[str, Any]) -> DriverProfile:
    """Change checked profile fields (see driver_fields) of a driver."""
    async with pool.acquire() as conn:
        with _constraints():
            profile = await store.update_driver(conn, driver_id, fields)
    if profile is None:
        raise DriverNotFound(driver_id)
    return profile


async def suspend_driver(pool: asyncpg.Pool, driver_id: DriverId, reason: str, by: int,
                         now: datetime) -> DriverProfile:
    """Suspend a driver: their token stops working at once, since only active drivers authenticate."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReasonRequired("A suspension must say why.")
    if len(reason) > MAX_SUSPENSION_REASON:
        raise InvalidInput(f"The reason is longer than {MAX_SUSPENSION_REASON} characters.", code="too_long")
    async with pool.acquire() as conn, conn.transaction():
        profile = await store.suspend_driver(conn, driver_id, reason, now, by)
        if profile is None:
            await _refuse(conn, driver_id, DriverAlreadySuspended(driver_id))
    return profile


async def reinstate_driver(pool: asyncpg.Pool, driver_id: DriverId) -> DriverProfile:
    """Lift a driver's suspension; their existing token works again."""
    async with pool.acquire() as conn, conn.transaction():
        profile = await store.reinstate_driver(conn, driver_id)
        if profile is None:
            await _refuse(conn, driver_id, DriverNotSuspended(driver_id))
    return profile


async def _refuse(conn: asyncpg.Connection, driver_id: DriverId, conflict: Exception) -> NoReturn:
    # A conditional update that changed nothing: either there is no such driver or its status forbade it.
    if await store.lock_driver(conn, driver_id):
        raise conflict
    raise DriverNotFound(driver_id)


@contextmanager
def _constraints() -> Iterator[None]:
    # The database has the last word on what two requests could race on (a phone) or what spans
    # fields not sent together (contract dates); its refusals become the same 4xx as ours.
    try:
        yield
    except asyncpg.UniqueViolationError as err:
        if err.constraint_name == "drivers_phone_key":
            raise DriverPhoneTaken(_key_value(err)) from err
        raise
    except asyncpg.CheckViolationError as err:
        if err.constraint_name == "drivers_contract_order":
            raise InvalidInput("The contract cannot end before it starts.", code="contract_dates_reversed") from err
        raise


def _key_value(err: asyncpg.UniqueViolationError) -> str:
    # The detail reads "Key (phone)=(+98912...) already exists."
    detail = err.detail or ""
    return detail.partition("=(")[2].partition(")")[0] or "given"
