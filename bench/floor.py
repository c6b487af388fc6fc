"""The floor each benchmark measures in the same run: what the raw parts cost on this machine right now.

A service figure alone says little on a shared 2-core machine; beside the floor (the same work done with the bare
drivers, no service in between) the ratio holds however busy the machine is.

* `EchoServer`: a websocket server in its own process that sends every text message back, so one websocket
  message's round trip can be timed like the service's push to a client.
* `pipelined_geoadd`: position writes as fast as Redis takes them, pipelined GEOADDs the way `redis-benchmark -P`
  sends them (redis-benchmark itself when the machine has it).
* `spread`, `pct`, `ratio`: percentiles of a list of milliseconds, and a service's figure over the floor's.

    .venv/bin/python -m bench.floor echo PORT      # the echo server's process (EchoServer starts it)
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import socket
import statistics
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], p: float) -> float | None:
    """Return the p-th percentile of sorted `values` (nearest rank), or None if there are none."""
    if not values:
        return None
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 2)


def spread(values: list[float]) -> dict[str, float | None]:
    """Return p50 / p95 / p99 / max / mean of milliseconds, and how many there were."""
    ordered = sorted(values)
    return {"p50": pct(ordered, 50), "p95": pct(ordered, 95), "p99": pct(ordered, 99),
            "max": round(ordered[-1], 2) if ordered else None,
            "mean": round(statistics.fmean(ordered), 2) if ordered else None, "count": len(ordered)}


def ratio(service: dict[str, Any], floor: dict[str, Any]) -> dict[str, float | None]:
    """Return how many times the floor the service's p50 and p99 are."""
    return {p: (round(service[p] / floor[p], 1) if service.get(p) and floor.get(p) else None) for p in ("p50", "p99")}


class EchoServer:
    """A websocket echo server in a child process, on a free local port: `async with EchoServer() as url: ...`."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> str:
        self.process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.floor", "echo",
                                                            str(self.port), cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return f"http://127.0.0.1:{self.port}/echo"
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the echo server did not start")

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)


class EchoClient:
    """One websocket to the echo server; `round_trip(payload)` times one message there and back, in ms."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.reader = asyncio.create_task(self._read())
        self.sent = 0

    async def _read(self) -> None:
        async for frame in self.ws:
            received = time.perf_counter()
            waiter = self.waiting.pop(int(frame.data.split(":", 1)[0]), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(received)

    async def round_trip(self, payload: str) -> float:
        self.sent += 1
        n = self.sent
        echoed: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[n] = echoed
        started = time.perf_counter()
        await self.ws.send_str(f"{n}:{payload}")
        return (await asyncio.wait_for(echoed, 10) - started) * 1000

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


async def pipelined_geoadd(redis_url: str, seconds: float = 5.0, pipeline: int = 64, members: int = 20_000
                           ) -> dict[str, Any]:
    """Return how many GEOADDs a second this Redis takes, pipelined: redis-benchmark's, or a pipelining client's."""
    key = "bench:floor:positions"
    tool = shutil.which("redis-benchmark")
    parts = urlsplit(redis_url)
    database = int((parts.path or "/0").lstrip("/") or 0)
    if tool:
        requests = 200_000
        process = await asyncio.create_subprocess_exec(
            tool, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379), "--dbnum", str(database),
            "-n", str(requests), "-P", str(pipeline), "-r", str(members), "-q",
            "GEOADD", key, "51.40", "35.70", "driver:__rand_int__", stdout=asyncio.subprocess.PIPE)
        output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
        found = re.findall(r"([\d.]+) requests per second", output)
        result = {"tool": "redis-benchmark", "pipeline": pipeline, "requests": requests,
                  "geoadd_per_s": round(float(found[-1])) if found else None}
    else:
        redis = aioredis.from_url(redis_url)
        rng = random.Random(7)
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            pipe = redis.pipeline(transaction=False)
            for _ in range(pipeline):
                pipe.geoadd(key, (51.2 + rng.random() * 0.4, 35.6 + rng.random() * 0.2,
                                  f"driver:{rng.randrange(members)}"))
            await pipe.execute()
            done += pipeline
        result = {"tool": "redis-py pipeline", "pipeline": pipeline, "requests": done,
                  "geoadd_per_s": round(done / (time.perf_counter() - started))}
        await redis.aclose()
    cleanup = aioredis.from_url(redis_url)
    await cleanup.delete(key)
    await cleanup.aclose()
    return result


def _serve_echo(port: int) -> None:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for frame in ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(frame.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        _serve_echo(int(sys.argv[2]))
