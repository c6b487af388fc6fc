"""Dispatch speed: position ingestion from a full fleet, and the time from a booking to the offer on a driver's phone.

Loads DRIVERS drivers (default 20,000, fewer if the open-file limit cannot hold that many sockets) with app
tokens into a bench database, starts `taxicrm serve` on it and brings every driver online over the real driver
websocket, each going `available` somewhere in Tehran and sending a position every UPDATE_INTERVAL seconds
(default 3, jittered ±10%). The drivers live in WORKERS processes of their own (bench/dispatch_fleet.py), so the
load generator does not starve the clock that times the bookings; they run at niceness FLEET_NICE (default 10), so
that, like phones out in the city, they use only the CPU the service, PostgreSQL and Redis leave (the figures say
whether they still sent on time). An offer is stamped when a fleet process reads it, so a fleet kept waiting for
the CPU can only make booking -> offer look slower. If the fleet stops coming online (no progress
for STALL_SECONDS), the bench measures ingestion with those online and stops there. Otherwise:

1. Ingestion at the nominal rate (online drivers / UPDATE_INTERVAL updates a second) for MEASURE_SECONDS: what
   the fleet sent, what Redis shows (every driver's last-seen score, read every second or faster), PROBES probe
   drivers (on a break, so never offered a ride) timing their own positions until Redis shows them, and the CPU
   of the service and of everything else on the machine.
2. The ingestion ceiling: the same drivers sending more often, one rate after another from STEPS, until the
   service no longer keeps up (see KEEPS_UP); the highest rate that kept up is the ceiling. Then back to the
   nominal rate, waiting (at most RECOVER_SECONDS) until ingestion is healthy again.
3. Bookings: first WARM_SECONDS (default 25) of bookings at RATE, reported apart as the warm-up, so that the
   measured ones meet rides at every step of their life beside them (booked, accepted, arriving, on board,
   completing), as at a center's peak, and a service that has already run each step's statements. Then RATE
   bookings a second for SECONDS seconds, open loop, each `POST /api/rides` with a pickup near a random driver,
   timed from sending the request to the offer arriving on whichever driver's websocket (the fleet processes stamp
   it with CLOCK_MONOTONIC, which is one clock for the whole machine). Drivers tap accept after ACCEPT_DELAY
   seconds (DECLINE_SHARE of them decline instead, and the ride goes to the next driver), then arrive, pick up and
   complete the ride, and are free again. In the same seconds, beside one booking in FLOOR_EVERY (default 5), the
   floor: the benchmark itself doing one Redis GEOSEARCH, one PostgreSQL transaction (the candidate-facts query and
   an insert) and one websocket round trip to a trivial echo server.

Prints the figures as JSON and writes bench/results/dispatch.json; the service's log is kept in
/tmp/bench-dispatch-service.log.

    .venv/bin/python bench/dispatch.py                 # DRIVERS=20000 RATE=50 SECONDS=30 UPDATE_INTERVAL=3 ...
    DRIVERS=4000 STEPS=2000,3000,4000 .venv/bin/python bench/dispatch.py   # a smaller fleet
    PROFILE_DIR=/tmp/prof .venv/bin/python bench/dispatch.py   # also py-spy each phase (raw collapsed stacks)
    PROFILE_DIR=/tmp/prof PROFILE_NATIVE=1 .venv/bin/python bench/dispatch.py   # with native frames (slower)

BENCH_POSTGRES_URL names the PostgreSQL server (the database `taxicrm_bench_dispatch` is dropped and recreated),
BENCH_REDIS_URL the Redis database (default 11, flushed at the start; 12 to 15 belong to the tests), and
SERVICE_REDIS_MAX_CONNECTIONS, if set, the service's Redis pool size (passed as ?max_connections= on its URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import gc
import hashlib
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch_fleet import (
    AREA,
    Channel,
    FleetOptions,
    MonitorOptions,
    run_echo_server,
    run_fleet,
    run_monitor,
)
from bench.floor import pct, pipelined_geoadd, ratio, spread
from dispatch.offer_store import SELECT_CANDIDATE_FACTS
from dispatch.offers import SEARCH_COUNTS, SEARCH_RADII_M
from dispatch.positions import GEO_KEY
from dispatch.tokens import new_driver_token, token_hash
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.support import ServiceProcess, free_port, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = with_database(SERVER, "taxicrm_bench_dispatch")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
DRIVERS = int(os.environ.get("DRIVERS", "20000"))  # lowered at start if the service cannot hold that many sockets
ASKED_DRIVERS = DRIVERS
SERVICE_FILES = 200  # what the service holds open besides the drivers' sockets, with room to spare
# Unset: the service's default Redis pool; a number is passed as ?max_connections= on the service's REDIS_URL.
SERVICE_REDIS_MAX_CONNECTIONS = os.environ.get("SERVICE_REDIS_MAX_CONNECTIONS", "")
# `taxicrm serve` processes (TAXICRM_WORKERS): one per core; each holds its share of the drivers' sockets.
SERVICE_WORKERS = int(os.environ.get("SERVICE_WORKERS", str(os.cpu_count() or 1)))
WORKERS = int(os.environ.get("WORKERS", "2"))
# The fleet processes' niceness (see FleetOptions.nice); 0 makes them compete with the service as equals.
FLEET_NICE = int(os.environ.get("FLEET_NICE", "10"))
PROBES = int(os.environ.get("PROBES", "50"))
UPDATE_INTERVAL = float(os.environ.get("UPDATE_INTERVAL", "3"))
RATE = int(os.environ.get("RATE", "50"))
SECONDS = int(os.environ.get("SECONDS", "30"))
# Bookings at RATE before the measured ones, so that the measured seconds see rides at every step of their life
# (booked, accepted, arriving, on board, completing), not only bookings and accepts.
WARM_SECONDS = int(os.environ.get("WARM_SECONDS", "25"))
# The floor runs beside one booking in FLOOR_EVERY (before 2026-12-07: beside every one). It is a sample of what
# the machine's load does to a trivial operation, and at every booking it cost the machine the bench measures
# about a fifth of a ride's round trips again (a search, a four-statement transaction, a websocket echo).
FLOOR_EVERY = int(os.environ.get("FLOOR_EVERY", "5"))
WARM_FIRST = 1_000_000  # the warm-up's booking numbers start here, apart from the measured ones
MEASURE_SECONDS = int(os.environ.get("MEASURE_SECONDS", "20"))
SETTLE_SECONDS = int(os.environ.get("SETTLE_SECONDS", "10"))
STEPS = [int(s) for s in os.environ.get("STEPS", "10000,15000,20000,25000,30000,40000").split(",") if s.strip()]
CONNECT_CONCURRENCY = int(os.environ.get("CONNECT_CONCURRENCY", "8"))  # per fleet process
CONNECT_WAIT = int(os.environ.get("CONNECT_WAIT", "900"))
ANSWER_WAIT = 30  # seconds after the last booking left that answers (and the floor) are still waited for
RECOVER_SECONDS = int(os.environ.get("RECOVER_SECONDS", "120"))
STALL_SECONDS = int(os.environ.get("STALL_SECONDS", "90"))  # no progress this long: the fleet will not come online
ACCEPT_DELAY = tuple(float(s) for s in os.environ.get("ACCEPT_DELAY", "1,3").split(","))
DECLINE_SHARE = float(os.environ.get("DECLINE_SHARE", "0.1"))
PROFILE_DIR = os.environ.get("PROFILE_DIR", "")
# Also C and Cython frames (the collector, asyncpg's protocol, aiohttp's frame reader); pauses the service to sample.
PROFILE_NATIVE = os.environ.get("PROFILE_NATIVE", "") == "1"
SERVICE_LOG = Path(tempfile.gettempdir()) / "bench-dispatch-service.log"
LOCK_FILE = Path(tempfile.gettempdir()) / "bench-dispatch.lock"
PASSWORD = "bench dispatcher pw"
USERNAME = "bench-dispatcher"
SEED = 20_000

# What "keeps up" means for a step of the ceiling (and the nominal rate).
KEEPS_UP = {
    "sent_share": 0.95,  # the fleet sent at least this share of the target rate
    "refreshed_share": 0.95,  # Redis shows at least this share of what was sent
    "stale_share": 0.01,  # at most this share of drivers older than their interval × 1.1 + 1 s, at any sample
    "probe_visible_p99_ms": 500,  # a position readable in Redis within this (the flush alone is up to 150 ms)
    "service_cpu_pct": 90,  # of one core: the service is one event loop
}

FLOOR_TABLE = "CREATE TABLE IF NOT EXISTS bench_floor (n integer, driver_id bigint, at timestamptz)"
FLOOR_INSERT = "INSERT INTO bench_floor (n, driver_id, at) VALUES ($1, $2, now())"
CLEAN = """TRUNCATE ride_searches, ride_offers, ride_trace_points, ride_events, rides,
           driver_tokens, drivers, bench_floor RESTART IDENTITY CASCADE"""
LOAD_DRIVERS = """
    INSERT INTO drivers (id, name, phone, vehicle_class)
        SELECT g, 'Bench driver ' || g, '+98935' || lpad(g::text, 7, '0'), 'sedan' FROM generate_series(1, $1) g
"""
LOAD_TOKENS = "INSERT INTO driver_tokens (driver_id, token_hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"


# Preparing.

def raise_open_files(need: int) -> int:
    """Raise this process's open-file limit (the service and the fleet inherit it); return the new limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, need)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))  # Above the hard limit only as root.
    except (ValueError, OSError):
        want = hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return want


async def prepare_database() -> list[tuple[int, str]]:
    """Recreate the bench database, load the drivers with fresh tokens and a bench operator; return (id, token)."""
    admin = await asyncpg.connect(SERVER)
    name = urlsplit(DATABASE).path.lstrip("/")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate(DATABASE)
    tokens = [new_driver_token() for _ in range(DRIVERS)]
    conn = await asyncpg.connect(DATABASE)
    try:
        await conn.execute(FLOOR_TABLE)
        await conn.execute(CLEAN)
        async with conn.transaction():
            await conn.execute(LOAD_DRIVERS, DRIVERS)
            await conn.execute("SELECT setval('drivers_id_seq', $1)", DRIVERS)
            await conn.execute(LOAD_TOKENS, list(range(1, DRIVERS + 1)), [token_hash(t) for t in tokens])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    await create_user(DATABASE, USERNAME, "Bench dispatcher", "operator", PASSWORD, None)
    return list(enumerate(tokens, start=1))


async def flush_redis() -> int:
    """Empty the bench's Redis database and return the Redis server's pid (for its CPU)."""
    db = int(urlsplit(REDIS).path.lstrip("/") or 0)
    if db in (12, 13, 14, 15):
        raise SystemExit(f"BENCH_REDIS_URL uses database {db}, which the tests use; pick another")
    client = aioredis.from_url(REDIS)
    try:
        await client.flushdb()
        return int((await client.info("server"))["process_id"])
    finally:
        await client.aclose()


def homes(count: int) -> list[tuple[float, float]]:
    """Where each driver starts: uniformly over central Tehran, the same every run."""
    rng = random.Random(SEED)
    south, west, north, east = AREA
    return [(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(count)]


# CPU, from /proc: percent of one core, so 200 means both cores of a two-core machine.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """Seconds of CPU (user + system) the process has used; None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (the service's workers)."""
    try:
        return [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    except OSError:
        return []


def service_pids(parent: int) -> list[int]:
    """The service's processes: `taxicrm serve` and its workers."""
    return [parent, *child_pids(parent)]


def service_rss_mb(parent: int) -> float:
    """Resident memory of the service's processes together, in MiB."""
    return sum(rss_mb(pid) or 0 for pid in service_pids(parent))


def machine_cpu() -> tuple[int, int]:
    """Busy and total jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return None


class CpuWindow:
    """CPU used by groups of processes between its creation and `percent()`."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.started = time.monotonic()
        self.before = {pid: process_cpu(pid) for pids in groups.values() for pid in pids}
        self.machine = machine_cpu()

    def percent(self) -> dict[str, float]:
        """Percent of one core per group (a process gone meanwhile is left out), the machine, and the rest."""
        elapsed = time.monotonic() - self.started
        shares = {}
        for name, pids in self.groups.items():
            used = 0.0
            for pid in pids:
                before, after = self.before.get(pid), process_cpu(pid)
                if before is not None and after is not None:
                    used += after - before
            shares[name] = round(100 * used / elapsed, 1)
        busy, total = machine_cpu()
        cores = os.cpu_count() or 1
        machine = 100 * cores * (busy - self.machine[0]) / max(1, total - self.machine[1])
        shares["machine"] = round(machine, 1)
        shares["others"] = round(max(0.0, machine - sum(v for k, v in shares.items() if k != "machine")), 1)
        return shares


def profiler() -> str:
    """The py-spy executable, with PROFILE_DIR created for its output."""
    Path(PROFILE_DIR).mkdir(parents=True, exist_ok=True)
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


# The child processes: fleet workers, the monitor, the echo server.

@dataclass(eq=False)
class Child:
    """A child process and its pipe."""

    name: str
    process: BaseProcess
    channel: Channel
    online: asyncio.Future[tuple[Any, ...]]


@dataclass
class Children:
    """Starts the child processes, routes their messages, and stops them (by force if they dawdle)."""

    context: Any = field(default_factory=lambda: multiprocessing.get_context("spawn"))
    children: list[Child] = field(default_factory=list)
    offers: list[tuple[Any, ...]] = field(default_factory=list)
    replies: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    asked: int = 0
    offer_came: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self, name: str, target: Callable[..., None], *args: Any) -> Child:
        mine, theirs = self.context.Pipe()
        process = self.context.Process(target=target, args=(theirs, *args), name=name, daemon=True)
        process.start()
        theirs.close()
        online: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        child = Child(name, process, None, online)  # type: ignore[arg-type]  # The channel needs the child.
        child.channel = Channel(mine, lambda message: self.on_message(child, message))
        self.children.append(child)
        return child

    def on_message(self, child: Child, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "offer":
            self.offers.append(message[1:])
            self.offer_came.set()
        elif kind == "online" and not child.online.done():
            child.online.set_result(message[1:])
        elif kind in ("stats", "summary"):
            reply = self.replies.pop(message[1], None)
            if reply is not None and not reply.done():
                reply.set_result(message[2])
        elif kind == "eof" and not child.online.done():
            child.online.set_exception(RuntimeError(f"{child.name} exited with {child.process.exitcode}"))

    async def ask(self, child: Child, kind: str, *args: Any) -> Any:
        """Send a request and wait (at most 30 s) for the child's reply."""
        self.asked += 1
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.replies[self.asked] = reply
        child.channel.send(kind, self.asked, *args)
        return await asyncio.wait_for(reply, 30)

    async def next_offer(self, within: float) -> None:
        """Wait until another offer is reported, or `within` seconds pass."""
        self.offer_came.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.offer_came.wait(), max(0.0, within))

    def tell(self, children: list[Child], *message: Any) -> None:
        for child in children:
            child.channel.send(*message)

    async def stop(self) -> None:
        """Ask every child to stop, give them 30 s together, then terminate (and kill) the stragglers."""
        self.tell(self.children, "stop")
        await asyncio.to_thread(self._join, time.monotonic() + 30)
        for child in self.children:
            if child.process.is_alive():
                child.process.terminate()
                child.process.join(5)
            if child.process.is_alive():
                child.process.kill()
                child.process.join(5)
            child.channel.close()

    def _join(self, deadline: float) -> None:
        for child in self.children:
            child.process.join(max(0.0, deadline - time.monotonic()))


# Measuring.

@dataclass
class Bench:
    """The running benchmark: the service, the child processes, and what is needed to measure them."""

    service: ServiceProcess
    children: Children
    redis_pid: int
    workers: list[Child] = field(default_factory=list)
    monitor: Child | None = None
    interval: float = UPDATE_INTERVAL
    online: int = 0  # drivers online, probes included
    profiles: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def service_pid(self) -> int:
        assert self.service.process is not None
        return self.service.process.pid

    async def cpu_groups(self) -> dict[str, list[int]]:
        conn = await asyncpg.connect(DATABASE)
        try:
            backends = [r["pid"] for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        finally:
            await conn.close()
        return {"service": service_pids(self.service_pid),
                "fleet": [w.process.pid or 0 for w in self.workers],
                "monitor": [self.monitor.process.pid or 0] if self.monitor else [],
                "bench_main": [os.getpid()], "redis": [self.redis_pid], "postgres": backends}

    async def fleet_stats(self) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.children.ask(w, "stats") for w in self.workers)))

    def set_interval(self, interval: float) -> None:
        self.interval = interval
        self.children.tell([*self.workers, *([self.monitor] if self.monitor else [])], "interval", interval)

    async def profile(self, name: str, seconds: float) -> None:
        """Record the service with py-spy for `seconds`, if PROFILE_DIR is set (collapsed stacks, for reading)."""
        if not PROFILE_DIR:
            return
        exe = profiler()
        self.profiles.append(await asyncio.create_subprocess_exec(
            exe, "record", "--subprocesses", "--pid", str(self.service_pid), "--duration", str(int(seconds)),
            "--rate", "100", *(["--native"] if PROFILE_NATIVE else ["--nonblocking"]),
            "--format", "raw", "-o", str(Path(PROFILE_DIR) / f"{name}.txt"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    async def ingestion(self, name: str, seconds: float) -> dict[str, Any]:
        """Measure position ingestion over `seconds` at the current interval."""
        assert self.monitor is not None
        before = await self.fleet_stats()
        window = CpuWindow(await self.cpu_groups())
        await self.profile(name, seconds)
        since = time.time()
        await asyncio.sleep(seconds)
        until = time.time()
        cpu = window.percent()
        after = await self.fleet_stats()
        seen = await self.children.ask(self.monitor, "summary", since, until)
        return ingestion_figures(self.online, self.interval, until - since, before, after, seen, cpu,
                                 self.service_pid)


def ingestion_figures(online: int, interval: float, seconds: float, before: list[dict[str, Any]],
                      after: list[dict[str, Any]], seen: dict[str, Any], cpu: dict[str, float],
                      service_pid: int) -> dict[str, Any]:
    target = online / interval
    sent = (sum(a["sent"] for a in after) - sum(b["sent"] for b in before) + seen["probe_positions"]) / seconds
    refreshed = seen["redis_refreshed_per_s"] or 0
    checks = {
        "sent": sent >= KEEPS_UP["sent_share"] * target,
        "refreshed": refreshed >= KEEPS_UP["refreshed_share"] * sent,
        "fresh": seen["stale_max"] is not None and seen["stale_max"] <= KEEPS_UP["stale_share"] * online,
        "probe_lag": (seen["probe_visible_ms"]["p99"] or 1e9) <= KEEPS_UP["probe_visible_p99_ms"],
        "service_cpu": cpu["service"] <= KEEPS_UP["service_cpu_pct"],
    }
    return {
        "interval_s": round(interval, 3), "target_per_s": round(target), "sent_per_s": round(sent),
        "redis_refreshed_per_s": refreshed, "seconds": round(seconds, 1), **seen,
        "internal_errors": sum(a["counts"].get("error_internal_error", 0) for a in after)
                           - sum(b["counts"].get("error_internal_error", 0) for b in before),
        "fleet_late_sends": sum(a["late"] for a in after) - sum(b["late"] for b in before),
        "fleet_connected": sum(a["connected"] for a in after),
        "cpu_pct": cpu, "service_rss_mb": service_rss_mb(service_pid),
        "checks": checks, "keeps_up": all(checks.values()),
    }


# The phases.

async def bring_online(bench: Bench, drivers: list[tuple[int, str]], url: str) -> dict[str, Any]:
    """Start the fleet processes and the monitor, and wait until every driver is online."""
    places = homes(len(drivers))
    everyone = [(driver_id, token, *places[driver_id - 1]) for driver_id, token in drivers]
    probes, fleet = everyone[-PROBES:] if PROBES else [], everyone[:len(everyone) - PROBES]
    options = FleetOptions(interval=UPDATE_INTERVAL, connect_concurrency=CONNECT_CONCURRENCY, local_ip=None,
                           accept_delay=(ACCEPT_DELAY[0], ACCEPT_DELAY[-1]), decline_share=DECLINE_SHARE,
                           arrive_after=5.0, board_after=2.0, trip_seconds=10.0, nice=FLEET_NICE)
    children = bench.children
    bench.monitor = children.start("monitor", run_monitor, url, probes,
                                   MonitorOptions(REDIS, UPDATE_INTERVAL, local_ip="127.0.0.9"))
    for w in range(WORKERS):
        # Each fleet process connects from an address of its own, so each has a whole range of source ports.
        share = fleet[w::WORKERS]
        worker_options = dataclasses.replace(options, local_ip=f"127.0.0.{10 + w}")
        bench.workers.append(children.start(f"fleet-{w}", run_fleet, url, share, worker_options))
    started = time.monotonic()
    window = CpuWindow({"service": service_pids(bench.service_pid),
                        "fleet": [w.process.pid or 0 for w in bench.workers]})
    everyone_online = asyncio.gather(*(c.online for c in [bench.monitor, *bench.workers]))
    stalled = await watch_ramp(bench, everyone_online, started)
    if stalled:
        children.tell(bench.workers, "stop_connecting")  # Keep who is online; stop hammering the service.
    answers = await asyncio.wait_for(everyone_online, 120)
    stats = await bench.fleet_stats()
    seconds = time.monotonic() - started
    bench.online = sum(a[0] for a in answers)
    failed = sum(a[1] for a in answers)
    errors = [e for a in answers for e in a[2]][:5]
    print(f"{bench.online:,} drivers online in {seconds:.0f}s ({failed} failed){' STALLED' if stalled else ''}",
          flush=True)
    return {"drivers_online": bench.online, "failed": failed, "stalled": stalled, "errors": errors,
            "seconds": round(seconds, 1), "per_s": round(bench.online / seconds), "cpu_pct": window.percent(),
            "connect_retries": sum(s["counts"].get("connect_retries", 0) for s in stats),
            "internal_errors": sum(s["counts"].get("error_internal_error", 0) for s in stats),
            "service_rss_mb": service_rss_mb(bench.service_pid)}


async def watch_ramp(bench: Bench, everyone_online: asyncio.Future[Any], started: float) -> bool:
    """Wait for the fleet to come online, saying how it goes; True if it stalled or took longer than CONNECT_WAIT."""
    best, best_at, said = 0, started, started
    while True:
        await asyncio.wait({everyone_online}, timeout=10)
        if everyone_online.done():
            return False
        stats = await bench.fleet_stats()
        online, now = sum(s["connected"] for s in stats), time.monotonic()
        if online > best + DRIVERS // 200:
            best, best_at = online, now
        if now - said >= 30:
            said = now
            print(f"  {online:,} online after {now - started:.0f}s, "
                  f"{sum(s['counts'].get('connect_retries', 0) for s in stats):,} retries, "
                  f"{sum(s['counts'].get('error_internal_error', 0) for s in stats):,} internal errors", flush=True)
        if now - best_at > STALL_SECONDS or now - started > CONNECT_WAIT:
            return True
        if bench.service.process is not None and bench.service.process.poll() is not None:
            print(f"the service exited with {bench.service.process.returncode} during the ramp", flush=True)
            return True


def booking_body(n: int, place: tuple[float, float], rng: random.Random) -> dict[str, Any]:
    """A walk-in booking with a pickup within 300 m of a driver's starting place and a destination 2-6 km away."""
    south, west, north, east = AREA
    lat = place[0] + rng.uniform(-0.0027, 0.0027)
    lng = place[1] + rng.uniform(-0.0033, 0.0033)
    distance, bearing = rng.uniform(0.018, 0.054), rng.uniform(0, 6.283)
    dest = (min(north, max(south, lat + distance * math.cos(bearing))),
            min(east, max(west, lng + distance * math.sin(bearing))))
    return {"walk_in_name": f"Bench rider {n}", "walk_in_phone": f"0912{n % 10_000_000:07d}",
            "pickup": {"text": f"Bench pickup {n}", "lat": round(lat, 6), "lng": round(lng, 6)},
            "destination": {"text": f"Bench destination {n}", "lat": round(dest[0], 6), "lng": round(dest[1], 6)},
            "notes_for_driver": f"bench {n}", "confirm_duplicate": True}


@dataclass
class Floor:
    """The floor: one GEOSEARCH, one PostgreSQL transaction and one websocket round trip, done by the bench itself."""

    redis: aioredis.Redis
    pool: asyncpg.Pool
    ws: aiohttp.ClientWebSocketResponse
    waiting: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    totals: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=lambda: {"geosearch": [], "transaction": [], "ws": []})
    errors: int = 0

    async def read_echoes(self) -> None:
        async for frame in self.ws:
            received = time.monotonic_ns()
            waiter = self.waiting.pop(json.loads(frame.data)["n"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(received)

    async def once(self, n: int, lat: float, lng: float) -> None:
        try:
            started = time.monotonic_ns()
            # The service's first circle, where most rides find their driver.
            found = await self.redis.geosearch(GEO_KEY, longitude=lng, latitude=lat, radius=SEARCH_RADII_M[0],
                                               unit="m", sort="ASC", count=SEARCH_COUNTS[0], withdist=True,
                                               withcoord=True)
            searched = time.monotonic_ns()
            ids = [int(member) for member, _, _ in found]
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.fetch(SELECT_CANDIDATE_FACTS, ids)
                await conn.execute(FLOOR_INSERT, n, ids[0] if ids else None)
            committed = time.monotonic_ns()
            echoed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self.waiting[n] = echoed
            # About the size of a real offer message.
            await self.ws.send_str(json.dumps({"n": n, "type": "offer", "driver_id": ids[0] if ids else None,
                                               "padding": "x" * 900}))
            done = await asyncio.wait_for(echoed, 10)
        except (RedisError, asyncpg.PostgresError, OSError, TimeoutError, aiohttp.ClientError):
            self.errors += 1
            return
        self.totals.append((done - started) / 1e6)
        self.parts["geosearch"].append((searched - started) / 1e6)
        self.parts["transaction"].append((committed - searched) / 1e6)
        self.parts["ws"].append((done - committed) / 1e6)

    def start_over(self) -> None:
        self.totals.clear()
        for times in self.parts.values():
            times.clear()

    def figures(self) -> dict[str, Any]:
        return {"ops": len(self.totals), "errors": self.errors, "latency_ms": spread(self.totals),
                "parts_p50_ms": {k: pct(sorted(v), 50) for k, v in self.parts.items()},
                "parts_p99_ms": {k: pct(sorted(v), 99) for k, v in self.parts.items()}}


async def bookings(bench: Bench, session: aiohttp.ClientSession, url: str, token: str, floor: Floor,
                   places: list[tuple[float, float]], seconds: int, first: int = 0,
                   phase: str | None = "bookings") -> dict[str, Any]:
    """Book RATE rides a second for `seconds` (and run the floor beside them); time each to its first offer.

    The bookings are numbered from `first`; `phase` names the service's profile, if one is recorded.
    """
    gc.disable()  # The bench's own collection pauses would be counted as the service's latency.
    rng = random.Random(SEED + 1)
    sent: dict[int, int] = {}
    responses: list[float] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def book(n: int) -> None:
        body = booking_body(n, places[rng.randrange(len(places) - PROBES)], rng)
        started = time.monotonic_ns()
        sent[n] = started
        try:
            async with session.post(f"{url}/api/rides", json=body,
                                    headers={**headers, "Idempotency-Key": f"bench-{n}"}) as response:
                text = await response.text()
                responses.append((time.monotonic_ns() - started) / 1e6)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status != 201 and len(failures) < 3:
                    failures.append(f"{response.status}: {text[:300]}")
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            statuses[0] = statuses.get(0, 0) + 1
            if len(failures) < 3:
                failures.append(repr(err)[:300])

    total = RATE * seconds
    before = await bench.fleet_stats()
    window = CpuWindow(await bench.cpu_groups())
    if phase is not None:
        await bench.profile(phase, seconds)
    since = time.time()
    began = time.monotonic()
    tasks = []
    for n in range(first, first + total):
        # Open loop: requests leave on schedule whether or not earlier ones were answered; the floor half a
        # period later, so the two do not always collide.
        delay = began + (n - first) / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(book(n)))
        lat, lng = places[rng.randrange(len(places))]
        if n % FLOOR_EVERY == 0:
            tasks.append(asyncio.create_task(floor_later(floor, n, lat, lng, 0.5 / RATE)))
    elapsed = time.monotonic() - began
    _, unanswered = await asyncio.wait(tasks, timeout=ANSWER_WAIT)
    for task in unanswered:  # Still waiting for the service ANSWER_WAIT seconds after the last booking left.
        task.cancel()
    until = time.time()
    cpu = window.percent()
    deadline = time.monotonic() + 5  # Offers still on their way.
    while len(first_offers(bench.children.offers)) < statuses.get(201, 0) and time.monotonic() < deadline:
        await bench.children.next_offer(deadline - time.monotonic())
    after = await bench.fleet_stats()
    seen = await bench.children.ask(bench.monitor, "summary", since, until) if bench.monitor else {}
    gc.enable()

    offers = first_offers(bench.children.offers)
    latencies = [(offers[n][0] - sent[n]) / 1e6 for n in sent if n in offers]
    counts = {k: sum(a["counts"].get(k, 0) for a in after) - sum(b["counts"].get(k, 0) for b in before)
              for k in sorted({k for a in after for k in a["counts"]})}
    distances = sorted(d for _, d in offers.values() if d is not None)
    return {
        "rate_per_s": RATE, "seconds": seconds, "bookings_sent": total,
        "achieved_rate_per_s": round(total / elapsed, 1), "http_statuses": statuses, "http_failures": failures,
        "unanswered_after_s": {"seconds": ANSWER_WAIT, "bookings": total - len(responses)},
        "booking_response_ms": spread(responses),
        "offers_received": len(bench.children.offers), "bookings_offered": len(latencies),
        "bookings_without_offer": total - len(latencies),
        "booking_to_offer_ms": spread(latencies),
        "booking_to_offer_by_second": by_second({n - first: (offers[n][0] - sent[n]) / 1e6 for n in sent
                                                 if n in offers}),
        "first_offer_distance_m_p50": distances[len(distances) // 2] if distances else None,
        "driver_messages": counts, "cpu_pct": cpu, "service_rss_mb": service_rss_mb(bench.service_pid),
        "ingestion_meanwhile": {k: seen.get(k) for k in ("redis_refreshed_per_s", "stale_max", "probe_handled_ms",
                                                         "probe_visible_ms")},
    }


def by_second(latencies: dict[int, float]) -> list[dict[str, float]]:
    """Median and worst of the bookings sent in each second, to tell a steady queue from a passing stall."""
    seconds: dict[int, list[float]] = {}
    for n, ms in latencies.items():
        seconds.setdefault(n // RATE, []).append(ms)
    return [{"second": s, "p50": round(statistics.median(v), 1), "max": round(max(v), 1), "count": len(v)}
            for s, v in sorted(seconds.items())]


async def floor_later(floor: Floor, n: int, lat: float, lng: float, delay: float) -> None:
    await asyncio.sleep(delay)
    await floor.once(n, lat, lng)


def first_offers(reports: list[tuple[Any, ...]]) -> dict[int, tuple[int, Any]]:
    """The first offer's receive time (and distance) for each booking, by the booking's number in its notes."""
    first: dict[int, tuple[int, Any]] = {}
    for notes, _ride_id, _offer_id, _driver_id, received, distance in reports:
        if isinstance(notes, str) and notes.startswith("bench "):
            n = int(notes.split()[1])
            if n not in first or received < first[n][0]:
                first[n] = (received, distance)
    return first


async def ceiling(bench: Bench, nominal: dict[str, Any]) -> dict[str, Any]:
    """Raise the update rate step by step until ingestion no longer keeps up; return the steps and the ceiling."""
    steps = []
    best = nominal["sent_per_s"] if nominal["keeps_up"] else None
    for rate in (r for r in STEPS if r > nominal["target_per_s"]):
        bench.set_interval(bench.online / rate)
        await asyncio.sleep(max(5.0, 1.5 * bench.interval))
        step = await bench.ingestion(f"ceiling-{rate}", max(10, MEASURE_SECONDS // 2 + 5))
        steps.append(step)
        print(f"  {rate:>6,}/s: sent {step['sent_per_s']:,}/s, Redis {step['redis_refreshed_per_s']:,}/s, "
              f"probe p99 {step['probe_visible_ms']['p99']} ms, service {step['cpu_pct']['service']}%, "
              f"{'keeps up' if step['keeps_up'] else 'does not keep up: ' + str(step['checks'])}", flush=True)
        if not step["keeps_up"]:
            break
        best = step["sent_per_s"]
    bench.set_interval(UPDATE_INTERVAL)
    return {"steps": steps, "ceiling_per_s": best,
            "first_failing_per_s": steps[-1]["sent_per_s"] if steps and not steps[-1]["keeps_up"] else None,
            "limit": None if steps and steps[-1]["keeps_up"] else
            [k for k, ok in steps[-1]["checks"].items() if not ok] if steps else None}


async def recover(bench: Bench) -> dict[str, Any]:
    """After the ceiling, wait (at most RECOVER_SECONDS) until ingestion at the nominal rate is healthy again."""
    assert bench.monitor is not None
    started = time.monotonic()
    while time.monotonic() - started < RECOVER_SECONDS:
        since = time.time()
        await asyncio.sleep(5)
        seen = await bench.children.ask(bench.monitor, "summary", since, time.time())
        healthy = (seen["stale_max"] is not None and seen["stale_max"] <= KEEPS_UP["stale_share"] * bench.online
                   and (seen["probe_visible_ms"]["p99"] or 1e9) <= KEEPS_UP["probe_visible_p99_ms"])
        if healthy:
            return {"recovered": True, "seconds": round(time.monotonic() - started, 1)}
    print(f"ingestion did not recover within {RECOVER_SECONDS}s; booking anyway", flush=True)
    return {"recovered": False, "seconds": round(time.monotonic() - started, 1)}


async def log_in(session: aiohttp.ClientSession, url: str) -> str:
    async with session.post(f"{url}/api/auth/login", json={"username": USERNAME, "password": PASSWORD}) as response:
        if response.status != 200:
            raise RuntimeError(f"bench login failed: {response.status} {await response.text()}")
        return str((await response.json())["token"])


async def open_floor(bench: Bench, session: aiohttp.ClientSession) -> tuple[Floor, asyncio.Task[None]]:
    port = free_port()
    echo = bench.children.start("echo", run_echo_server, port)
    await asyncio.wait_for(echo.online, 30)
    ws = await session.ws_connect(f"http://127.0.0.1:{port}/echo")
    floor = Floor(aioredis.from_url(REDIS), await asyncpg.create_pool(DATABASE, min_size=4, max_size=8), ws)
    return floor, asyncio.create_task(floor.read_echoes())


async def run(bench: Bench, drivers: list[tuple[int, str]]) -> dict[str, Any]:
    url = bench.service.url
    result: dict[str, Any] = {"connect": await bring_online(bench, drivers, url)}
    await asyncio.sleep(SETTLE_SECONDS)
    print(f"ingestion at {bench.online / UPDATE_INTERVAL:,.0f}/s…", flush=True)
    result["ingestion_nominal"] = await bench.ingestion("nominal", MEASURE_SECONDS)
    print(json.dumps(result["ingestion_nominal"]), flush=True)
    if result["connect"]["stalled"]:
        result["completed"] = False
        result["stopped_because"] = (f"the fleet stopped coming online at {bench.online:,} of {DRIVERS:,} drivers; "
                                     "the ceiling and the bookings were not run")
        return result
    print("ceiling…", flush=True)
    result["ingestion_ceiling"] = await ceiling(bench, result["ingestion_nominal"])
    # The ingestion floor: the same Redis taking position writes as fast as it can, pipelined.
    result["ingestion_floor"] = floor_geoadd = await pipelined_geoadd(REDIS)
    ceiling_per_s = result["ingestion_ceiling"]["ceiling_per_s"]
    result["ingestion_ceiling"]["share_of_floor"] = (round(ceiling_per_s / floor_geoadd["geoadd_per_s"], 4)
                                                     if ceiling_per_s and floor_geoadd["geoadd_per_s"] else None)
    result["recovery"] = await recover(bench)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        token = await log_in(session, url)
        floor, reader = await open_floor(bench, session)
        try:
            places = homes(DRIVERS)
            if WARM_SECONDS:
                print(f"warming up: bookings at {RATE}/s for {WARM_SECONDS}s…", flush=True)
                warm = await bookings(bench, session, url, token, floor, places, WARM_SECONDS, WARM_FIRST, None)
                result["warm_up"] = {**{k: warm[k] for k in ("booking_to_offer_ms", "booking_to_offer_by_second",
                                                            "booking_response_ms", "cpu_pct")},
                                     "floor_ms": floor.figures()["latency_ms"]}
                floor.start_over()
            print(f"bookings at {RATE}/s for {SECONDS}s…", flush=True)
            result["bookings"] = await bookings(bench, session, url, token, floor, places, SECONDS)
            result["floor"] = floor.figures()
            result["booking_to_offer_times_the_floor"] = ratio(result["bookings"]["booking_to_offer_ms"],
                                                               result["floor"]["latency_ms"])
        finally:
            reader.cancel()
            await floor.ws.close()
            await floor.pool.close()
            await floor.redis.aclose()
    print(json.dumps({k: result["bookings"][k] for k in ("booking_to_offer_ms", "booking_response_ms")}),
          json.dumps(result["floor"]["latency_ms"]), flush=True)
    result["completed"] = True
    for process in bench.profiles:
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
    return result


def code_state() -> dict[str, Any]:
    """Which code was measured: the commit, how many files differ from it, and a digest of the service's source."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in ("taxicrm", "dispatch", "realtime", "callcenter", "subscribers", "migrations"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".sql", ".json"):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                                 timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        commit, changed = "", []
    return {"commit": commit, "files_changed_or_new": len(changed), "source_sha256": digest.hexdigest()[:16]}


def log_summary(text: str) -> dict[str, Any]:
    """Count the warnings and errors the service logged, with a few examples."""
    lines = text.splitlines()
    bad = [line for line in lines if "WARNING" in line or "ERROR" in line or "Traceback" in line]
    return {"lines": len(lines), "warnings_or_errors": len(bad), "examples": bad[:5]}


def fit_fleet(files: int) -> None:
    """Lower DRIVERS to what the service's open-file limit allows (per worker process), saying so."""
    global DRIVERS
    if (files - SERVICE_FILES) * SERVICE_WORKERS < DRIVERS:
        DRIVERS = (files - SERVICE_FILES) * SERVICE_WORKERS
        print(f"warning: the open-file limit ({files}) cannot be raised here (no CAP_SYS_RESOURCE), so the "
              f"service cannot hold {ASKED_DRIVERS:,} driver sockets: running {DRIVERS:,} drivers", flush=True)


def service_redis_url() -> str:
    if not SERVICE_REDIS_MAX_CONNECTIONS:
        return REDIS
    return f"{REDIS}{'&' if '?' in REDIS else '?'}max_connections={int(SERVICE_REDIS_MAX_CONNECTIONS)}"


def single_run() -> Any:
    """Hold a lock for the whole run: a second run would drop the database under the first one's service."""
    handle = LOCK_FILE.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another bench/dispatch.py is running (it holds {LOCK_FILE})") from None
    return handle


async def main() -> None:
    lock = single_run()  # noqa: F841  # Held until the process ends.
    # Background shells ignore SIGINT; either signal must still stop the service and the fleet cleanly.
    me = asyncio.current_task()
    assert me is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, me.cancel)
    files = raise_open_files(DRIVERS + 4096)
    fit_fleet(files)
    print(f"preparing {DRIVERS:,} drivers…", flush=True)
    drivers = await prepare_database()
    redis_pid = await flush_redis()
    env = {"DATABASE_URL": DATABASE, "REDIS_URL": service_redis_url(), "TAXICRM_ACCESS_LOG": "false",
           "TAXICRM_LOG_LEVEL": "warning", "TAXICRM_DB_POOL_SIZE": "20", "TAXICRM_WORKERS": str(SERVICE_WORKERS)}
    load = os.getloadavg()
    code = code_state()
    with tempfile.TemporaryDirectory() as logs:
        service = ServiceProcess(env)
        bench = Bench(service, Children(), redis_pid)
        try:
            service.start(Path(logs))
            figures = await run(bench, drivers)
        finally:
            await bench.children.stop()
            exited = service.process.poll() if service.process is not None else None
            exit_code = service.stop()
            text = service.log()
            service_log = log_summary(text)
            SERVICE_LOG.write_text(text)
            print(f"service log kept in {SERVICE_LOG}", flush=True)
            if service_log["warnings_or_errors"]:
                print("service log:", *service_log["examples"], sep="\n  ", flush=True)
    result = {
        "benchmark": "dispatch", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_start": [round(v, 2) for v in load], "open_file_limit": files},
        "code": code,
        "parameters": {"drivers": DRIVERS, "drivers_asked": ASKED_DRIVERS,
                       "service_redis_max_connections": SERVICE_REDIS_MAX_CONNECTIONS or "default",
                       "fleet_processes": WORKERS, "probes": PROBES,
                       "update_interval_s": UPDATE_INTERVAL, "nominal_updates_per_s": round(DRIVERS / UPDATE_INTERVAL),
                       "booking_rate_per_s": RATE, "booking_seconds": SECONDS, "warm_up_seconds": WARM_SECONDS,
                       "floor_every_bookings": FLOOR_EVERY,
                       "measure_seconds": MEASURE_SECONDS,
                       "ceiling_steps_per_s": STEPS, "accept_delay_s": list(ACCEPT_DELAY),
                       "decline_share": DECLINE_SHARE, "fleet_nice": FLEET_NICE, "keeps_up": KEEPS_UP,
                       "profiled": bool(PROFILE_DIR)},
        **figures,
        # None: the service was running until the bench stopped it (then its exit code is `service_exit_code`);
        # a number: it had already exited by itself (negative: killed by that signal).
        "service_exited_on_its_own": exited, "service_exit_code": exit_code,
        "service_log": service_log,
        "note": "booking_to_offer is from sending POST /api/rides to the first offer for that ride arriving on a "
                "driver's websocket (CLOCK_MONOTONIC in both processes); the floor is one GEOSEARCH, one "
                "transaction and one websocket round trip by the bench itself, beside one booking in "
                "floor_every_bookings, in the same seconds; cpu_pct is percent of one core; load generator, "
                "service and databases share the machine",
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "dispatch.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
