"""How big the demo city is and how fast it lives: the size presets and the options of `taxicrm demo`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CitySize:
    """How many of everyone the city has, and its calls per hour at the busiest hour."""

    subscribers: int
    drivers: int
    operators: int
    peak_calls_per_hour: float


SIZES = {
    "small": CitySize(subscribers=2_000, drivers=40, operators=3, peak_calls_per_hour=120),
    "city": CitySize(subscribers=30_000, drivers=300, operators=8, peak_calls_per_hour=600),
    "large": CitySize(subscribers=100_000, drivers=800, operators=16, peak_calls_per_hour=1_800),
}
DEFAULT_SIZE = "city"


@dataclass(frozen=True)
class DemoOptions:
    """Everything `taxicrm demo` was asked for."""

    size: CitySize
    seed: int = 1
    # Simulated time runs this many times faster than the clock for drives, waits and talk; calls keep their rate.
    pace: float = 1.0
    # Pretend the center's clock shows this hour when shaping the call rate (None: the real local time).
    hour: float | None = None
    hang_up_share: float = 0.12  # Of callers, who hang up before anyone answers (more when everyone is busy).
    position_interval_s: float = 4.0  # Between a driver app's position reports, as real apps send them.
    status_every_s: float = 60.0  # Between the one-line summaries printed while the city runs.
    run_for_s: float | None = None  # Stop by itself after this long (None: until Ctrl-C).
