"""The center's calendar months: Jalali (Solar Hijri) or Gregorian, as customers' cohorts and first months count.

A month is named by its first day (a Gregorian date, as PostgreSQL stores it). Jalali months follow the arithmetic
of ICU's Persian calendar: the one the console's Intl dates use, so the month counted here is the month a Persian
reader sees; migrations/0015_report_calendar.sql computes the same in SQL (report_month) for the rollups.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Final

# Days from 1 Farvardin 1 AP (Julian day 1948320) to 2000-01-01 (Julian day 2451545).
_PERSIAN_EPOCH_TO_2000: Final = 2451545 - 1948320
_Y2K: Final = date(2000, 1, 1)
# The Jalali months: six of 31 days, five of 30, then Esfand of 29 (30 in a leap year).
_FIRST_SIX: Final = 6 * 31


class Calendar(StrEnum):
    """Which months the center counts in (TAXICRM_CALENDAR)."""

    JALALI = "jalali"
    GREGORIAN = "gregorian"


def _jalali_year_and_day(day: date) -> tuple[int, int]:
    """Return the Jalali year holding `day` and the day's place in it (0 on 1 Farvardin)."""
    since = (day - _Y2K).days + _PERSIAN_EPOCH_TO_2000
    year = 1 + (33 * since + 3) // 12053
    return year, since - (365 * (year - 1) + (8 * year + 21) // 33)


def _jalali_month_offset(day_of_year: int) -> int:
    """Return how many days into its month a day of the Jalali year is (0 on the month's first day)."""
    if day_of_year < _FIRST_SIX:
        return day_of_year % 31
    return (day_of_year - _FIRST_SIX) % 30


def month_start(day: date, calendar: Calendar) -> date:
    """Return the first day of the calendar month holding `day`."""
    if calendar is Calendar.GREGORIAN:
        return day.replace(day=1)
    return day - timedelta(days=_jalali_month_offset(_jalali_year_and_day(day)[1]))


def next_month(start: date, calendar: Calendar) -> date:
    """Return the first day of the month after the one starting on `start`."""
    # Every month is 29 to 31 days long: 32 days on is always inside the next one.
    return month_start(start + timedelta(days=32), calendar)


def month_label(start: date, calendar: Calendar) -> str:
    """Return a month's name as YYYY-MM in its own calendar ("1405-01" for Farvardin 1405)."""
    year, month = _year_month(start, calendar)
    return f"{year:04d}-{month:02d}"


def _year_month(day: date, calendar: Calendar) -> tuple[int, int]:
    if calendar is Calendar.GREGORIAN:
        return day.year, day.month
    year, day_of_year = _jalali_year_and_day(day)
    month = day_of_year // 31 if day_of_year < _FIRST_SIX else 6 + (day_of_year - _FIRST_SIX) // 30
    return year, month + 1
