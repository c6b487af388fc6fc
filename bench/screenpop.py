"""Screen-pop latency: from a `ringing` event entering the service to the caller's card on the operator's websocket.

Loads SUBSCRIBERS subscribers (default 1,000,000) with three saved addresses each into a bench database, starts
`taxicrm serve` on it, seats OPERATORS operators with their consoles' websockets open, then posts RATE ringing
events per second (default 200) for SECONDS seconds through the PBX webhook, each for a random known caller
ringing one operator. Reports p50/p95/p99/max and writes bench/results/screenpop.json.

In the same seconds and at the same rate it measures the floor (bench/floor.py): one indexed asyncpg query for the
caller (subscriber, phones and addresses by the E.164 number) on a pool of its own, then one websocket message of
about a card's size there and back through an echo server in its own process.

    .venv/bin/python bench/screenpop.py            # BENCH_DATABASE_URL, BENCH_REDIS_URL to override servers
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.floor import EchoClient, EchoServer, ratio, spread
from taxicrm.migrations import migrate
from taxicrm.startup import create_user
from tests.support import ServiceProcess, with_database

SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DATABASE_URL") or with_database(SERVER, "taxicrm_bench_screenpop")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "1000000"))
OPERATORS = int(os.environ.get("OPERATORS", "20"))
RATE = int(os.environ.get("RATE", "200"))
SECONDS = int(os.environ.get("SECONDS", "30"))
SECRET = "bench-pbx-secret"
PASSWORD = "bench operator pw"
# The floor's query: everything about the caller the card starts from, in one indexed statement.
FLOOR_QUERY = """
    SELECT s.id, s.name, s.is_vip, array_agg(a.full_text ORDER BY a.pickup_count DESC) AS addresses
    FROM subscriber_phones p JOIN subscribers s ON s.id = p.subscriber_id
    LEFT JOIN subscriber_addresses a ON a.subscriber_id = s.id
    WHERE p.e164 = $1 GROUP BY s.id
"""
CARD_SIZE = 1500  # characters of a typical card on the websocket

# Set-based generation inside PostgreSQL: a million rows in seconds, not a million round trips.
LOAD = """
INSERT INTO subscribers (id, name, name_key, is_vip)
    SELECT g, 'مشترک ' || g, 'مشترک' || g, g % 50 = 0 FROM generate_series(1, $1) g;
INSERT INTO subscriber_phones (subscriber_id, e164, raw, national, kind)
    SELECT g, '+98912' || lpad(g::text, 7, '0'), '0912' || lpad(g::text, 7, '0'), '912' || lpad(g::text, 7, '0'),
           'mobile'
    FROM generate_series(1, $1) g;
INSERT INTO subscriber_addresses (subscriber_id, label, full_text, text_key, pickup_count, dropoff_count,
                                  pickups_by_hour, last_used_at)
    SELECT g, (ARRAY['home', 'work', 'gym'])[k], 'تهران، خیابان ' || (g * 3 + k) || '، پلاک ' || k,
           'تهرانخیابان' || (g * 3 + k), (g + k) % 40, (g * k) % 17,
           ARRAY(SELECT ((g + k + h) % 7 = 0)::int * ((g + h) % 5) FROM generate_series(0, 23) h),
           now() - ((g + k) % 300) * interval '1 day'
    FROM generate_series(1, $1) g, generate_series(1, 3) k;
INSERT INTO subscriber_notes (subscriber_id, body, is_pinned)
    SELECT g, 'یادداشت ' || g, g % 20 = 0 FROM generate_series(1, $1, 7) g;
SELECT setval('subscribers_id_seq', $1);
ANALYZE;
"""


async def prepare_database() -> None:
    admin = await asyncpg.connect(SERVER)
    name = DATABASE.rsplit("/", 1)[-1].split("?")[0]
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await migrate(DATABASE)
    conn = await asyncpg.connect(DATABASE)
    try:
        have = await conn.fetchval("SELECT count(*) FROM subscribers")
        if have != SUBSCRIBERS:
            print(f"loading {SUBSCRIBERS:,} subscribers and {3 * SUBSCRIBERS:,} addresses…", flush=True)
            started = time.monotonic()
            await conn.execute("TRUNCATE subscribers, calls CASCADE")
            async with conn.transaction():
                for statement in LOAD.split(";\n"):
                    if statement.strip():
                        await conn.execute(statement.replace("$1", str(SUBSCRIBERS)))
            print(f"loaded in {time.monotonic() - started:.0f}s", flush=True)
        await conn.execute("TRUNCATE calls CASCADE")  # rides booked on the calls go with them
        await conn.execute("DELETE FROM staff_users WHERE username LIKE 'bench-op-%'")
    finally:
        await conn.close()
    for n in range(OPERATORS):
        await create_user(DATABASE, f"bench-op-{n}", f"Operator {n}", "operator", PASSWORD, str(201 + n))


async def run_load(url: str, echo_url: str) -> dict[str, object]:
    # The load generator's own garbage-collection pauses would be counted as the service's latency.
    gc.disable()
    latencies: list[float] = []
    responses: list[float] = []
    floor: list[float] = []
    floor_errors = 0
    sent: dict[str, float] = {}
    pool = await asyncpg.create_pool(DATABASE, min_size=4, max_size=8)
    async with aiohttp.ClientSession() as session:
        echo = EchoClient(await session.ws_connect(echo_url))
        card = "x" * CARD_SIZE
        sockets = []
        for n in range(OPERATORS):
            async with session.post(f"{url}/api/auth/login",
                                    json={"username": f"bench-op-{n}", "password": PASSWORD}) as response:
                token = (await response.json())["token"]
            session.cookie_jar.clear()
            ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
            await ws.receive()  # hello
            sockets.append(ws)

        async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                received = time.perf_counter()
                data = json.loads(message.data)
                if data.get("topic") == "call.ringing":
                    started = sent.pop(data["data"]["call"]["pbx_call_id"], None)
                    if started is not None:
                        latencies.append((received - started) * 1000)

        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        total = RATE * SECONDS
        errors = 0

        async def floor_once(number: str) -> None:
            nonlocal floor_errors
            try:
                started = time.perf_counter()
                await pool.fetchrow(FLOOR_QUERY, number)
                queried = (time.perf_counter() - started) * 1000
                floor.append(queried + await echo.round_trip(card))
            except (asyncpg.PostgresError, OSError, TimeoutError, aiohttp.ClientError):
                floor_errors += 1

        async def ring(n: int) -> None:
            nonlocal errors
            call_id = f"bench-{n}"
            local = str(random.randint(1, SUBSCRIBERS)).zfill(7)
            payload = {"event": "ringing", "call_id": call_id, "extensions": str(201 + n % OPERATORS),
                       "caller": "0912" + local}
            floor_task = asyncio.create_task(floor_once("+98912" + local))
            sent[call_id] = started = time.perf_counter()
            async with session.post(f"{url}/api/pbx/call-events", json=payload,
                                    headers={"X-Taxicrm-Secret": SECRET}) as response:
                responses.append((time.perf_counter() - started) * 1000)
                if response.status != 202:
                    errors += 1
            await floor_task

        began = time.perf_counter()
        tasks = []
        for n in range(total):
            # Open-loop pacing: events leave on schedule whether or not earlier ones were answered.
            delay = began + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(ring(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        lookups = await caller_name_lookups(session, url)
        await asyncio.sleep(1)
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()
        await echo.close()
    await pool.close()
    latencies.sort()
    responses.sort()

    def pct(p: float, values: list[float] = latencies) -> float:
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2)

    return {
        "events_sent": total, "cards_received": len(latencies), "webhook_errors": errors, "lost": len(sent),
        "achieved_rate_per_s": round(total / elapsed, 1),
        "latency_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(latencies[-1], 2),
                       "mean": round(statistics.fmean(latencies), 2)},
        # The webhook's own answer, for telling a slow request path from a slow push to the websocket.
        "webhook_response_ms": {"p50": pct(50, responses), "p99": pct(99, responses)},
        "caller_name_lookup_ms": {"p50": pct(50, lookups), "p99": pct(99, lookups), "requests": len(lookups)},
        "floor_ms": {**spread(floor), "errors": floor_errors},
        "times_the_floor": ratio({"p50": pct(50), "p99": pct(99)}, spread(floor)),
    }


async def caller_name_lookups(session: aiohttp.ClientSession, url: str, count: int = 2000) -> list[float]:
    """Time the PBX's caller-name lookup, one request after another, for random known numbers."""
    timings = []
    for _ in range(count):
        number = "0912" + str(random.randint(1, SUBSCRIBERS)).zfill(7)
        started = time.perf_counter()
        async with session.get(f"{url}/api/pbx/caller-name", params={"number": number},
                               headers={"X-Taxicrm-Secret": SECRET}) as response:
            await response.read()
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


async def main() -> None:
    await prepare_database()
    env = {"DATABASE_URL": DATABASE, "REDIS_URL": REDIS, "TAXICRM_WEBHOOK_SECRET": SECRET,
           "TAXICRM_ACCESS_LOG": "false", "TAXICRM_LOG_LEVEL": "warning", "TAXICRM_DB_POOL_SIZE": "20"}
    with tempfile.TemporaryDirectory() as logs:
        service = ServiceProcess(env).start(Path(logs))
        try:
            async with EchoServer() as echo_url:
                figures = await run_load(service.url, echo_url)
        finally:
            service.stop()
    result = {
        "benchmark": "screenpop", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "subscribers": SUBSCRIBERS, "addresses": 3 * SUBSCRIBERS, "operators": OPERATORS, "rate_per_s": RATE,
        "seconds": SECONDS, **figures,
        "note": "client-side: from sending the webhook POST to receiving the card on the operator's websocket; "
                "the floor: one indexed asyncpg query for the caller plus one card-sized websocket message through "
                "an echo server, at the same rate in the same seconds; load generator and service share the "
                "machine's 2 cores",
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results" / "screenpop.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
