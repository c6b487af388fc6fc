"""Monthly cohort retention: customers grouped by their first ride's month, and how many ride in each month after.

Months are the center's calendar months (reports/calendar.py), each named by its first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from reports.calendar import Calendar, month_label, month_start, next_month
from reports.model import CohortRow


def build_cohorts(counts: Iterable[tuple[date, date, int]], first: date, last: date, calendar: Calendar
                  ) -> list[CohortRow]:
    """Assemble cohorts from (cohort month, active month, customers) for the cohorts from `first`'s month to `last`'s.

    Every cohort in the range is listed, empty ones too, each with a count for its first month (its size: everyone
    in it rode then) and for every month after, up to `last`'s.
    """
    by_cell = {(cohort, month): customers for cohort, month, customers in counts}
    months = [month_start(first, calendar)]
    while (following := next_month(months[-1], calendar)) <= last:
        months.append(following)
    cohorts = []
    for i, cohort in enumerate(months):
        active = [by_cell.get((cohort, month), 0) for month in months[i:]]
        cohorts.append(CohortRow(cohort=month_label(cohort, calendar), first_day=cohort, size=active[0],
                                 active=active))
    return cohorts
