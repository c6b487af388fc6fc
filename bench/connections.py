"""Websocket connections one service process holds, and the memory each costs: drivers' apps and operators' consoles.

Loads DRIVERS drivers with app tokens into a bench database, starts one `taxicrm serve` process (TAXICRM_WORKERS=1,
so its memory is one process's), then opens connections in steps from CLIENTS client processes: drivers on
/ws/driver (each receives its state, then stays connected and idle, answering pings) and consoles on /ws (one
operator's token, as many consoles as asked). After each step it lets the service settle and reads its resident
memory; the memory per connection is the slope of memory over connections. Then it holds every connection for
HOLD_SECONDS (longer than the service's heartbeat) and counts how many are still open and answered.

The floor: the same number of connections held by a bare aiohttp websocket server (bench/floor.py's echo server
shape, in its own process), measured the same way, so the service's cost per connection reads beside what a
websocket itself costs in Python here.

    .venv/bin/python bench/connections.py       # DRIVERS=10000 CONSOLES=1000 STEPS=1000,5000,10000 HOLD_SECONDS=45

The open-file limit of this machine (hard 20,000, see bench/README.md) caps one process at about 19,800 sockets.
Writes bench/results/connections.json.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.tokens import new_driver_token, token_hash
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.support import ServiceProcess, free_port, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = with_database(SERVER, "taxicrm_bench_connections")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DRIVERS = int(os.environ.get("DRIVERS", "10000"))
CONSOLES = int(os.environ.get("CONSOLES", "1000"))
STEPS = [int(s) for s in os.environ.get("STEPS", "1000,2500,5000,10000").split(",")]
HOLD_SECONDS = int(os.environ.get("HOLD_SECONDS", "45"))
CLIENTS = int(os.environ.get("CLIENTS", "2"))
SETTLE_SECONDS = 5
USERNAME, PASSWORD = "bench-console", "bench console password"
LOAD_DRIVERS = """
    INSERT INTO drivers (id, name, phone, vehicle_class)
        SELECT g, 'Bench driver ' || g, '+98935' || lpad(g::text, 7, '0'), 'sedan' FROM generate_series(1, $1) g
"""
LOAD_TOKENS = "INSERT INTO driver_tokens (driver_id, token_hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])"


def raise_open_files() -> int:
    """Raise this process's open-file limit to its hard limit (children inherit it); return it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def serving_pid(parent: int) -> int:
    """Return the pid that serves: the service's single worker if it forked one, else the process itself."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else parent


async def prepare_database() -> list[str]:
    """Recreate the bench database with DRIVERS drivers and their app tokens, and a console user; return tokens."""
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
        async with conn.transaction():
            await conn.execute(LOAD_DRIVERS, DRIVERS)
            await conn.execute("SELECT setval('drivers_id_seq', $1)", DRIVERS)
            await conn.execute(LOAD_TOKENS, list(range(1, DRIVERS + 1)), [token_hash(t) for t in tokens])
    finally:
        await conn.close()
    await create_user(DATABASE, USERNAME, "Bench console", "operator", PASSWORD, None)
    return tokens


# The client processes: each opens the sockets it is told to and reports how many are open.

def run_clients(conn: Connection, url: str) -> None:
    """Process entry point: open ("drivers", tokens) / ("consoles", token, n) on command; ("count",) reports."""
    asyncio.run(_clients(conn, url))


async def _clients(conn: Connection, url: str) -> None:
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    readers: list[asyncio.Task[None]] = []
    failures = 0
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    loop = asyncio.get_running_loop()

    async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for _ in ws:  # autoping answers the service's pings
            pass

    async def open_one(path: str, **kwargs: Any) -> None:
        nonlocal failures
        try:
            ws = await session.ws_connect(f"{url}{path}", autoping=True, heartbeat=None, **kwargs)
            await ws.receive(timeout=30)  # the driver's state / the console's hello
        except (aiohttp.ClientError, OSError, TimeoutError):
            failures += 1
            return
        sockets.append(ws)
        readers.append(asyncio.create_task(drain(ws)))

    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command[0] == "drivers":
            for start in range(0, len(command[1]), 100):
                await asyncio.gather(*(open_one("/ws/driver", params={"token": token})
                                       for token in command[1][start:start + 100]))
        elif command[0] == "consoles":
            headers = {"Authorization": f"Bearer {command[1]}"}
            for start in range(0, command[2], 100):
                await asyncio.gather(*(open_one(command[3], headers=headers)
                                       for _ in range(min(100, command[2] - start))))
        elif command[0] == "count":
            conn.send((sum(1 for ws in sockets if not ws.closed), failures))
            continue
        elif command[0] == "stop":
            for ws in sockets:
                await ws.close()
            await session.close()
            conn.send("stopped")
            return
        conn.send("done")


class Clients:
    """CLIENTS client processes, commanded together; connections are split evenly between them."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for _ in range(CLIENTS):
            mine, theirs = context.Pipe()
            process = context.Process(target=run_clients, args=(theirs, url), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    async def ask(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(None, pipe.recv) for pipe in self.pipes)))

    async def count(self) -> tuple[int, int]:
        answers = await self.ask([("count",)] * CLIENTS)
        return sum(a[0] for a in answers), sum(a[1] for a in answers)

    async def stop(self) -> None:
        await self.ask([("stop",)] * CLIENTS)
        for process in self.processes:
            process.join(10)


def share(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


async def measure(pid: int, clients: Clients, open_step: Any, steps: list[int]) -> dict[str, Any]:
    """Open connections step by step (open_step(n) opens n more); return memory at each step and the slope."""
    await asyncio.sleep(SETTLE_SECONDS)
    points: list[dict[str, Any]] = [{"connections": 0, "rss_mb": round(rss_mb(pid), 1)}]
    opened = 0
    for target in steps:
        started = time.monotonic()
        await open_step(target - opened)
        rate = (target - opened) / (time.monotonic() - started)
        opened = target
        await asyncio.sleep(SETTLE_SECONDS)
        held, failures = await clients.count()
        points.append({"connections": held, "asked": target, "failures": failures, "rss_mb": round(rss_mb(pid), 1),
                       "connect_per_s": round(rate, 1)})
        print(f"  {held:,} of {target:,} open, {points[-1]['rss_mb']} MB", flush=True)
    first, last = points[0], points[-1]
    per = (last["rss_mb"] - first["rss_mb"]) * 1024 / last["connections"] if last["connections"] else None
    return {"steps": points, "kb_per_connection": round(per, 1) if per else None}


async def hold(clients: Clients) -> dict[str, Any]:
    """Keep every connection open HOLD_SECONDS (past the heartbeat); count how many are still open."""
    before, _ = await clients.count()
    await asyncio.sleep(HOLD_SECONDS)
    after, failures = await clients.count()
    return {"seconds": HOLD_SECONDS, "open_before": before, "open_after": after, "failures": failures}


async def service_run(tokens: list[str], logs: Path) -> dict[str, Any]:
    env = {"DATABASE_URL": DATABASE, "REDIS_URL": REDIS, "TAXICRM_WORKERS": "1", "TAXICRM_ACCESS_LOG": "false",
           "TAXICRM_LOG_LEVEL": "warning", "TAXICRM_DRIVER_SILENCE_SECONDS": str(HOLD_SECONDS * 10),
           "TAXICRM_WS_HEARTBEAT_SECONDS": "20"}
    service = ServiceProcess(env).start(logs)
    assert service.process is not None
    pid = serving_pid(service.process.pid)
    clients = Clients(service.url)
    try:
        async with aiohttp.ClientSession() as session, session.post(
                f"{service.url}/api/auth/login", json={"username": USERNAME, "password": PASSWORD}) as response:
            staff_token = (await response.json())["token"]
        driver_shares = share(tokens, CLIENTS)
        sent = 0

        async def open_drivers(n: int) -> None:
            nonlocal sent
            per = n // CLIENTS
            await clients.ask([("drivers", part[sent // CLIENTS:sent // CLIENTS + per]) for part in driver_shares])
            sent += per * CLIENTS

        print(f"drivers, up to {DRIVERS:,}…", flush=True)
        drivers = await measure(pid, clients, open_drivers, [s for s in STEPS if s <= DRIVERS])
        drivers["hold"] = await hold(clients)
        held_drivers, _ = await clients.count()

        async def open_consoles(n: int) -> None:
            await clients.ask([("consoles", staff_token, n // CLIENTS, "/ws")] * CLIENTS)

        print(f"consoles, {CONSOLES:,} more…", flush=True)
        base = rss_mb(pid)
        await open_consoles(CONSOLES)
        await asyncio.sleep(SETTLE_SECONDS)
        total, failures = await clients.count()
        consoles = {"asked": CONSOLES, "open": total - held_drivers, "failures": failures,
                    "kb_per_connection": round((rss_mb(pid) - base) * 1024 / max(1, total - held_drivers), 1)}
        consoles["hold"] = await hold(clients)
        return {"drivers": drivers, "consoles": consoles, "service_rss_mb_at_end": round(rss_mb(pid), 1)}
    finally:
        await clients.stop()
        service.stop()


async def floor_run() -> dict[str, Any]:
    """The same driver steps held by a bare aiohttp websocket server that sends one hello: Python's own cost."""
    port = free_port()
    context = multiprocessing.get_context("spawn")
    server = context.Process(target=bare_server, args=(port,), daemon=True)
    server.start()
    await asyncio.sleep(2)
    url = f"http://127.0.0.1:{port}"
    clients = Clients(url)
    assert server.pid is not None
    try:
        async def open_bare(n: int) -> None:
            await clients.ask([("consoles", "-", n // CLIENTS, "/ws")] * CLIENTS)

        print("floor: a bare websocket server…", flush=True)
        return await measure(server.pid, clients, open_bare, [s for s in STEPS if s <= DRIVERS])
    finally:
        await clients.stop()
        server.terminate()


def bare_server(port: int) -> None:
    """Process entry point: an aiohttp websocket server that greets each client and keeps it, pinging every 20 s."""

    async def hello(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        await ws.send_str('{"type": "hello"}')
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def main() -> None:
    limit = raise_open_files()
    tokens = await prepare_database()
    with tempfile.TemporaryDirectory() as logs:
        service = await service_run(tokens, Path(logs))
    floor = await floor_run()
    per_driver, per_bare = service["drivers"]["kb_per_connection"], floor["kb_per_connection"]
    result = {
        "benchmark": "connections", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "open_files_limit": limit},
        "drivers": DRIVERS, "consoles": CONSOLES, "steps": STEPS, **service, "floor": floor,
        "driver_kb_times_the_floor": round(per_driver / per_bare, 1) if per_driver and per_bare else None,
        "note": "one service process; memory is its resident set (VmRSS) after each step settled; the floor is a "
                "bare aiohttp websocket server holding the same number of connections",
    }
    print(json.dumps(result, indent=2))
    (Path(__file__).parent / "results" / "connections.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
