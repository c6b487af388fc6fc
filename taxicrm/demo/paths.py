"""Street-like drives across the city: a staircase of straight legs along the grid, walked in steps."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence

from taxicrm.demo.population import KM_PER_DEGREE_LAT, KM_PER_DEGREE_LNG, Point


def distance_m(a: Point, b: Point) -> float:
    """Straight-line distance in metres (flat-earth: good to a fraction of a percent across one city)."""
    dy = (b[0] - a[0]) * KM_PER_DEGREE_LAT * 1000
    dx = (b[1] - a[1]) * KM_PER_DEGREE_LNG * 1000
    return math.hypot(dx, dy)


def street_path(start: Point, end: Point, rng: random.Random) -> list[Point]:
    """Corners of a drive from start to end that keeps to north-south and east-west streets.

    Tehran's streets run mostly on a grid; a car turns a few times on the way, alternating between the two
    directions, so its trace looks like a drive along blocks rather than a flight across them.
    """
    legs = 1 + min(4, int(distance_m(start, end) // 1500))
    cuts = sorted(rng.random() for _ in range(legs - 1))
    corners = [start]
    lat, lng = start
    along_lat_first = rng.random() < 0.5
    for share in [*cuts, 1.0]:
        target = (start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share)
        if along_lat_first:
            corners += [(target[0], lng), target]
        else:
            corners += [(lat, target[1]), target]
        lat, lng = target
    return _without_repeats(corners)


def _without_repeats(points: Sequence[Point]) -> list[Point]:
    kept = [points[0]]
    for point in points[1:]:
        if distance_m(kept[-1], point) > 0.5:
            kept.append(point)
    return kept


def path_length_m(path: Sequence[Point]) -> float:
    """Return the length of a drive along its corners, in metres."""
    return sum(distance_m(a, b) for a, b in itertools.pairwise(path))


def walk(path: Sequence[Point], step_m: float) -> Iterator[Point]:
    """Positions every `step_m` metres along the path; the last one is the path's end."""
    if step_m <= 0:
        raise ValueError("step_m must be positive")
    carried = 0.0  # Metres already walked along the current leg at its start.
    for a, b in itertools.pairwise(path):
        leg = distance_m(a, b)
        at = step_m - carried
        while at <= leg:
            share = at / leg
            yield (round(a[0] + (b[0] - a[0]) * share, 6), round(a[1] + (b[1] - a[1]) * share, 6))
            at += step_m
        carried = leg - (at - step_m)
    if len(path) > 1 and carried > 1e-6:
        yield (round(path[-1][0], 6), round(path[-1][1], 6))
