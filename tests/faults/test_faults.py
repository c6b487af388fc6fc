"""Fault injection: two instances, a fleet and a stream of bookings while instances, Redis, PostgreSQL and
drivers' connections fail; then the invariants are checked against PostgreSQL. Run on its own:

    .venv/bin/pytest tests/faults

Sizes and timings come from FAULTS_DRIVERS, FAULTS_LOAD_SECONDS, FAULTS_EVERY_SECONDS, FAULTS_BOOKINGS_PER_SECOND
and FAULTS_DRAIN_SECONDS; FAULTS_ONLY names the only kinds of fault to inject; FAULTS_KEEP keeps the data and
logs. The report is printed and written to bench/results/faults.json.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis

from dispatch import service as dispatch_service
from dispatch.positions import STATUS_KEY
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.faults.drivers import CENTER, FleetLedger, SimulatedDriver
from tests.faults.faults import FaultInjector, Instances
from tests.faults.invariants import check_all, tallies
from tests.faults.report import Report, write_report
from tests.faults.servers import PrivatePostgres, PrivateRedis
from tests.faults.traffic import CallCenter, TrafficLedger
from tests.support import ROOT, ServiceProcess, log_in

DRIVERS = int(os.environ.get("FAULTS_DRIVERS", "250"))
LOAD_SECONDS = float(os.environ.get("FAULTS_LOAD_SECONDS", "150"))
EVERY_SECONDS = float(os.environ.get("FAULTS_EVERY_SECONDS", "15"))
BOOKINGS_PER_SECOND = float(os.environ.get("FAULTS_BOOKINGS_PER_SECOND", "2"))
DRAIN_SECONDS = float(os.environ.get("FAULTS_DRAIN_SECONDS", "60"))
ONLY = frozenset(filter(None, os.environ.get("FAULTS_ONLY", "").split(",")))  # e.g. redis_data_lost,drivers_cut
WARMUP_SECONDS = 10.0
CALLS_PER_SECOND = 1.0
FEEDBACK_EVERY_SECONDS = 1.5
ONLINE_SHARE = 0.9
SUITE_LIMIT_SECONDS = 600.0
PASSWORD = "fault suite operator"
WEBHOOK_SECRET = "fault-suite-pbx-secret"
SERVICE_ENV = {
    "TAXICRM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "TAXICRM_OFFER_TIMEOUT_SECONDS": "6",
    "TAXICRM_RECONNECT_GRACE_SECONDS": "3",
    "TAXICRM_ACCESS_LOG": "false",
    "TAXICRM_LOG_LEVEL": "info",
}
PASSED = "passed"  # written by a passing run: only then is the folder removed
RESULT = ROOT / "bench" / "results" / "faults.json"


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder of our own for the servers' data and the instances' logs (kept if the suite fails)."""
    path = Path(tempfile.mkdtemp(prefix="taxicrm-faults-"))
    yield path
    if (path / PASSED).exists() and not os.environ.get("FAULTS_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def servers(folder: Path) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    """PostgreSQL and Redis of the suite's own, which it may kill."""
    postgres, redis = PrivatePostgres(folder / "postgres"), PrivateRedis(folder / "redis")
    # CI's `timeout` ends the suite with SIGTERM: unwind, so the servers (in sessions of their own) are stopped.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        postgres.init()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


async def prepare(postgres: PrivatePostgres) -> list[tuple[int, str]]:
    """Migrate, add the operator, register the drivers with app tokens; return (driver id, token)."""
    await migrate(postgres.url)
    await create_user(postgres.url, "fault-operator", "Fault Operator", "operator", PASSWORD, None)
    async with asyncpg.create_pool(postgres.url, min_size=1, max_size=4) as pool:
        fleet = []
        for n in range(DRIVERS):
            driver = await dispatch_service.register_driver(pool, f"Fault driver {n + 1}")
            fleet.append((int(driver.id), await dispatch_service.issue_token(pool, driver.id)))
    return fleet


async def check_tariff(session: aiohttp.ClientSession, url: str, token: str) -> int:
    """Quote a trip from the tariff the migrations seed, so bookings are priced; return the total."""
    body = {"pickup": {"lat": CENTER[0], "lng": CENTER[1]}, "destination": {"lat": CENTER[0] + 0.03, "lng": CENTER[1]}}
    async with session.post(f"{url}/api/fares/quote", json=body,
                            headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return int((await response.json())["quote"]["total_rials"])


async def every(seconds: float, work: object, until: float, tasks: set[asyncio.Task[None]]) -> None:
    """Start `work()` every `seconds` (jittered, open loop) until the monotonic time `until`."""
    while time.monotonic() < until:
        task = asyncio.create_task(work())  # type: ignore[operator]
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        await asyncio.sleep(seconds * random.uniform(0.5, 1.5))


async def drained(postgres: PrivatePostgres, seconds: float) -> float:
    """Wait until no ride is on its way through dispatch or a trip; return how long it took."""
    began = time.monotonic()
    async with asyncpg.create_pool(postgres.url, min_size=1, max_size=1) as pool:
        while time.monotonic() - began < seconds:
            busy = await pool.fetchval("SELECT count(*) FROM rides WHERE status IN "
                                       "('requested', 'offering', 'assigned', 'arrived', 'on_board')")
            if busy == 0:
                break
            await asyncio.sleep(1)
    return time.monotonic() - began


async def test_no_fault_loses_a_booking_or_doubles_an_assignment(
        servers: tuple[PrivatePostgres, PrivateRedis], folder: Path) -> None:
    postgres, redis = servers
    report = Report(drivers=DRIVERS, load_seconds=LOAD_SECONDS, fault_every_seconds=EVERY_SECONDS,
                    bookings_per_second=BOOKINGS_PER_SECOND)
    began = time.monotonic()
    async with asyncio.timeout(SUITE_LIMIT_SECONDS):
        fleet_tokens = await prepare(postgres)
        env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, **SERVICE_ENV}
        instances = Instances([ServiceProcess(dict(env)), ServiceProcess(dict(env))], folder / "logs")
        for index in range(2):
            await asyncio.to_thread(instances.start, index)
        report.phases["setup_s"] = time.monotonic() - began
        try:
            await run_load(instances, postgres, redis, fleet_tokens, report)
        finally:
            for process in instances.processes:
                await asyncio.to_thread(process.stop)
        async with asyncpg.create_pool(postgres.url, min_size=1, max_size=1) as pool, pool.acquire() as conn:
            report.checks = await check_all(conn, report.traffic)
            report.tallies = await tallies(conn)
    report.unexpected_exits = instances.unexpected_exits
    report.logged_errors = count_logged_errors(folder / "logs")
    report.phases["total_s"] = time.monotonic() - began
    print(write_report(report, RESULT))
    broken = [c.name for c in report.checks if c.violations]
    assert not broken, f"invariants violated: {broken}; see {RESULT} (logs in {folder})"
    assert not report.client_violations(), f"client-side violations: {report.client_violations()}"
    assert not instances.unexpected_exits, f"instances crashed: {instances.unexpected_exits}"
    assert not report.undispatchable, f"connected drivers with no ride who get no offers: {report.undispatchable}"
    (folder / PASSED).touch()


def count_logged_errors(logs: Path) -> dict[str, int]:
    """Count the instances' logged tracebacks and error lines, by the message's first words."""
    found: Counter[str] = Counter()
    for log in logs.rglob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            # The service logs "<date> <time> <LEVEL> <logger>: <message>".
            head, _, message = line.partition(": ")
            words = head.split()
            if len(words) == 4 and words[2] in ("ERROR", "WARNING", "CRITICAL"):
                found[f"{words[2]} {words[3]}: {' '.join(message.split()[:6])}"[:100]] += 1
    return dict(found.most_common(30))


async def run_load(instances: Instances, postgres: PrivatePostgres, redis: PrivateRedis,
                   fleet_tokens: list[tuple[int, str]], report: Report) -> None:
    """Bring the fleet online, run traffic and faults together, then drain."""
    fleet_ledger, traffic = FleetLedger(), TrafficLedger()
    report.fleet, report.traffic = fleet_ledger, traffic
    stopped = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        token = await log_in(session, instances.urls[0], "fault-operator", PASSWORD)
        session.cookie_jar.clear()
        report.quote_total_rials = await check_tariff(session, instances.urls[1], token)
        drivers = [SimulatedDriver(driver_id, driver_token, instances.urls, fleet_ledger)
                   for driver_id, driver_token in fleet_tokens]
        fleet = [asyncio.create_task(d.run(session, stopped)) for d in drivers]
        phase = time.monotonic()
        for _ in range(120):  # at most a minute
            if fleet_ledger.counts["online_status"] >= ONLINE_SHARE * DRIVERS:
                break
            await asyncio.sleep(0.5)
        report.phases["fleet_online_s"] = time.monotonic() - phase
        report.drivers_online = fleet_ledger.counts["online_status"]

        center = CallCenter(session, instances.urls, token, WEBHOOK_SECRET, traffic)
        injector = FaultInjector(instances, postgres, redis, drivers, only=ONLY)
        report.injector = injector
        requests: set[asyncio.Task[None]] = set()
        rated: set[int] = set()

        async def feedback() -> None:
            fresh = [r for r in fleet_ledger.completed_rides if r not in rated]
            if fresh:
                ride_id = random.choice(fresh)
                rated.add(ride_id)
                await center.rate(ride_id)
                if random.random() < 0.4:
                    await center.complain(ride_id)

        async def watch() -> None:
            while True:
                instances.watch()
                await asyncio.sleep(0.5)

        phase = time.monotonic()
        until = phase + LOAD_SECONDS
        watcher = asyncio.create_task(watch())
        await asyncio.gather(
            injector.run(LOAD_SECONDS, EVERY_SECONDS, WARMUP_SECONDS),
            every(1 / BOOKINGS_PER_SECOND, center.book, until, requests),
            every(1 / CALLS_PER_SECOND, center.call, until, requests),
            every(FEEDBACK_EVERY_SECONDS, feedback, until, requests),
        )
        report.phases["load_s"] = time.monotonic() - phase
        phase = time.monotonic()
        if requests:
            await asyncio.wait(list(requests), timeout=120)
        report.phases["requests_settled_s"] = time.monotonic() - phase
        report.phases["drain_s"] = await drained(postgres, DRAIN_SECONDS)
        watcher.cancel()
        instances.watch()
        # Let drivers who just finished a ride settle, then ask each where it stands.
        await asyncio.sleep(3)
        standings = await asyncio.gather(*(d.standing() for d in drivers))
        report.standings = Counter(standings)
        # What dispatch searches by is Redis, not what a connection believes: check the drivers' statuses there.
        async with aioredis.from_url(redis.url, decode_responses=True) as client:
            statuses = await client.hgetall(STATUS_KEY)
        report.undispatchable = [f"driver {d.driver_id}: {standing}, {statuses.get(str(d.driver_id))} in Redis"
                                 for d, standing in zip(drivers, standings, strict=True)
                                 if standing.startswith("free:") and statuses.get(str(d.driver_id)) != "available"]
        stopped.set()
        await asyncio.wait(fleet, timeout=30)
