"""SQL that keeps the rollups: folding pages of facts in, and rebuilding everything from the domains' fact queries.

Every fold statement reads its facts from a relation `f`: a page of them as JSON ($1) when folding as facts
arrive, or the owning domain's query of all its facts when rebuilding, so both paths count with the same SQL.
The center's time zone is `{tz}`: $2 when folding, $1 when rebuilding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from callcenter.call_store import CALL_FACTS
from dispatch.offer_store import OFFER_FACTS
from dispatch.ride_store import RIDE_FACTS
from feedback.reporting import COMPLAINT_FACTS, RATING_FACTS
from reports.calendar import Calendar
from reports.histograms import ANSWER_SECONDS, ASSIGN_BUCKET_SECONDS, ASSIGN_BUCKETS
from reports.model import Feed, RollupBasis
from reports.rfm import RIDES_CAP

# Folds and rebuilds take turns on the rollups, across instances.
LOCK_KEY = 7_402_113_006
LOCK = "SELECT pg_advisory_xact_lock($1)"

# The facts' columns as the domains give them (dispatch/ride_store.py RIDE_FACT_COLUMNS and the like).
RIDE_SHAPE = """ride_id bigint, status text, subscriber_id bigint, driver_id bigint, booked_by bigint, booked_via text,
    pickup_lat double precision, pickup_lng double precision, pickup_at timestamptz, due_at timestamptz,
    created_at timestamptz, assigned_at timestamptz, finished_at timestamptz, fare_rials bigint,
    commission_rials bigint"""
CALL_SHAPE = "call_id bigint, ringing_at timestamptz, answered_at timestamptz, ended_at timestamptz, operator_id bigint"
OFFER_SHAPE = "offer_id bigint, driver_id bigint, offered_at timestamptz, status text"
COMPLAINT_SHAPE = """id bigint, kind text, category text, status text, created_at timestamptz, closed_at timestamptz,
    first_response_at timestamptz, first_response_due timestamptz, resolution_due timestamptz, ride_id bigint,
    subscriber_id bigint, driver_id bigint, operator_id bigint"""
RATING_SHAPE = "id bigint, driver_id bigint, value integer, is_current boolean, created_at timestamptz"


def _page(shape: str) -> str:
    return f"json_to_recordset($1::json) AS f({shape})"


def _all(facts: str) -> str:
    return f"({facts}) f"


def _adding(*columns: str) -> str:
    """Return the SET clause of an upsert adding the new counts to the stored ones."""
    return ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in columns)


def _replacing(*columns: str) -> str:
    return ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)


# A pickup's place is looked up by its point rounded to 0.001 degrees (reports/hexgrid.py computes the cell).
_LAT_E3 = "floor(f.pickup_lat * 1000 + 0.5)::integer"
_LNG_E3 = "floor(f.pickup_lng * 1000 + 0.5)::integer"
_NEW_POINTS = f"""
    SELECT DISTINCT {_LAT_E3} AS lat_e3, {_LNG_E3} AS lng_e3 FROM {{source}}
    WHERE f.pickup_lat IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM report_places p WHERE p.lat_e3 = {_LAT_E3} AND p.lng_e3 = {_LNG_E3})
"""
NEW_POINTS_OF_PAGE = _NEW_POINTS.format(source=_page(RIDE_SHAPE))
NEW_POINTS_OF_ALL = _NEW_POINTS.format(source=_all(RIDE_FACTS))
INSERT_PLACES = """
    INSERT INTO report_places (lat_e3, lng_e3, cell, zone_id)
    SELECT * FROM unnest($1::integer[], $2::integer[], $3::bigint[], $4::bigint[])
    ON CONFLICT DO NOTHING
"""

# A ride as it counts: its local hour and day, its place, and its outcome so far.
_RIDE_COLUMNS = ("ride_id", "hour", "day", "cell", "zone_id", "subscriber_id", "driver_id", "operator_id", "outcome",
                 "fare_rials", "commission_rials", "assign_seconds", "busy_seconds")
_COUNT_RIDES = f"""
    SELECT f.ride_id, date_trunc('hour', f.due_at, {{tz}}) AS hour, (f.due_at AT TIME ZONE {{tz}})::date AS day,
           coalesce(p.cell, 0) AS cell, coalesce(p.zone_id, 0) AS zone_id, f.subscriber_id, f.driver_id,
           CASE WHEN f.booked_via = 'console' THEN f.booked_by END AS operator_id,
           CASE f.status WHEN 'completed' THEN 'completed' WHEN 'no_driver_found' THEN 'no_driver'
                WHEN 'no_show' THEN 'no_show'
                WHEN 'cancelled' THEN CASE WHEN f.assigned_at IS NULL THEN 'cancelled_waiting' ELSE 'cancelled' END
                ELSE 'open' END AS outcome,
           CASE WHEN f.status = 'completed' THEN coalesce(f.fare_rials, 0) ELSE 0 END AS fare_rials,
           CASE WHEN f.status = 'completed' THEN coalesce(f.commission_rials, 0) ELSE 0 END AS commission_rials,
           -- A pre-booking is assigned ahead of its time on purpose: only rides wanted at once measure the wait.
           CASE WHEN f.pickup_at IS NULL AND f.assigned_at IS NOT NULL
                THEN greatest(extract(epoch FROM f.assigned_at - f.created_at), 0)::integer END AS assign_seconds,
           CASE WHEN f.status = 'completed' AND f.assigned_at IS NOT NULL AND f.finished_at IS NOT NULL
                THEN greatest(extract(epoch FROM f.finished_at - f.assigned_at), 0)::integer END AS busy_seconds
    FROM {{source}}
    LEFT JOIN report_places p ON p.lat_e3 = {_LAT_E3} AND p.lng_e3 = {_LNG_E3}
"""

_HOUR_RIDE_COUNTERS = ("rides_booked", "rides_completed", "rides_cancelled", "rides_cancelled_waiting",
                       "rides_no_driver", "rides_no_show", "revenue_rials", "commission_rials", "busy_seconds")
_HOUR_CALL_COUNTERS = ("calls_answered", "calls_abandoned", "handle_seconds")
_AREA_COUNTERS = ("rides", "completed", "unserved", "revenue_rials", "commission_rials")
_DRIVER_RIDE_COUNTERS = ("completed", "revenue_rials", "commission_rials", "busy_seconds")


def _upsert(table: str, keys: Sequence[str], counters: Sequence[str], select: str,
            histograms: Sequence[str] = ()) -> str:
    """Return an upsert of `select`'s rows (keys, counters, histograms in order) adding them to what is stored."""
    columns = ", ".join((*keys, *counters, *histograms))
    setting = ", ".join((*(f"{c} = t.{c} + EXCLUDED.{c}" for c in counters),
                         *(f"{h} = report_add_counts(t.{h}, EXCLUDED.{h})" for h in histograms)))
    return f"INSERT INTO {table} AS t ({columns}) {select} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {setting}"


def _regrouped(source: str, keys: Sequence[str], counters: Sequence[str], histograms: Sequence[str] = ()) -> str:
    """Return `source`'s rows summed again by other keys (SQL expressions over its columns)."""
    sums = ", ".join((*(f"sum({c})" for c in counters), *(f"report_sum_counts({h})" for h in histograms)))
    numbers = ", ".join(str(n) for n in range(1, len(keys) + 1))
    return f"SELECT {', '.join(keys)}, {sums} FROM {source} GROUP BY {numbers}"


def _by_month(source: str, day: str, keys: Sequence[str], counters: Sequence[str]) -> str:
    return _regrouped(source, (f"date_trunc('month', {day})::date", *keys), counters)


# An hour's month, weekday and hour of the day, for report_slot_monthly (the zone is {tz}).
_SLOT_KEYS = ("date_trunc('month', hour AT TIME ZONE {tz})::date", "extract(dow FROM hour AT TIME ZONE {tz})",
              "extract(hour FROM hour AT TIME ZONE {tz})")


def _by_slot(source: str, counters: Sequence[str], histograms: Sequence[str], tz: str) -> str:
    return _regrouped(source, tuple(k.format(tz=tz) for k in _SLOT_KEYS), counters, histograms)


_OPERATOR_BOOKINGS = """
    SELECT day, operator_id, sum(s), sum(s * (outcome = 'completed')::integer)
    FROM deltas WHERE operator_id IS NOT NULL GROUP BY 1, 2
"""


def _ride_rollups(tz: str) -> str:
    """Return what a batch of counted rides (`deltas`: +1 each new form, -1 each old one) adds to each rollup."""
    return f"""
    ride_hours AS (
        SELECT h.*, coalesce(w.assign_waits, '{{}}') AS assign_waits
        FROM (SELECT hour, sum(s) AS rides_booked, sum(s * (outcome = 'completed')::integer) AS rides_completed,
                     sum(s * (outcome = 'cancelled')::integer) AS rides_cancelled,
                     sum(s * (outcome = 'cancelled_waiting')::integer) AS rides_cancelled_waiting,
                     sum(s * (outcome = 'no_driver')::integer) AS rides_no_driver,
                     sum(s * (outcome = 'no_show')::integer) AS rides_no_show,
                     sum(s * fare_rials) AS revenue_rials, sum(s * commission_rials) AS commission_rials,
                     sum(s * coalesce(busy_seconds, 0)) AS busy_seconds
              FROM deltas GROUP BY hour) h
        LEFT JOIN (
            SELECT hour, report_counts(array_agg(bucket), array_agg(n), {ASSIGN_BUCKETS}) AS assign_waits
            FROM (SELECT hour, least(assign_seconds / {ASSIGN_BUCKET_SECONDS}, {ASSIGN_BUCKETS - 1}) AS bucket,
                         sum(s) AS n
                  FROM deltas WHERE assign_seconds IS NOT NULL GROUP BY 1, 2) b
            GROUP BY hour) w USING (hour)),
    hourly AS ({_upsert("report_hourly", ("hour",), _HOUR_RIDE_COUNTERS, "SELECT * FROM ride_hours",
                        ("assign_waits",))}),
    slots AS ({_upsert("report_slot_monthly", ("month", "dow", "hour"), _HOUR_RIDE_COUNTERS,
                       _by_slot("ride_hours", _HOUR_RIDE_COUNTERS, ("assign_waits",), tz), ("assign_waits",))}),
    area_days AS (
        SELECT g.grid, d.day, CASE g.grid WHEN 'hex' THEN d.cell ELSE d.zone_id END AS area, sum(d.s) AS rides,
               sum(d.s * (d.outcome = 'completed')::integer) AS completed,
               sum(d.s * (d.outcome IN ('no_driver', 'cancelled_waiting'))::integer) AS unserved,
               sum(d.s * d.fare_rials) AS revenue_rials, sum(d.s * d.commission_rials) AS commission_rials
        FROM deltas d CROSS JOIN (VALUES ('hex'), ('zone')) AS g(grid)
        GROUP BY 1, 2, 3),
    areas AS ({_upsert("report_area_daily", ("grid", "day", "area"), _AREA_COUNTERS, "SELECT * FROM area_days")}),
    area_months AS ({_upsert("report_area_monthly", ("grid", "month", "area"), _AREA_COUNTERS,
                             _regrouped("area_days", ("grid", "date_trunc('month', day)::date", "area"),
                                        _AREA_COUNTERS))}),
    driver_days AS (
        SELECT day, driver_id, sum(s) AS completed, sum(s * fare_rials) AS revenue_rials,
               sum(s * commission_rials) AS commission_rials, sum(s * coalesce(busy_seconds, 0)) AS busy_seconds
        FROM deltas WHERE driver_id IS NOT NULL AND outcome = 'completed' GROUP BY 1, 2),
    drivers AS ({_upsert("report_driver_daily", ("day", "driver_id"), _DRIVER_RIDE_COUNTERS,
                         "SELECT * FROM driver_days")}),
    driver_months AS ({_upsert("report_driver_monthly", ("month", "driver_id"), _DRIVER_RIDE_COUNTERS,
                               _by_month("driver_days", "day", ("driver_id",), _DRIVER_RIDE_COUNTERS))}),
    operators AS ({_upsert("report_operator_daily", ("day", "operator_id"), ("bookings", "bookings_completed"),
                           _OPERATOR_BOOKINGS)})
"""


# A page of rides: each one whose counted form changed leaves its old form's counts and adds its new one's.
# Returns the subscribers whose rides changed, for their customer figures.
FOLD_RIDES = f"""
    WITH counted AS ({_COUNT_RIDES.format(source=_page(RIDE_SHAPE), tz="$2")}),
    old AS (SELECT l.* FROM report_rides l JOIN counted c USING (ride_id)),
    changed AS (
        SELECT c.* FROM counted c LEFT JOIN old o USING (ride_id)
        WHERE o.ride_id IS NULL OR ROW(o.*) IS DISTINCT FROM ROW(c.*)),
    deltas AS (
        SELECT 1 AS s, c.* FROM changed c
        UNION ALL
        SELECT -1, o.* FROM old o WHERE o.ride_id IN (SELECT ride_id FROM changed)),
    ledger AS (
        INSERT INTO report_rides SELECT * FROM changed
        ON CONFLICT (ride_id) DO UPDATE SET {_replacing(*_RIDE_COLUMNS[1:])}),
    {_ride_rollups("$2")}
    SELECT coalesce(array_agg(DISTINCT subscriber_id) FILTER (WHERE subscriber_id IS NOT NULL), '{{}}') FROM deltas
"""
REBUILD_RIDE_LEDGER = f"INSERT INTO report_rides {_COUNT_RIDES.format(source=_all(RIDE_FACTS), tz='$1')}"
REBUILD_RIDE_ROLLUPS = f"""
    WITH deltas AS NOT MATERIALIZED (SELECT 1 AS s, r.* FROM report_rides r),
    {_ride_rollups("$1")}
    SELECT 1
"""

# Customers' figures come from their counted rides; their cohorts and shapes move with them, out and back in.
# Their months are the center's calendar months (report_month, migrations/0015_report_calendar.sql).
# Shapes count rides up to reports/rfm.py's RIDES_CAP, above every frequency threshold.
_SHAPE_KEYS = ("last_day", "first_month", "rides")
_SHAPE_COUNTERS = ("customers", "rides_total", "revenue_rials")
_CUSTOMER_SHAPES = """
    SELECT last_day, first_month, least(rides, {cap}), count(*), sum(rides), sum(revenue_rials)
    FROM customers GROUP BY 1, 2, 3
"""
RETRACT_CUSTOMERS = """
    WITH gone AS (
        DELETE FROM report_customer_months m WHERE m.subscriber_id = ANY($1::bigint[])
        RETURNING m.subscriber_id, m.month),
    was AS (DELETE FROM report_customers c WHERE c.subscriber_id = ANY($1::bigint[]) RETURNING c.*),
    shapes AS (
        UPDATE report_customer_shapes t
        SET customers = t.customers - w.customers, rides_total = t.rides_total - w.rides_total,
            revenue_rials = t.revenue_rials - w.revenue_rials
        FROM (SELECT last_day, first_month, least(rides, $2) AS rides, count(*) AS customers,
                     sum(rides) AS rides_total, sum(revenue_rials) AS revenue_rials
              FROM was GROUP BY 1, 2, 3) w
        WHERE t.last_day = w.last_day AND t.first_month = w.first_month AND t.rides = w.rides)
    UPDATE report_cohorts t SET customers = t.customers - r.n
    FROM (SELECT w.first_month AS cohort, g.month, count(*) AS n FROM gone g JOIN was w USING (subscriber_id)
          GROUP BY 1, 2) r
    WHERE t.cohort = r.cohort AND t.month = r.month
"""
_COUNT_CUSTOMERS = f"""
    WITH months AS (
        INSERT INTO report_customer_months (subscriber_id, month, rides, revenue_rials)
        SELECT subscriber_id, report_month(day, {{calendar}}), count(*), sum(fare_rials)
        FROM report_rides WHERE outcome = 'completed' AND {{which}} GROUP BY 1, 2
        RETURNING subscriber_id, month),
    customers AS (
        INSERT INTO report_customers (subscriber_id, first_month, first_ride_at, last_ride_at, last_day, rides,
                                      revenue_rials)
        SELECT subscriber_id, min(report_month(day, {{calendar}})), min(hour), max(hour), max(day), count(*),
               sum(fare_rials)
        FROM report_rides WHERE outcome = 'completed' AND {{which}} GROUP BY 1
        RETURNING *),
    shapes AS ({_upsert("report_customer_shapes", _SHAPE_KEYS, _SHAPE_COUNTERS, _CUSTOMER_SHAPES)})
    INSERT INTO report_cohorts AS t (cohort, month, customers)
    SELECT c.first_month, m.month, count(*) FROM months m JOIN customers c USING (subscriber_id) GROUP BY 1, 2
    ON CONFLICT (cohort, month) DO UPDATE SET customers = t.customers + EXCLUDED.customers
"""
COUNT_SOME_CUSTOMERS = _COUNT_CUSTOMERS.format(which="subscriber_id = ANY($1::bigint[])", cap="$2", calendar="$3")
COUNT_ALL_CUSTOMERS = _COUNT_CUSTOMERS.format(which="subscriber_id IS NOT NULL", cap="$1", calendar="$2")

# Calls count once, when they end (callcenter/call_store.py reads an ended call once more, then never again).
_CALL_OPERATORS = """
    SELECT day, operator_id, count(*), sum(handle_seconds) FROM counted
    WHERE answered AND operator_id IS NOT NULL GROUP BY 1, 2
"""


def _fold_calls(source: str, tz: str, materialized: str = "") -> str:
    return f"""
    WITH counted AS {materialized} (
        SELECT date_trunc('hour', f.ringing_at, {tz}) AS hour, (f.ringing_at AT TIME ZONE {tz})::date AS day,
               f.operator_id, f.answered_at IS NOT NULL AS answered,
               least(greatest(floor(extract(epoch FROM f.answered_at - f.ringing_at)), 0)::integer,
                     {ANSWER_SECONDS}) AS wait,
               greatest(extract(epoch FROM f.ended_at - f.answered_at), 0)::bigint AS handle_seconds
        FROM {source} WHERE f.ended_at IS NOT NULL),
    call_hours AS (
        SELECT h.*, coalesce(w.answer_waits, '{{}}') AS answer_waits
        FROM (SELECT hour, count(*) FILTER (WHERE answered) AS calls_answered,
                     count(*) FILTER (WHERE NOT answered) AS calls_abandoned,
                     coalesce(sum(handle_seconds), 0) AS handle_seconds
              FROM counted GROUP BY hour) h
        LEFT JOIN (
            SELECT hour, (report_running_counts(report_counts(array_agg(wait), array_agg(n), {ANSWER_SECONDS + 1}))
                         )[1:{ANSWER_SECONDS}] AS answer_waits
            FROM (SELECT hour, wait, count(*) AS n FROM counted WHERE answered GROUP BY 1, 2) b
            GROUP BY hour) w USING (hour)),
    hourly AS ({_upsert("report_hourly", ("hour",), _HOUR_CALL_COUNTERS, "SELECT * FROM call_hours",
                        ("answer_waits",))}),
    slots AS ({_upsert("report_slot_monthly", ("month", "dow", "hour"), _HOUR_CALL_COUNTERS,
                       _by_slot("call_hours", _HOUR_CALL_COUNTERS, ("answer_waits",), tz), ("answer_waits",))})
    {_upsert("report_operator_daily", ("day", "operator_id"), ("calls_handled", "handle_seconds"), _CALL_OPERATORS)}
"""


FOLD_CALLS = _fold_calls(_page(CALL_SHAPE), "$2")
REBUILD_CALLS = _fold_calls(_all(CALL_FACTS), "$1", "NOT MATERIALIZED")

# Offers count once, when they end; a withdrawn offer (the ride went another way) is no mark for or against.
_OFFER_COUNTERS = ("offered", "accepted", "declined", "ignored")


def _fold_offers(source: str, tz: str) -> str:
    return f"""
    WITH offer_days AS (
        SELECT (f.offered_at AT TIME ZONE {tz})::date AS day, f.driver_id, count(*) AS offered,
               count(*) FILTER (WHERE f.status = 'accepted') AS accepted,
               count(*) FILTER (WHERE f.status = 'declined') AS declined,
               count(*) FILTER (WHERE f.status IN ('expired', 'lost')) AS ignored
        FROM {source} WHERE f.status IN ('accepted', 'declined', 'expired', 'lost')
        GROUP BY 1, 2),
    daily AS ({_upsert("report_driver_daily", ("day", "driver_id"), _OFFER_COUNTERS, "SELECT * FROM offer_days")})
    {_upsert("report_driver_monthly", ("month", "driver_id"), _OFFER_COUNTERS,
             _by_month("offer_days", "day", ("driver_id",), _OFFER_COUNTERS))}
"""


FOLD_OFFERS = _fold_offers(_page(OFFER_SHAPE), "$2")
REBUILD_OFFERS = _fold_offers(_all(OFFER_FACTS), "$1")

# Complaints are few: their latest form is kept whole, with the area of their ride, and reported on directly.
_COMPLAINT_COLUMNS = ("complaint_id", "kind", "category", "status", "created_at", "day", "closed_at", "resolved",
                      "first_response_at", "first_response_due", "resolution_due", "ride_id", "subscriber_id",
                      "driver_id", "operator_id", "cell", "zone_id")


def _fold_complaints(source: str, tz: str) -> str:
    return f"""
    INSERT INTO report_complaints AS t ({", ".join(_COMPLAINT_COLUMNS)})
    SELECT f.id, f.kind, f.category, f.status, f.created_at, (f.created_at AT TIME ZONE {tz})::date, f.closed_at,
           f.status = 'resolved', f.first_response_at, f.first_response_due, f.resolution_due, f.ride_id,
           f.subscriber_id, f.driver_id, f.operator_id, coalesce(r.cell, 0), coalesce(r.zone_id, 0)
    FROM {source} LEFT JOIN report_rides r ON r.ride_id = f.ride_id
    ON CONFLICT (complaint_id) DO UPDATE SET {_replacing(*_COMPLAINT_COLUMNS[1:])}
"""


FOLD_COMPLAINTS = _fold_complaints(_page(COMPLAINT_SHAPE), "$2")
REBUILD_COMPLAINTS = _fold_complaints(_all(COMPLAINT_FACTS), "$1")


# A rating that changes (replaced: no longer current) takes its old form out of its driver's day.
def _fold_ratings(source: str, tz: str) -> str:
    return f"""
    WITH counted AS (
        SELECT f.id AS rating_id, (f.created_at AT TIME ZONE {tz})::date AS day, f.driver_id,
               f.value::smallint AS value, f.is_current
        FROM {source}),
    old AS (SELECT l.* FROM report_ratings l JOIN counted USING (rating_id)),
    ledger AS (
        INSERT INTO report_ratings SELECT * FROM counted
        ON CONFLICT (rating_id) DO UPDATE SET {_replacing("day", "driver_id", "value", "is_current")}),
    deltas AS (
        SELECT 1 AS s, day, driver_id, value FROM counted WHERE is_current
        UNION ALL
        SELECT -1, day, driver_id, value FROM old WHERE is_current),
    rating_days AS (SELECT day, driver_id, sum(s * value) AS rating_sum, sum(s) AS ratings FROM deltas GROUP BY 1, 2),
    daily AS ({_upsert("report_driver_daily", ("day", "driver_id"), ("rating_sum", "ratings"),
                       "SELECT * FROM rating_days")})
    {_upsert("report_driver_monthly", ("month", "driver_id"), ("rating_sum", "ratings"),
             _by_month("rating_days", "day", ("driver_id",), ("rating_sum", "ratings")))}
"""


FOLD_RATINGS = _fold_ratings(_page(RATING_SHAPE), "$2")
REBUILD_RATINGS = _fold_ratings(_all(RATING_FACTS), "$1")

TRUNCATE_ALL = """
    TRUNCATE report_hourly, report_slot_monthly, report_area_daily, report_area_monthly, report_driver_daily,
             report_driver_monthly, report_operator_daily, report_customers, report_customer_months,
             report_customer_shapes, report_cohorts, report_complaints, report_ratings, report_rides, report_places,
             report_feeds
"""
CURRENT_SNAPSHOT = "SELECT pg_current_snapshot()::text"
SELECT_CURSOR = "SELECT cursor FROM report_feeds WHERE feed = $1"
SAVE_CURSOR = """
    INSERT INTO report_feeds (feed, cursor, folded_at) VALUES ($1, $2, $3)
    ON CONFLICT (feed) DO UPDATE SET cursor = EXCLUDED.cursor, folded_at = EXCLUDED.folded_at
"""
SELECT_BASIS = "SELECT timezone, hex_size_m, hex_lat0, calendar FROM report_basis"
SAVE_BASIS = """
    INSERT INTO report_basis (timezone, hex_size_m, hex_lat0, calendar, built_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (id) DO UPDATE SET timezone = $1, hex_size_m = $2, hex_lat0 = $3, calendar = $4, built_at = $5
"""
SELECT_ZONE_SIGNATURE = "SELECT signature FROM report_zone_signature"
SAVE_ZONE_SIGNATURE = """
    INSERT INTO report_zone_signature (signature) VALUES ($1) ON CONFLICT (id) DO UPDATE SET signature = $1
"""
FORGET_PLACES = "DELETE FROM report_places"
# A rebuild sorts and groups millions of facts: let it do so in memory rather than in temporary files.
MAKE_ROOM = "SET LOCAL work_mem = '256MB'"
COUNTED = "SELECT (SELECT count(*) FROM report_rides) AS rides, (SELECT count(*) FROM report_customers) AS customers"


async def lock(conn: asyncpg.Connection) -> None:
    """Wait for the rollups, holding them until the transaction ends."""
    await conn.execute(LOCK, LOCK_KEY)


async def current_snapshot(conn: asyncpg.Connection) -> str:
    """Return the snapshot the connection's next reads see, as text."""
    snapshot: str = await conn.fetchval(CURRENT_SNAPSHOT)
    return snapshot


async def cursor(conn: asyncpg.Connection, feed: Feed) -> str | None:
    """Return how far a feed has been read, or None if it never was."""
    found: str | None = await conn.fetchval(SELECT_CURSOR, feed.value)
    return found


async def save_cursor(conn: asyncpg.Connection, feed: Feed, position: str, at: datetime) -> None:
    """Record how far a feed has been read, and when."""
    await conn.execute(SAVE_CURSOR, feed.value, position, at)


async def basis(conn: asyncpg.Connection) -> tuple[str, float, float, str] | None:
    """Return the time zone name, hex size and latitude and calendar the rollups were built with, or None."""
    row = await conn.fetchrow(SELECT_BASIS)
    return None if row is None else (row["timezone"], row["hex_size_m"], row["hex_lat0"], row["calendar"])


async def save_basis(conn: asyncpg.Connection, built: RollupBasis, at: datetime) -> None:
    """Record what the rollups were built with."""
    await conn.execute(SAVE_BASIS, built.timezone.key, built.hex_size_m, built.hex_lat0, built.calendar.value, at)


async def zone_signature(conn: asyncpg.Connection) -> str | None:
    """Return the signature of the zones report_places was filled with."""
    found: str | None = await conn.fetchval(SELECT_ZONE_SIGNATURE)
    return found


async def change_zones(conn: asyncpg.Connection, signature: str) -> None:
    """Forget the places looked up in other zones; new pickups are placed in these."""
    await conn.execute(FORGET_PLACES)
    await conn.execute(SAVE_ZONE_SIGNATURE, signature)


async def new_points(conn: asyncpg.Connection, facts: str | None) -> list[tuple[int, int]]:
    """Return the rounded pickup points not yet placed, of a page of ride facts (None: of every ride)."""
    rows = await (conn.fetch(NEW_POINTS_OF_ALL) if facts is None else conn.fetch(NEW_POINTS_OF_PAGE, facts))
    return [(r["lat_e3"], r["lng_e3"]) for r in rows]


async def add_places(conn: asyncpg.Connection, places: Sequence[tuple[int, int, int, int]]) -> None:
    """Store (lat_e3, lng_e3, cell, zone id) places."""
    if places:
        await conn.execute(INSERT_PLACES, *(list(column) for column in zip(*places, strict=True)))


async def fold_rides(conn: asyncpg.Connection, facts: str, timezone: str) -> list[int]:
    """Fold a page of ride facts in; return the subscribers whose counted rides changed."""
    changed: list[int] = await conn.fetchval(FOLD_RIDES, facts, timezone)
    return changed


async def recount_customers(conn: asyncpg.Connection, subscriber_ids: Sequence[int], calendar: Calendar) -> None:
    """Recompute these customers' figures, months, shapes and cohort places from their counted rides."""
    if subscriber_ids:
        await conn.execute(RETRACT_CUSTOMERS, list(subscriber_ids), RIDES_CAP)
        await conn.execute(COUNT_SOME_CUSTOMERS, list(subscriber_ids), RIDES_CAP, calendar.value)


async def fold_calls(conn: asyncpg.Connection, facts: str, timezone: str) -> None:
    """Fold a page of call facts in."""
    await conn.execute(FOLD_CALLS, facts, timezone)


async def fold_offers(conn: asyncpg.Connection, facts: str, timezone: str) -> None:
    """Fold a page of offer facts in."""
    await conn.execute(FOLD_OFFERS, facts, timezone)


async def fold_complaints(conn: asyncpg.Connection, facts: str, timezone: str) -> None:
    """Fold a page of complaint facts in."""
    await conn.execute(FOLD_COMPLAINTS, facts, timezone)


async def fold_ratings(conn: asyncpg.Connection, facts: str, timezone: str) -> None:
    """Fold a page of rating facts in."""
    await conn.execute(FOLD_RATINGS, facts, timezone)


async def rebuild_from_domains(conn: asyncpg.Connection, timezone: str, calendar: Calendar) -> None:
    """Recount everything from every fact of every domain (the rollups must be empty, the places filled)."""
    await conn.execute(REBUILD_RIDE_LEDGER, timezone)
    await conn.execute(REBUILD_RIDE_ROLLUPS, timezone)
    await conn.execute(COUNT_ALL_CUSTOMERS, RIDES_CAP, calendar.value)
    await conn.execute(REBUILD_CALLS, timezone)
    await conn.execute(REBUILD_OFFERS, timezone)
    await conn.execute(REBUILD_COMPLAINTS, timezone)
    await conn.execute(REBUILD_RATINGS, timezone)


async def empty(conn: asyncpg.Connection) -> None:
    """Empty every rollup, ledger and cursor."""
    await conn.execute(TRUNCATE_ALL)


async def make_room(conn: asyncpg.Connection) -> None:
    """Give the transaction's sorts and hashes more memory (a rebuild's)."""
    await conn.execute(MAKE_ROOM)


async def counted(conn: asyncpg.Connection) -> tuple[int, int]:
    """Return how many rides and customers the rollups count."""
    row = await conn.fetchrow(COUNTED)
    return row["rides"], row["customers"]
