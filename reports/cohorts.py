"""Monthly cohort retention: customers grouped by their first ride's month, and how many ride in each month after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from reports.model import CohortRow
from reports.periods import add_months, months_after


def build_cohorts(counts: Iterable[tuple[date, date, int]], first: date, last: date) -> list[CohortRow]:
    """Assemble cohorts from (cohort month, active month, customers) for the cohorts from `first` to `last`.

    Months are given by their first day. Every cohort in the range is listed, empty ones too, each with a count
    for its first month (its size: everyone in it rode then) and for every month after, up to `last`.
    """
    by_cell = {(cohort, month): customers for cohort, month, customers in counts}
    cohorts = []
    month = first
    while month <= last:
        active = [by_cell.get((month, add_months(month, k)), 0) for k in range(months_after(month, last) + 1)]
        cohorts.append(CohortRow(cohort=f"{month:%Y-%m}", size=active[0], active=active))
        month = add_months(month, 1)
    return cohorts
