"""Cohort retention: every cohort of the range listed, with a count for each month after its first."""

from datetime import date

from reports.cohorts import build_cohorts
from reports.model import CohortRow


def test_cohorts_list_every_month_of_the_range_with_their_later_activity():
    counts = [(date(2024, 1, 1), date(2024, 1, 1), 100), (date(2024, 1, 1), date(2024, 2, 1), 40),
              (date(2024, 1, 1), date(2024, 3, 1), 25), (date(2024, 3, 1), date(2024, 3, 1), 80),
              (date(2023, 12, 1), date(2024, 1, 1), 7)]  # An earlier cohort: outside the range.
    assert build_cohorts(counts, date(2024, 1, 1), date(2024, 3, 1)) == [
        CohortRow("2024-01", 100, [100, 40, 25]), CohortRow("2024-02", 0, [0, 0]), CohortRow("2024-03", 80, [80])]


def test_a_range_across_the_new_year_counts_months_on():
    cohorts = build_cohorts([(date(2023, 12, 1), date(2024, 1, 1), 3)], date(2023, 12, 1), date(2024, 1, 1))
    assert [(c.cohort, c.active) for c in cohorts] == [("2023-12", [0, 3]), ("2024-01", [0])]
