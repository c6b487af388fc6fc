"""Report periods: the local dates asked for, checked, and the calendar a period holds (weeks, weekdays, months).

The center's week starts on Saturday, so weekday 0 is Saturday, as Iranian calendars print it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reports.errors import InvalidDate, InvertedRange, RangeTooLong
from reports.model import Period

DEFAULT_DAYS = 28
MAX_DAYS = 400


def parse_period(from_raw: str | None, to_raw: str | None, today: date, timezone: ZoneInfo) -> Period:
    """Read `from` and `to` (YYYY-MM-DD, `to` included); missing ones default to the 28 days up to today."""
    end = _date(to_raw, "to") if to_raw else today
    start = _date(from_raw, "from") if from_raw else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvertedRange()
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise RangeTooLong(days, MAX_DAYS)
    return Period(start, end, timezone)


def _date(raw: str, name: str) -> date:
    # fromisoformat also takes 20240101 and week dates; the API promises YYYY-MM-DD, so check the shape first.
    if len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        raise InvalidDate(name, raw)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidDate(name, raw) from None


def whole_months(since: datetime, until: datetime, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the [first, last) starts of the whole local months inside [since, until); (since, since) if none.

    Reports read those months from monthly rollups, and only the days or hours around them from finer ones.
    """
    local_since = since.astimezone(timezone)
    first = month_start(local_since.date())
    if datetime.combine(first, time(), timezone) < local_since:
        first = add_months(first, 1)
    last = month_start(until.astimezone(timezone).date())
    if first >= last:
        return since, since
    return datetime.combine(first, time(), timezone), datetime.combine(last, time(), timezone)


def center_weekday(day: date) -> int:
    """Return the day's weekday with Saturday as 0 and Friday as 6."""
    return (day.weekday() + 2) % 7


def weekday_of_dow(dow: int) -> int:
    """Return the center's weekday of PostgreSQL's `extract(dow ...)` (Sunday 0, Saturday 6)."""
    return (dow + 1) % 7


def weekday_counts(period: Period) -> list[int]:
    """Return how many of each weekday (Saturday first) the period holds."""
    counts = [0] * 7
    for offset in range(period.days):
        counts[center_weekday(period.start + timedelta(days=offset))] += 1
    return counts


def week_start(day: date) -> date:
    """Return the Saturday that starts the day's week."""
    return day - timedelta(days=center_weekday(day))


def month_start(day: date) -> date:
    """Return the first day of the day's month."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
