"""A hexagonal grid over the city: which cell a point is in, and where a cell is.

Flat-topped hexagons of circumradius `size_m` on an equirectangular projection true at latitude `lat0` (the
service area's middle), which over a city distorts distances by well under a percent. A cell id packs the axial
coordinates (q, r) into one positive integer; 0 is kept for "no location".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HEX_SIZE_M = 800.0  # Cells 1.6 km across and 1.4 km from edge to edge: a neighbourhood, about 1.7 km².
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LNG_AT_EQUATOR = 111_320.0
_OFFSET = 1 << 20  # Keeps q and r positive in the packed id: the whole Earth fits in ±2^20 cells of this size.
_SPAN = 1 << 21
NO_CELL = 0


@dataclass(frozen=True)
class HexGrid:
    """The grid's size and the latitude its projection is true at."""

    size_m: float
    lat0: float

    @property
    def _m_per_deg_lng(self) -> float:
        return _M_PER_DEG_LNG_AT_EQUATOR * math.cos(math.radians(self.lat0))

    def cell_at(self, lat: float, lng: float) -> int:
        """Return the id of the cell holding the point."""
        x, y = lng * self._m_per_deg_lng, lat * _M_PER_DEG_LAT
        q = (2 / 3 * x) / self.size_m
        r = (-1 / 3 * x + math.sqrt(3) / 3 * y) / self.size_m
        return pack(*_rounded(q, r))

    def center(self, cell: int) -> tuple[float, float]:
        """Return the cell's centre as (lat, lng)."""
        q, r = unpack(cell)
        x = self.size_m * 3 / 2 * q
        y = self.size_m * math.sqrt(3) * (r + q / 2)
        return y / _M_PER_DEG_LAT, x / self._m_per_deg_lng

    def corners(self, cell: int) -> list[tuple[float, float]]:
        """Return the cell's six corners as (lat, lng), counter-clockwise from the east one."""
        lat, lng = self.center(cell)
        return [(lat + self.size_m * math.sin(math.radians(60 * i)) / _M_PER_DEG_LAT,
                 lng + self.size_m * math.cos(math.radians(60 * i)) / self._m_per_deg_lng) for i in range(6)]


def pack(q: int, r: int) -> int:
    """Return the cell id of axial coordinates (q, r)."""
    return (q + _OFFSET) * _SPAN + (r + _OFFSET)


def unpack(cell: int) -> tuple[int, int]:
    """Return the axial coordinates (q, r) of a cell id."""
    return cell // _SPAN - _OFFSET, cell % _SPAN - _OFFSET


def _rounded(q: float, r: float) -> tuple[int, int]:
    """Round fractional axial coordinates to the hexagon holding them (by cube coordinates)."""
    x, z = q, r
    y = -x - z
    rx, ry, rz = round(x), round(y), round(z)
    dx, dy, dz = abs(rx - x), abs(ry - y), abs(rz - z)
    if dx > dy and dx > dz:
        rx = -ry - rz
    elif dy > dz:
        ry = -rx - rz
    else:
        rz = -rx - ry
    return rx, rz
