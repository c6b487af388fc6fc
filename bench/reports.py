"""Supervisor reports over a year of history: how long each report takes, from the rollups, over the whole year.

Makes sure the bench database holds the synthetic history (bench/reports_history.py: a year, 20 million rides and
30 million calls by default; skipped when it already does), rebuilds the report rollups from it with the reports
backend's own rebuild (timed), starts `taxicrm serve` on it, signs a supervisor in and asks every report of
reports/openapi.json over the history's full year, as JSON and as CSV:

* cold: the first request for each report after a fresh start of the service, RUNS times (a restart each);
* warm: RUNS more requests for each report in a row;
* the floor, in the same warm service: an authenticated GET of the smallest staff answer (`/api/auth/me`), the
  service's fixed cost of any request, FLOOR_REQUESTS times.

Prints the figures and writes bench/results/reports.json.

    .venv/bin/python bench/reports.py                        # the full year: RIDES=20000000 CALLS=30000000
    RIDES=200000 .venv/bin/python bench/reports.py           # a quick check (subscribers and drivers scale along)
    REBUILD=0 .venv/bin/python bench/reports.py              # keep rollups already built for this history

BENCH_REDIS_URL names the service's Redis (default database 4, flushed at the start); RUNS (5) the runs of each kind;
the volumes and the database are those of bench/reports_history.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.floor import ratio, spread
from bench.reports_history import DATABASE, PASSWORD, SUPERVISOR, Volumes, ensure_history
from reports import service as reports_service
from taxicrm.settings import load_settings
from tests.support import ServiceProcess

REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
RUNS = int(os.environ.get("RUNS", "5"))
REBUILD = os.environ.get("REBUILD", "1") != "0"
TARGET_MS = 1000
FLOOR_REQUESTS = 200
# Every report of the contract, by name: its path and the parameters beside the period.
REPORTS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("peak-hours", "peak-hours", {}),
    ("complaints by category", "complaints", {"by": "category"}),
    ("complaints by driver", "complaints", {"by": "driver"}),
    ("complaints by operator", "complaints", {"by": "operator"}),
    ("complaints by area", "complaints", {"by": "area"}),
    ("complaints by period", "complaints", {"by": "period"}),
    ("drivers", "drivers", {}),
    ("operators", "operators", {}),
    ("areas (zones)", "areas", {"grid": "zones"}),
    ("areas (hex)", "areas", {"grid": "hex"}),
    ("customers", "customers", {}),
    ("forecast (8 weeks)", "forecast", {"weeks": "8"}),
)


async def rebuild_rollups() -> dict[str, Any]:
    """Rebuild every rollup from the history with the reports backend; return what it counted and how long."""
    pool = await asyncpg.create_pool(DATABASE, min_size=1, max_size=4)
    try:
        if not REBUILD and await pool.fetchval("SELECT EXISTS (SELECT FROM report_basis)"):
            print("REBUILD=0 and the rollups exist: keeping them", flush=True)
            return {"rebuilt": False}
        print("rebuilding the report rollups…", flush=True)
        started = time.monotonic()
        rebuilt = await reports_service.rebuild(pool, reports_service.basis_of(load_settings({})))
        seconds = time.monotonic() - started
        tables = {}
        for name in await pool.fetch("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'report\\_%'"):
            table = name["relname"]
            tables[table] = {"rows": await pool.fetchval(f'SELECT count(*) FROM "{table}"'),
                             "mb": round(await pool.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
                                         / 2**20, 1)}
        print(f"rebuilt in {seconds:.0f}s: {rebuilt.rides:,} rides, {rebuilt.customers:,} customers", flush=True)
        return {"rebuilt": True, "seconds": round(seconds, 1), "rides": rebuilt.rides, "customers": rebuilt.customers,
                "rollup_tables": dict(sorted(tables.items(), key=lambda t: -t[1]["mb"]))}
    finally:
        await pool.close()


async def flush_redis() -> None:
    db = int(urlsplit(REDIS).path.lstrip("/") or 0)
    if db in (12, 13, 14, 15):
        raise SystemExit(f"BENCH_REDIS_URL uses database {db}, which the tests use; pick another")
    client = aioredis.from_url(REDIS)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def sign_in(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    async with session.post(f"{url}/api/auth/login", json={"username": SUPERVISOR, "password": PASSWORD}) as response:
        if response.status != 200:
            raise RuntimeError(f"supervisor login failed: {response.status} {await response.text()}")
        token = (await response.json())["token"]
    session.cookie_jar.clear()
    return {"Authorization": f"Bearer {token}"}


async def timed(session: aiohttp.ClientSession, url: str, headers: dict[str, str], path: str,
                params: dict[str, str]) -> tuple[float, int]:
    """Ask for one answer under /api/ and read it whole; return the milliseconds and the bytes."""
    started = time.perf_counter()
    async with session.get(f"{url}/api/{path}", params=params, headers=headers) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} {params}: {response.status} {body[:300]!r}")
    return (time.perf_counter() - started) * 1000, len(body)


def requests(first: date, last: date) -> list[tuple[str, str, str, dict[str, str]]]:
    """Every report in both formats over the period: (name, format, path, params)."""
    period = {"from": first.isoformat(), "to": last.isoformat()}
    out = []
    for name, path, extra in REPORTS:
        params = extra if path == "forecast" else {**period, **extra}
        out += [(name, "json", path, params), (name, "csv", path, {**params, "format": "csv"})]
    return out


async def floor(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> list[float]:
    """Time the service's smallest authenticated answer: what any request costs before a report's own work."""
    return [(await timed(session, url, headers, "auth/me", {}))[0] for _ in range(FLOOR_REQUESTS)]


async def measure(env: dict[str, str], first: date, last: date, logs: Path
                  ) -> tuple[dict[tuple[str, str], dict[str, Any]], list[float]]:
    """Time every report cold (first after a fresh start, RUNS starts) and warm (RUNS in a row), and the floor."""
    asked = requests(first, last)
    cold: dict[tuple[str, str], list[float]] = {(n, f): [] for n, f, _, _ in asked}
    warm: dict[tuple[str, str], list[float]] = {(n, f): [] for n, f, _, _ in asked}
    sizes: dict[tuple[str, str], int] = {}
    floor_ms: list[float] = []
    for run in range(RUNS):
        service = ServiceProcess(env).start(logs)
        try:
            async with aiohttp.ClientSession() as session:
                headers = await sign_in(session, service.url)
                for name, fmt, path, params in asked:
                    ms, size = await timed(session, service.url, headers, f"reports/{path}", params)
                    cold[(name, fmt)].append(ms)
                    sizes[(name, fmt)] = size
                if run == RUNS - 1:
                    floor_ms = await floor(session, service.url, headers)
                    for name, fmt, path, params in asked:
                        for _ in range(RUNS):
                            warm[(name, fmt)].append(
                                (await timed(session, service.url, headers, f"reports/{path}", params))[0])
        finally:
            service.stop()
        print(f"run {run + 1}/{RUNS}: " + ", ".join(f"{n} {f} {cold[(n, f)][-1]:.0f} ms" for n, f, _, _ in asked),
              flush=True)
    return {key: {"cold_ms": figures(cold[key]), "warm_ms": figures(warm[key]), "bytes": sizes[key],
                  "under_1s": max(cold[key] + warm[key]) < TARGET_MS} for key in cold}, floor_ms


def figures(values: list[float]) -> dict[str, Any]:
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1),
            "runs": [round(v, 1) for v in values]}


def table(results: dict[tuple[str, str], dict[str, Any]]) -> str:
    """The figures as a Markdown table, as bench/README.md shows them."""
    lines = ["| report | JSON cold p50 / max | JSON warm p50 / max | CSV cold p50 / max | CSV warm p50 / max |",
             "| --- | --- | --- | --- | --- |"]
    for name, _, _ in REPORTS:
        cells = []
        for fmt in ("json", "csv"):
            r = results[(name, fmt)]
            cells += [f"{r['cold_ms']['p50']:.0f} / {r['cold_ms']['max']:.0f} ms",
                      f"{r['warm_ms']['p50']:.0f} / {r['warm_ms']['max']:.0f} ms"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main() -> None:
    volumes = Volumes.from_env()
    load = os.getloadavg()
    history = await ensure_history(volumes)
    rollups = await rebuild_rollups()
    await flush_redis()
    first, last = date.fromisoformat(history["first_day"]), date.fromisoformat(history["last_day"])
    env = {"DATABASE_URL": DATABASE, "REDIS_URL": REDIS, "TAXICRM_ACCESS_LOG": "false",
           "TAXICRM_LOG_LEVEL": "warning", "TAXICRM_WORKERS": "1"}
    with tempfile.TemporaryDirectory() as logs:
        results, floor_ms = await measure(env, first, last, Path(logs))
    conn = await asyncpg.connect(DATABASE)
    try:
        database_mb = round(await conn.fetchval("SELECT pg_database_size(current_database())") / 2**20)
    finally:
        await conn.close()
    floor_spread = spread(floor_ms)
    slow = sorted({name for (name, _), r in results.items() if not r["under_1s"]})
    result = {
        "benchmark": "reports", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_start": [round(v, 2) for v in load]},
        "period": {"from": first.isoformat(), "to": last.isoformat()}, "runs": RUNS,
        "history": {k: v for k, v in history.items() if k != "months"},
        "rollups": rollups, "database_mb": database_mb,
        "reports": [{"report": name, "format": fmt, **r} for (name, fmt), r in results.items()],
        "all_under_1s": not slow, "over_1s": slow,
        "floor_ms": floor_spread,
        "warm_p50_times_the_floor": {name: ratio(r["warm_ms"], floor_spread)["p50"]
                                     for (name, fmt), r in results.items() if fmt == "json"},
        "note": "client-side milliseconds from sending the GET to reading the whole body; cold is the first request "
                "for each report after a fresh start of the service (PostgreSQL's and the OS's caches stay warm); "
                "the floor is an authenticated GET /api/auth/me in the warm service; "
                "the bench, the service and PostgreSQL share the machine's 2 cores",
    }
    print(json.dumps(result, indent=2, default=str))
    print(table(results))
    out = Path(__file__).parent / "results" / "reports.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
