"""SQL for offers, the searches and decisions behind them, and what matching needs to know about drivers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dispatch.model import (
    Decision,
    DriverId,
    Offer,
    OfferId,
    OfferStatus,
    OfferVia,
    RideId,
    VehicleClass,
    ZoneId,
    ZoneStrategy,
)
from taxicrm.changes import ChangePage, ChangeWindow, page_query, read_page

_OFFER_COLUMNS = ("id, ride_id, driver_id, search_id, rank, distance_m, via, offered_at, expires_at, status, "
                  "answered_at, reason")

# One statement for the search, its whole candidate list however long, and the offer to its first choice (if it
# has one; $11 is NULL when no driver may be offered the ride). The offer is made only if that driver holds no
# other offer, as with INSERT_OFFER; the row always comes back, with the search's id and the offer if made.
INSERT_SEARCH = f"""
    WITH search AS (
        INSERT INTO ride_searches (ride_id, radius_m, strategy, zone_id, searched_at,
                                   driver_ids, distances_m, ranks, vias, skip_reasons)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING id
    ), offered AS (
        INSERT INTO ride_offers (ride_id, driver_id, search_id, rank, distance_m, via, offered_at, expires_at)
        SELECT $1, $11::bigint, search.id, $12::smallint, $13::integer, $14::text, $15::timestamptz, $16::timestamptz
        FROM search WHERE $11::bigint IS NOT NULL
        ON CONFLICT (driver_id) WHERE status = 'pending' DO NOTHING
        RETURNING {_OFFER_COLUMNS}
    )
    SELECT search.id AS made_search_id, offered.* FROM search LEFT JOIN offered ON true
"""
# A driver already holding an offer (another ride's, made a moment ago) gets no second one: nothing is returned.
INSERT_OFFER = f"""
    INSERT INTO ride_offers (ride_id, driver_id, search_id, rank, distance_m, via, offered_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (driver_id) WHERE status = 'pending' DO NOTHING
    RETURNING {_OFFER_COLUMNS}
"""
SELECT_OFFER = f"SELECT {_OFFER_COLUMNS} FROM ride_offers WHERE id = $1"
SELECT_PENDING_OF_RIDE = f"SELECT {_OFFER_COLUMNS} FROM ride_offers WHERE ride_id = $1 AND status = 'pending'"
SELECT_PENDING_OF_DRIVER = f"SELECT {_OFFER_COLUMNS} FROM ride_offers WHERE driver_id = $1 AND status = 'pending'"
SELECT_OFFERS_OF_RIDE = f"SELECT {_OFFER_COLUMNS} FROM ride_offers WHERE ride_id = $1 ORDER BY id"
# Conditional: an offer already answered (or ended by someone else) stays as it was.
END_OFFER = f"""
    UPDATE ride_offers SET status = $2, answered_at = $3, reason = $4
    WHERE id = $1 AND status = 'pending'
    RETURNING {_OFFER_COLUMNS}
"""
SELECT_DUE_OFFERS = """
    SELECT id, ride_id FROM ride_offers WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2
"""
# Who may not be offered another ride: suspended drivers, those holding an offer, those on a ride.
# Each driver's pending offer and active ride are looked up in the unique partial indexes that hold at most one of
# each (ride_offers_one_pending_per_driver, rides_one_active_per_driver). Written as EXISTS, the planner may
# instead read every pending offer and every active ride into a hash, for each search: with 843 rides in progress
# and no statistics gathered, 0.63 ms for 30 drivers instead of 0.09 ms (EXPLAIN ANALYZE).
SELECT_CANDIDATE_FACTS = """
    SELECT d.id, d.name, d.status = 'suspended' AS suspended, d.vehicle_class,
           coalesce((SELECT true FROM ride_offers o WHERE o.driver_id = d.id AND o.status = 'pending' LIMIT 1),
                    false) AS has_offer,
           coalesce((SELECT r.status IN ('assigned', 'arrived', 'on_board') FROM rides r
                     WHERE r.driver_id = d.id AND r.status IN (
                         'scheduled', 'requested', 'offering', 'unassigned', 'assigned', 'arrived', 'on_board')
                     LIMIT 1), false) AS on_a_ride
    FROM drivers d WHERE d.id = ANY($1::bigint[])
"""
SELECT_DECISIONS_OF_RIDE = """
    SELECT s.id AS search_id, s.radius_m, s.strategy, s.zone_id, s.searched_at, d.*
    FROM ride_searches s,
         unnest(s.driver_ids, s.distances_m, s.ranks, s.vias, s.skip_reasons)
             AS d (driver_id, distance_m, rank, via, skip_reason)
    WHERE s.ride_id = $1
    ORDER BY s.id, d.rank NULLS LAST, d.distance_m
"""
# The GIN index finds the driver's searches; array_position, their place in each search's arrays.
SELECT_DECISIONS_OF_DRIVER = """
    SELECT search_id, ride_id, radius_m, strategy, zone_id, searched_at, $1::bigint AS driver_id,
           distances_m[i] AS distance_m, ranks[i] AS rank, vias[i] AS via, skip_reasons[i] AS skip_reason,
           EXISTS (SELECT 1 FROM ride_offers o WHERE o.search_id = f.search_id AND o.driver_id = $1) AS offered
    FROM (
        SELECT s.id AS search_id, s.*, array_position(s.driver_ids, $1::bigint) AS i
        FROM ride_searches s
        WHERE s.driver_ids @> ARRAY[$1::bigint] AND s.searched_at >= $2 AND s.searched_at < $3
        ORDER BY s.id DESC
        LIMIT $4
    ) f
    ORDER BY search_id DESC
"""


@dataclass(frozen=True)
class CandidateFacts:
    """What PostgreSQL knows about a nearby driver that the live map does not."""

    driver_id: DriverId
    name: str
    suspended: bool
    vehicle_class: VehicleClass
    has_offer: bool
    on_a_ride: bool


def _offer(row: asyncpg.Record) -> Offer:
    return Offer(
        id=OfferId(row["id"]), ride_id=RideId(row["ride_id"]), driver_id=DriverId(row["driver_id"]),
        search_id=row["search_id"], rank=row["rank"], distance_m=row["distance_m"], via=OfferVia(row["via"]),
        offered_at=row["offered_at"], expires_at=row["expires_at"], status=OfferStatus(row["status"]),
        answered_at=row["answered_at"], reason=row["reason"],
    )


@dataclass(frozen=True)
class NewOffer:
    """An offer of a ride to a driver a search ranked."""

    ride_id: RideId
    driver_id: DriverId
    rank: int
    distance_m: float
    via: OfferVia
    offered_at: datetime
    expires_at: datetime


async def insert_search(conn: asyncpg.Connection, ride_id: RideId, radius_m: int, strategy: ZoneStrategy,
                        zone_id: ZoneId | None, at: datetime, decisions: Sequence[Decision],
                        offer: NewOffer | None = None) -> tuple[int, Offer | None]:
    """Store a search, its decision on every driver it looked at and, if given, the offer to its first choice.

    Return the search's id, and the offer unless there was none to make or its driver already holds one.
    """
    row = await conn.fetchrow(
        INSERT_SEARCH, ride_id, radius_m, strategy.value, zone_id, at,
        [d.candidate.driver_id for d in decisions], [round(d.candidate.distance_m) for d in decisions],
        [d.rank for d in decisions], [None if d.via is None else d.via.value for d in decisions],
        [None if d.skip_reason is None else d.skip_reason.value for d in decisions],
        None if offer is None else offer.driver_id, None if offer is None else offer.rank,
        None if offer is None else round(offer.distance_m), None if offer is None else offer.via.value,
        None if offer is None else offer.offered_at, None if offer is None else offer.expires_at,
    )
    # Not "search_id": the offer's own column of that name is NULL when no offer was made (found under load).
    return row["made_search_id"], None if row["id"] is None else _offer(row)


async def insert_offer(conn: asyncpg.Connection, search_id: int, new: NewOffer) -> Offer | None:
    """Make an offer; None if the driver already holds one (another ride got to them first)."""
    row = await conn.fetchrow(INSERT_OFFER, new.ride_id, new.driver_id, search_id, new.rank, round(new.distance_m),
                              new.via.value, new.offered_at, new.expires_at)
    return None if row is None else _offer(row)


async def offer(conn: asyncpg.Connection, offer_id: int) -> Offer | None:
    """Return the offer, or None."""
    row = await conn.fetchrow(SELECT_OFFER, offer_id)
    return None if row is None else _offer(row)


async def pending_offer_of_ride(conn: asyncpg.Connection, ride_id: RideId) -> Offer | None:
    """Return the ride's open offer, if any."""
    row = await conn.fetchrow(SELECT_PENDING_OF_RIDE, ride_id)
    return None if row is None else _offer(row)


async def pending_offer_of_driver(conn: asyncpg.Connection, driver_id: DriverId) -> Offer | None:
    """Return the offer the driver is holding, if any."""
    row = await conn.fetchrow(SELECT_PENDING_OF_DRIVER, driver_id)
    return None if row is None else _offer(row)


async def offers_of_ride(conn: asyncpg.Connection, ride_id: RideId) -> list[Offer]:
    """Return every offer made for the ride, oldest first."""
    return [_offer(row) for row in await conn.fetch(SELECT_OFFERS_OF_RIDE, ride_id)]


async def end_offer(conn: asyncpg.Connection, offer_id: OfferId, status: OfferStatus, at: datetime,
                    reason: str | None = None) -> Offer | None:
    """Close a pending offer with how it ended; None if it was no longer pending."""
    row = await conn.fetchrow(END_OFFER, offer_id, status.value, at, reason)
    return None if row is None else _offer(row)


async def due_offers(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[OfferId, RideId]]:
    """Return pending offers whose time ran out, the longest overdue first."""
    return [(OfferId(r["id"]), RideId(r["ride_id"])) for r in await conn.fetch(SELECT_DUE_OFFERS, now, limit)]


async def candidate_facts(conn: asyncpg.Connection, driver_ids: Sequence[DriverId]) -> dict[DriverId, CandidateFacts]:
    """Return, by driver, what the database says about drivers found on the live map (unknown ids are left out)."""
    rows = await conn.fetch(SELECT_CANDIDATE_FACTS, list(driver_ids))
    return {DriverId(r["id"]): CandidateFacts(DriverId(r["id"]), r["name"], r["suspended"],
                                             VehicleClass(r["vehicle_class"]), r["has_offer"], r["on_a_ride"])
            for r in rows}


async def decisions_of_ride(conn: asyncpg.Connection, ride_id: RideId) -> list[asyncpg.Record]:
    """Return every search for the ride with its decisions, in search order, ranked drivers first."""
    return list(await conn.fetch(SELECT_DECISIONS_OF_RIDE, ride_id))


async def decisions_of_driver(conn: asyncpg.Connection, driver_id: DriverId, since: datetime, until: datetime,
                              limit: int) -> list[asyncpg.Record]:
    """Return the searches that looked at a driver in [since, until), newest first, with what they decided."""
    return list(await conn.fetch(SELECT_DECISIONS_OF_DRIVER, driver_id, since, until, limit))


# The facts reports/ rolls offers up from, one row per offer, read by name (a contract). An offer's change stamp
# moves only when its status does (ride_offers_changed), so an ended offer is read once more, and never again.
OFFER_FACT_COLUMNS = "o.id AS offer_id, o.driver_id, o.offered_at, o.status"
OFFER_FACTS = f"SELECT {OFFER_FACT_COLUMNS} FROM ride_offers o"  # Every offer: what a rebuild reads.
SELECT_OFFER_FACT_PAGE = page_query(OFFER_FACT_COLUMNS, "ride_offers o", "o")


async def offer_facts(conn: asyncpg.Connection, window: ChangeWindow, limit: int) -> ChangePage:
    """Return the facts of up to `limit` offers made or ended in the window (see OFFER_FACT_COLUMNS)."""
    return await read_page(conn, SELECT_OFFER_FACT_PAGE, window, limit)
