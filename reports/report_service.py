"""Use cases of reports: each reads the rollups in one snapshot, and names from the domains that own them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

import asyncpg

from callcenter import service as callcenter
from dispatch import service as dispatch
from dispatch import zone_service
from dispatch.model import ZoneId
from feedback import service as feedback
from feedback import sla
from feedback.complaints import OPEN_STATUSES
from reports import churn, forecast, peaks, rankings, report_store, rfm
from reports.calendar import Calendar, month_start
from reports.cohorts import build_cohorts
from reports.forecast import ForecastHour
from reports.hexgrid import NO_CELL, HexGrid, unpack
from reports.histograms import RESOLVE_BUCKET_HOURS, quantile
from reports.model import (
    AreaRow,
    AreasReport,
    AtRiskCustomer,
    ChurnedRegular,
    ComplaintRow,
    ComplaintsBy,
    ComplaintsReport,
    CustomersReport,
    DriverFigures,
    DriverRow,
    DriversReport,
    Grid,
    OperatorRow,
    PeakHours,
    Period,
    ResolveHours,
    RollupBasis,
    Segment,
    SegmentRow,
    ServiceLevel,
    SlotTotals,
    TierRow,
    TrendWeek,
)
from reports.periods import week_start, weekday_counts, weekday_of_dow
from reports.report_store import CountedBy
from subscribers import service as subscribers
from subscribers.model import LoyaltyTier, SubscriberId

LISTED_CUSTOMERS: Final = 50
CHURN_LOOKBACK_DAYS: Final = 365  # churned regulars: those whose last ride is within a year, not long gone
OUTSIDE_ZONES: Final = "Outside the zones"
NO_LOCATION: Final = "No location"
_COMPLAINTS_COUNTED_BY: Final = {
    ComplaintsBy.CATEGORY: CountedBy.CATEGORY, ComplaintsBy.DRIVER: CountedBy.DRIVER,
    ComplaintsBy.OPERATOR: CountedBy.OPERATOR, ComplaintsBy.AREA: CountedBy.ZONE, ComplaintsBy.PERIOD: CountedBy.DAY,
}


async def freshness(pool: asyncpg.Pool) -> datetime | None:
    """Return how fresh the rollups are: when the stalest feed last caught up."""
    async with pool.acquire() as conn:
        return await report_store.freshness(conn)


async def peak_hours(pool: asyncpg.Pool, period: Period, level: ServiceLevel) -> PeakHours:
    """Report calls and rides by weekday and hour over the period, with service level and staffing."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        rows = await report_store.slots(conn, period.since, period.until, period.timezone, level.seconds)
        waits = await report_store.assign_waits(conn, period.since, period.until, period.timezone)
    totals = [_slot_totals(r, waits.get((r["dow"], r["hour"]), ())) for r in rows]
    return peaks.peak_hours(totals, weekday_counts(period), level)


async def complaints(pool: asyncpg.Pool, period: Period, by: ComplaintsBy, now: datetime) -> ComplaintsReport:
    """Report complaints and praise by one of their links, their rate per 1,000 completed rides, and the trend."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        counts = await report_store.counted(conn, _COMPLAINTS_COUNTED_BY[by], period.start, period.end)
        completed_daily = await report_store.completed_by_day(conn, period.since, period.until, period.timezone.key)
        completed = await _completed_by(conn, by, period, completed_daily)
        open_cases = await report_store.open_cases(conn, sorted(s.value for s in OPEN_STATUSES))
    trend = _weekly(period, counts.by_day, completed_daily)
    if by is ComplaintsBy.PERIOD:
        rows = [ComplaintRow(key=w.week_start.isoformat(), label=w.week_start.isoformat(), complaints=w.complaints,
                             praise=sum(counts.by_day.get(w.week_start + timedelta(days=d), (0, 0))[1]
                                        for d in range(7)),
                             completed_rides=w.completed_rides, rate_per_1000=w.rate_per_1000) for w in trend]
    else:
        labels = await _labels(pool, by)
        rows = sorted((ComplaintRow(key=str(key), label=labels.get(key, str(key)), complaints=n, praise=p,
                                    completed_rides=completed(key), rate_per_1000=_per_1000(n, completed(key)))
                       for key, (n, p) in counts.by_key.items()), key=lambda r: (-r.complaints, -r.praise, r.key))
    overdue = sum(1 for case in open_cases if _is_overdue(case, now))
    resolve = counts.resolve_hours
    return ComplaintsReport(
        rows=rows, trend=trend, open=len(open_cases), overdue=overdue,
        resolve_hours=ResolveHours(median=_rounded(quantile(resolve, RESOLVE_BUCKET_HOURS, 0.5)),
                                   p90=_rounded(quantile(resolve, RESOLVE_BUCKET_HOURS, 0.9)), count=sum(resolve)))


async def _completed_by(conn: asyncpg.Connection, by: ComplaintsBy, period: Period,
                        completed_daily: Mapping[date, int]) -> Callable[[object], int]:
    """Return the completed rides each key of the complaints report is measured against."""
    if by is ComplaintsBy.DRIVER:
        found = {r["driver_id"]: r["completed"] for r in await report_store.drivers(conn, period)}
    elif by is ComplaintsBy.OPERATOR:
        found = {r["operator_id"]: r["bookings_completed"]
                 for r in await report_store.operators(conn, period.start, period.end)}
    elif by is ComplaintsBy.AREA:
        found = {r["area"]: r["completed"] for r in await report_store.areas(conn, "zone", period)}
    else:
        total = sum(completed_daily.values())  # A category, or a week's share of it, is measured against all rides.
        return lambda key: total
    return lambda key: found.get(key, 0)


def _weekly(period: Period, daily: Mapping[date, tuple[int, int]], completed_daily: Mapping[date, int]
            ) -> list[TrendWeek]:
    weeks: list[TrendWeek] = []
    start = week_start(period.start)
    while start <= period.end:
        days = [start + timedelta(days=d) for d in range(7)]
        complaints_count = sum(daily.get(d, (0, 0))[0] for d in days)
        completed = sum(completed_daily.get(d, 0) for d in days)
        weeks.append(TrendWeek(week_start=start, complaints=complaints_count, completed_rides=completed,
                               rate_per_1000=_per_1000(complaints_count, completed)))
        start += timedelta(days=7)
    return weeks


def _is_overdue(case: asyncpg.Record, now: datetime) -> bool:
    clocks = (sla.clock(case["first_response_due"], case["first_response_at"], now),
              sla.clock(case["resolution_due"], None, now))
    return any(c is not None and c.state is sla.ClockState.OVERDUE for c in clocks)


async def _labels(pool: asyncpg.Pool, by: ComplaintsBy) -> dict[object, str]:
    if by is ComplaintsBy.CATEGORY:
        return {c.code: c.name_en for c in await feedback.categories(pool, retired=True)}
    if by is ComplaintsBy.DRIVER:
        return dict(await _driver_names(pool))
    if by is ComplaintsBy.OPERATOR:
        return dict(await _operator_names(pool))
    return {zone.id: zone.name for zone in await zone_service.list_zones(pool, include_inactive=True)} | {
        0: OUTSIDE_ZONES}


async def drivers(pool: asyncpg.Pool, period: Period) -> DriversReport:
    """Report each driver's offers, rides, revenue, rating and complaints, and the best and worst of them."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        rows = await report_store.drivers(conn, period)
        counts = (await report_store.counted(conn, CountedBy.DRIVER, period.start, period.end)).by_key
    names = await _driver_names(pool)
    figures = [DriverFigures(driver_id=r["driver_id"], completed=r["completed"], offered=r["offered"],
                             accepted=r["accepted"], rating_sum=r["rating_sum"], ratings=r["ratings"],
                             complaints=counts.get(r["driver_id"], (0, 0))[0]) for r in rows]
    # A driver's day can add up to nothing once a ride counted there changed (reassigned, say): leave them out.
    figures = [f for f in figures if f.offered or f.completed or f.ratings or f.complaints]
    by_id = {r["driver_id"]: r for r in rows}
    report_rows = [DriverRow(
        driver_id=f.driver_id, name=names.get(f.driver_id, f"#{f.driver_id}"), offered=f.offered, accepted=f.accepted,
        declined=by_id[f.driver_id]["declined"], ignored=by_id[f.driver_id]["ignored"], completed=f.completed,
        acceptance_rate=round(f.accepted / f.offered, 4) if f.offered else None,
        revenue_rials=by_id[f.driver_id]["revenue_rials"], commission_rials=by_id[f.driver_id]["commission_rials"],
        avg_rating=round(f.rating_sum / f.ratings, 2) if f.ratings else None, ratings=f.ratings,
        complaints=f.complaints, complaint_rate_per_1000=_per_1000(f.complaints, f.completed)) for f in figures]
    report_rows.sort(key=lambda r: (-r.completed, r.driver_id))
    best, worst = rankings.best_and_worst(figures)
    return DriversReport(rows=report_rows, best=best, worst=worst)


async def operators(pool: asyncpg.Pool, period: Period) -> list[OperatorRow]:
    """Report each operator's calls, handling time, bookings per call and complaints about them."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        rows = await report_store.operators(conn, period.start, period.end)
        counts = (await report_store.counted(conn, CountedBy.OPERATOR, period.start, period.end)).by_key
    names = await _operator_names(pool)
    found = {r["operator_id"]: r for r in rows}
    report_rows = []
    for operator_id in set(found) | set(counts):
        row = found.get(operator_id)
        calls = row["calls_handled"] if row else 0
        bookings = row["bookings"] if row else 0
        if not (calls or bookings or operator_id in counts):
            continue
        report_rows.append(OperatorRow(
            operator_id=int(str(operator_id)), name=names.get(operator_id, f"#{operator_id}"), calls_handled=calls,
            avg_handle_s=round(row["handle_seconds"] / calls, 1) if row and calls else None, bookings=bookings,
            bookings_per_call=round(bookings / calls, 3) if calls else None,
            complaints=counts.get(operator_id, (0, 0))[0]))
    return sorted(report_rows, key=lambda r: (-r.calls_handled, r.operator_id))


async def areas(pool: asyncpg.Pool, period: Period, grid: Grid, basis: RollupBasis) -> AreasReport:
    """Report revenue, rides, unserved demand and complaints per zone or hex cell."""
    stored, counted_by = ("zone", CountedBy.ZONE) if grid is Grid.ZONES else ("hex", CountedBy.CELL)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        rows = {r["area"]: r for r in await report_store.areas(conn, stored, period)}
        counts = (await report_store.counted(conn, counted_by, period.start, period.end)).by_key
    describe = await _zone_describer(pool) if grid is Grid.ZONES else _hex_describer(basis)
    report_rows = []
    for area in sorted(set(rows) | {int(str(key)) for key in counts}):
        row = rows.get(area)
        if (row is None or row["rides"] == 0) and area not in counts:
            continue  # Its rides moved elsewhere (a changed route): nothing is left here.
        label, center, polygon = describe(area)
        report_rows.append(AreaRow(
            area=area, label=label, lat=None if center is None else round(center[0], 5),
            lng=None if center is None else round(center[1], 5), polygon=polygon,
            revenue_rials=row["revenue_rials"] if row else 0, rides=row["rides"] if row else 0,
            completed=row["completed"] if row else 0, unserved=row["unserved"] if row else 0,
            complaints=counts.get(area, (0, 0))[0]))
    report_rows.sort(key=lambda r: (-r.revenue_rials, -r.rides, r.area))
    return AreasReport(grid=grid, rows=report_rows)


_Description = tuple[str, tuple[float, float] | None, list[tuple[float, float]] | None]


async def _zone_describer(pool: asyncpg.Pool) -> Callable[[int], _Description]:
    """Name, centre and border of a zone by id; 0 is outside every zone."""
    zones = {z.id: z for z in await zone_service.list_zones(pool, include_inactive=True)}

    def describe(area: int) -> _Description:
        zone = zones.get(ZoneId(area))
        if zone is None:
            return OUTSIDE_ZONES, None, None
        lats, lngs = [v[0] for v in zone.polygon], [v[1] for v in zone.polygon]
        return zone.name, (sum(lats) / len(lats), sum(lngs) / len(lngs)), list(zone.polygon)

    return describe


def _hex_describer(basis: RollupBasis) -> Callable[[int], _Description]:
    """Name, centre and corners of a hex cell by id ("q,r"); 0 is a ride with no location."""
    grid = HexGrid(basis.hex_size_m, basis.hex_lat0)

    def describe(area: int) -> _Description:
        if area == NO_CELL:
            return NO_LOCATION, None, None
        q, r = unpack(area)
        return f"{q},{r}", grid.center(area), [(round(lat, 5), round(lng, 5)) for lat, lng in grid.corners(area)]

    return describe


async def customers(pool: asyncpg.Pool, period: Period, calendar: Calendar) -> CustomersReport:
    """Report cohorts (in the center's calendar months), churned regulars, RFM segments, at-risk customers, tiers."""
    as_of = period.until
    members, subscribed = await subscribers.loyalty_tiers(pool)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        cohort_counts = await report_store.cohorts(conn, month_start(period.start, calendar),
                                                   month_start(period.end, calendar))
        groups = await report_store.rfm_groups(conn, period.end, rfm.RECENCY_DAYS[-1] + 1, rfm.FREQUENCY_RIDES[-1])
        at_risk = await _last_rode(conn, as_of, Segment.AT_RISK, by_revenue=True)
        churned = await _last_rode(conn, as_of, Segment.LOST, by_revenue=False)
        churned_ids = [r["subscriber_id"] for r in churned]
        letdowns = {r["subscriber_id"]: (r["outcome"], r["hour"])
                    for r in await report_store.last_letdowns(conn, churned_ids)}
        grievances = {r["subscriber_id"]: (r["category"], r["created_at"])
                      for r in await report_store.last_complaints(conn, churned_ids)}
        tier_totals = {tier: await report_store.totals_of(conn, ids, period.end) for tier, ids in members.items()}
    names = await subscribers.names_of(pool, churned_ids + [r["subscriber_id"] for r in at_risk])
    segments = _segments(groups)
    everyone = (sum(r["rides"] for r in groups), sum(r["revenue_rials"] for r in groups))
    return CustomersReport(
        cohorts=build_cohorts(cohort_counts, period.start, period.end, calendar),
        churned_regulars=[ChurnedRegular(
            subscriber_id=r["subscriber_id"], name=names.get(r["subscriber_id"], f"#{r['subscriber_id']}"),
            rides=r["rides"], last_ride_at=r["last_ride_at"],
            last_event=churn.last_event(r["last_ride_at"], letdowns.get(r["subscriber_id"]),
                                        grievances.get(r["subscriber_id"]))) for r in churned],
        rfm=segments,
        at_risk=[AtRiskCustomer(
            subscriber_id=r["subscriber_id"], name=names.get(r["subscriber_id"], f"#{r['subscriber_id']}"),
            recency_days=(as_of - r["last_ride_at"]).days, rides=r["rides"], revenue_rials=r["revenue_rials"])
            for r in at_risk],
        loyalty_tiers=_tiers(members, subscribed, tier_totals, everyone))


async def _last_rode(conn: asyncpg.Connection, as_of: datetime, segment: Segment, *,
                     by_revenue: bool) -> list[asyncpg.Record]:
    """Return regulars whose recency puts them in `segment`'s band (within a year), the biggest first."""
    recency = next(rule[1] for rule in rfm.SEGMENT_RULES if rule[0] is segment)
    more_than, at_most = rfm.recency_days(recency)
    # `days` since the last ride is whole days: more than N days means at least N + 1 full days ago.
    after = as_of - timedelta(days=(at_most if at_most is not None else CHURN_LOOKBACK_DAYS) + 1)
    until = as_of - timedelta(days=more_than + 1)
    return await report_store.last_rode(conn, after, until, rfm.least_rides(rfm.REGULAR_FREQUENCY), LISTED_CUSTOMERS,
                                        by_revenue=by_revenue)


def _segments(groups: Sequence[asyncpg.Record]) -> list[SegmentRow]:
    sums = {segment: [0, 0, 0.0] for segment in Segment}
    for group in groups:
        segment = rfm.segment_of(rfm.recency_score(group["days"]), rfm.frequency_score(group["frequency"]))
        sums[segment][0] += group["customers"]
        sums[segment][1] += group["revenue_rials"]
        sums[segment][2] += group["monthly"]
    return [SegmentRow(segment=segment, customers=int(customers), revenue_rials=int(revenue),
                       value_rials=rfm.yearly_value(monthly, segment))
            for segment, (customers, revenue, monthly) in sums.items()]


def _tiers(members: Mapping[LoyaltyTier, list[SubscriberId]], subscribed: int,
           totals: Mapping[LoyaltyTier, tuple[int, int]], everyone: tuple[int, int]) -> list[TierRow]:
    """Return each tier's customers, rides and revenue, highest first; 'none' is everyone else."""
    rows = [TierRow(tier=tier.value, customers=len(members.get(tier, [])), rides=totals.get(tier, (0, 0))[0],
                    revenue_rials=totals.get(tier, (0, 0))[1])
            for tier in sorted(LoyaltyTier, key=lambda t: -t.rank) if tier is not LoyaltyTier.NONE]
    rows.append(TierRow(tier=LoyaltyTier.NONE.value, customers=subscribed - sum(r.customers for r in rows),
                        rides=everyone[0] - sum(r.rides for r in rows),
                        revenue_rials=everyone[1] - sum(r.revenue_rials for r in rows)))
    return rows


async def demand_forecast(pool: asyncpg.Pool, weeks: int, level: ServiceLevel, basis: RollupBasis,
                          now: datetime) -> list[ForecastHour]:
    """Forecast each hour of the coming week from the same hours of the last `weeks` weeks."""
    local = now.astimezone(basis.timezone)
    start = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        history = await report_store.slots(conn, start - timedelta(weeks=weeks), start, basis.timezone, level.seconds)
        first = await report_store.first_hour(conn)
    return forecast.forecast_week([_slot_totals(r) for r in history], start, weeks, level, basis.timezone, first)


def _slot_totals(row: asyncpg.Record, assign_waits: Sequence[int] = ()) -> SlotTotals:
    return SlotTotals(
        weekday=weekday_of_dow(row["dow"]), hour=row["hour"], calls_answered=row["calls_answered"],
        calls_abandoned=row["calls_abandoned"], answered_within_sl=row["answered_within"],
        handle_seconds=row["handle_seconds"], rides_booked=row["rides_booked"], rides_completed=row["rides_completed"],
        rides_cancelled=row["rides_cancelled"], rides_no_driver=row["rides_no_driver"],
        busy_seconds=row["busy_seconds"], assign_waits=assign_waits)


async def _driver_names(pool: asyncpg.Pool) -> dict[object, str]:
    return {d.id: d.name for d in await dispatch.list_driver_profiles(pool)}


async def _operator_names(pool: asyncpg.Pool) -> dict[object, str]:
    return {u.id: u.display_name for u in await callcenter.list_users(pool)}


def _per_1000(count: int, rides: int) -> float | None:
    return round(1000 * count / rides, 2) if rides else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
