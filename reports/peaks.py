"""The peak-hours report from the period's totals by weekday and hour: service level, waits, staffing, the busiest."""

from __future__ import annotations

from collections.abc import Sequence

from reports import erlang
from reports.histograms import ASSIGN_BUCKET_SECONDS, quantile
from reports.model import BusyHour, PeakCell, PeakHours, ServiceLevel, SlotTotals, Staffing

BUSIEST_SHOWN = 10


def peak_hours(totals: Sequence[SlotTotals], weekdays: Sequence[int], level: ServiceLevel) -> PeakHours:
    """Build the report from totals taken at the level's seconds; `weekdays`: how many of each weekday (Sat first)."""
    by_slot = {(t.weekday, t.hour): t for t in totals}
    cells, staffing = [], []
    for weekday in range(7):
        for hour in range(24):
            slot = by_slot.get((weekday, hour)) or empty_slot(weekday, hour)
            cells.append(_cell(slot, level))
            staffing.append(_staffing(slot, weekdays[weekday], level))
    busiest = sorted((c for c in cells if c.calls_offered or c.rides_booked),
                     key=lambda c: (-c.calls_offered, -c.rides_booked, c.weekday, c.hour))[:BUSIEST_SHOWN]
    return PeakHours(cells=cells, weeks=round(sum(weekdays) / 7, 2),
                     busiest=[BusyHour(c.weekday, c.hour, c.calls_offered, c.rides_booked) for c in busiest],
                     staffing=staffing)


def _cell(slot: SlotTotals, level: ServiceLevel) -> PeakCell:
    offered = slot.calls_offered
    within = slot.answered_within_sl
    median_assign = quantile(slot.assign_waits, ASSIGN_BUCKET_SECONDS, 0.5)
    return PeakCell(
        weekday=slot.weekday, hour=slot.hour, calls_offered=offered, calls_answered=slot.calls_answered,
        calls_abandoned=slot.calls_abandoned, answered_within_sl=within,
        service_level=round(within / offered, 4) if offered else None, avg_handle_s=_handle(slot),
        rides_booked=slot.rides_booked, rides_completed=slot.rides_completed, rides_cancelled=slot.rides_cancelled,
        rides_no_driver=slot.rides_no_driver,
        median_assign_s=None if median_assign is None else round(median_assign, 1))


def _staffing(slot: SlotTotals, occurrences: int, level: ServiceLevel) -> Staffing:
    offered = slot.calls_offered
    per_hour = offered / occurrences if occurrences else 0.0
    handle = _handle(slot)
    needed = erlang.operators_needed(per_hour, handle or 0.0, level.seconds, level.target)
    return Staffing(weekday=slot.weekday, hour=slot.hour, calls_per_hour=round(per_hour, 2), avg_handle_s=handle,
                    operators_needed=needed)


def _handle(slot: SlotTotals) -> float | None:
    return round(slot.handle_seconds / slot.calls_answered, 1) if slot.calls_answered else None


def empty_slot(weekday: int, hour: int) -> SlotTotals:
    """Return the totals of a weekday-hour nothing happened in."""
    return SlotTotals(weekday, hour, 0, 0, 0, 0, 0, 0, 0, 0, 0)
