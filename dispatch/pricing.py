"""Use cases of pricing: publish and withdraw tariff versions, keep the holiday calendar, and price trips."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import asyncpg

from dispatch import fares, tariff_store
from dispatch.errors import (
    TariffClassChanged,
    TariffNotFound,
    TariffOverlap,
    TariffVersionStarted,
    TariffVersionWithdrawn,
)
from dispatch.fares import Fare, Tariff, Trip
from dispatch.model import VehicleClass
from dispatch.tariffs import Holiday, TariffVersion
from dispatch.traces import LatLng
from taxicrm.errors import Conflict


@dataclass(frozen=True)
class Published:
    """A newly published version, and the version it ended (if it ended one)."""

    version: TariffVersion
    closed: TariffVersion | None


@dataclass(frozen=True)
class Quote:
    """A fare estimated at booking, with the road distance and driving time it was estimated from."""

    fare: Fare
    distance_m: int
    duration_s: int


async def publish_version(pool: asyncpg.Pool, new: TariffVersion, created_by: int | None) -> Published:
    """Store the next version of a tariff, ending its open-ended version where the new one starts.

    `new` comes from `tariffs.parse_tariff` (which refuses a start in the past). A version that would be in force
    at the same time as another one for the vehicle class is refused, and nothing changes.
    """
    async with pool.acquire() as conn, conn.transaction():
        await tariff_store.lock_tariffs(conn)
        known_class = await tariff_store.tariff_class(conn, new.code)
        if known_class is None:
            await tariff_store.insert_tariff(conn, new.code, new.vehicle_class)
        elif known_class is not new.vehicle_class:
            raise TariffClassChanged(new.code, known_class.value)
        open_ended, closed = await tariff_store.open_version(conn, new.code), None
        if open_ended is not None and open_ended.tariff.effective_from < new.tariff.effective_from:
            closed = await tariff_store.close_version(conn, new.code, open_ended.tariff.version,
                                                      new.tariff.effective_from)
        clash = await tariff_store.overlapping_version(conn, new.vehicle_class, new.tariff.effective_from,
                                                       new.tariff.effective_until)
        if clash is not None:
            raise _overlap(clash)
        number = await tariff_store.last_version_number(conn, new.code) + 1
        with _exclusions():
            stored = await tariff_store.insert_version(
                conn, dataclasses.replace(new, tariff=dataclasses.replace(new.tariff, version=number)), created_by)
    return Published(version=stored, closed=closed)


async def withdraw_version(pool: asyncpg.Pool, code: str, version: int, by: int, now: datetime) -> TariffVersion:
    """Withdraw a version before it takes effect; the version it would have ended keeps its old end."""
    async with pool.acquire() as conn, conn.transaction():
        await tariff_store.lock_tariffs(conn)
        found = await tariff_store.lock_version(conn, code, version)
        if found is None:
            raise TariffNotFound(code, version)
        if found.withdrawn_at is not None:
            raise TariffVersionWithdrawn(code, version)
        if found.tariff.effective_from <= now:
            raise TariffVersionStarted(code, version)
        withdrawn = await tariff_store.withdraw_version(conn, code, version, now, by)
        if withdrawn is None:
            raise TariffVersionWithdrawn(code, version)
        await tariff_store.reopen_previous(conn, code, found.tariff.effective_from, found.tariff.effective_until)
    return withdrawn


async def all_tariffs(pool: asyncpg.Pool) -> list[TariffVersion]:
    """Return every version of every tariff, by code and version."""
    async with pool.acquire() as conn:
        return await tariff_store.all_versions(conn)


async def tariff_versions(pool: asyncpg.Pool, code: str) -> list[TariffVersion]:
    """Return the versions of one tariff, or raise TariffNotFound."""
    async with pool.acquire() as conn:
        versions = await tariff_store.versions_of(conn, code)
    if not versions:
        raise TariffNotFound(code)
    return versions


async def holidays(pool: asyncpg.Pool) -> list[Holiday]:
    """Return the holiday calendar by day."""
    async with pool.acquire() as conn:
        return await tariff_store.holidays(conn)


async def replace_holidays(pool: asyncpg.Pool, days: list[Holiday]) -> list[Holiday]:
    """Replace the holiday calendar with a checked list (see `tariffs.parse_holidays`)."""
    async with pool.acquire() as conn, conn.transaction():
        await tariff_store.replace_holidays(conn, days)
        return await tariff_store.holidays(conn)


@dataclass(frozen=True)
class PricingBasis:
    """What prices a trip started at some instant: the tariff version in force, and the holidays around that day."""

    tariff: Tariff
    holidays: frozenset[date]


class Pricer:
    """Prices trips for booking (quotes) and for trip completion (final fares) from the tariffs in PostgreSQL.

    Every price reads the version in force and the holidays it needs, in one query, on the caller's connection when
    it has one. There is deliberately no cache: a version an admin publishes on one instance, or a holiday declared
    this morning, prices the very next trip on every instance.
    """

    def __init__(self, pool: asyncpg.Pool, timezone: tzinfo, road_factor: float, average_speed_kmh: float) -> None:
        self._pool = pool
        self._timezone = timezone
        self._road_factor = road_factor
        self._average_speed_kmh = average_speed_kmh

    async def quote_trip(self, pickup: LatLng, dropoff: LatLng, vehicle_class: VehicleClass, at: datetime,
                         pickup_zone: str | None = None, dropoff_zone: str | None = None, *,
                         conn: asyncpg.Connection | None = None) -> Quote:
        """Estimate a trip from its ends (the straight line times the road factor) and price it at `at`."""
        trip = fares.estimate_trip(pickup, dropoff, started_at=at, road_factor=self._road_factor,
                                   average_speed_kmh=self._average_speed_kmh, pickup_zone=pickup_zone,
                                   dropoff_zone=dropoff_zone)
        fare = await self.price_trip(trip, vehicle_class, conn=conn)
        return Quote(fare=fare, distance_m=trip.distance_m, duration_s=trip.duration_s)

    async def basis_for(self, conn: asyncpg.Connection, vehicle_class: VehicleClass, at: datetime) -> PricingBasis:
        """Return what prices a trip of the class started at `at`; NoTariffInForce if no version is in force."""
        local_day = at.astimezone(self._timezone).date()
        # The day before too: a window past midnight belongs to the day it started on.
        versions, holidays = await tariff_store.pricing_in_force(conn, vehicle_class, at,
                                                                 local_day - timedelta(days=1), local_day)
        return PricingBasis(fares.tariff_in_force(versions, at), holidays)

    def price(self, basis: PricingBasis, trip: Trip) -> Fare:
        """Price a measured trip on a basis read for its start (see `basis_for`)."""
        return fares.quote(basis.tariff, trip, local_tz=self._timezone, holidays=basis.holidays)

    async def price_trip(self, trip: Trip, vehicle_class: VehicleClass, *,
                         conn: asyncpg.Connection | None = None) -> Fare:
        """Price a measured trip under the tariff in force for the class when it started; NoTariffInForce if none."""
        if conn is not None:
            return self.price(await self.basis_for(conn, vehicle_class, trip.started_at), trip)
        async with self._pool.acquire() as own:
            return self.price(await self.basis_for(own, vehicle_class, trip.started_at), trip)


def fare_json(fare: Fare) -> dict[str, Any]:
    """Render a fare: its lines (which sum to the total), the tariff version that priced it, and the rule used."""
    return {
        "tariff_id": fare.tariff_id,
        "tariff_version": fare.tariff_version,
        "rule": fare.rule.value,
        "lines": [{"code": line.code, "label_en": line.label_en, "label_fa": line.label_fa,
                   "amount_rials": line.amount_rials} for line in fare.lines],
        "total_rials": fare.total_rials,
    }


def quote_json(quote: Quote) -> dict[str, Any]:
    """Render a quote: its fare and the distance and duration it was estimated from."""
    return {**fare_json(quote.fare), "distance_m": quote.distance_m, "duration_s": quote.duration_s}


def _overlap(clash: TariffVersion) -> TariffOverlap:
    return TariffOverlap(clash.vehicle_class.value, clash.code, clash.tariff.version, clash.tariff.effective_from,
                         clash.tariff.effective_until)


@contextmanager
def _exclusions() -> Iterator[None]:
    # Under the lock the overlap check above has already spoken; the constraint is the last word all the same.
    try:
        yield
    except asyncpg.ExclusionViolationError as err:
        if (err.constraint_name or "").startswith("tariff_versions_no_overlap"):
            raise Conflict("This version would be in force at the same time as another version for the same "
                           "vehicle class.", code=TariffOverlap.code) from err
        raise
