"""Use cases of the rollups: fold new facts in as they arrive, rebuild them all from scratch, and keep a job doing so.

Facts come from the domains that own them, read by change (taxicrm/changes.py): rides and offers from dispatch,
calls from callcenter, complaints and ratings from feedback. A ride is counted in its
latest form (report_rides keeps the form each ride was counted in, so a change moves it between counters);
calls and offers are counted once, when they end.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from callcenter import call_store
from dispatch import offer_store, ride_store, zone_service
from dispatch.model import Zone
from dispatch.zones import ZoneIndex
from feedback import reporting
from reports import rollup_store
from reports.calendar import Calendar
from reports.hexgrid import HEX_SIZE_M, HexGrid
from reports.model import Feed, RollupBasis
from taxicrm.changes import BEGINNING, ChangePage, ChangeWindow
from taxicrm.settings import Settings

log = logging.getLogger(__name__)

FOLD_SECONDS: Final = 5.0
PAGE_SIZE: Final = 5_000
# What a pass may fail on without ending the job: it tries again at the next pass.
_UNREACHABLE = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def basis_of(settings: Settings) -> RollupBasis:
    """Return the basis the service's settings call for: their time zone and calendar, a grid true at the area."""
    south, _, north, _ = settings.service_area
    return RollupBasis(timezone=settings.timezone, hex_size_m=HEX_SIZE_M, hex_lat0=round((south + north) / 2, 3),
                       calendar=Calendar(settings.calendar))


# The defaults of TAXICRM_TIMEZONE, TAXICRM_CALENDAR and TAXICRM_SERVICE_AREA (Tehran), for a rebuild not told
# otherwise.
DEFAULT_BASIS: Final = RollupBasis(timezone=ZoneInfo("Asia/Tehran"), hex_size_m=HEX_SIZE_M, hex_lat0=35.7,
                                   calendar=Calendar.JALALI)


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild counted."""

    rides: int
    customers: int
    seconds: float


@dataclass(frozen=True)
class _Placing:
    """How a fold places pickups: the grid and the zones."""

    grid: HexGrid
    zones: ZoneIndex


async def rebuild(pool: asyncpg.Pool, basis: RollupBasis | None = None) -> Rebuilt:
    """Recompute every rollup from every fact, in set-based SQL, and read on from there.

    `basis` defaults to the one the rollups were last built with, else DEFAULT_BASIS. Reports read the old
    rollups until the new ones are committed.
    """
    started = datetime.now(UTC)
    zones = await zone_service.list_zones(pool)
    # The lock is taken on a connection of its own, so the rebuild's snapshot (repeatable read, taken by its first
    # statement) is younger than any fold that finished before it: it must not miss what a fold just read.
    async with pool.acquire() as holder, holder.transaction():
        await rollup_store.lock(holder)
        return await _rebuild(pool, basis, zones, started)


async def _rebuild(pool: asyncpg.Pool, basis: RollupBasis | None, zones: Sequence[Zone], started: datetime) -> Rebuilt:
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        basis = basis or await _stored_basis(conn) or DEFAULT_BASIS
        # Everything visible in this transaction's snapshot is counted here; what is not, the next fold reads.
        snapshot = await rollup_store.current_snapshot(conn)
        await rollup_store.make_room(conn)
        await rollup_store.empty(conn)
        await rollup_store.change_zones(conn, _signature(zones))
        placing = _Placing(HexGrid(basis.hex_size_m, basis.hex_lat0), ZoneIndex(zones))
        await _place(conn, None, placing)
        await rollup_store.rebuild_from_domains(conn, basis.timezone.key, basis.calendar)
        for feed in Feed:
            await rollup_store.save_cursor(conn, feed, snapshot, started)
        await rollup_store.save_basis(conn, basis, started)
        rides, customers = await rollup_store.counted(conn)
    seconds = (datetime.now(UTC) - started).total_seconds()
    log.info("rebuilt the report rollups: %d rides, %d customers in %.1f s", rides, customers, seconds)
    return Rebuilt(rides=rides, customers=customers, seconds=seconds)


async def catch_up(pool: asyncpg.Pool, basis: RollupBasis) -> None:
    """Fold in every fact changed since the last pass; rebuild first if the rollups were built on another basis."""
    async with pool.acquire() as conn:
        stored = await _stored_basis(conn)
    if stored != basis:
        log.info("the report rollups were built for %s; rebuilding them for %s", stored, basis)
        await rebuild(pool, basis)
    zones = await zone_service.list_zones(pool)
    placing = _Placing(HexGrid(basis.hex_size_m, basis.hex_lat0), ZoneIndex(zones))
    signature = _signature(zones)
    for source in _SOURCES:
        await _fold(pool, source, basis, placing, signature)


async def run_rollups(pool: asyncpg.Pool, basis: RollupBasis, interval: float = FOLD_SECONDS) -> None:
    """Keep the rollups caught up, a pass every `interval` seconds, until cancelled (one instance: the leader)."""
    while True:
        # Wait first: an instance that starts and stops at once (a test, a failed deploy) leaves the work to others.
        await asyncio.sleep(interval)
        try:
            await catch_up(pool, basis)
        except _UNREACHABLE:
            log.warning("could not fold the latest facts into the report rollups; trying again", exc_info=True)


@dataclass(frozen=True)
class _Source:
    """A feed of facts read by change from the domain owning them, and how a page of it folds in."""

    feed: Feed
    read: Callable[[asyncpg.Connection, ChangeWindow, int], Awaitable[ChangePage]]
    fold: Callable[[asyncpg.Connection, str, RollupBasis, _Placing], Awaitable[None]]


async def _fold_rides(conn: asyncpg.Connection, facts: str, basis: RollupBasis, placing: _Placing) -> None:
    await _place(conn, facts, placing)
    changed = await rollup_store.fold_rides(conn, facts, basis.timezone.key)
    await rollup_store.recount_customers(conn, changed, basis.calendar)


def _folding(fold: Callable[[asyncpg.Connection, str, str], Awaitable[None]]
             ) -> Callable[[asyncpg.Connection, str, RollupBasis, _Placing], Awaitable[None]]:
    """Fold a page with a statement that needs only the center's time zone."""

    async def folded(conn: asyncpg.Connection, facts: str, basis: RollupBasis, placing: _Placing) -> None:
        await fold(conn, facts, basis.timezone.key)

    return folded


# Rides first: complaints are placed in their ride's area.
_SOURCES: Final = (
    _Source(Feed.RIDES, ride_store.ride_facts, _fold_rides),
    _Source(Feed.CALLS, call_store.call_facts, _folding(rollup_store.fold_calls)),
    _Source(Feed.OFFERS, offer_store.offer_facts, _folding(rollup_store.fold_offers)),
    _Source(Feed.COMPLAINTS, reporting.complaint_facts, _folding(rollup_store.fold_complaints)),
    _Source(Feed.RATINGS, reporting.rating_facts, _folding(rollup_store.fold_ratings)),
)


async def _fold(pool: asyncpg.Pool, source: _Source, basis: RollupBasis, placing: _Placing, signature: str) -> None:
    """Fold in one feed's facts changed since it was last read, all in one transaction holding the rollups."""
    async with pool.acquire() as conn, conn.transaction():
        await rollup_store.lock(conn)
        if source.feed is Feed.RIDES and await rollup_store.zone_signature(conn) != signature:
            await rollup_store.change_zones(conn, signature)
        window = ChangeWindow(await rollup_store.cursor(conn, source.feed) or BEGINNING,
                              await rollup_store.current_snapshot(conn))
        while True:
            page = await source.read(conn, window, PAGE_SIZE)
            if page.count:
                await source.fold(conn, page.facts, basis, placing)
            if page.count < PAGE_SIZE:
                break
            window = window.next_page(page)
        await rollup_store.save_cursor(conn, source.feed, window.until, datetime.now(UTC))


async def _place(conn: asyncpg.Connection, facts: str | None, placing: _Placing) -> None:
    """Give each new pickup point of the ride facts (None: of every ride) its hex cell and zone."""
    places = []
    for lat_e3, lng_e3 in await rollup_store.new_points(conn, facts):
        lat, lng = lat_e3 / 1000, lng_e3 / 1000
        zone = placing.zones.zone_at(lat, lng)
        places.append((lat_e3, lng_e3, placing.grid.cell_at(lat, lng), 0 if zone is None else zone.id))
    await rollup_store.add_places(conn, places)


def _signature(zones: Sequence[Zone]) -> str:
    """Return what changes whenever a zone is drawn, redrawn or retired."""
    text = ",".join(f"{z.id}@{z.updated_at.isoformat()}" for z in sorted(zones, key=lambda z: z.id))
    return hashlib.sha256(text.encode()).hexdigest()


async def _stored_basis(conn: asyncpg.Connection) -> RollupBasis | None:
    stored = await rollup_store.basis(conn)
    if stored is None:
        return None
    timezone, size, lat0, calendar = stored
    return RollupBasis(timezone=ZoneInfo(timezone), hex_size_m=size, hex_lat0=lat0, calendar=Calendar(calendar))
