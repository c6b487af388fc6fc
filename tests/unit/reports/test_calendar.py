"""The center's calendar months: Jalali months as the Persian calendar has them (Nowruz, the 31- and 30-day
months, Esfand of a leap year), Gregorian months, and their names."""

from datetime import date, timedelta

import pytest

from reports.calendar import Calendar, month_label, month_start, next_month

J, G = Calendar.JALALI, Calendar.GREGORIAN


@pytest.mark.parametrize(("day", "start", "label"), [
    (date(2024, 3, 19), date(2024, 2, 20), "1402-12"),  # the last day of Esfand 1402
    (date(2024, 3, 20), date(2024, 3, 20), "1403-01"),  # Nowruz 1403
    (date(2025, 3, 20), date(2025, 2, 19), "1403-12"),  # 30 Esfand: 1403 is a leap year
    (date(2025, 3, 21), date(2025, 3, 21), "1404-01"),
    (date(2026, 3, 21), date(2026, 3, 21), "1405-01"),
    (date(2026, 9, 22), date(2026, 8, 23), "1405-06"),  # 31 Shahrivar, the last of the 31-day months
    (date(2026, 9, 23), date(2026, 9, 23), "1405-07"),  # 1 Mehr
    (date(2026, 12, 2), date(2026, 11, 22), "1405-09"),  # 11 Azar
])
def test_a_day_falls_in_its_jalali_month(day, start, label):
    assert month_start(day, J) == start
    assert month_label(start, J) == label


def test_jalali_months_run_six_of_31_days_five_of_30_and_esfand():
    lengths = []
    start = date(2025, 3, 21)  # Nowruz 1404
    while start < date(2027, 3, 21):
        following = next_month(start, J)
        lengths.append((following - start).days)
        start = following
    assert lengths == [31] * 6 + [30] * 5 + [29] + [31] * 6 + [30] * 5 + [29]


def test_every_day_of_a_month_has_its_first_day_for_its_start():
    day = date(2023, 1, 1)
    while day < date(2028, 1, 1):
        start = month_start(day, J)
        assert 0 <= (day - start).days <= 30 and month_start(start, J) == start
        assert month_start(start - timedelta(days=1), J) != start
        day += timedelta(days=1)


def test_gregorian_months():
    assert month_start(date(2024, 2, 29), G) == date(2024, 2, 1)
    assert next_month(date(2024, 1, 1), G) == date(2024, 2, 1)
    assert next_month(date(2024, 12, 1), G) == date(2025, 1, 1)
    assert month_label(date(2024, 2, 1), G) == "2024-02"
