"""The demand forecast: expected calls and rides per hour of the coming week, and the staff and drivers they need.

Seasonal by weekday and hour: an hour of next week is expected to be like the same hour of the last weeks, on
average. Weeks before the center's first recorded hour do not count, so a new center is not averaged with zeros.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reports import erlang
from reports.model import ServiceLevel, SlotTotals
from reports.periods import center_weekday

HOURS_AHEAD = 7 * 24
# Drivers are not busy every minute they are on shift (driving to pickups, waiting between jobs): a fleet is
# sized for busy time at this share of its hours.
DRIVER_UTILISATION = 0.7


@dataclass(frozen=True)
class ForecastHour:
    """One hour of the coming week."""

    at: datetime  # the hour's start
    weekday: int  # 0 = Saturday
    hour: int
    expected_calls: float
    expected_rides: float
    operators_needed: int
    drivers_needed: int


def slot_of(at: datetime, timezone: ZoneInfo) -> tuple[int, int]:
    """Return the (weekday, hour) of an instant in the center's zone."""
    local = at.astimezone(timezone)
    return center_weekday(local.date()), local.hour


def slot_weeks(since: datetime, until: datetime, timezone: ZoneInfo) -> dict[tuple[int, int], int]:
    """Return how many times each weekday-hour occurs in [since, until) (both hour starts)."""
    weeks = {(d, h): 0 for d in range(7) for h in range(24)}
    hour = since
    while hour < until:
        weeks[slot_of(hour, timezone)] += 1
        hour += timedelta(hours=1)
    return weeks


def forecast_week(history: Sequence[SlotTotals], start: datetime, weeks: int, level: ServiceLevel,
                  timezone: ZoneInfo, first_recorded: datetime | None) -> list[ForecastHour]:
    """Forecast the `HOURS_AHEAD` hours from `start` (an hour's start) from the totals of the `weeks` weeks before.

    `first_recorded` is the first hour the center recorded anything: each slot's average counts its weeks from
    then on.
    """
    occurrences = slot_weeks(max(start - timedelta(weeks=weeks), first_recorded or start), start, timezone)
    by_slot = {(t.weekday, t.hour): t for t in history}
    answered = sum(t.calls_answered for t in history)
    overall_handle = sum(t.handle_seconds for t in history) / answered if answered else 0.0
    completed = sum(t.rides_completed for t in history)
    busy_per_ride = sum(t.busy_seconds for t in history) / completed if completed else 0.0
    hours = []
    for offset in range(HOURS_AHEAD):
        at = start + timedelta(hours=offset)
        slot = slot_of(at, timezone)
        totals, count = by_slot.get(slot), occurrences[slot]
        calls = totals.calls_offered / count if totals and count else 0.0
        rides = totals.rides_booked / count if totals and count else 0.0
        handle = totals.handle_seconds / totals.calls_answered if totals and totals.calls_answered else overall_handle
        hours.append(ForecastHour(
            at=at, weekday=slot[0], hour=slot[1], expected_calls=round(calls, 1), expected_rides=round(rides, 1),
            operators_needed=erlang.operators_needed(calls, handle, level.seconds, level.target),
            drivers_needed=drivers_needed(rides, busy_per_ride)))
    return hours


def drivers_needed(rides_per_hour: float, busy_seconds_per_ride: float,
                   utilisation: float = DRIVER_UTILISATION) -> int:
    """Return the drivers an hour needs: the hours of driving its rides take, over the share a driver is busy."""
    return math.ceil(rides_per_hour * busy_seconds_per_ride / 3600 / utilisation - 1e-9)
