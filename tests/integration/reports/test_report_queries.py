"""Reports from rollups folded from months of facts (in the shapes the domains give them) on a real PostgreSQL:
periods read from monthly and daily rollups alike, the center's half-hour offset, customers' lists and the forecast."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from reports import report_service, rollup_store
from reports.calendar import Calendar
from reports.hexgrid import HexGrid
from reports.model import ComplaintsBy, Grid, Period, ServiceLevel
from reports.service import DEFAULT_BASIS

TEHRAN = ZoneInfo("Asia/Tehran")
GRID = HexGrid(DEFAULT_BASIS.hex_size_m, DEFAULT_BASIS.hex_lat0)
LEVEL = ServiceLevel(20, 0.8)
AZADI = (35.6997, 51.3380)
ids = iter(range(1, 1_000_000))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TEHRAN)


def ride(due: datetime, *, status: str = "completed", subscriber_id: int | None = None, driver_id: int | None = 7,
         fare: int = 1_000_000, point: tuple[float, float] = AZADI) -> dict[str, Any]:
    assigned = due + timedelta(seconds=40) if status in {"completed", "no_show"} else None
    return {"ride_id": next(ids), "status": status, "subscriber_id": subscriber_id,
            "driver_id": driver_id if assigned else None, "booked_by": None, "booked_via": "self_service",
            "pickup_lat": point[0], "pickup_lng": point[1], "pickup_at": None, "due_at": due.isoformat(),
            "created_at": due.isoformat(), "assigned_at": assigned and assigned.isoformat(),
            "finished_at": assigned and (assigned + timedelta(minutes=20)).isoformat(),
            "fare_rials": fare if status == "completed" else None,
            "commission_rials": fare * 15 // 100 if status == "completed" else None}


async def fold_rides(db: asyncpg.Pool, rides: list[dict[str, Any]], calendar: Calendar = Calendar.JALALI) -> None:
    """Fold ride facts in as the rollup job does (reports/service.py), pickups placed on the default grid."""
    facts = json.dumps(rides)
    async with db.acquire() as conn, conn.transaction():
        points = await rollup_store.new_points(conn, facts)
        await rollup_store.add_places(conn, [(lat, lng, GRID.cell_at(lat / 1000, lng / 1000), 0)
                                             for lat, lng in points])
        await rollup_store.recount_customers(conn, await rollup_store.fold_rides(conn, facts, TEHRAN.key), calendar)


async def fold_calls(db: asyncpg.Pool, calls: list[dict[str, Any]]) -> None:
    async with db.acquire() as conn:
        await rollup_store.fold_calls(conn, json.dumps(calls), TEHRAN.key)


def call(ringing: datetime, wait_s: int | None, talk_s: int = 120) -> dict[str, Any]:
    answered = None if wait_s is None else ringing + timedelta(seconds=wait_s)
    return {"call_id": next(ids), "ringing_at": ringing.isoformat(), "answered_at": answered and answered.isoformat(),
            "ended_at": ((answered or ringing) + timedelta(seconds=talk_s if answered else 30)).isoformat(),
            "operator_id": None}


@pytest.fixture
def days() -> list[date]:
    """Every day from 1 January to 31 March 2024."""
    return [date(2024, 1, 1) + timedelta(days=n) for n in range(91)]


async def test_a_period_across_months_counts_exactly_its_days_from_monthly_and_daily_rollups(
        db: asyncpg.Pool, days: list[date]) -> None:
    await fold_rides(db, [ride(local(day, 10)) for day in days])
    await fold_calls(db, [call(local(day, 10, 5), wait_s=day.day % 40) for day in days])
    for start, end in [(date(2024, 1, 15), date(2024, 3, 10)), (date(2024, 1, 1), date(2024, 3, 31)),
                       (date(2024, 2, 3), date(2024, 2, 9)), (date(2024, 2, 1), date(2024, 2, 29))]:
        period = Period(start, end, TEHRAN)
        inside = [d for d in days if start <= d <= end]
        peak = await report_service.peak_hours(db, period, LEVEL)
        at_ten = [c for c in peak.cells if c.hour == 10]
        assert sum(c.rides_completed for c in at_ten) == len(inside) == sum(c.calls_offered for c in peak.cells)
        assert sum(c.answered_within_sl for c in peak.cells) == sum(1 for d in inside if d.day % 40 < 20)
        assert all(c.median_assign_s == pytest.approx(40, abs=8) for c in at_ten if c.rides_booked)
        drivers = await report_service.drivers(db, period)
        assert [(r.driver_id, r.completed, r.revenue_rials) for r in drivers.rows] == [
            (7, len(inside), 1_000_000 * len(inside))]
        hexes = await report_service.areas(db, period, Grid.HEX, DEFAULT_BASIS)
        assert [(a.area, a.completed) for a in hexes.rows] == [(GRID.cell_at(*AZADI), len(inside))]


async def test_local_days_start_at_local_midnight_half_an_hour_off_utc(db: asyncpg.Pool) -> None:
    day = date(2024, 2, 10)
    late, early = local(day, 23, 45), local(day + timedelta(days=1), 0, 15)  # 20:15 and 20:45 UTC
    await fold_rides(db, [ride(late), ride(early)])
    one_day = Period(day, day, TEHRAN)
    peak = await report_service.peak_hours(db, one_day, LEVEL)
    assert [(c.weekday, c.hour, c.rides_booked) for c in peak.cells if c.rides_booked] == [(0, 23, 1)]  # a Saturday
    next_day = await report_service.peak_hours(db, Period(day + timedelta(days=1), day + timedelta(days=1), TEHRAN),
                                               LEVEL)
    assert [(c.weekday, c.hour) for c in next_day.cells if c.rides_booked] == [(1, 0)]


async def test_a_ride_that_changes_moves_between_counters_and_areas(db: asyncpg.Pool) -> None:
    due = local(date(2024, 3, 5), 9)
    booked = ride(due, status="requested")
    await fold_rides(db, [booked])
    await fold_rides(db, [booked])  # The same form again counts nothing.
    period = Period(date(2024, 3, 1), date(2024, 3, 31), TEHRAN)
    cell = next(c for c in (await report_service.peak_hours(db, period, LEVEL)).cells if c.rides_booked)
    assert (cell.rides_booked, cell.rides_completed, cell.rides_no_driver) == (1, 0, 0)
    elsewhere = (35.75, 51.45)
    await fold_rides(db, [{**ride(due, status="no_driver_found", point=elsewhere), "ride_id": booked["ride_id"]}])
    cell = next(c for c in (await report_service.peak_hours(db, period, LEVEL)).cells if c.rides_booked)
    assert (cell.rides_booked, cell.rides_completed, cell.rides_no_driver) == (1, 0, 1)
    hexes = await report_service.areas(db, period, Grid.HEX, DEFAULT_BASIS)
    assert [(a.area, a.rides, a.unserved) for a in hexes.rows] == [(GRID.cell_at(*elsewhere), 1, 1)]
    corners = hexes.rows[0].polygon or []
    assert len(corners) == 6 and all(abs(lat - hexes.rows[0].lat) < 0.01 for lat, _ in corners)
    zones = await report_service.areas(db, period, Grid.ZONES, DEFAULT_BASIS)
    assert [(a.area, a.label, a.rides) for a in zones.rows] == [(0, "Outside the zones", 1)]


@pytest.mark.parametrize(("calendar", "cohorts"), [
    # Jalali: Bahman 1402 (from 2024-01-21), Farvardin 1403 (from Nowruz, 2024-03-20), Tir 1403 (from 2024-06-21).
    (Calendar.JALALI, [("1402-11", date(2024, 1, 21), 1, [1, 0]), ("1403-01", date(2024, 3, 20), 1, [1, 0]),
                       ("1403-04", date(2024, 6, 21), 1, [1])]),
    (Calendar.GREGORIAN, [("2024-01", date(2024, 1, 1), 1, [1, 1]), ("2024-03", date(2024, 3, 1), 1, [1, 1]),
                          ("2024-06", date(2024, 6, 1), 1, [1])]),
])
async def test_customers_cohorts_churned_regulars_and_the_at_risk_list(db: asyncpg.Pool, calendar: Calendar,
                                                                       cohorts: list[tuple[Any, ...]]) -> None:
    today = date(2024, 6, 30)
    as_of = Period(date(2024, 1, 1), today, TEHRAN)
    churned = [ride(local(today - timedelta(days=150 + n), 12), subscriber_id=1, fare=2_000_000) for n in range(6)]
    letdown = ride(local(today - timedelta(days=140), 12), status="no_driver_found", subscriber_id=1)
    slipping = [ride(local(today - timedelta(days=90 + n), 12), subscriber_id=2) for n in range(6)]
    fresh = [ride(local(today - timedelta(days=2), 12), subscriber_id=3)]
    await fold_rides(db, [*churned, letdown, *slipping, *fresh], calendar)
    async with db.acquire() as conn:
        await rollup_store.fold_complaints(conn, json.dumps([{
            "id": 1, "kind": "complaint", "category": "rude_driver", "status": "new",
            "created_at": local(today - timedelta(days=100), 9).isoformat(), "closed_at": None,
            "first_response_at": None, "first_response_due": None, "resolution_due": None,
            "ride_id": slipping[0]["ride_id"], "subscriber_id": 2, "driver_id": 7, "operator_id": None}]), TEHRAN.key)

    report = await report_service.customers(db, as_of, calendar)
    assert [(c.cohort, c.first_day, c.size, c.active[:2]) for c in report.cohorts if c.size] == cohorts
    assert [(c.subscriber_id, c.rides, c.last_event.kind) for c in report.churned_regulars] == [(1, 6, "no_driver")]
    assert [(c.subscriber_id, c.recency_days, c.rides) for c in report.at_risk] == [(2, 90, 6)]
    segments = {s.segment.value: s.customers for s in report.rfm}
    assert (segments["lost"], segments["at_risk"], segments["new"]) == (1, 1, 1)
    assert [(t.tier, t.customers, t.rides) for t in report.loyalty_tiers][-1] == ("none", 0, 13)

    complaints = await report_service.complaints(db, as_of, ComplaintsBy.AREA, datetime.now(UTC))
    assert [(r.key, r.complaints, r.completed_rides) for r in complaints.rows] == [("0", 1, 13)]
    assert (complaints.open, complaints.overdue) == (1, 0)


async def test_the_forecast_averages_the_same_hour_of_the_weeks_before(db: asyncpg.Pool) -> None:
    now = datetime.now(TEHRAN).replace(minute=0, second=0, microsecond=0)
    target = now + timedelta(hours=5)
    history = [call(target - timedelta(weeks=w), wait_s=5) for w in (1, 2, 2, 3, 3, 3)]
    await fold_calls(db, history)
    await fold_rides(db, [ride(target - timedelta(weeks=w)) for w in (1, 2)])
    hours = await report_service.demand_forecast(db, 3, LEVEL, DEFAULT_BASIS, datetime.now(UTC))
    ahead = next(h for h in hours if h.at == target)
    assert (ahead.expected_calls, ahead.expected_rides) == (2.0, 0.7)
    assert ahead.operators_needed == 1 and ahead.drivers_needed == 1
    assert sum(h.expected_calls for h in hours) == 2.0
