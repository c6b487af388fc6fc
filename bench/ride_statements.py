"""Round trips to PostgreSQL and service CPU for one ride's whole life, step by step.

Starts `taxicrm serve` on a bench database of its own, with its DATABASE_URL pointing at a small proxy in this
process that reads the PostgreSQL wire protocol the service sends and counts, per step of a ride:

* round trips: each Sync (the end of an extended-protocol exchange: one `fetch`/`execute`) and each simple Query
  (BEGIN, COMMIT, ROLLBACK);
* statements executed (Execute and Query messages), and prepares (Parse: a connection meeting a statement for the
  first time; these fade once every pooled connection has met it, so the warm-up rides absorb most of them).

Two drivers wait near Azadi Square. Each ride is a walk-in booking over HTTP (`POST /api/rides`) with a pickup and
destination on the map (so it is quoted); the nearer driver declines over the real driver websocket
(tests/driver_app.py), the farther one accepts, arrives, picks up, sends a few fixes and completes. After the
offer timeout the two offers' timers fire (each instance times its own offers). Work the service does whatever
the rides (the due-list and expiry sweeps, zone refreshes, report rollups) is recognised by its SQL and counted
apart, as "background", so the steps' figures are the rides' own.

Service CPU per ride is read from /proc for the `taxicrm serve` process over CPU_RIDES more rides run back to back
(each step as soon as the last is answered, then one wait for the last offers' timers), beside the CPU the idle
service uses (its sweeps), measured for IDLE_SECONDS right after and scaled to the same wall time.

    .venv/bin/python bench/ride_statements.py        # RIDES=15 WARMUP=10 CPU_RIDES=40
    RIDES=50 .venv/bin/python bench/ride_statements.py

BENCH_POSTGRES_URL names the server (the database `taxicrm_bench_ride_statements` is dropped and recreated),
BENCH_REDIS_URL the Redis database (default 9, flushed at the start). Writes bench/results/ride_statements.json.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.tokens import new_driver_token, token_hash
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.driver_app import AZADI, DriverApp
from tests.support import ServiceProcess, free_port, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = with_database(SERVER, "taxicrm_bench_ride_statements")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
RIDES = int(os.environ.get("RIDES", "15"))
CPU_RIDES = int(os.environ.get("CPU_RIDES", "40"))
WARMUP = int(os.environ.get("WARMUP", "10"))
OFFER_TIMEOUT_SECONDS = 5  # long enough for every step of a ride to be over before its offers' timers fire
IDLE_SECONDS = 30
SETTLE_SECONDS = 0.25  # after a step's reply, for the background work it spawned (a wake-up, a ride reload)
USERNAME, PASSWORD = "bench-operator", "bench operator pw"
RESULTS = Path(__file__).resolve().parent / "results" / "ride_statements.json"
STEPS = ("book", "decline", "accept", "arrive", "pick_up", "trip_fixes", "complete", "offer_timers")
# The service's own periodic work, recognised by a fragment of its SQL: a transaction holding any of these is
# background, not a ride's.
BACKGROUND_SQL = (
    "dispatch_after <= $1",  # dispatch_due: the due list
    "status = 'pending' AND expires_at <= $1",  # expire_due: the sweeper
    "FROM zones",  # the zone map's refresh
    "rollup", "report_", "change_stamp", "_changed",  # the report rollups (the leader's)
    "leases",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# The proxy.

@dataclass
class RoundTrip:
    """One exchange the service waited for: the statements it ran, and whether it prepared one."""

    statements: list[str]
    prepared: int


@dataclass
class Wire:
    """What the service sent, grouped into units: a transaction (BEGIN to COMMIT/ROLLBACK) or a lone statement."""

    units: list[list[RoundTrip]] = field(default_factory=list)

    def snapshot(self) -> int:
        return len(self.units)

    def since(self, mark: int) -> list[list[RoundTrip]]:
        return self.units[mark:]


class Conversation:
    """Parses one connection's frontend messages (after the startup packet) into round trips and units."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.names: dict[str, str] = {}  # prepared statement name -> SQL
        self.pending: list[str] = []
        self.prepared = 0
        self.unit: list[RoundTrip] | None = None
        self.buffer = b""
        self.started = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                if code not in (80877103, 80877104):  # SSLRequest / GSSENCRequest precede the real startup
                    self.started = True
                continue
            if len(self.buffer) < 5:
                return
            kind, length = self.buffer[:1], struct.unpack("!i", self.buffer[1:5])[0]
            if len(self.buffer) < 1 + length:
                return
            body, self.buffer = self.buffer[5:1 + length], self.buffer[1 + length:]
            self.message(kind, body)

    def message(self, kind: bytes, body: bytes) -> None:
        if kind == b"P":
            name, rest = body.split(b"\0", 1)
            self.names[name.decode()] = rest.split(b"\0", 1)[0].decode()
            self.prepared += 1
        elif kind == b"B":
            _portal, statement, _ = body.split(b"\0", 2)
            self.pending.append(self.names.get(statement.decode(), "?"))
        elif kind == b"S":
            self.round_trip(RoundTrip(self.pending, self.prepared))
        elif kind == b"Q":
            self.round_trip(RoundTrip([body.rstrip(b"\0").decode()], 0))

    def round_trip(self, trip: RoundTrip) -> None:
        self.pending, self.prepared = [], 0
        first = (trip.statements[0] if trip.statements else "").strip().upper()
        if first.startswith("BEGIN"):
            self.unit = [trip]
            return
        if self.unit is not None:
            self.unit.append(trip)
            if first.startswith(("COMMIT", "ROLLBACK")):
                self.wire.units.append(self.unit)
                self.unit = None
            return
        self.wire.units.append([trip])


async def serve_proxy(wire: Wire, target_host: str, target_port: int) -> tuple[asyncio.Server, int]:
    """Listen on a free port and pass every connection through to PostgreSQL, reading what the client sends."""

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(target_host, target_port)
        talk = Conversation(wire)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, watch: bool) -> None:
            try:
                while data := await src.read(65536):
                    if watch:
                        talk.feed(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(client_r, server_w, True), pump(server_r, client_w, False))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def is_background(unit: list[RoundTrip]) -> bool:
    return any(fragment in sql for trip in unit for sql in trip.statements for fragment in BACKGROUND_SQL)


def tally(units: list[list[RoundTrip]]) -> dict[str, Any]:
    """Round trips, statements and prepares of the rides' units (background apart)."""
    own = [u for u in units if not is_background(u)]
    trips = [t for u in own for t in u]
    return {"round_trips": len(trips), "statements": sum(len(t.statements) for t in trips),
            "prepares": sum(t.prepared for t in trips), "transactions": sum(1 for u in own if len(u) > 1),
            "background_round_trips": sum(len(u) for u in units if is_background(u))}


def shape(units: list[list[RoundTrip]]) -> list[str]:
    """The rides' statements in order, one short line each (for reading what a step does)."""
    lines = []
    for unit in units:
        if is_background(unit):
            continue
        for trip in unit:
            for sql in trip.statements or ["(sync)"]:
                lines.append(" ".join(sql.split())[:110])
        lines.append("--")
    return lines


# The service and its drivers.

def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def prepare_database() -> list[str]:
    """Recreate the bench database with two drivers and an operator; return the drivers' app tokens."""
    admin = await asyncpg.connect(SERVER)
    name = urlsplit(DATABASE).path.lstrip("/")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate(DATABASE)
    tokens = [new_driver_token() for _ in range(2)]
    conn = await asyncpg.connect(DATABASE)
    try:
        for n, token in enumerate(tokens, start=1):
            driver_id = await conn.fetchval(
                "INSERT INTO drivers (name, phone, vehicle_class) VALUES ($1, $2, 'sedan') RETURNING id",
                f"Bench driver {n}", f"+9893500000{n:02d}")
            await conn.execute("INSERT INTO driver_tokens (driver_id, token_hash) VALUES ($1, $2)", driver_id,
                               token_hash(token))
    finally:
        await conn.close()
    await create_user(DATABASE, USERNAME, "Bench operator", "operator", PASSWORD, None)
    return tokens


def proxied(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    query = "sslmode=disable" + ("&" + parts.query if parts.query else "")
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host, query=query))


@dataclass
class Bench:
    session: aiohttp.ClientSession
    url: str
    headers: dict[str, str]
    near: DriverApp
    far: DriverApp
    wire: Wire
    keys: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def ride(self, per_step: dict[str, list[list[list[RoundTrip]]]] | None, *, settle: bool = True) -> None:
        """One ride's whole life; with `per_step`, each step's units are kept under its name.

        Without `settle`, the next step follows at once and the offers' timers are not waited for.
        """
        n = next(self.keys)
        mark = self.wire.snapshot()

        async def step(name: str) -> None:
            nonlocal mark
            if settle:
                await asyncio.sleep(SETTLE_SECONDS)
            if per_step is not None:
                per_step.setdefault(name, []).append(self.wire.since(mark))
            mark = self.wire.snapshot()

        body = {"walk_in_name": f"Bench rider {n}", "walk_in_phone": f"0912{n:07d}",
                "pickup": {"text": "Azadi Square", "lat": AZADI[0], "lng": AZADI[1]},
                "destination": {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515},
                "confirm_duplicate": True}
        async with self.session.post(f"{self.url}/api/rides", json=body,
                                     headers={**self.headers, "Idempotency-Key": f"bench-{n}"}) as response:
            if response.status != 201:
                raise RuntimeError(f"booking failed: {response.status} {await response.text()}")
            ride_id = (await response.json())["ride"]["id"]
        offer = await self.near.wait_for("offer", ride_id=ride_id)
        await step("book")
        reply = await self.near.ask("decline", offer_id=offer["offer_id"], reason="bench")
        assert reply["type"] == "declined", reply
        offer = await self.far.wait_for("offer", ride_id=ride_id)
        await step("decline")
        reply = await self.far.ask("accept", offer_id=offer["offer_id"])
        assert reply["type"] == "accepted", reply
        await step("accept")
        for name, command in (("arrive", "arrived"), ("pick_up", "picked_up")):
            reply = await self.far.ask(command, ride_id=ride_id)
            assert reply["type"] == "ride", reply
            await step(name)
        for k in range(1, 6):
            await self.far.send("position", lat=AZADI[0] + 0.0008 * k, lng=AZADI[1] + 0.0027 * k)
            await asyncio.sleep(0.05)
        await step("trip_fixes")
        reply = await self.far.ask("completed", ride_id=ride_id)
        assert reply["type"] == "ride" and reply["job"]["status"] == "completed", reply
        await step("complete")
        if settle:
            # Both offers' timers fire at their expiry on this instance and find the offers answered.
            await asyncio.sleep(OFFER_TIMEOUT_SECONDS + 0.3)
            await step("offer_timers")
        for app in (self.near, self.far):  # The ride's news to the drivers, read so their queues stay short.
            while app._next < len(app.seen):
                app._next += 1


def summary(per_step: dict[str, list[list[list[RoundTrip]]]]) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for name in STEPS:
        runs = [tally(units) for units in per_step.get(name, [])]
        if not runs:
            continue
        steps[name] = {key: round(sum(r[key] for r in runs) / len(runs), 2) for key in runs[0]}
        lines = Counter(tuple(shape(units)) for units in per_step[name])
        steps[name]["sql"] = list(lines.most_common(1)[0][0])
    total = {key: round(sum(s[key] for s in steps.values()), 2)
             for key in ("round_trips", "statements", "prepares", "transactions")}
    return {"steps": steps, "ride_total": total}


def code_state() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    run = lambda *args: subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {"commit": run("rev-parse", "--short", "HEAD"), "dirty_files": len(run("status", "--porcelain").split())}


async def main() -> None:
    tokens = await prepare_database()
    client = aioredis.from_url(REDIS)
    await client.flushdb()
    await client.aclose()
    wire = Wire()
    target = urlsplit(SERVER)
    proxy, port = await serve_proxy(wire, target.hostname or "127.0.0.1", target.port or 5432)
    env = {"DATABASE_URL": proxied(DATABASE, port), "REDIS_URL": REDIS, "TAXICRM_ACCESS_LOG": "false",
           "TAXICRM_LOG_LEVEL": "warning", "TAXICRM_WORKERS": "1",
           "TAXICRM_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS)}
    with tempfile.TemporaryDirectory() as logs:
        service = ServiceProcess(env, port=free_port())
        # In a thread: start() waits for /readyz, and the proxy on this loop must serve the service meanwhile.
        await asyncio.to_thread(service.start, Path(logs))
        assert service.process is not None
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{service.url}/api/auth/login",
                                        json={"username": USERNAME, "password": PASSWORD}) as response:
                    token = (await response.json())["token"]
                apps = []
                for driver_token, north_m in zip(tokens, (200, 600), strict=True):
                    app = await DriverApp.connect(session, f"{service.url}/ws/driver", driver_token)
                    await app.wait_for("state")
                    await app.go_online(AZADI[0] + north_m / 111_000, AZADI[1])
                    apps.append(app)
                bench = Bench(session, service.url, {"Authorization": f"Bearer {token}"}, *apps, wire)
                for _ in range(WARMUP):
                    await bench.ride(None)
                per_step: dict[str, list[list[list[RoundTrip]]]] = {}
                for _ in range(RIDES):
                    await bench.ride(per_step)
                await asyncio.sleep(OFFER_TIMEOUT_SECONDS + 0.5)  # The last timers, before the CPU is read.
                # CPU: rides back to back, each step as soon as the last is answered; their offers' timers fire
                # meanwhile, the last ones within the wait at the end.
                cpu, started = process_cpu(service.process.pid), time.monotonic()
                for _ in range(CPU_RIDES):
                    await bench.ride(None, settle=False)
                await asyncio.sleep(OFFER_TIMEOUT_SECONDS + 0.5)
                ride_cpu, wall = process_cpu(service.process.pid) - cpu, time.monotonic() - started
                cpu = process_cpu(service.process.pid)
                # The idle service's own work (its sweeps), scaled to the rides' wall time.
                await asyncio.sleep(IDLE_SECONDS)
                idle_cpu = (process_cpu(service.process.pid) - cpu) * wall / IDLE_SECONDS
        finally:
            await asyncio.to_thread(service.stop)
            proxy.close()
        log = service.log()
    result = {
        "benchmark": "ride_statements", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_state(), "rides": RIDES, "warmup_rides": WARMUP, "cpu_rides": CPU_RIDES,
        **summary(per_step),
        "service_cpu_ms_per_ride": round(ride_cpu * 1000 / CPU_RIDES, 1),
        "idle_service_cpu_ms_per_ride_time": round(idle_cpu * 1000 / CPU_RIDES, 1),
        "service_cpu_ms_per_ride_net_of_idle": round((ride_cpu - idle_cpu) * 1000 / CPU_RIDES, 1),
        "seconds": round(wall, 1), "service_log_warnings": [line for line in log.splitlines() if "WARNING" in line][:5],
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'step':<14}{'round trips':>12}{'statements':>12}{'prepares':>10}{'background':>12}")
    for name, figures in result["steps"].items():
        print(f"{name:<14}{figures['round_trips']:>12}{figures['statements']:>12}{figures['prepares']:>10}"
              f"{figures['background_round_trips']:>12}")
    print(f"{'ride':<14}{result['ride_total']['round_trips']:>12}{result['ride_total']['statements']:>12}"
          f"{result['ride_total']['prepares']:>10}")
    print(f"service CPU per ride: {result['service_cpu_ms_per_ride']} ms (idle over the same time: "
          f"{result['idle_service_cpu_ms_per_ride_time']} ms; net {result['service_cpu_ms_per_ride_net_of_idle']} ms)")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
