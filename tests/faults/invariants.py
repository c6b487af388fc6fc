"""The invariant checker: after the faults, what PostgreSQL holds must show none of them did harm.

Each check is a named SQL query over the whole history (ride_events and ride_offers, not only the rides'
current rows) that returns the rows it looked at and the violations it found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg

from tests.faults.traffic import TrafficLedger

SHOWN_VIOLATIONS = 20
# An offer still pending this long after its expiry was forgotten: sweepers run every half second.
OFFER_EXPIRY_SLACK = timedelta(seconds=5)
FINAL = ("completed", "cancelled", "no_driver_found", "no_show")

# Every driver a ride was ever given to: by accept or by hand (its events), by an accepted offer, and now.
RIDES_WITH_DRIVERS = """
    WITH given AS (
        SELECT ride_id, COALESCE(driver_id, CASE WHEN actor_kind = 'driver' THEN actor_id END) AS driver_id
        FROM ride_events WHERE to_status = 'assigned'
        UNION ALL SELECT ride_id, driver_id FROM ride_offers WHERE status = 'accepted'
        UNION ALL SELECT id, driver_id FROM rides WHERE driver_id IS NOT NULL
    )
    SELECT ride_id, array_agg(DISTINCT driver_id) AS drivers,
           (SELECT count(*) FROM ride_events e WHERE e.ride_id = given.ride_id AND e.to_status = 'assigned')
               AS assignments,
           (SELECT count(*) FROM ride_offers o WHERE o.ride_id = given.ride_id AND o.status = 'accepted')
               AS accepted_offers
    FROM given GROUP BY ride_id
"""
ONE_DRIVER_PER_RIDE = f"""
    SELECT ride_id, drivers, assignments, accepted_offers
    FROM ({RIDES_WITH_DRIVERS}) r
    WHERE cardinality(drivers) > 1 OR drivers[1] IS NULL OR assignments > 1 OR accepted_offers > 1
"""
COUNT_RIDES_WITH_DRIVERS = f"SELECT count(*) FROM ({RIDES_WITH_DRIVERS}) r"

# Each time a driver held a ride: from its assignment to the ride's first final step (or still).
RIDE_SPANS = """
    SELECT a.ride_id, COALESCE(a.driver_id, CASE WHEN a.actor_kind = 'driver' THEN a.actor_id END) AS driver_id,
           a.at AS began,
           COALESCE((SELECT min(f.at) FROM ride_events f WHERE f.ride_id = a.ride_id AND f.id > a.id
                     AND f.to_status IN ('completed', 'cancelled', 'no_show', 'no_driver_found')), 'infinity')
               AS ended
    FROM ride_events a WHERE a.to_status = 'assigned'
"""
ONE_RIDE_PER_DRIVER = f"""
    WITH spans AS ({RIDE_SPANS})
    SELECT x.driver_id, x.ride_id AS first_ride, y.ride_id AS second_ride, x.began, x.ended, y.began AS second_began
    FROM spans x JOIN spans y ON x.driver_id = y.driver_id AND x.ride_id < y.ride_id
                             AND x.began < y.ended AND y.began < x.ended
"""
COUNT_RIDE_SPANS = f"SELECT count(*) FROM ({RIDE_SPANS}) s"

# A booking is lost if its ride is missing, is not the ride of its key, or sits where nothing will move it.
ACKED_BOOKINGS = """
    WITH acked AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS a(key, ride_id))
    SELECT acked.key, acked.ride_id, r.id AS found, r.idempotency_key, r.status,
           (SELECT count(*) FROM ride_offers o WHERE o.ride_id = r.id AND o.status = 'pending'
                AND o.driver_id = r.offered_to AND o.expires_at > now() - $3::interval) AS live_offers,
           r.dispatch_after, r.created_at
    FROM acked LEFT JOIN rides r ON r.id = acked.ride_id
"""
OFFERS_CLOSED = """
    SELECT id, ride_id, driver_id, status, offered_at, expires_at
    FROM ride_offers WHERE status = 'pending' AND expires_at < now() - $1::interval
"""
OFFERS_BY_STATUS = "SELECT status, count(*) FROM ride_offers GROUP BY status ORDER BY status"
RIDES_BY_STATUS = "SELECT status, count(*) FROM rides GROUP BY status ORDER BY status"
ACKED_CALLS = """
    SELECT a.call_id FROM unnest($1::text[]) AS a(call_id)
    WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.source = 'webhook' AND c.pbx_call_id = a.call_id)
"""
ACKED_RATINGS = """
    SELECT a.id, a.ride_id, a.value, r.ride_id AS stored_ride, r.value AS stored_value
    FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS a(id, ride_id, value)
    LEFT JOIN ride_ratings r ON r.id = a.id
    WHERE r.id IS NULL OR r.ride_id <> a.ride_id OR r.value <> a.value
"""
ACKED_COMPLAINTS = """
    SELECT a.id, a.ride_id, c.ride_id AS stored_ride
    FROM unnest($1::bigint[], $2::bigint[]) AS a(id, ride_id) LEFT JOIN complaints c ON c.id = a.id
    WHERE c.id IS NULL OR c.ride_id IS DISTINCT FROM a.ride_id
"""


@dataclass
class Check:
    """One invariant: how many rows it looked at, and every violation found."""

    name: str
    description: str
    checked: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "rows_checked": self.checked,
                "violations": len(self.violations), "examples": self.violations[:SHOWN_VIOLATIONS]}


def _rows(records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [{k: (v if isinstance(v, int | str | None | list) else str(v)) for k, v in dict(r).items()}
            for r in records]


def booking_problem(row: asyncpg.Record) -> str | None:
    """Why an acknowledged booking counts as lost, or None if it is final or live."""
    if row["found"] is None:
        return "missing"
    if row["idempotency_key"] != row["key"]:
        return "another booking's ride"
    status = row["status"]
    if status in FINAL or status in ("assigned", "arrived", "on_board", "scheduled"):
        return None
    if status == "offering":
        return None if row["live_offers"] == 1 else "offering without a live offer"
    if status == "unassigned":
        return None if row["dispatch_after"] is not None else "unassigned and never retried"
    return f"stuck {status}"  # requested: no instance ever searched for its driver


async def check_all(conn: asyncpg.Connection, traffic: TrafficLedger) -> list[Check]:
    """Run every invariant against PostgreSQL."""
    checks = []

    one_driver = Check("one_driver_per_ride", "no ride was ever assigned to two drivers (events, offers, rides)")
    one_driver.checked = int(await conn.fetchval(COUNT_RIDES_WITH_DRIVERS))
    one_driver.violations = _rows(await conn.fetch(ONE_DRIVER_PER_RIDE))
    checks.append(one_driver)

    one_ride = Check("one_active_ride_per_driver", "no driver ever held two active rides at the same time")
    one_ride.checked = int(await conn.fetchval(COUNT_RIDE_SPANS))
    one_ride.violations = _rows(await conn.fetch(ONE_RIDE_PER_DRIVER))
    checks.append(one_ride)

    bookings = Check("acknowledged_bookings_kept", "every booking answered 200/201 exists, is its key's ride, "
                                                   "and is final or live (not stuck)")
    rows = await conn.fetch(ACKED_BOOKINGS, [b.key for b in traffic.bookings], [b.ride_id for b in traffic.bookings],
                            OFFER_EXPIRY_SLACK)
    bookings.checked = len(rows)
    for row in rows:
        problem = booking_problem(row)
        if problem is not None:
            bookings.violations.append({"problem": problem, **_rows([row])[0]})
    checks.append(bookings)

    offers = Check("offers_closed", f"every offer was answered, expired, lost or withdrawn "
                                    f"(none pending {OFFER_EXPIRY_SLACK.seconds} s past its expiry)")
    offers.checked = int(await conn.fetchval("SELECT count(*) FROM ride_offers"))
    offers.violations = _rows(await conn.fetch(OFFERS_CLOSED, OFFER_EXPIRY_SLACK))
    checks.append(offers)

    calls = Check("acknowledged_calls_stored", "every PBX call event answered 202 has its call row")
    calls.checked = len(traffic.calls)
    calls.violations = _rows(await conn.fetch(ACKED_CALLS, traffic.calls))
    checks.append(calls)

    ratings = Check("acknowledged_ratings_stored", "every rating answered 200 is stored, for its ride, as given")
    ratings.checked = len(traffic.ratings)
    ratings.violations = _rows(await conn.fetch(ACKED_RATINGS, *map(list, zip(*traffic.ratings, strict=True)))
                               if traffic.ratings else [])
    checks.append(ratings)

    complaints = Check("acknowledged_complaints_stored", "every complaint answered 201 is stored, about its ride")
    complaints.checked = len(traffic.complaints)
    complaints.violations = _rows(await conn.fetch(ACKED_COMPLAINTS, *map(list, zip(*traffic.complaints, strict=True)))
                                  if traffic.complaints else [])
    checks.append(complaints)
    return checks


async def tallies(conn: asyncpg.Connection) -> dict[str, dict[str, int]]:
    """Rides and offers by status, for the report."""
    return {"rides": {r["status"]: r["count"] for r in await conn.fetch(RIDES_BY_STATUS)},
            "offers": {r["status"]: r["count"] for r in await conn.fetch(OFFERS_BY_STATUS)}}
