"""Zones of the city: checking a zone as an admin draws it, finding the zone a point is in, and its strategy now."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any

from dispatch.errors import InvalidPolygon, InvalidStrategyWindow, OverlappingWindows
from dispatch.fares import Weekday
from dispatch.model import StrategyWindow, Zone, ZoneStrategy
from taxicrm.errors import InvalidInput

Polygon = tuple[tuple[float, float], ...]

MAX_VERTICES = 500
MAX_WINDOWS = 50
MAX_NAME = 200
KM_PER_DEGREE = 111.32
# Closer than this (about a millimetre) is the same place: a point this near a border is on it.
EPSILON_DEG = 1e-8
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_MINUTES_PER_DAY = 24 * 60
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY
ZONE_FIELDS = frozenset({"code", "name", "polygon", "default_strategy", "windows", "is_active"})
_WINDOW_FIELDS = frozenset({"days", "start", "end", "strategy"})
DAY_NAMES = {day.name.lower(): day.value for day in Weekday}


@dataclass(frozen=True)
class Bounds:
    """A box of latitudes and longitudes, edges included."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def of(cls, polygon: Iterable[tuple[float, float]]) -> Bounds:
        """Return the smallest box holding every vertex."""
        lats, lngs = zip(*polygon, strict=True)
        return cls(min(lats), min(lngs), max(lats), max(lngs))

    def contains(self, lat: float, lng: float) -> bool:
        """Tell whether the point is inside the box or on its edge."""
        return self.south <= lat <= self.north and self.west <= lng <= self.east

    def expanded(self, km: float) -> Bounds:
        """Return the box grown by `km` on every side (longitude degrees shrink away from the equator)."""
        dlat = km / KM_PER_DEGREE
        widest = max(abs(self.south), abs(self.north))
        dlng = km / (KM_PER_DEGREE * max(math.cos(math.radians(widest)), 0.01))
        return Bounds(max(-90.0, self.south - dlat), max(-180.0, self.west - dlng),
                      min(90.0, self.north + dlat), min(180.0, self.east + dlng))


@dataclass(frozen=True)
class ZoneFields:
    """A checked zone document; None means "not sent" (a change leaves that field alone)."""

    code: str | None = None
    name: str | None = None
    polygon: Polygon | None = None
    default_strategy: ZoneStrategy | None = None
    windows: tuple[StrategyWindow, ...] | None = None
    is_active: bool | None = None

    def sent(self) -> dict[str, Any]:
        """Return the fields that were sent, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def service_bounds(service_area: tuple[float, float, float, float], margin_km: float) -> Bounds:
    """Return where zones may be drawn: the service area (south, west, north, east) plus its margin."""
    return Bounds(*service_area).expanded(margin_km)


# ---- polygons ----------------------------------------------------------------------------------------------

def parse_polygon(raw: object, allowed: Bounds) -> Polygon:
    """Check a polygon as sent ([[lat, lng], ...]) and return its ring, or raise InvalidPolygon saying why.

    A repeated closing vertex (GeoJSON style) and vertices doubled by a double click are dropped.
    """
    if not isinstance(raw, list):
        raise InvalidInput("'polygon' must be a list of [lat, lng] vertices.", code="wrong_type")
    if len(raw) > MAX_VERTICES + 1:  # One more, for a closing vertex that repeats the first.
        raise _too_many(len(raw))
    ring = _without_repeats([_vertex(item, number, allowed) for number, item in enumerate(raw, start=1)])
    if len(ring) > MAX_VERTICES:
        raise _too_many(len(ring))
    if len(ring) < 3:
        raise InvalidPolygon(f"A zone needs at least 3 distinct vertices; this one has {len(ring)}.",
                             code="polygon_too_few_vertices")
    if _is_on_one_line(ring):
        raise InvalidPolygon("The zone's vertices lie on one line: it encloses no area.", code="polygon_degenerate")
    crossing = _first_crossing(ring)
    if crossing is not None:
        (a, b), (c, d) = crossing
        raise InvalidPolygon(f"The zone's border crosses itself: the edge {_pair(a)}–{_pair(b)} meets the edge "
                             f"{_pair(c)}–{_pair(d)}.", code="polygon_self_intersecting")
    return tuple(ring)


def _too_many(count: int) -> InvalidPolygon:
    return InvalidPolygon(f"A zone has at most {MAX_VERTICES} vertices; this one has {count}.",
                          code="polygon_too_many_vertices")


def _vertex(item: object, number: int, allowed: Bounds) -> tuple[float, float]:
    if not (isinstance(item, list) and len(item) == 2 and all(_is_number(v) for v in item)):
        raise InvalidPolygon(f"Vertex {number} must be a [lat, lng] pair of numbers.", code="invalid_vertex")
    try:
        lat, lng = float(item[0]), float(item[1])
    except OverflowError:  # A JSON integer of hundreds of digits.
        lat = lng = math.inf
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidPolygon(f"Vertex {number} is not a place on Earth: latitude is within ±90 and longitude "
                             "within ±180.", code="invalid_vertex")
    if not allowed.contains(lat, lng):
        raise InvalidPolygon(_outside_message(number, lat, lng, allowed), code="polygon_outside_service_area")
    return lat, lng


def _is_number(value: object) -> bool:
    # bool is an int in Python; a JSON true is not a coordinate.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _without_repeats(vertices: list[tuple[float, float]]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for vertex in vertices:
        if not ring or not _same(vertex, ring[-1]):
            ring.append(vertex)
    while len(ring) > 1 and _same(ring[0], ring[-1]):
        ring.pop()
    return ring


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) <= EPSILON_DEG and abs(a[1] - b[1]) <= EPSILON_DEG


def _outside_message(number: int, lat: float, lng: float, allowed: Bounds) -> str:
    message = f"Vertex {number} ({lat}, {lng}) is outside the service area and its margin."
    if allowed.contains(lng, lat):
        message += " The vertices look like [lng, lat] (GeoJSON order); send them as [lat, lng]."
    return message


def _pair(vertex: tuple[float, float]) -> str:
    return f"({vertex[0]}, {vertex[1]})"


def _is_on_one_line(ring: Sequence[tuple[float, float]]) -> bool:
    first = ring[0]
    farthest = max(ring, key=lambda v: math.hypot(v[0] - first[0], v[1] - first[1]))
    return all(_orientation(first, farthest, vertex) == 0 for vertex in ring)


def _signed_area(ring: Sequence[tuple[float, float]]) -> float:
    """Return the shoelace area in square degrees (positive when counter-clockwise)."""
    # Measured from the first vertex: products of small offsets keep the digits that whole degrees would lose.
    lat0, lng0 = ring[0]
    shifted = [(lat - lat0, lng - lng0) for lat, lng in ring]
    return sum(lat1 * lng2 - lat2 * lng1
               for (lat1, lng1), (lat2, lng2) in zip(shifted, [*shifted[1:], shifted[0]], strict=True)) / 2


def area_km2(polygon: Polygon) -> float:
    """Return the polygon's area in km² (flat-Earth, plenty for telling a rank from a district)."""
    scale = math.cos(math.radians(sum(lat for lat, _ in polygon) / len(polygon)))
    return abs(_signed_area(polygon)) * scale * KM_PER_DEGREE ** 2


Segment = tuple[tuple[float, float], tuple[float, float]]


def _first_crossing(ring: Sequence[tuple[float, float]]) -> tuple[Segment, Segment] | None:
    """Return two edges of the ring that meet other than at the vertex they share, or None."""
    n = len(ring)
    edges = [(ring[i], ring[(i + 1) % n]) for i in range(n)]
    # Sweep by longitude: only edges whose longitude spans overlap can meet (500 vertices: ms, not seconds).
    order = sorted(range(n), key=lambda i: min(edges[i][0][1], edges[i][1][1]))
    for position, i in enumerate(order):
        (a, b) = edges[i]
        east = max(a[1], b[1])
        for j in order[position + 1:]:
            c, d = edges[j]
            if min(c[1], d[1]) > east:
                break
            if max(a[0], b[0]) < min(c[0], d[0]) or max(c[0], d[0]) < min(a[0], b[0]):
                continue
            if _adjacent(i, j, n):
                if _folds_back(edges[min(i, j)], edges[max(i, j)], first_last=abs(i - j) != 1):
                    return edges[min(i, j)], edges[max(i, j)]
            elif _segments_meet(a, b, c, d):
                return edges[min(i, j)], edges[max(i, j)]
    return None


def _adjacent(i: int, j: int, n: int) -> bool:
    return abs(i - j) == 1 or abs(i - j) == n - 1


def _folds_back(earlier: Segment, later: Segment, *, first_last: bool) -> bool:
    """Tell whether two edges sharing a vertex run back along each other (a spike)."""
    shared, one, other = (earlier[0], earlier[1], later[0]) if first_last else (earlier[1], earlier[0], later[1])
    u = (one[0] - shared[0], one[1] - shared[1])
    v = (other[0] - shared[0], other[1] - shared[1])
    cross = u[0] * v[1] - u[1] * v[0]
    dot = u[0] * v[0] + u[1] * v[1]
    return abs(cross) <= EPSILON_DEG * math.hypot(*u) * math.hypot(*v) and dot > 0


def _orientation(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> int:
    """Return which side of the line p→q the point r is on: 1 left, -1 right, 0 on it (within a millimetre)."""
    cross = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    if abs(cross) <= EPSILON_DEG * math.hypot(q[0] - p[0], q[1] - p[1]):
        return 0
    return 1 if cross > 0 else -1


def _within(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> bool:
    """Tell whether q, collinear with p and r, lies on the segment p–r."""
    return (min(p[0], r[0]) - EPSILON_DEG <= q[0] <= max(p[0], r[0]) + EPSILON_DEG
            and min(p[1], r[1]) - EPSILON_DEG <= q[1] <= max(p[1], r[1]) + EPSILON_DEG)


def _segments_meet(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float],
                   d: tuple[float, float]) -> bool:
    """Tell whether segments a–b and c–d share any point, touching included."""
    o1, o2, o3, o4 = _orientation(a, b, c), _orientation(a, b, d), _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return ((o1 == 0 and _within(a, c, b)) or (o2 == 0 and _within(a, d, b))
            or (o3 == 0 and _within(c, a, d)) or (o4 == 0 and _within(c, b, d)))


def contains(polygon: Polygon, lat: float, lng: float) -> bool:
    """Tell whether the point is inside the polygon; a point on its border (edge or vertex) is inside."""
    return _Ring(polygon).contains(lat, lng)


class _Ring:
    """A polygon prepared for many point tests: its box, and its edges bucketed into bands of latitude.

    A horizontal ray from the point only meets edges spanning the point's latitude, so each test reads one
    band's few edges instead of all of them.
    """

    __slots__ = ("_band_height", "_bands", "bounds")

    def __init__(self, polygon: Polygon) -> None:
        self.bounds = Bounds.of(polygon)
        count = max(1, min(64, len(polygon) // 4))
        self._band_height = (self.bounds.north - self.bounds.south) / count or 1.0
        self._bands: list[list[tuple[float, float, float, float]]] = [[] for _ in range(count)]
        for (lat1, lng1), (lat2, lng2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
            low, high = self._band(min(lat1, lat2) - EPSILON_DEG), self._band(max(lat1, lat2) + EPSILON_DEG)
            for band in range(low, high + 1):
                self._bands[band].append((lat1, lng1, lat2, lng2))

    def _band(self, lat: float) -> int:
        return min(len(self._bands) - 1, max(0, int((lat - self.bounds.south) / self._band_height)))

    def contains(self, lat: float, lng: float) -> bool:
        """Tell whether the point is inside or on the border (ray casting)."""
        b = self.bounds
        if not (b.south - EPSILON_DEG <= lat <= b.north + EPSILON_DEG
                and b.west - EPSILON_DEG <= lng <= b.east + EPSILON_DEG):
            return False
        inside = False
        for lat1, lng1, lat2, lng2 in self._bands[self._band(lat)]:
            if _is_on_edge(lat, lng, lat1, lng1, lat2, lng2):
                # A driver parked on the line drawn through a rank is at the rank.
                return True
            if (lat1 > lat) != (lat2 > lat):
                crossing = lng1 + (lat - lat1) * (lng2 - lng1) / (lat2 - lat1)
                if lng < crossing:
                    inside = not inside
        return inside


def _is_on_edge(lat: float, lng: float, lat1: float, lng1: float, lat2: float, lng2: float) -> bool:
    if not (min(lng1, lng2) - EPSILON_DEG <= lng <= max(lng1, lng2) + EPSILON_DEG
            and min(lat1, lat2) - EPSILON_DEG <= lat <= max(lat1, lat2) + EPSILON_DEG):
        return False
    cross = (lat2 - lat1) * (lng - lng1) - (lng2 - lng1) * (lat - lat1)
    return abs(cross) <= EPSILON_DEG * math.hypot(lat2 - lat1, lng2 - lng1)


class ZoneIndex:
    """Active zones prepared for finding the one a point is in, many thousand times a second."""

    def __init__(self, zones: Iterable[Zone]) -> None:
        # Smallest first, so the first zone holding a point is the answer: the airport inside its district wins.
        # Equal areas fall back to the id, so every instance gives the same answer.
        # Rounded to a square metre, so two zones drawn alike compare equal despite floating-point noise.
        prepared = [(round(area_km2(z.polygon), 6), z.id, z, _Ring(z.polygon)) for z in zones if z.is_active]
        prepared.sort(key=lambda entry: (entry[0], entry[1]))
        self._zones = [(zone, ring) for _, _, zone, ring in prepared]

    def __len__(self) -> int:
        return len(self._zones)

    def zone_at(self, lat: float, lng: float) -> Zone | None:
        """Return the smallest active zone holding the point, or None outside every zone."""
        for zone, ring in self._zones:
            if ring.contains(lat, lng):
                return zone
        return None


def zone_at(zones: Iterable[Zone], lat: float, lng: float) -> Zone | None:
    """Return the smallest active zone holding the point; build a ZoneIndex instead to ask many times."""
    return ZoneIndex(zones).zone_at(lat, lng)


# ---- strategies by weekday and time ----------------------------------------------------------------------

def strategy_at(zone: Zone, local: datetime) -> ZoneStrategy:
    """Return the strategy in force at a local (center time zone) instant: its window's, else the default."""
    return next((w.strategy for w in zone.windows if _is_in_window(w, local)), zone.default_strategy)


def _is_in_window(window: StrategyWindow, local: datetime) -> bool:
    """Tell whether a window covers a local instant; a window past midnight belongs to the day it started.

    The same convention as tariff schedules (dispatch/fares.py): a Friday 22:00-02:00 window is in force at
    01:00 on Saturday, not at 01:00 on Friday.
    """
    day, at = local.weekday(), local.time()
    if window.start == window.end:
        return day in window.days
    if window.start < window.end:
        return window.start <= at < window.end and day in window.days
    if at >= window.start:
        return day in window.days
    return at < window.end and (day - 1) % 7 in window.days


def parse_windows(raw: object) -> tuple[StrategyWindow, ...]:
    """Check strategy windows as sent and return them, refusing two that overlap (the message names both)."""
    if not isinstance(raw, list):
        raise InvalidInput("'windows' must be a list of strategy windows.", code="wrong_type")
    if len(raw) > MAX_WINDOWS:
        raise InvalidStrategyWindow(f"A zone has at most {MAX_WINDOWS} strategy windows; this one has {len(raw)}.")
    windows = tuple(_window(item, number) for number, item in enumerate(raw, start=1))
    _refuse_overlaps(windows)
    return windows


def _window(item: object, number: int) -> StrategyWindow:
    label = f"Window {number}"
    if not isinstance(item, dict):
        raise InvalidStrategyWindow(f"{label} must be an object with days, start, end and strategy.")
    unknown = sorted(set(item) - _WINDOW_FIELDS)
    if unknown:
        raise InvalidStrategyWindow(f"{label}: '{unknown[0]}' is not a window field (days, start, end, strategy).")
    days = item.get("days")
    if not isinstance(days, list) or not days or not all(isinstance(d, str) for d in days):
        raise InvalidStrategyWindow(f"{label}: 'days' must be a non-empty list of weekday names, e.g. [\"saturday\"].")
    unknown_days = [d for d in days if d.strip().lower() not in DAY_NAMES]
    if unknown_days:
        raise InvalidStrategyWindow(f"{label}: '{unknown_days[0]}' is not a weekday; use monday ... sunday.")
    strategy = item.get("strategy")
    if strategy not in {s.value for s in ZoneStrategy}:
        raise InvalidStrategyWindow(f"{label}: 'strategy' must be one of "
                                    f"{', '.join(s.value for s in ZoneStrategy)}.")
    return StrategyWindow(days=frozenset(DAY_NAMES[d.strip().lower()] for d in days),
                          start=_clock(item.get("start"), label, "start"), end=_clock(item.get("end"), label, "end"),
                          strategy=ZoneStrategy(strategy))


def _clock(raw: object, label: str, name: str) -> time:
    match = _CLOCK.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise InvalidStrategyWindow(f"{label}: '{name}' must be a time of day like 07:30.")
    return time(int(match.group(1)), int(match.group(2)))


def _week_spans(window: StrategyWindow) -> list[tuple[int, int]]:
    """Return the minutes of the week (from Monday 00:00) a window covers, as half-open spans."""
    start = window.start.hour * 60 + window.start.minute
    end = window.end.hour * 60 + window.end.minute
    length = _MINUTES_PER_DAY if start == end else (end - start) % _MINUTES_PER_DAY
    spans = []
    for day in window.days:
        first = day * _MINUTES_PER_DAY + start
        last = first + length
        # Sunday night runs on into Monday morning of the (same, repeating) week.
        spans.append((first, min(last, _MINUTES_PER_WEEK)))
        if last > _MINUTES_PER_WEEK:
            spans.append((0, last - _MINUTES_PER_WEEK))
    return spans


def _refuse_overlaps(windows: Sequence[StrategyWindow]) -> None:
    spans = [_week_spans(w) for w in windows]
    for i, first in enumerate(spans):
        for j in range(i + 1, len(spans)):
            common = [max(a, c) for a, b in first for c, d in spans[j] if max(a, c) < min(b, d)]
            if common:
                when = min(common)
                day = Weekday(when // _MINUTES_PER_DAY).name.lower()
                at = f"{when % _MINUTES_PER_DAY // 60:02d}:{when % 60:02d}"
                raise OverlappingWindows(f"Window {i + 1} ({describe_window(windows[i])}) overlaps window {j + 1} "
                                         f"({describe_window(windows[j])}) on {day} at {at}.")


def describe_window(window: StrategyWindow) -> str:
    """Say a window the way an admin reads it: "saturday, sunday 07:00-10:00 queue_first"."""
    days = ", ".join(Weekday(d).name.lower() for d in sorted(window.days))
    hours = "all day" if window.start == window.end else f"{window.start:%H:%M}-{window.end:%H:%M}"
    return f"{days} {hours} {window.strategy.value}"


# ---- the zone document -----------------------------------------------------------------------------------

def parse_zone(body: dict[str, Any], allowed: Bounds, *, creating: bool) -> ZoneFields:
    """Check a zone document as an admin posts it (all of it) or patches it (the fields sent)."""
    unknown = sorted(set(body) - ZONE_FIELDS)
    if unknown:
        raise InvalidInput(f"'{unknown[0]}' is not a zone field.", code="unknown_field")
    if not creating and "polygon" in body and body["polygon"] is None:
        raise InvalidInput("'polygon' cannot be removed; send the new border.", code="missing_field")
    return ZoneFields(
        code=_code(body) if creating or "code" in body else None,
        name=_name(body) if creating or "name" in body else None,
        polygon=parse_polygon(_sent(body, "polygon"), allowed) if creating or "polygon" in body else None,
        default_strategy=_strategy(body, creating),
        windows=_windows(body, creating),
        is_active=_flag(body, "is_active", creating),
    )


def _sent(body: dict[str, Any], name: str) -> object:
    if body.get(name) is None:
        raise InvalidInput(f"'{name}' is required.", code="missing_field")
    return body[name]


def _code(body: dict[str, Any]) -> str:
    raw = _sent(body, "code")
    if not isinstance(raw, str):
        raise InvalidInput("'code' must be text.", code="wrong_type")
    code = raw.strip().upper()
    if not CODE_PATTERN.match(code):
        raise InvalidInput("A zone code is 1 to 20 letters A-Z, digits, '-' or '_', starting with a letter or digit "
                           "(e.g. IKA).", code="invalid_zone_code")
    return code


def _name(body: dict[str, Any]) -> str:
    raw = _sent(body, "name")
    if not isinstance(raw, str):
        raise InvalidInput("'name' must be text.", code="wrong_type")
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("A zone needs a name.", code="empty_field")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"'name' is longer than {MAX_NAME} characters.", code="too_long")
    return name


def _strategy(body: dict[str, Any], creating: bool) -> ZoneStrategy | None:
    if "default_strategy" not in body:
        return ZoneStrategy.QUEUE_FIRST if creating else None
    raw = _sent(body, "default_strategy")
    if raw not in {s.value for s in ZoneStrategy}:
        raise InvalidInput(f"'default_strategy' must be one of {', '.join(s.value for s in ZoneStrategy)}.",
                           code="invalid_choice")
    return ZoneStrategy(raw)


def _windows(body: dict[str, Any], creating: bool) -> tuple[StrategyWindow, ...] | None:
    if "windows" not in body:
        return () if creating else None
    # null clears the windows: the default strategy then holds at all hours.
    return () if body["windows"] is None else parse_windows(body["windows"])


def _flag(body: dict[str, Any], name: str, creating: bool) -> bool | None:
    if name not in body:
        return True if creating else None
    raw = _sent(body, name)
    if not isinstance(raw, bool):
        raise InvalidInput(f"'{name}' must be true or false.", code="wrong_type")
    return raw
