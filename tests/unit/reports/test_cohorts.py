"""Cohort retention: every cohort of the range listed, with a count for each month after its first, in the
center's calendar months."""

from datetime import date

from reports.calendar import Calendar
from reports.cohorts import build_cohorts
from reports.model import CohortRow

G, J = Calendar.GREGORIAN, Calendar.JALALI


def test_cohorts_list_every_month_of_the_range_with_their_later_activity():
    counts = [(date(2024, 1, 1), date(2024, 1, 1), 100), (date(2024, 1, 1), date(2024, 2, 1), 40),
              (date(2024, 1, 1), date(2024, 3, 1), 25), (date(2024, 3, 1), date(2024, 3, 1), 80),
              (date(2023, 12, 1), date(2024, 1, 1), 7)]  # An earlier cohort: outside the range.
    assert build_cohorts(counts, date(2024, 1, 10), date(2024, 3, 31), G) == [
        CohortRow("2024-01", date(2024, 1, 1), 100, [100, 40, 25]), CohortRow("2024-02", date(2024, 2, 1), 0, [0, 0]),
        CohortRow("2024-03", date(2024, 3, 1), 80, [80])]


def test_a_range_across_the_new_year_counts_months_on():
    cohorts = build_cohorts([(date(2023, 12, 1), date(2024, 1, 1), 3)], date(2023, 12, 1), date(2024, 1, 1), G)
    assert [(c.cohort, c.active) for c in cohorts] == [("2023-12", [0, 3]), ("2024-01", [0])]


def test_jalali_cohorts_are_the_months_a_persian_reader_sees_across_nowruz():
    # Esfand 1402 began on 2024-02-20, Farvardin 1403 on 2024-03-20 (Nowruz), Ordibehesht on 2024-04-20.
    counts = [(date(2024, 2, 20), date(2024, 2, 20), 50), (date(2024, 2, 20), date(2024, 3, 20), 20),
              (date(2024, 3, 20), date(2024, 3, 20), 60), (date(2024, 3, 20), date(2024, 4, 20), 30)]
    cohorts = build_cohorts(counts, date(2024, 3, 1), date(2024, 4, 25), J)
    assert cohorts == [
        CohortRow("1402-12", date(2024, 2, 20), 50, [50, 20, 0]),
        CohortRow("1403-01", date(2024, 3, 20), 60, [60, 30]),
        CohortRow("1403-02", date(2024, 4, 20), 0, [0])]
