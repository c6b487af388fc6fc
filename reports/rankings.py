"""Who did best and worst among drivers over a period, so good work can be rewarded and trouble looked into.

Only drivers with at least MIN_COMPLETED completed rides in the period are ranked: fewer say too little. A
driver's score (0 to 1) weighs what customers and the center feel:

* half: the average rating, pulled towards PRIOR_RATING by PRIOR_WEIGHT imaginary ratings, so a handful of
  fives proves less than hundreds of fours and a half;
* three tenths: the acceptance rate (offers accepted of those answered or let run out);
* one fifth: complaints per 1,000 completed rides, from none (full marks) to COMPLAINTS_FLOOR or more (none).

The best are the highest scores (more completed rides first among equals); the worst the lowest (more
complaints first among equals), never a driver already among the best.
"""

from __future__ import annotations

from collections.abc import Sequence

from reports.model import DriverFigures

MIN_COMPLETED = 10
PRIOR_RATING = 4.0
PRIOR_WEIGHT = 10
COMPLAINTS_FLOOR = 50.0  # complaints per 1,000 rides at which that part of the score reaches zero
SHOWN = 5


def score(driver: DriverFigures) -> float:
    """Return the driver's score from 0 (worst) to 1 (best)."""
    rating = (driver.rating_sum + PRIOR_RATING * PRIOR_WEIGHT) / (driver.ratings + PRIOR_WEIGHT)
    acceptance = driver.accepted / driver.offered if driver.offered else 1.0
    complaint_rate = 1000 * driver.complaints / driver.completed if driver.completed else 0.0
    return (0.5 * (rating - 1) / 4 + 0.3 * acceptance
            + 0.2 * (1 - min(complaint_rate, COMPLAINTS_FLOOR) / COMPLAINTS_FLOOR))


def best_and_worst(drivers: Sequence[DriverFigures], shown: int = SHOWN) -> tuple[list[int], list[int]]:
    """Return the ids of the best and the worst drivers, best first and worst first."""
    ranked = [d for d in drivers if d.completed >= MIN_COMPLETED]
    best = sorted(ranked, key=lambda d: (-score(d), -d.completed, d.driver_id))[:shown]
    chosen = {d.driver_id for d in best}
    worst = sorted((d for d in ranked if d.driver_id not in chosen),
                   key=lambda d: (score(d), -d.complaints, d.driver_id))[:shown]
    return [d.driver_id for d in best], [d.driver_id for d in worst]
