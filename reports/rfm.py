"""RFM: scoring customers by recency and frequency, naming their segment, and estimating what each is worth.

Scores run 1 (worst) to 5 (best) on fixed thresholds, so a customer's segment means the same from month to month
and from one center to another: recency in days since the last completed ride, frequency in completed rides.
Monetary value does not pick the segment (fixed money thresholds would not survive a change of tariff or
currency); it is reported per segment and drives the estimate of its value.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping

from reports.model import Segment

# A score is 5 minus how many of these the figure passes (recency), or 1 plus how many it reaches (frequency).
RECENCY_DAYS = (7, 30, 60, 120)  # last ride within 7 days: 5 ... more than 120 days ago: 1
FREQUENCY_RIDES = (2, 5, 10, 20)  # 1 ride: 1, 2-4: 2, 5-9: 3, 10-19: 4, 20 or more: 5
# Customers are counted by shape with their rides up to this cap (report_customer_shapes): it must stay above the
# thresholds, and changing it means a rebuild of the rollups.
RIDES_CAP = 50

# Who falls where, checked in order: the first rule a customer meets names their segment.
# Each rule: (segment, lowest recency, highest recency, lowest frequency, highest frequency).
SEGMENT_RULES: tuple[tuple[Segment, int, int, int, int], ...] = (
    (Segment.CHAMPIONS, 4, 5, 4, 5),  # rode lately and often
    (Segment.LOYAL, 3, 5, 3, 5),  # rides often, fairly lately
    (Segment.NEW, 4, 5, 1, 1),  # a first ride, lately
    (Segment.POTENTIAL, 3, 5, 1, 2),  # recent but few rides: could become loyal
    (Segment.AT_RISK, 2, 2, 3, 5),  # rode often, but not for two to four months
    (Segment.HIBERNATING, 2, 2, 1, 2),  # a few rides, a while ago
    (Segment.LOST, 1, 1, 1, 5),  # nothing for four months or more
)

# The share of each segment's customers expected to keep riding over the next year, at their rate so far: a
# planning figure, in line with the usual retention of such segments, not a measurement.
RETENTION: Mapping[Segment, float] = {
    Segment.CHAMPIONS: 0.9, Segment.LOYAL: 0.8, Segment.NEW: 0.4, Segment.POTENTIAL: 0.5,
    Segment.AT_RISK: 0.35, Segment.HIBERNATING: 0.15, Segment.LOST: 0.05,
}
# The at-risk list and the churned regulars are customers who used to ride this often.
REGULAR_FREQUENCY = 3


def recency_score(days: int) -> int:
    """Score days since the last ride: 5 within a week, 1 after four months."""
    return 5 - sum(1 for limit in RECENCY_DAYS if days > limit)


def frequency_score(rides: int) -> int:
    """Score completed rides: 1 for one ride, 5 for twenty or more."""
    return 1 + bisect_right(FREQUENCY_RIDES, rides)


def recency_days(score: int) -> tuple[int, int | None]:
    """Return the days since the last ride a recency score stands for: more than the first, at most the second."""
    limits: tuple[int | None, ...] = (-1, *RECENCY_DAYS, None)
    more_than = limits[5 - score]
    if more_than is None:
        raise ValueError(f"no recency score {score}")
    return more_than, limits[6 - score]


def least_rides(score: int) -> int:
    """Return the fewest rides a frequency score stands for."""
    return (1, *FREQUENCY_RIDES)[score - 1]


def segment_of(recency: int, frequency: int) -> Segment:
    """Name the segment of a customer with these scores."""
    for segment, r_low, r_high, f_low, f_high in SEGMENT_RULES:
        if r_low <= recency <= r_high and f_low <= frequency <= f_high:
            return segment
    raise ValueError(f"no segment for recency {recency}, frequency {frequency}")  # The rules cover 1-5 × 1-5.


def yearly_value(monthly_revenue: float, segment: Segment) -> int:
    """Estimate a year's revenue from customers earning `monthly_revenue` together, given their segment."""
    return round(monthly_revenue * 12 * RETENTION[segment])
