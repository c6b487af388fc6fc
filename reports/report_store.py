"""SQL that reads the rollups for reports: never the domains' own tables, so a year costs thousands of rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from reports.histograms import RESOLVE_BUCKET_HOURS, RESOLVE_BUCKETS, add_counts
from reports.model import Period
from reports.periods import whole_months


class CountedBy(StrEnum):
    """The link complaints and praise are counted by."""

    CATEGORY = "category"
    DRIVER = "driver_id"
    OPERATOR = "operator_id"
    ZONE = "zone_id"
    CELL = "cell"
    DAY = "day"


# Periods are read as whole months from the monthly rollups and the days (or hours) around them from the daily
# (or hourly) ones: $1 and $2 bound the period, $3 and $4 its whole months (reports/periods.py whole_months).
def _months_and_days(columns: str, monthly: str, daily: str) -> str:
    return f"""
        SELECT {columns} FROM {monthly} WHERE month >= $3 AND month < $4
        UNION ALL
        SELECT {columns} FROM {daily} WHERE (day >= $1 AND day < $3) OR (day >= $4 AND day <= $2)
    """


_SLOT_COLUMNS = """{dow} AS dow, {hour} AS hour, calls_answered, calls_abandoned, handle_seconds,
    coalesce(answer_waits[$8], 0) AS answered_within, rides_booked, rides_completed,
    rides_cancelled + rides_cancelled_waiting AS rides_cancelled, rides_no_driver, assign_waits, busy_seconds"""
_WAIT_COLUMNS = "{dow} AS dow, {hour} AS hour, assign_waits"


def _slots(columns: str) -> str:
    """Return a stretch of time by weekday (PostgreSQL's dow: Sunday 0) and local hour.

    [$1, $2) as instants; its whole months $3 to $4 (as dates; $6 to $7 as instants) come from report_slot_monthly,
    the hours around them from report_hourly. The zone is $5.
    """
    return f"""
        SELECT {columns.format(dow="dow", hour="hour")} FROM report_slot_monthly WHERE month >= $3 AND month < $4
        UNION ALL
        SELECT {columns.format(dow="extract(dow FROM hour AT TIME ZONE $5)::smallint",
                               hour="extract(hour FROM hour AT TIME ZONE $5)::smallint")}
        FROM report_hourly WHERE (hour >= $1 AND hour < $6) OR (hour >= $7 AND hour < $2)
    """


# $8: the service level's seconds.
SELECT_SLOTS = f"""
    SELECT dow, hour, sum(calls_answered)::bigint AS calls_answered, sum(calls_abandoned)::bigint AS calls_abandoned,
           sum(handle_seconds)::bigint AS handle_seconds, sum(answered_within)::bigint AS answered_within,
           sum(rides_booked)::bigint AS rides_booked, sum(rides_completed)::bigint AS rides_completed,
           sum(rides_cancelled)::bigint AS rides_cancelled, sum(rides_no_driver)::bigint AS rides_no_driver,
           sum(busy_seconds)::bigint AS busy_seconds
    FROM ({_slots(_SLOT_COLUMNS)}) slots
    GROUP BY dow, hour
"""
# The assignment waits' histograms of each weekday-hour, to add up (adding arrays in SQL costs far more).
SELECT_ASSIGN_WAITS = f"SELECT dow, hour, assign_waits FROM ({_slots(_WAIT_COLUMNS)}) slots"
SELECT_FIRST_HOUR = "SELECT min(hour) FROM report_hourly WHERE calls_answered + calls_abandoned + rides_booked > 0"
SELECT_COMPLETED_BY_DAY = """
    SELECT (hour AT TIME ZONE $3)::date AS day, sum(rides_completed)::bigint AS completed
    FROM report_hourly WHERE hour >= $1 AND hour < $2 GROUP BY 1
"""
# Complaints and praise opened from $1 to $2, in one pass: by a link (cases without it left out), by day, and
# resolved complaints by the time they took ($3 hours a bucket, the last $4 open-ended).
_SELECT_COUNTED = """
    SELECT GROUPING(k, d, b) AS grouping, k, d, b, count(*) FILTER (WHERE kind = 'complaint') AS complaints,
           count(*) FILTER (WHERE kind = 'praise') AS praise
    FROM (SELECT {key} AS k, day AS d, kind,
                 CASE WHEN resolved AND kind = 'complaint'
                      THEN least(floor(date_part('epoch', closed_at - created_at) / 3600 / $3), $4)::integer END AS b
          FROM report_complaints WHERE day BETWEEN $1 AND $2) c
    GROUP BY GROUPING SETS ((k), (d), (b))
"""
SELECT_COUNTED: Final = {by: _SELECT_COUNTED.format(key=by.value) for by in CountedBy}
_BY_KEY, _BY_DAY, _BY_BUCKET = 0b011, 0b101, 0b110  # GROUPING(k, d, b) of each set: 1 for a column left out
SELECT_OPEN_CASES = """
    SELECT first_response_at, first_response_due, resolution_due FROM report_complaints
    WHERE kind = 'complaint' AND status = ANY($1::text[])
"""
_DRIVER_COLUMNS = "driver_id, offered, accepted, declined, ignored, completed, revenue_rials, commission_rials, " \
                  "rating_sum, ratings"
SELECT_DRIVERS = f"""
    SELECT driver_id, sum(offered)::bigint AS offered, sum(accepted)::bigint AS accepted,
           sum(declined)::bigint AS declined, sum(ignored)::bigint AS ignored, sum(completed)::bigint AS completed,
           sum(revenue_rials)::bigint AS revenue_rials, sum(commission_rials)::bigint AS commission_rials,
           sum(rating_sum)::bigint AS rating_sum, sum(ratings)::bigint AS ratings
    FROM ({_months_and_days(_DRIVER_COLUMNS, "report_driver_monthly", "report_driver_daily")}) d
    GROUP BY driver_id
"""
SELECT_OPERATORS = """
    SELECT operator_id, sum(calls_handled)::bigint AS calls_handled, sum(handle_seconds)::bigint AS handle_seconds,
           sum(bookings)::bigint AS bookings, sum(bookings_completed)::bigint AS bookings_completed
    FROM report_operator_daily WHERE day BETWEEN $1 AND $2 GROUP BY operator_id
"""
_AREA_COLUMNS = "grid, area, rides, completed, unserved, revenue_rials, commission_rials"
SELECT_AREAS = f"""
    SELECT area, sum(rides)::bigint AS rides, sum(completed)::bigint AS completed, sum(unserved)::bigint AS unserved,
           sum(revenue_rials)::bigint AS revenue_rials, sum(commission_rials)::bigint AS commission_rials
    FROM ({_months_and_days(_AREA_COLUMNS, "report_area_monthly", "report_area_daily")}) a
    WHERE grid = $5
    GROUP BY area
"""
SELECT_COHORTS = "SELECT cohort, month, customers FROM report_cohorts WHERE cohort BETWEEN $1 AND $2 AND month <= $2"
# Customers as of day $1 by the days since their last ride (capped at $2) and their rides (capped at $3), from
# their shapes: a few thousand rows however many customers. `monthly` adds up their revenue per month since their
# first ride's month.
SELECT_RFM_GROUPS = """
    SELECT least(greatest($1::date - last_day, 0), $2) AS days, least(rides, $3) AS frequency,
           sum(customers)::bigint AS customers, sum(rides_total)::bigint AS rides,
           sum(revenue_rials)::bigint AS revenue_rials,
           sum(revenue_rials / greatest(($1::date - first_month) / 30.436875, 1))::float8 AS monthly
    FROM report_customer_shapes WHERE first_month <= $1 AND customers > 0
    GROUP BY 1, 2
"""
_SELECT_LAST_RODE = """
    SELECT subscriber_id, rides, revenue_rials, last_ride_at FROM report_customers
    WHERE last_ride_at > $1 AND last_ride_at <= $2 AND rides >= $3
    ORDER BY {order} LIMIT $4
"""
SELECT_MOST_VALUABLE = _SELECT_LAST_RODE.format(order="revenue_rials DESC, subscriber_id")
SELECT_MOST_FREQUENT = _SELECT_LAST_RODE.format(order="rides DESC, subscriber_id")
# Each customer's newest letdown, found by walking their rides back from the newest (report_rides_subscriber_idx)
# until one: a regular's few hundred rides, not a scan of the ledger's millions, which the planner would pick
# for a plain `subscriber_id = ANY(...)` once the listed customers are heavy riders (2.4 s over a year's 20M).
SELECT_LAST_LETDOWNS = """
    SELECT s.id AS subscriber_id, r.outcome, r.hour FROM unnest($1::bigint[]) s(id)
    CROSS JOIN LATERAL (
        SELECT outcome, hour FROM report_rides
        WHERE subscriber_id = s.id AND outcome IN ('no_driver', 'cancelled', 'cancelled_waiting')
        ORDER BY hour DESC LIMIT 1) r
"""
SELECT_LAST_COMPLAINTS = """
    SELECT DISTINCT ON (subscriber_id) subscriber_id, category, created_at FROM report_complaints
    WHERE subscriber_id = ANY($1::bigint[]) AND kind = 'complaint'
    ORDER BY subscriber_id, created_at DESC
"""
SELECT_TOTALS_OF = """
    SELECT coalesce(sum(rides), 0)::bigint AS rides, coalesce(sum(revenue_rials), 0)::bigint AS revenue_rials
    FROM report_customers WHERE subscriber_id = ANY($1::bigint[]) AND first_month <= $2
"""
SELECT_FRESHNESS = "SELECT min(folded_at) FROM report_feeds"


def _bounds(period: Period) -> tuple[date, date, date, date]:
    """Return the period's first and last days and its whole months' [first, last) starts."""
    first, last = whole_months(period.since, period.until, period.timezone)
    return period.start, period.end, first.astimezone(period.timezone).date(), last.astimezone(period.timezone).date()


async def slots(conn: asyncpg.Connection, since: datetime, until: datetime, timezone: ZoneInfo, within_seconds: int
                ) -> list[asyncpg.Record]:
    """Return the totals of [since, until) (whole local hours) by weekday (`dow`, Sunday 0) and local hour.

    `answered_within` counts the calls answered in under `within_seconds` (at most ANSWER_SECONDS).
    """
    return list(await conn.fetch(SELECT_SLOTS, *_slot_bounds(since, until, timezone), within_seconds))


async def assign_waits(conn: asyncpg.Connection, since: datetime, until: datetime, timezone: ZoneInfo
                       ) -> dict[tuple[int, int], list[int]]:
    """Return the histogram of waits for a driver of each weekday (`dow`, Sunday 0) and local hour."""
    parts: dict[tuple[int, int], list[list[int]]] = {}
    for r in await conn.fetch(SELECT_ASSIGN_WAITS, *_slot_bounds(since, until, timezone)):
        parts.setdefault((r["dow"], r["hour"]), []).append(r["assign_waits"])
    return {slot: add_counts(histograms) for slot, histograms in parts.items()}


def _slot_bounds(since: datetime, until: datetime, timezone: ZoneInfo) -> tuple[object, ...]:
    first, last = whole_months(since, until, timezone)
    return (since, until, first.astimezone(timezone).date(), last.astimezone(timezone).date(), timezone.key,
            first, last)


async def first_hour(conn: asyncpg.Connection) -> datetime | None:
    """Return the first hour anything was recorded in."""
    found: datetime | None = await conn.fetchval(SELECT_FIRST_HOUR)
    return found


async def completed_by_day(conn: asyncpg.Connection, since: datetime, until: datetime,
                           timezone: str) -> dict[date, int]:
    """Return the rides completed on each local day of [since, until)."""
    return {r["day"]: r["completed"] for r in await conn.fetch(SELECT_COMPLETED_BY_DAY, since, until, timezone)}


@dataclass(frozen=True)
class Counted:
    """Complaints and praise over a period: (complaints, praise) by a link and by day; resolution times."""

    by_key: dict[object, tuple[int, int]]
    by_day: dict[date, tuple[int, int]]
    resolve_hours: list[int]  # histogram, RESOLVE_BUCKET_HOURS a bucket


async def counted(conn: asyncpg.Connection, by: CountedBy, first: date, last: date) -> Counted:
    """Count the complaints and praise opened from `first` to `last`."""
    found = Counted({}, {}, [0] * RESOLVE_BUCKETS)
    for r in await conn.fetch(SELECT_COUNTED[by], first, last, RESOLVE_BUCKET_HOURS, RESOLVE_BUCKETS - 1):
        if r["grouping"] == _BY_KEY and r["k"] is not None:
            found.by_key[r["k"]] = (r["complaints"], r["praise"])
        elif r["grouping"] == _BY_DAY:
            found.by_day[r["d"]] = (r["complaints"], r["praise"])
        elif r["grouping"] == _BY_BUCKET and r["b"] is not None:
            found.resolve_hours[r["b"]] = r["complaints"]
    return found


async def open_cases(conn: asyncpg.Connection, statuses: Sequence[str]) -> list[asyncpg.Record]:
    """Return the SLA clocks of every complaint still open."""
    return list(await conn.fetch(SELECT_OPEN_CASES, list(statuses)))


async def drivers(conn: asyncpg.Connection, period: Period) -> list[asyncpg.Record]:
    """Return each driver's totals over the period."""
    return list(await conn.fetch(SELECT_DRIVERS, *_bounds(period)))


async def operators(conn: asyncpg.Connection, first: date, last: date) -> list[asyncpg.Record]:
    """Return each operator's totals from `first` to `last`."""
    return list(await conn.fetch(SELECT_OPERATORS, first, last))


async def areas(conn: asyncpg.Connection, grid: str, period: Period) -> list[asyncpg.Record]:
    """Return each area's totals over the period in a grid ('hex' or 'zone')."""
    return list(await conn.fetch(SELECT_AREAS, *_bounds(period), grid))


async def cohorts(conn: asyncpg.Connection, first: date, last: date) -> list[tuple[date, date, int]]:
    """Return (cohort, month, customers) for the cohorts from month `first` to `last`, up to `last`."""
    return [(r["cohort"], r["month"], r["customers"]) for r in await conn.fetch(SELECT_COHORTS, first, last)]


async def rfm_groups(conn: asyncpg.Connection, as_of: date, most_days: int, most_rides: int
                     ) -> list[asyncpg.Record]:
    """Return customers grouped by days since their last ride and their rides, both capped."""
    return list(await conn.fetch(SELECT_RFM_GROUPS, as_of, most_days, most_rides))


async def last_rode(conn: asyncpg.Connection, after: datetime, until: datetime, least_rides: int, limit: int, *,
                    by_revenue: bool) -> list[asyncpg.Record]:
    """Return customers with `least_rides` rides whose last ride was in (after, until], the biggest first."""
    sql = SELECT_MOST_VALUABLE if by_revenue else SELECT_MOST_FREQUENT
    return list(await conn.fetch(sql, after, until, least_rides, limit))


async def last_letdowns(conn: asyncpg.Connection, subscriber_ids: Sequence[int]) -> list[asyncpg.Record]:
    """Return each customer's last ride that nobody took or that was cancelled."""
    return list(await conn.fetch(SELECT_LAST_LETDOWNS, list(subscriber_ids)))


async def last_complaints(conn: asyncpg.Connection, subscriber_ids: Sequence[int]) -> list[asyncpg.Record]:
    """Return each customer's last complaint."""
    return list(await conn.fetch(SELECT_LAST_COMPLAINTS, list(subscriber_ids)))


async def totals_of(conn: asyncpg.Connection, subscriber_ids: Sequence[int], as_of: date) -> tuple[int, int]:
    """Return the completed rides and revenue of these customers, those who first rode by `as_of`'s month."""
    row = await conn.fetchrow(SELECT_TOTALS_OF, list(subscriber_ids), as_of)
    return row["rides"], row["revenue_rials"]


async def freshness(conn: asyncpg.Connection) -> datetime | None:
    """Return when the stalest feed last caught up, or None before the first fold."""
    found: datetime | None = await conn.fetchval(SELECT_FRESHNESS)
    return found
