"""Measuring trips from synthetic GPS traces around Tehran, sampled every 5 seconds as the driver app does."""

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.traces import EARTH_RADIUS_M, TraceMeasure, TracePoint, measure_trace

T0 = datetime(2024, 10, 15, 10, 30, tzinfo=UTC)
AZADI = (35.6997, 51.3380)
SLOW_KMH = 10
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def at(seconds: float, north_m: float = 0.0, east_m: float = 0.0, accuracy_m: float | None = None) -> TracePoint:
    lat = AZADI[0] + north_m / METRES_PER_DEGREE_LAT
    lng = AZADI[1] + east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(AZADI[0])))
    return TracePoint(lat=lat, lng=lng, at=T0 + timedelta(seconds=seconds), accuracy_m=accuracy_m)


def drive_north(minutes: int, speed_ms: float = 10.0, start_s: float = 0.0, start_m: float = 0.0) -> list[TracePoint]:
    return [at(start_s + s, north_m=start_m + speed_ms * s) for s in range(0, minutes * 60 + 1, 5)]


def parked(start_s: float, minutes: int, north_m: float = 0.0) -> list[TracePoint]:
    # A parked phone's fix wanders a few metres in every direction, deterministically here.
    return [
        at(start_s + s, north_m=north_m + 8 * math.sin(s), east_m=8 * math.cos(1.7 * s))
        for s in range(5, minutes * 60 + 1, 5)
    ]


def test_straight_drive_is_measured_within_one_percent():
    measure = measure_trace(drive_north(10), slow_speed_kmh=SLOW_KMH)
    assert measure.distance_m == pytest.approx(6_000, rel=0.01)
    assert (measure.duration_s, measure.waiting_s, measure.dropped_points) == (600, 0, 0)


def test_jitter_while_parked_adds_no_distance_and_counts_as_waiting():
    measure = measure_trace([at(0), *parked(0, 5)], slow_speed_kmh=SLOW_KMH)
    assert measure.distance_m < 20
    assert measure.duration_s == measure.waiting_s == 300


def test_drive_stop_drive_charges_only_the_stop_as_waiting():
    trace = [*drive_north(5), *parked(300, 3, north_m=3_000), *drive_north(5, start_s=480, start_m=3_000)[1:]]
    measure = measure_trace(trace, slow_speed_kmh=SLOW_KMH)
    assert measure.distance_m == pytest.approx(6_000, rel=0.02)
    assert measure.waiting_s == pytest.approx(180, abs=10)
    assert measure.duration_s == 780


def test_a_gps_jump_is_dropped():
    trace = drive_north(10)
    trace[60] = at(300, north_m=3_000, east_m=5_000)  # A fix 5 km off, 5 seconds after the last.
    measure = measure_trace(trace, slow_speed_kmh=SLOW_KMH)
    assert measure.dropped_points == 1
    assert measure.distance_m == pytest.approx(6_000, rel=0.01)


def test_a_tunnel_gap_is_not_mistaken_for_a_jump():
    # No fixes for two minutes under Niayesh, then 1.2 km further: 36 km/h is possible.
    trace = [p for p in drive_north(10) if not 200 < (p.at - T0).total_seconds() < 320]
    measure = measure_trace(trace, slow_speed_kmh=SLOW_KMH)
    assert (measure.dropped_points, measure.waiting_s) == (0, 0)
    assert measure.distance_m == pytest.approx(6_000, rel=0.01)


def test_unsorted_and_duplicate_fixes_measure_like_the_clean_trace():
    clean = [replace(point, accuracy_m=5) for point in drive_north(10)]
    # The app resends a batch after reconnecting; a less accurate copy of one instant sits 80 m off.
    messy = list(reversed(clean)) + clean[10:20] + [at(100, north_m=1_080, accuracy_m=120)]
    measure = measure_trace(messy, slow_speed_kmh=SLOW_KMH)
    expected = measure_trace(clean, slow_speed_kmh=SLOW_KMH)
    assert (measure.distance_m, measure.duration_s, measure.waiting_s) == (
        expected.distance_m,
        expected.duration_s,
        expected.waiting_s,
    )
    assert measure.dropped_points == 11


def test_slow_crawl_still_adds_up_its_distance():
    # 0.5 m/s (1.8 km/h) in traffic: each step is under the jitter radius, the whole crawl is not.
    measure = measure_trace(drive_north(10, speed_ms=0.5), slow_speed_kmh=SLOW_KMH)
    assert measure.distance_m == pytest.approx(300, abs=20)
    assert measure.waiting_s == 600


@pytest.mark.parametrize("points", [[], [at(0)]])
def test_empty_and_single_fix_traces_measure_nothing(points):
    assert measure_trace(points, slow_speed_kmh=SLOW_KMH) == TraceMeasure(0, 0, 0, 0)
