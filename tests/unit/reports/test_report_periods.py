"""Report periods: the dates asked for, their checks, and the calendar of the center's weeks and months."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.errors import InvalidDate, InvertedRange, RangeTooLong
from reports.periods import (
    add_months,
    center_weekday,
    parse_period,
    week_start,
    weekday_counts,
    weekday_of_dow,
    whole_months,
)

TEHRAN = ZoneInfo("Asia/Tehran")
TODAY = date(2024, 3, 20)


def test_a_missing_period_is_the_28_days_up_to_today_and_its_bounds_are_local_midnights():
    period = parse_period(None, None, TODAY, TEHRAN)
    assert (period.start, period.end, period.days) == (date(2024, 2, 22), TODAY, 28)
    assert period.since == datetime(2024, 2, 22, tzinfo=TEHRAN)
    assert period.until.isoformat() == "2024-03-21T00:00:00+03:30"


def test_one_end_given_keeps_28_days_back_from_it():
    assert parse_period(None, "2024-01-28", TODAY, TEHRAN).start == date(2024, 1, 1)
    assert parse_period("2024-03-01", None, TODAY, TEHRAN).end == TODAY


@pytest.mark.parametrize(("start", "end", "error"), [
    ("2024-03-02", "2024-03-01", InvertedRange), ("2023-01-01", "2024-03-01", RangeTooLong),
    ("2024-02-30", None, InvalidDate), ("2024/01/01", None, InvalidDate), ("20240101", None, InvalidDate),
    ("2024-W01-1", None, InvalidDate)])
def test_bad_dates_are_refused_with_their_code(start, end, error):
    with pytest.raises(error):
        parse_period(start, end, TODAY, TEHRAN)


def test_400_days_are_allowed_and_one_more_is_not():
    assert parse_period("2023-02-15", "2024-03-20", TODAY, TEHRAN).days == 400
    with pytest.raises(RangeTooLong):
        parse_period("2023-02-14", "2024-03-20", TODAY, TEHRAN)


def test_the_week_starts_on_saturday():
    assert center_weekday(date(2024, 3, 16)) == 0  # a Saturday
    assert center_weekday(date(2024, 3, 22)) == 6  # a Friday
    assert week_start(date(2024, 3, 20)) == date(2024, 3, 16)
    assert [weekday_of_dow(dow) for dow in range(7)] == [1, 2, 3, 4, 5, 6, 0]  # PostgreSQL: Sunday 0


def test_a_period_counts_its_weekdays():
    assert weekday_counts(parse_period("2024-03-16", "2024-03-29", TODAY, TEHRAN)) == [2] * 7
    assert weekday_counts(parse_period("2024-03-16", "2024-03-16", TODAY, TEHRAN)) == [1, 0, 0, 0, 0, 0, 0]


def test_months_count_on_across_years():
    assert add_months(date(2023, 11, 1), 3) == date(2024, 2, 1)


def at(*args):
    return datetime(*args, tzinfo=TEHRAN)


def test_whole_months_are_those_wholly_inside_and_none_gives_an_empty_range_at_the_start():
    assert whole_months(at(2024, 1, 10), at(2024, 4, 5), TEHRAN) == (at(2024, 2, 1), at(2024, 4, 1))
    assert whole_months(at(2024, 1, 1), at(2024, 2, 1), TEHRAN) == (at(2024, 1, 1), at(2024, 2, 1))
    assert whole_months(at(2024, 1, 10), at(2024, 1, 20), TEHRAN) == (at(2024, 1, 10), at(2024, 1, 10))
    assert whole_months(at(2024, 1, 1, 1), at(2024, 3, 1), TEHRAN) == (at(2024, 2, 1), at(2024, 3, 1))
