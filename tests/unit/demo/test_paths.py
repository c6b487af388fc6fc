"""Street-like drives: they keep to the grid, end where they were going, and are walked in even steps."""

import itertools
import random

import pytest

from taxicrm.demo.paths import distance_m, path_length_m, street_path, walk

AZADI, TAJRISH = (35.6997, 51.3380), (35.8044, 51.4339)


def test_a_drive_turns_only_at_right_angles_and_ends_at_its_target():
    for seed in range(20):
        path = street_path(AZADI, TAJRISH, random.Random(seed))
        assert path[0] == AZADI and distance_m(path[-1], TAJRISH) < 1
        for a, b in itertools.pairwise(path):
            assert a[0] == pytest.approx(b[0], abs=1e-9) or a[1] == pytest.approx(b[1], abs=1e-9), (a, b)


def test_a_drive_along_the_grid_is_longer_than_the_straight_line_but_not_absurdly():
    path = street_path(AZADI, TAJRISH, random.Random(3))
    straight = distance_m(AZADI, TAJRISH)
    assert straight < path_length_m(path) <= straight * 1.5


def test_walking_a_drive_steps_evenly_and_arrives():
    path = street_path(AZADI, TAJRISH, random.Random(1))
    steps = list(walk(path, 250))
    assert steps[-1] == (round(TAJRISH[0], 6), round(TAJRISH[1], 6))
    assert len(steps) == int(path_length_m(path) // 250) + 1
    gaps = [distance_m(a, b) for a, b in zip([AZADI, *steps], steps, strict=False)]
    assert max(gaps) <= 250.5


def test_a_drive_to_where_the_car_already_is_has_no_steps():
    assert list(walk(street_path(AZADI, AZADI, random.Random(1)), 100)) == []


def test_distances_match_known_ones_in_tehran():
    # Azadi Square to Tajrish Square is about 14.3 km as the crow flies.
    assert 14_000 < distance_m(AZADI, TAJRISH) < 14_700
