"""Choose which drivers are offered a ride, in what order, and what to do when an offer fails."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.model import (
    Candidate,
    Decision,
    DriverAvailability,
    DriverId,
    OfferStep,
    OfferVia,
    RideState,
    SkipReason,
)

DEFAULT_OFFER_TIMEOUT = timedelta(seconds=15)
DEFAULT_FRESHNESS = timedelta(seconds=60)
DEFAULT_MAX_TRIES = 5
DEFAULT_DISTANCE_BUCKET_M = 200

# Each search widens the circle; past the last one the search stays at the widest.
SEARCH_RADII_M: Sequence[int] = (1_000, 2_000, 4_000, 8_000)
# How many of the nearest drivers each circle looks at. In a dense city the nearest few dozen hold the driver to
# offer; a wider circle, searched only when none of them may take the ride, looks further down the list. Every
# driver looked at costs a search its live-map, database and decision-log reads, so the first circle stays small.
SEARCH_COUNTS: Sequence[int] = (30, 60, 100, 100)


@dataclass(frozen=True)
class _Search:
    ride: RideState
    now: datetime
    declined_by: Collection[DriverId]
    offered: Collection[DriverId]
    freshness: timedelta
    radius_m: float
    queued: Collection[DriverId] = ()


# Checked in order, so a driver hears the most basic reason first: a suspended driver is told so,
# not that they were a little too far.
_SKIP_CHECKS: Sequence[tuple[SkipReason, Callable[[Candidate, _Search], bool]]] = (
    (SkipReason.SUSPENDED, lambda c, s: c.suspended),
    (SkipReason.WRONG_CLASS, lambda c, s: c.vehicle_class != s.ride.vehicle_class),
    (SkipReason.ON_A_RIDE, lambda c, s: c.on_a_ride),
    (SkipReason.NOT_AVAILABLE, lambda c, s: c.status is not DriverAvailability.AVAILABLE),
    (SkipReason.ON_ANOTHER_OFFER, lambda c, s: c.has_other_offer),
    (SkipReason.STALE_POSITION, lambda c, s: s.now - c.last_seen > s.freshness),
    (SkipReason.DECLINED_BEFORE, lambda c, s: c.driver_id in s.declined_by),
    (SkipReason.ALREADY_OFFERED, lambda c, s: c.driver_id in s.offered),
    # A driver waiting at the pickup's rank is in the zone, however wide it is.
    (SkipReason.TOO_FAR, lambda c, s: c.distance_m > s.radius_m and c.driver_id not in s.queued),
)


def _skip_reason(candidate: Candidate, search: _Search) -> SkipReason | None:
    """Return the first reason this driver may not be offered the ride, or None if they may."""
    return next((reason for reason, applies in _SKIP_CHECKS if applies(candidate, search)), None)


def rank_candidates(
    candidates: Iterable[Candidate],
    ride: RideState,
    *,
    now: datetime,
    radius_m: float,
    declined_by: Collection[DriverId] = (),
    offered: Collection[DriverId] = (),
    freshness: timedelta = DEFAULT_FRESHNESS,
    distance_bucket_m: float = DEFAULT_DISTANCE_BUCKET_M,
    queue: Sequence[DriverId] = (),
) -> list[Decision]:
    """Rank eligible drivers in offer order and say why each other one was skipped.

    `offered` holds drivers already offered the ride in this round who let it time out or dropped off:
    without it the same nearest driver would be offered again at once. `queue` is the pickup zone's rank
    queue, first come first, when the zone dispatches from its queue first: its eligible drivers go ahead
    of everyone else, in queue order.
    """
    search = _Search(ride, now, declined_by, offered, freshness, radius_m, frozenset(queue))
    judged = [(c, _skip_reason(c, search)) for c in candidates]
    place_in_queue = {driver: n for n, driver in enumerate(queue)}
    # Drivers within one distance band count as equally close; the one idle longest goes first, for fairness.
    eligible = sorted(
        (c for c, reason in judged if reason is None),
        key=lambda c: (place_in_queue.get(c.driver_id, len(queue)), int(c.distance_m // distance_bucket_m),
                       c.idle_since, c.distance_m, c.driver_id),
    )
    skipped = sorted(((c, r) for c, r in judged if r is not None), key=lambda cr: (cr[0].distance_m, cr[0].driver_id))
    return [
        Decision(candidate=c, rank=n, skip_reason=None,
                 via=OfferVia.ZONE_QUEUE if c.driver_id in place_in_queue else OfferVia.NEAREST)
        for n, c in enumerate(eligible, start=1)
    ] + [Decision(candidate=c, rank=None, skip_reason=r) for c, r in skipped]


def next_search_radius(attempt: int) -> int:
    """Return the search radius in metres for this attempt, 0 being the first search."""
    if attempt < 0:
        raise ValueError(f"attempt must be 0 or more, not {attempt}")
    return SEARCH_RADII_M[min(attempt, len(SEARCH_RADII_M) - 1)]


def after_offer_outcome(tries: int, max_tries: int, candidates_left: int) -> OfferStep:
    """After a decline, timeout or disconnect: offer the next driver, or put the ride on the unassigned list."""
    if tries >= max_tries or candidates_left <= 0:
        return OfferStep.UNASSIGNED
    return OfferStep.OFFER_NEXT


def offer_expires_at(now: datetime, timeout: timedelta = DEFAULT_OFFER_TIMEOUT) -> datetime:
    """When an offer made now lapses if the driver does not answer."""
    return now + timeout
