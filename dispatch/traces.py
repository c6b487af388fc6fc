"""Measure a trip from the driver's GPS trace: distance without jitter or jumps, and waiting time."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# The IUGG mean Earth radius; the spherical error (< 0.5 %) is far below what a road factor guesses.
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class LatLng:
    """A position in WGS 84 degrees."""

    lat: float
    lng: float


@dataclass(frozen=True)
class TracePoint:
    """One GPS fix reported by the driver's app; `at` is tz-aware."""

    lat: float
    lng: float
    at: datetime
    accuracy_m: float | None = None


@dataclass(frozen=True)
class TraceMeasure:
    """What a trace says about a trip: metres driven, seconds elapsed and spent slow, fixes ignored."""

    distance_m: int
    duration_s: int
    waiting_s: int
    dropped_points: int


def haversine_m(a: LatLng | TracePoint, b: LatLng | TracePoint) -> float:
    """Return the great-circle distance between two positions in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlng = lat2 - lat1, math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _accuracy_rank(point: TracePoint) -> float:
    # A fix without a reported accuracy is trusted least among fixes with the same timestamp.
    return math.inf if point.accuracy_m is None else point.accuracy_m


def _one_fix_per_instant(points: Iterable[TracePoint]) -> list[TracePoint]:
    """Sort fixes by time, keeping the most accurate one where several share a timestamp."""
    best: dict[datetime, TracePoint] = {}
    for point in points:
        kept = best.get(point.at)
        if kept is None or _accuracy_rank(point) < _accuracy_rank(kept):
            best[point.at] = point
    return [best[at] for at in sorted(best)]


def measure_trace(
    points: Iterable[TracePoint],
    *,
    slow_speed_kmh: float,
    max_speed_kmh: float = 150,
    jitter_m: float = 15,
) -> TraceMeasure:
    """Measure distance, duration and waiting from GPS fixes in any order.

    A fix is dropped when reaching it from the last kept fix would need more than `max_speed_kmh` (a jump);
    the first fix is trusted. Distance grows only once the car is more than `jitter_m` (or the fix's own
    accuracy, if larger) from where it was last counted, so a parked car's wandering fix adds nothing but a
    slow crawl still adds up. Time between counted moves is waiting when their speed is under `slow_speed_kmh`,
    as is the time after the last one; this errs by at most one sampling interval at each stop's end.
    """
    given = list(points)
    fixes = _one_fix_per_instant(given)
    if not fixes:
        return TraceMeasure(distance_m=0, duration_s=0, waiting_s=0, dropped_points=len(given))
    max_speed_ms, slow_speed_ms = max_speed_kmh / 3.6, slow_speed_kmh / 3.6
    last = anchor = fixes[0]
    kept, distance, waiting = 1, 0.0, 0.0
    for fix in fixes[1:]:
        if haversine_m(last, fix) > max_speed_ms * (fix.at - last.at).total_seconds():
            continue
        kept, last = kept + 1, fix
        moved = haversine_m(anchor, fix)
        if moved <= max(jitter_m, fix.accuracy_m or 0.0):
            continue
        # Judge speed over the whole time since the last counted move, so a crawl made of sub-jitter steps
        # is waiting even though the step that finally leaves the jitter radius looks fast on its own.
        period = (fix.at - anchor.at).total_seconds()
        if moved < slow_speed_ms * period:
            waiting += period
        distance, anchor = distance + moved, fix
    # Since the last counted move the car has stood within the jitter radius.
    waiting += (last.at - anchor.at).total_seconds()
    duration = (last.at - fixes[0].at).total_seconds()
    return TraceMeasure(
        distance_m=round(distance),
        duration_s=round(duration),
        waiting_s=round(waiting),
        dropped_points=len(given) - kept,
    )
