"""The hex grid: points fall in the nearest cell centre, cells tile the city, ids round-trip."""

import math
import random

import pytest

from reports.hexgrid import HEX_SIZE_M, HexGrid, pack, unpack

GRID = HexGrid(HEX_SIZE_M, 35.7)


def metres(a, b):
    dlat = (a[0] - b[0]) * 110_574
    dlng = (a[1] - b[1]) * 111_320 * math.cos(math.radians(35.7))
    return math.hypot(dlat, dlng)


def test_a_cell_id_packs_its_axial_coordinates_and_is_never_zero():
    for q, r in [(0, 0), (-5, 7), (12_000, -3_000)]:
        assert unpack(pack(q, r)) == (q, r)
        assert pack(q, r) > 0


def test_a_cells_centre_is_in_the_cell_and_every_point_is_in_the_nearest_centres_cell():
    rng = random.Random(6)
    for _ in range(2_000):
        point = (35.55 + rng.random() * 0.3, 51.1 + rng.random() * 0.55)
        cell = GRID.cell_at(*point)
        assert GRID.cell_at(*GRID.center(cell)) == cell
        # Within the circumradius of its centre, and no neighbour's centre is nearer.
        assert metres(point, GRID.center(cell)) <= HEX_SIZE_M + 1
        q, r = unpack(cell)
        for dq, dr in [(1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1)]:
            neighbour = GRID.center(pack(q + dq, r + dr))
            assert metres(point, GRID.center(cell)) <= metres(point, neighbour) + 1e-6


def test_neighbouring_centres_are_a_cell_apart_and_corners_sit_on_the_circumradius():
    cell = GRID.cell_at(35.6997, 51.3380)  # Azadi Square
    q, r = unpack(cell)
    for dq, dr in [(1, 0), (0, 1), (-1, 1)]:
        distance = metres(GRID.center(cell), GRID.center(pack(q + dq, r + dr)))
        assert distance == pytest.approx(math.sqrt(3) * HEX_SIZE_M, rel=1e-3)
    assert all(abs(metres(GRID.center(cell), c) - HEX_SIZE_M) < 1 for c in GRID.corners(cell))
