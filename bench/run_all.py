"""Run every benchmark, one after another, and summarise what they wrote to bench/results/*.json.

    .venv/bin/python bench/run_all.py              # the full sizes of each benchmark (hours: the year of reports
                                                   # history alone takes about an hour to generate the first time)
    .venv/bin/python bench/run_all.py --quick      # small sizes, minutes: a check that every benchmark runs
    .venv/bin/python bench/run_all.py screenpop dispatch     # only these

Each benchmark measures its floor in the same run (bench/floor.py) and writes its own result file; this prints one
line per benchmark with its headline figures beside the floor's and writes bench/results/summary.json. A benchmark
that fails is reported and the others still run; the exit status says whether all of them passed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _screenpop(r: dict[str, Any]) -> str:
    return (f"ring → card p50 {_get(r, 'latency_ms', 'p50')} / p99 {_get(r, 'latency_ms', 'p99')} ms at "
            f"{r.get('rate_per_s')}/s; floor p50 {_get(r, 'floor_ms', 'p50')} / p99 {_get(r, 'floor_ms', 'p99')} ms")


def _dispatch(r: dict[str, Any]) -> str:
    return (f"ingestion ceiling {_get(r, 'ingestion_ceiling', 'ceiling_per_s')}/s (pipelined GEOADD floor "
            f"{_get(r, 'ingestion_floor', 'geoadd_per_s')}/s); booking → offer p50 "
            f"{_get(r, 'bookings', 'booking_to_offer_ms', 'p50')} / p99 "
            f"{_get(r, 'bookings', 'booking_to_offer_ms', 'p99')} ms; floor p50 {_get(r, 'floor', 'latency_ms', 'p50')}"
            f" / p99 {_get(r, 'floor', 'latency_ms', 'p99')} ms")


def _connections(r: dict[str, Any]) -> str:
    return (f"{_get(r, 'drivers', 'hold', 'open_after')} drivers and {_get(r, 'consoles', 'hold', 'open_after')} "
            f"sockets held; {_get(r, 'drivers', 'kb_per_connection')} KB a driver, "
            f"{_get(r, 'consoles', 'kb_per_connection')} KB a console; floor "
            f"{_get(r, 'floor', 'kb_per_connection')} KB")


def _reports(r: dict[str, Any]) -> str:
    slowest = max((row for row in r.get("reports", [])), key=lambda row: row["cold_ms"]["max"], default=None)
    worst = f"{slowest['report']} ({slowest['format']}) {slowest['cold_ms']['max']} ms" if slowest else "none"
    return f"every report under 1 s: {r.get('all_under_1s')}; slowest cold: {worst}"


def _plain(*path: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: f"{'.'.join(path)}: {_get(r, *path)}"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its script, its result file, its headline, and the sizes of a quick run."""

    name: str
    headline: Callable[[dict[str, Any]], str]
    quick: dict[str, str] = field(default_factory=dict)


BENCHMARKS = (
    Benchmark("startup", _plain("first_start_seconds", "median"), {"BENCH_RUNS": "1"}),
    Benchmark("zones", lambda r: f"{r['cases'][-1]['zones']} zones: {r['cases'][-1]['lookups_per_second']:,} lookups/s",
              {"BENCH_LOOKUPS": "20000"}),
    Benchmark("import_subscribers", _plain("import", "rows_per_second"), {"ROWS": "20000"}),
    Benchmark("screenpop", _screenpop, {"SUBSCRIBERS": "50000", "SECONDS": "10"}),
    Benchmark("connections", _connections, {"DRIVERS": "1000", "CONSOLES": "200", "STEPS": "500,1000",
                                             "HOLD_SECONDS": "25"}),
    Benchmark("dispatch", _dispatch, {"DRIVERS": "1000", "STEPS": "1000,2000", "SECONDS": "10", "RATE": "10"}),
    Benchmark("reports", _reports, {"RIDES": "200000", "RUNS": "2"}),
    Benchmark("console_booking", _plain("ring_to_confirmed_ms", "p50"), {"CYCLES": "10"}),
    Benchmark("console_board", _plain("card_in_dom_ms", "p50"), {}),
)


def run(benchmark: Benchmark, quick: bool) -> dict[str, Any]:
    """Run one benchmark's script; return how it went and its headline from its result file."""
    env = {**os.environ, **(benchmark.quick if quick else {})}
    started = time.monotonic()
    print(f"== {benchmark.name} ==", flush=True)
    done = subprocess.run([sys.executable, str(BENCH / f"{benchmark.name}.py")], env=env, cwd=BENCH.parent)
    seconds = round(time.monotonic() - started, 1)
    result_file = RESULTS / f"{benchmark.name}.json"
    if done.returncode != 0 or not result_file.exists():
        return {"name": benchmark.name, "ok": False, "seconds": seconds, "exit": done.returncode}
    data = json.loads(result_file.read_text())
    try:
        headline = benchmark.headline(data)
    except (KeyError, TypeError, ValueError) as err:
        headline = f"(result file without its headline figures: {err})"
    return {"name": benchmark.name, "ok": True, "seconds": seconds, "headline": headline}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = set(wanted) - {b.name for b in BENCHMARKS}
    if unknown:
        print(f"unknown benchmarks: {', '.join(sorted(unknown))}; known: {', '.join(b.name for b in BENCHMARKS)}")
        return 2
    runs = [run(b, quick) for b in BENCHMARKS if not wanted or b.name in wanted]
    print("\n== summary ==")
    for r in runs:
        print(f"{r['name']:<20} {'ok ' if r['ok'] else 'FAILED'} {r['seconds']:>8.1f} s  {r.get('headline', '')}")
    summary = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick, "runs": runs}
    (RESULTS / ("summary-quick.json" if quick else "summary.json")).write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
