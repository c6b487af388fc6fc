"""Point-in-zone lookups per second, as every position flush asks them, for a city of many zones."""

from __future__ import annotations

import json
import math
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.model import Zone, ZoneId, ZoneStrategy
from dispatch.zones import ZoneIndex, parse_polygon, service_bounds

LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "100000"))
SOUTH, WEST, NORTH, EAST = 35.55, 51.10, 35.85, 51.65  # the default service area (Tehran)


def city(zone_count: int, vertices: int, rng: random.Random) -> list[Zone]:
    """Round zones of `vertices` vertices, 0.5 to 5 km across, scattered (and overlapping) over the city."""
    allowed = service_bounds((SOUTH, WEST, NORTH, EAST), 50)
    zones = []
    for number in range(1, zone_count + 1):
        lat, lng, radius = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST), rng.uniform(0.005, 0.05)
        angles = [2 * math.pi * i / vertices for i in range(vertices)]
        ring = [[lat + radius * math.sin(a), lng + radius * math.cos(a)] for a in angles]
        zones.append(Zone(ZoneId(number), f"Z{number}", f"Zone {number}", parse_polygon(ring, allowed),
                          ZoneStrategy.QUEUE_FIRST, (), True, datetime.now(UTC)))
    return zones


def lookups_per_second(index: ZoneIndex, points: list[tuple[float, float]]) -> float:
    started = time.perf_counter()
    for lat, lng in points:
        index.zone_at(lat, lng)
    return len(points) / (time.perf_counter() - started)


def main() -> None:
    rng = random.Random(7)
    points = [(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(LOOKUPS)]
    cases = []
    for zone_count, vertices in ((20, 50), (100, 50), (100, 500), (300, 100)):
        index = ZoneIndex(city(zone_count, vertices, rng))
        rate = lookups_per_second(index, points)
        cases.append({"zones": zone_count, "vertices": vertices, "lookups_per_second": round(rate)})
        print(f"{zone_count:>4} zones of {vertices:>3} vertices: {rate:>9,.0f} lookups/s")
    result = {
        "benchmark": "zones",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "lookups": LOOKUPS,
        "cases": cases,
    }
    out = Path(__file__).resolve().parent / "results" / "zones.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
