"""SQL for rides and their history."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dispatch.model import (
    Actor,
    ActorKind,
    Channel,
    DriverId,
    FareBasis,
    NewRide,
    Place,
    Ride,
    RideFilter,
    RideId,
    RideStatus,
    RideStep,
    VehicleClass,
)
from taxicrm.changes import ChangePage, ChangeWindow, page_query, read_page

_PLACE_COLUMNS = ("text", "landmark", "lat", "lng", "address_id")
_RIDE_COLUMNS = (
    "id, status, subscriber_id, walk_in_name, walk_in_phone, call_id, "
    + ", ".join(f"{end}_{c}" for end in ("pickup", "destination") for c in _PLACE_COLUMNS)
    + ", passengers, vehicle_class, notes_for_driver, pickup_at, due_at, driver_id, offered_to, offer_count, "
    "cancelled_by_kind, cancelled_by_id, cancel_reason, booked_by, booked_via, request_hash, assigned_at, arrived_at, "
    "picked_up_at, finished_at, quote, quote_total_rials, quote_locked, fare, fare_total_rials, driver_share_rials, "
    "center_share_rials, fare_basis, version, created_at, updated_at"
)

_STEP_COLUMNS = "ride_id, action, from_status, to_status, actor_kind, actor_id, reason, driver_id, details, at"


@dataclass(frozen=True)
class StepRecord:
    """One step of a ride's history, stored by the same statement as the change to the ride it records."""

    action: str
    from_status: RideStatus | None
    to_status: RideStatus
    actor: Actor
    at: datetime
    reason: str | None = None
    driver_id: int | None = None
    details: Mapping[str, Any] | None = None


def _step_values(step: StepRecord) -> tuple[Any, ...]:
    return (step.action, None if step.from_status is None else step.from_status.value, step.to_status.value,
            step.actor.kind.value, step.actor.id, step.reason, step.driver_id,
            None if step.details is None else json.dumps(step.details), step.at)


def _insert_step_of(source: str, first: int) -> str:
    """Insert the step of the ride a CTE named `source` wrote, its nine values from parameter `first` on.

    Storing the step in the statement that makes the change saves a round trip per transition; a change that
    wrote no row (a lost race, a replayed booking) stores no step either.
    """
    p = [f"${i}" for i in range(first, first + 9)]
    return (f"INSERT INTO ride_events ({_STEP_COLUMNS}) SELECT id, {p[0]}::text, {p[1]}::text, {p[2]}::text, "
            f"{p[3]}::text, {p[4]}::bigint, {p[5]}::text, {p[6]}::bigint, {p[7]}::jsonb, {p[8]}::timestamptz "
            f"FROM {source}")


INSERT_RIDE = f"""
    INSERT INTO rides (subscriber_id, walk_in_name, walk_in_phone, call_id,
                       pickup_text, pickup_landmark, pickup_lat, pickup_lng, pickup_address_id,
                       destination_text, destination_landmark, destination_lat, destination_lng, destination_address_id,
                       passengers, vehicle_class, notes_for_driver, pickup_at, status, booked_by, booked_via,
                       idempotency_scope, idempotency_key, request_hash, created_at, updated_at, dispatch_after,
                       quote, quote_total_rials, quote_locked)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
            $22, $23, $24, $25, $25, $26, $27, $28, $29)
    ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING
    RETURNING {_RIDE_COLUMNS}
"""  # DO NOTHING, not an error: the loser of a double-submit reads the winner's ride instead.
# The ride and its booking step in one statement; a replayed key inserts neither.
BOOK_RIDE = f"""
    WITH booked AS ({INSERT_RIDE}), step AS ({_insert_step_of("booked", 30)})
    SELECT * FROM booked
"""
SELECT_BY_KEY = f"SELECT {_RIDE_COLUMNS} FROM rides WHERE idempotency_scope = $1 AND idempotency_key = $2"
SELECT_RIDE = f"SELECT {_RIDE_COLUMNS} FROM rides WHERE id = $1"
# Every change to a ride's dispatch happens under its row lock, so offers, accepts, cancels and manual
# assignments for one ride take turns; the conditional updates below then catch anything read earlier.
LOCK_RIDE = f"SELECT {_RIDE_COLUMNS} FROM rides WHERE id = $1 FOR UPDATE"
# A driver's answer locks the ride of the offer it names in one statement; someone else's offer finds nothing.
# (An offer's ride and driver never change, so reading them before the lock is granted is safe.)
LOCK_RIDE_OF_OFFER = f"""
    SELECT {_RIDE_COLUMNS} FROM rides
    WHERE id = (SELECT ride_id FROM ride_offers WHERE id = $1 AND driver_id = $2)
    FOR UPDATE
"""
# A driver's yes in one statement: the ride of their offer locked as above, then the offer accepted if it is still
# pending and on time. The lock comes first (the offer's update waits on it: a one-time filter), so a cancel or a
# timeout holding the ride finishes before the offer is judged, and the offer is judged as that left it.
LOCK_RIDE_ACCEPTING_OFFER = f"""
    WITH ride AS ({LOCK_RIDE_OF_OFFER}),
    accepted AS (
        UPDATE ride_offers SET status = 'accepted', answered_at = $3
        WHERE id = $1 AND status = 'pending' AND expires_at > $3 AND EXISTS (SELECT FROM ride)
        RETURNING id
    )
    SELECT ride.*, EXISTS (SELECT FROM accepted) AS accepted FROM ride
"""
# Any instance takes the next ride waiting for dispatch; one another instance is handling is skipped.
CLAIM_DUE = f"""
    SELECT {_RIDE_COLUMNS} FROM rides
    WHERE status IN ('scheduled', 'requested', 'unassigned') AND dispatch_after <= $1
    ORDER BY dispatch_after LIMIT 1
    FOR UPDATE SKIP LOCKED
"""
LOCK_IF_FREE = f"SELECT {_RIDE_COLUMNS} FROM rides WHERE id = $1 FOR UPDATE SKIP LOCKED"
# The caller's rides for the screen-pop, in one round trip: the last few, and any still under way (so the
# operator does not book a second car), by subscriber and by the number walk-in rides were booked under.
SELECT_CARD_RIDES = """
    SELECT json_build_object(
        'last_rides', (SELECT coalesce(json_agg(r), '[]') FROM (
            SELECT r.id, r.status, r.pickup_text AS pickup, r.destination_text AS destination, r.due_at,
                   r.driver_id, d.name AS driver_name, coalesce(r.fare_total_rials, r.quote_total_rials) AS fare_rials
            FROM rides r LEFT JOIN drivers d ON d.id = r.driver_id
            WHERE r.subscriber_id = $1 OR r.walk_in_phone = $2
            ORDER BY r.due_at DESC LIMIT $3) r),
        'active_rides', (SELECT coalesce(json_agg(a), '[]') FROM (
            SELECT r.id, r.status, r.pickup_text AS pickup, r.due_at, r.driver_id, d.name AS driver_name,
                   d.plate_display AS plate
            FROM rides r LEFT JOIN drivers d ON d.id = r.driver_id
            WHERE (r.subscriber_id = $1 OR r.walk_in_phone = $2) AND r.status = ANY($4::text[])
            ORDER BY r.due_at LIMIT 5) a)
    )::text
"""
SELECT_UNASSIGNED = f"SELECT {_RIDE_COLUMNS} FROM rides WHERE status = 'unassigned' ORDER BY due_at LIMIT 500"
# Rides another transaction holds are being dispatched right now: skipped, never waited for (waiting here, in
# whatever order the rows come, deadlocked with dispatch on other instances).
WAKE = """
    UPDATE rides SET dispatch_after = $2
    WHERE id IN (SELECT id FROM rides WHERE id = ANY($1::bigint[]) AND status = 'unassigned'
                 ORDER BY id FOR UPDATE SKIP LOCKED)
"""
SELECT_ACTIVE_OF_DRIVER = f"""
    SELECT {_RIDE_COLUMNS} FROM rides WHERE driver_id = $1 AND status IN ('assigned', 'arrived', 'on_board')
"""
# Serializes bookings for one caller, so two operators cannot both pass the active-ride check.
LOCK_CALLER = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
# A booking's two looks under the caller's lock in one round trip: the ride this key already booked, and the
# caller's earliest active ride (none asked for with no statuses).
SELECT_EARLIER_AND_ACTIVE = f"""
    SELECT true AS by_key, {_RIDE_COLUMNS} FROM rides WHERE idempotency_scope = $1 AND idempotency_key = $2
    UNION ALL
    (SELECT false, {_RIDE_COLUMNS} FROM rides
     WHERE cardinality($5::text[]) > 0 AND (subscriber_id = $3 OR walk_in_phone = $4) AND status = ANY($5::text[])
     ORDER BY due_at LIMIT 1)
"""
# Conditional: a writer that read an older version changes nothing and learns it lost the race.
UPDATE_ROUTE = f"""
    UPDATE rides SET pickup_text = $3, pickup_landmark = $4, pickup_lat = $5, pickup_lng = $6, pickup_address_id = $7,
                     destination_text = $8, destination_landmark = $9, destination_lat = $10, destination_lng = $11,
                     destination_address_id = $12, updated_at = $13, version = version + 1
    WHERE id = $1 AND version = $2
    RETURNING {_RIDE_COLUMNS}
"""
# Linking addresses saved after the booking is no change to the ride's route, so the version stays.
LINK_ADDRESSES = """
    UPDATE rides SET pickup_address_id = COALESCE($2, pickup_address_id),
                     destination_address_id = COALESCE($3, destination_address_id)
    WHERE id = $1
"""
MOVE_RIDES = "UPDATE rides SET subscriber_id = $2 WHERE subscriber_id = $1"
INSERT_STEP = f"""
    INSERT INTO ride_events ({_STEP_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
"""


SELECT_STEPS = """
    SELECT id, ride_id, action, from_status, to_status, actor_kind, actor_id, reason, driver_id, details, at
    FROM ride_events WHERE ride_id = $1 ORDER BY id
"""
LIST_RIDES = f"""
    SELECT {_RIDE_COLUMNS} FROM rides
    WHERE (cardinality($1::text[]) = 0 OR status = ANY($1::text[]))
      AND ($2::timestamptz IS NULL OR due_at >= $2)
      AND ($3::timestamptz IS NULL OR due_at < $3)
      AND ($4::bigint IS NULL OR subscriber_id = $4)
      AND ($5::text IS NULL OR walk_in_phone = $5)
    ORDER BY due_at DESC, id DESC
    LIMIT $6
"""


def _place(row: asyncpg.Record, end: str) -> Place | None:
    if row[f"{end}_text"] is None:
        return None
    return Place(*(row[f"{end}_{c}"] for c in _PLACE_COLUMNS))


def _ride(row: asyncpg.Record) -> Ride:
    pickup = _place(row, "pickup")
    if pickup is None:
        raise ValueError(f"ride {row['id']} has no pickup")  # The table forbids it; this keeps the type honest.
    cancelled_by = (None if row["cancelled_by_kind"] is None
                    else Actor(ActorKind(row["cancelled_by_kind"]), row["cancelled_by_id"]))
    return Ride(
        id=RideId(row["id"]), status=RideStatus(row["status"]), subscriber_id=row["subscriber_id"],
        walk_in_name=row["walk_in_name"], walk_in_phone=row["walk_in_phone"], call_id=row["call_id"],
        pickup=pickup, destination=_place(row, "destination"), passengers=row["passengers"],
        vehicle_class=VehicleClass(row["vehicle_class"]), notes_for_driver=row["notes_for_driver"],
        pickup_at=row["pickup_at"], due_at=row["due_at"],
        driver_id=None if row["driver_id"] is None else DriverId(row["driver_id"]),
        offered_to=None if row["offered_to"] is None else DriverId(row["offered_to"]), offer_count=row["offer_count"],
        cancelled_by=cancelled_by, cancel_reason=row["cancel_reason"], booked_by=row["booked_by"],
        booked_via=Channel(row["booked_via"]), request_hash=row["request_hash"], assigned_at=row["assigned_at"],
        arrived_at=row["arrived_at"], picked_up_at=row["picked_up_at"], finished_at=row["finished_at"],
        quote=_json(row["quote"]), quote_total_rials=row["quote_total_rials"], quote_locked=row["quote_locked"],
        fare=_json(row["fare"]), fare_total_rials=row["fare_total_rials"],
        driver_share_rials=row["driver_share_rials"], center_share_rials=row["center_share_rials"],
        fare_basis=None if row["fare_basis"] is None else FareBasis(row["fare_basis"]),
        version=row["version"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _json(raw: str | None) -> Any:
    return None if raw is None else json.loads(raw)


def _step(row: asyncpg.Record) -> RideStep:
    return RideStep(
        id=row["id"], ride_id=RideId(row["ride_id"]), action=row["action"],
        from_status=None if row["from_status"] is None else RideStatus(row["from_status"]),
        to_status=RideStatus(row["to_status"]), actor=Actor(ActorKind(row["actor_kind"]), row["actor_id"]),
        reason=row["reason"], driver_id=None if row["driver_id"] is None else DriverId(row["driver_id"]),
        details=_json(row["details"]), at=row["at"],
    )


def _place_args(place: Place | None) -> tuple[Any, ...]:
    return (None,) * len(_PLACE_COLUMNS) if place is None else tuple(getattr(place, c) for c in _PLACE_COLUMNS)


async def insert_ride(conn: asyncpg.Connection, new: NewRide, step: StepRecord | None = None) -> Ride | None:
    """Insert a ride, with its first step if given; None if the booker already used this idempotency key."""
    row = await conn.fetchrow(
        INSERT_RIDE if step is None else BOOK_RIDE, new.subscriber_id, new.walk_in_name, new.walk_in_phone, new.call_id,
        *_place_args(new.pickup), *_place_args(new.destination), new.passengers, new.vehicle_class.value,
        new.notes_for_driver, new.pickup_at, new.status.value, new.booked_by, new.booked_via.value,
        new.idempotency_scope, new.idempotency_key, new.request_hash, new.created_at, new.dispatch_after,
        None if new.quote is None else json.dumps(new.quote),
        None if new.quote is None else new.quote["total_rials"], new.quote_locked,
        *(() if step is None else _step_values(step)),
    )
    return None if row is None else _ride(row)


async def ride_by_key(conn: asyncpg.Connection, scope: str, key: str) -> Ride | None:
    """Return the ride this booker booked with this idempotency key, if any."""
    row = await conn.fetchrow(SELECT_BY_KEY, scope, key)
    return None if row is None else _ride(row)


async def ride(conn: asyncpg.Connection, ride_id: int) -> Ride | None:
    """Return the ride, or None."""
    row = await conn.fetchrow(SELECT_RIDE, ride_id)
    return None if row is None else _ride(row)


async def lock_ride(conn: asyncpg.Connection, ride_id: int) -> Ride | None:
    """Return the ride, locked until the transaction ends; None if there is no such ride."""
    row = await conn.fetchrow(LOCK_RIDE, ride_id)
    return None if row is None else _ride(row)


async def lock_ride_of_offer(conn: asyncpg.Connection, offer_id: int, driver_id: DriverId) -> Ride | None:
    """Return the ride the driver's offer is for, locked until the transaction ends; None if they have no such offer."""
    row = await conn.fetchrow(LOCK_RIDE_OF_OFFER, offer_id, driver_id)
    return None if row is None else _ride(row)


async def lock_ride_accepting_offer(conn: asyncpg.Connection, offer_id: int, driver_id: DriverId,
                                    at: datetime) -> tuple[Ride, bool] | None:
    """Lock the ride of the driver's offer and accept the offer if it is pending and on time at `at`.

    Return the ride and whether the offer was accepted; None if the driver has no such offer.
    """
    row = await conn.fetchrow(LOCK_RIDE_ACCEPTING_OFFER, offer_id, driver_id, at)
    return None if row is None else (_ride(row), row["accepted"])


async def lock_if_free(conn: asyncpg.Connection, ride_id: int) -> Ride | None:
    """Return the ride locked, or None if there is none or another transaction holds it."""
    row = await conn.fetchrow(LOCK_IF_FREE, ride_id)
    return None if row is None else _ride(row)


async def claim_due(conn: asyncpg.Connection, now: datetime) -> Ride | None:
    """Lock the ride that has waited longest for dispatch (a release, a first search, a retry), if any."""
    row = await conn.fetchrow(CLAIM_DUE, now)
    return None if row is None else _ride(row)


async def card_rides(conn: asyncpg.Connection, subscriber_id: int | None, phone: str, last: int,
                     active: frozenset[RideStatus]) -> dict[str, Any]:
    """Return the caller's last rides and those still under way, for the screen-pop card."""
    found: dict[str, Any] = json.loads(await conn.fetchval(SELECT_CARD_RIDES, subscriber_id, phone, last,
                                                           sorted(active)))
    return found


async def unassigned_rides(conn: asyncpg.Connection) -> list[Ride]:
    """Return the rides on the unassigned list, the longest wanted first."""
    return [_ride(row) for row in await conn.fetch(SELECT_UNASSIGNED)]


async def wake(conn: asyncpg.Connection, ride_ids: list[RideId], at: datetime) -> None:
    """Have the dispatcher retry these unassigned rides from `at` on, not at their next scheduled retry."""
    await conn.execute(WAKE, ride_ids, at)


async def active_ride_of_driver(conn: asyncpg.Connection, driver_id: DriverId) -> Ride | None:
    """Return the ride the driver is on (assigned, arrived or aboard), if any."""
    row = await conn.fetchrow(SELECT_ACTIVE_OF_DRIVER, driver_id)
    return None if row is None else _ride(row)


# The columns update_ride may set; its SET clause is built from these names only, never from a caller's text.
CHANGEABLE = frozenset({
    "status", "driver_id", "offered_to", "offer_count", "dispatch_after", "assigned_at", "arrived_at",
    "picked_up_at", "finished_at", "cancelled_by_kind", "cancelled_by_id", "cancel_reason", "quote",
    "quote_total_rials", "quote_locked", "fare", "fare_total_rials", "driver_share_rials", "center_share_rials",
    "fare_basis",
})
_JSON_COLUMNS = frozenset({"quote", "fare"})


async def update_ride(conn: asyncpg.Connection, ride_id: int, version: int, at: datetime,
                      changes: Mapping[str, Any], step: StepRecord | None = None) -> Ride | None:
    """Change the ride if it is still at `version`, storing `step` with it; None if someone changed it meanwhile."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not changeable ride columns: {sorted(unknown)}")
    names = sorted(changes)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=4))
    sql = (f"UPDATE rides SET {assignments}{', ' if names else ''}updated_at = $3, version = version + 1 "
           f"WHERE id = $1 AND version = $2 RETURNING {_RIDE_COLUMNS}")
    if step is not None:
        sql = f"WITH updated AS ({sql}), step AS ({_insert_step_of('updated', 4 + len(names))}) SELECT * FROM updated"
    values = [json.dumps(changes[n]) if n in _JSON_COLUMNS and changes[n] is not None else changes[n] for n in names]
    row = await conn.fetchrow(sql, ride_id, version, at, *values, *(() if step is None else _step_values(step)))
    return None if row is None else _ride(row)


async def lock_caller(conn: asyncpg.Connection, caller_key: str) -> None:
    """Hold a lock on one caller until the transaction ends."""
    await conn.execute(LOCK_CALLER, caller_key)


async def earlier_and_active(conn: asyncpg.Connection, scope: str, key: str, subscriber_id: int | None,
                             phone: str | None, active: frozenset[RideStatus]) -> tuple[Ride | None, Ride | None]:
    """Return the ride this key booked and the caller's earliest active ride, in one round trip.

    The caller is found by subscriber or walk-in phone, in one of the `active` statuses; with none, no active ride.
    """
    earlier = found = None
    for row in await conn.fetch(SELECT_EARLIER_AND_ACTIVE, scope, key, subscriber_id, phone, sorted(active)):
        if row["by_key"]:
            earlier = _ride(row)
        else:
            found = _ride(row)
    return earlier, found


async def update_route(conn: asyncpg.Connection, ride_id: int, version: int, pickup: Place,
                       destination: Place | None, at: datetime) -> Ride | None:
    """Set the ride's route if it is still at `version`; None if someone changed it meanwhile."""
    row = await conn.fetchrow(UPDATE_ROUTE, ride_id, version, *_place_args(pickup), *_place_args(destination), at)
    return None if row is None else _ride(row)


async def link_addresses(conn: asyncpg.Connection, ride_id: int, pickup_address_id: int | None,
                         destination_address_id: int | None) -> None:
    """Record which saved addresses the ride's places became; None leaves a link as it is."""
    await conn.execute(LINK_ADDRESSES, ride_id, pickup_address_id, destination_address_id)


async def move_rides(conn: asyncpg.Connection, from_subscriber: int, to_subscriber: int) -> tuple[str, int]:
    """Re-point one subscriber's rides at another (a merge) and say how many moved."""
    status = await conn.execute(MOVE_RIDES, from_subscriber, to_subscriber)
    return "rides", int(status.split()[-1])


async def insert_step(conn: asyncpg.Connection, ride_id: int, action: str, from_status: RideStatus | None,
                      to_status: RideStatus, actor: Actor, at: datetime, *, reason: str | None = None,
                      driver_id: int | None = None, details: Mapping[str, Any] | None = None) -> None:
    """Store one step of a ride's history."""
    await conn.execute(INSERT_STEP, ride_id, action, None if from_status is None else from_status.value,
                       to_status.value, actor.kind.value, actor.id, reason, driver_id,
                       None if details is None else json.dumps(details), at)


async def steps_of(conn: asyncpg.Connection, ride_id: int) -> list[RideStep]:
    """Return the ride's history, oldest first."""
    return [_step(row) for row in await conn.fetch(SELECT_STEPS, ride_id)]


async def list_rides(conn: asyncpg.Connection, wanted: RideFilter) -> list[Ride]:
    """Return rides matching the filter, latest due first."""
    rows = await conn.fetch(LIST_RIDES, sorted(wanted.statuses), wanted.since, wanted.until, wanted.subscriber_id,
                            wanted.phone, wanted.limit)
    return [_ride(row) for row in rows]


# The facts reports/ rolls rides up from, one row per ride; reports reads these columns by name, so they are a
# contract. A ride's changes are read by its change stamp (taxicrm/changes.py): rides_changed sets it on update.
RIDE_FACT_COLUMNS = """r.id AS ride_id, r.status, r.subscriber_id, r.driver_id, r.booked_by, r.booked_via,
    r.pickup_lat, r.pickup_lng, r.pickup_at, r.due_at, r.created_at, r.assigned_at, r.finished_at,
    r.fare_total_rials AS fare_rials, r.center_share_rials AS commission_rials"""
RIDE_FACTS = f"SELECT {RIDE_FACT_COLUMNS} FROM rides r"  # Every ride: what a rebuild of the rollups reads.
SELECT_RIDE_FACT_PAGE = page_query(RIDE_FACT_COLUMNS, "rides r", "r")


async def ride_facts(conn: asyncpg.Connection, window: ChangeWindow, limit: int) -> ChangePage:
    """Return the facts of up to `limit` rides changed in the window (see RIDE_FACT_COLUMNS)."""
    return await read_page(conn, SELECT_RIDE_FACT_PAGE, window, limit)
