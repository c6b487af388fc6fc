"""The processes behind bench/dispatch.py: driver fleets, the ingestion monitor, and a websocket echo server.

Each runs in a process of its own (started by bench/dispatch.py with multiprocessing) so that the load generator's
own work does not land on the event loop that times the bookings, and on the service's own loop (uvloop), so it
takes as little of the machine the service shares as it can. They talk with the main process over a pipe:
tuples whose first item names the message. Times that are compared across processes are `time.monotonic_ns()`
(CLOCK_MONOTONIC, one clock for the whole machine on Linux) or, against the service's own stamps in Redis,
`time.time()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from dispatch.positions import SEEN_KEY
from taxicrm.loop import run_fast

# Drivers start inside this box (Tehran, inside TAXICRM_SERVICE_AREA's default) and wander a little.
AREA = (35.60, 51.15, 35.80, 51.60)
STEP_DEGREES = 0.0002  # about 20 m per position update
CONNECT_TIMEOUT = 60.0
CONNECT_TRIES = 6  # with backoff 1, 2, 4, 8, 10 s, as the protocol asks of apps
TICK = 0.005  # how often the position scheduler looks for due drivers
YIELD_EVERY = 50  # sends between yields to the event loop, so offers are read promptly
JITTER = 0.1  # each driver's next position comes after interval × (1 ± JITTER)


def position_message(lat: float, lng: float) -> str:
    """The position command, formatted by hand: it is sent thousands of times a second."""
    return f'{{"type":"position","lat":{lat:.6f},"lng":{lng:.6f},"accuracy":8}}'


def wander(lat: float, lng: float) -> tuple[float, float]:
    """Move a car by up to STEP_DEGREES in each direction, staying in AREA."""
    south, west, north, east = AREA
    lat = min(north, max(south, lat + random.uniform(-STEP_DEGREES, STEP_DEGREES)))
    lng = min(east, max(west, lng + random.uniform(-STEP_DEGREES, STEP_DEGREES)))
    return lat, lng


@dataclass(eq=False)
class Driver:
    """One driver's phone."""

    id: int
    token: str
    lat: float
    lng: float
    ws: aiohttp.ClientWebSocketResponse | None = None


class Channel:
    """One end of a pipe to another process, read from the event loop without blocking it."""

    def __init__(self, conn: Connection, handle: Callable[[tuple[Any, ...]], None]) -> None:
        self.conn, self.handle = conn, handle
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(conn.fileno(), self._readable)

    def _readable(self) -> None:
        try:
            while self.conn.poll():
                self.handle(self.conn.recv())
        except (EOFError, OSError):
            self.loop.remove_reader(self.conn.fileno())
            self.handle(("eof",))

    def send(self, *message: Any) -> None:
        """Send a message to the other end; a closed pipe means the other side is gone, which its reader sees."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    def close(self) -> None:
        """Stop reading and close the pipe."""
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.conn.fileno())
        self.conn.close()


async def go_online(session: aiohttp.ClientSession, url: str, driver: Driver, status: str) -> None:
    """Connect a driver's app, read its hello and state, send a position and a status, and wait for the reply."""
    async with asyncio.timeout(CONNECT_TIMEOUT):
        ws = await session.ws_connect(f"{url}/ws/driver", params={"token": driver.token}, autoping=True,
                                      timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0))
        try:
            for expected in ("hello", "state"):
                message = await _receive(ws)
                if message.get("type") != expected:
                    raise ConnectionError(f"expected {expected}, got {message}")
            await ws.send_str(position_message(driver.lat, driver.lng))
            await ws.send_str(json.dumps({"type": "status", "status": status, "ref": "online"}))
            while (reply := await _receive(ws)).get("ref") != "online":
                pass
            if reply.get("type") != "status":
                raise ConnectionError(f"could not go {status}: {reply}")
        except BaseException:
            await ws.close()
            raise
    driver.ws = ws


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame = await ws.receive()
    if frame.type is not aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"the socket sent {frame.type.name}")
    message: dict[str, Any] = json.loads(frame.data)
    return message


async def connect_with_retries(session: aiohttp.ClientSession, url: str, driver: Driver, status: str,
                               counts: Counter[str] | None = None) -> str | None:
    """Bring a driver online, retrying with backoff; return the last error if it never worked."""
    error = None
    for attempt in range(CONNECT_TRIES):
        try:
            await go_online(session, url, driver, status)
            return None
        except (aiohttp.ClientError, ConnectionError, OSError, TimeoutError, ValueError) as err:
            error = f"{type(err).__name__}: {err}"[:300]
            if counts is not None:
                counts["connect_retries"] += 1
            await asyncio.sleep(min(10, 2**attempt))
    return error


def connector(local_ip: str | None) -> aiohttp.TCPConnector:
    """A connector without a connection limit, from its own loopback address (its own range of source ports)."""
    return aiohttp.TCPConnector(limit=0, local_addr=(local_ip, 0) if local_ip else None)


@dataclass(frozen=True)
class FleetOptions:
    """How a fleet worker's drivers behave."""

    interval: float  # seconds between one driver's positions
    connect_concurrency: int
    local_ip: str | None
    accept_delay: tuple[float, float]  # a driver's time to tap accept (or decline), seconds
    decline_share: float
    arrive_after: float
    board_after: float
    trip_seconds: float
    # Added to the process's niceness: the simulated phones take the CPU the service and its databases leave over,
    # as phones elsewhere would (whether they still keep up shows in what they sent, and in their late sends).
    nice: int = 0


class FleetWorker:
    """A share of the fleet: online, sending positions on schedule, answering offers and driving the rides."""

    def __init__(self, conn: Connection, url: str, drivers: list[Driver], options: FleetOptions) -> None:
        self.conn, self.url, self.drivers, self.options = conn, url, drivers, options
        self.interval = options.interval
        self.due: list[tuple[float, int]] = []
        self.sent = 0
        self.late = 0  # sends skipped because this process fell a whole interval behind
        self.counts: Counter[str] = Counter()
        self.stopped = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.connecting: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Bring the drivers online, then run until told to stop (or the main process goes away)."""
        self.channel = Channel(self.conn, self.on_command)
        async with aiohttp.ClientSession(connector=connector(self.options.local_ip)) as session:
            sender = asyncio.create_task(self.send_positions())
            started = time.monotonic()
            errors: list[str] = []
            self.connecting = asyncio.create_task(self.connect_all(session, errors))
            stopping = asyncio.create_task(self.stopped.wait())
            await asyncio.wait({self.connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not self.connecting.done():  # Told to stop while still connecting.
                self.connecting.cancel()
            await asyncio.wait({self.connecting})
            online = sum(1 for d in self.drivers if d.ws is not None)
            self.channel.send("online", online, len(errors), errors[:3], time.monotonic() - started)
            # The generator's own collection pauses would be counted as the service's latency.
            gc.freeze()
            gc.disable()
            await stopping
            sender.cancel()
            await self.close_all()
        self.channel.close()

    async def connect_all(self, session: aiohttp.ClientSession, errors: list[str]) -> None:
        gate = asyncio.Semaphore(self.options.connect_concurrency)

        async def one(index: int, driver: Driver) -> None:
            async with gate:
                error = await connect_with_retries(session, self.url, driver, "available", self.counts)
            if error is not None:
                errors.append(error)
                return
            self.spawn(self.read(driver))
            heapq.heappush(self.due, (time.monotonic() + random.random() * self.interval, index))

        await asyncio.gather(*(one(i, d) for i, d in enumerate(self.drivers)))

    def on_command(self, command: tuple[Any, ...]) -> None:
        kind = command[0]
        if kind == "interval":
            self.reschedule(float(command[1]))
        elif kind == "stats":
            self.channel.send("stats", command[1], self.stats())
        elif kind == "stop_connecting" and self.connecting is not None:
            self.connecting.cancel()  # Those online stay; the rest give up.
        elif kind in ("stop", "eof"):
            self.stopped.set()

    def stats(self) -> dict[str, Any]:
        return {"sent": self.sent, "late": self.late,
                "connected": sum(1 for d in self.drivers if d.ws is not None and not d.ws.closed),
                "counts": dict(self.counts)}

    def reschedule(self, interval: float) -> None:
        """Change every driver's interval, spreading their next positions over the new one."""
        self.interval = interval
        now = time.monotonic()
        self.due = [(now + random.random() * interval, index) for _, index in self.due]
        heapq.heapify(self.due)

    async def send_positions(self) -> None:
        """Send each online driver's position when due: open loop, whatever the service answers."""
        while True:
            now = time.monotonic()
            burst = 0
            while self.due and self.due[0][0] <= now:
                due, index = self.due[0]
                driver = self.drivers[index]
                interval = self.interval
                if due < now - interval:  # This process fell behind a whole interval: skip, do not burst.
                    self.late += 1
                    due = now
                next_due = due + interval * random.uniform(1 - JITTER, 1 + JITTER)
                heapq.heapreplace(self.due, (next_due, index))
                ws = driver.ws
                if ws is None or ws.closed:
                    continue
                driver.lat, driver.lng = wander(driver.lat, driver.lng)
                try:
                    await ws.send_str(position_message(driver.lat, driver.lng))
                    self.sent += 1
                except (aiohttp.ClientError, ConnectionError, RuntimeError):
                    self.counts["send_errors"] += 1
                burst += 1
                if burst % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                    now = time.monotonic()
            await asyncio.sleep(TICK)

    async def read(self, driver: Driver) -> None:
        ws = driver.ws
        assert ws is not None
        try:
            async for frame in ws:
                if frame.type is aiohttp.WSMsgType.TEXT:
                    self.on_message(driver, json.loads(frame.data))
        except (aiohttp.ClientError, ConnectionError, ValueError):
            self.counts["read_errors"] += 1
        if not self.stopped.is_set():
            self.counts["dropped"] += 1

    def on_message(self, driver: Driver, message: dict[str, Any]) -> None:
        kind = message.get("type", "?")
        self.counts[f"got_{kind}"] += 1
        if kind == "offer":
            received = time.monotonic_ns()
            self.channel.send("offer", message.get("notes_for_driver"), message["ride_id"], message["offer_id"],
                              driver.id, received, message.get("distance_to_pickup_m"))
            self.spawn(self.answer(driver, message))
        elif kind == "error":
            self.counts[f"error_{message.get('code')}"] += 1

    async def answer(self, driver: Driver, offer: dict[str, Any]) -> None:
        """Tap accept (or decline), then drive the ride: arrived, picked up, completed, and free again."""
        options = self.options
        await asyncio.sleep(random.uniform(*options.accept_delay))
        if random.random() < options.decline_share:
            await self.command(driver, {"type": "decline", "offer_id": offer["offer_id"], "reason": "bench"})
            return
        await self.command(driver, {"type": "accept", "offer_id": offer["offer_id"]})
        ride_id = offer["ride_id"]
        for delay, step in ((options.arrive_after, "arrived"), (options.board_after, "picked_up"),
                            (options.trip_seconds, "completed")):
            await asyncio.sleep(delay)
            await self.command(driver, {"type": step, "ride_id": ride_id})

    async def command(self, driver: Driver, command: dict[str, Any]) -> None:
        if driver.ws is None or driver.ws.closed:
            self.counts["answer_on_closed_socket"] += 1
            return
        try:
            await driver.ws.send_str(json.dumps(command))
            self.counts[f"sent_{command['type']}"] += 1
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            self.counts["send_errors"] += 1

    def spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        open_sockets = [d.ws for d in self.drivers if d.ws is not None and not d.ws.closed]
        if open_sockets:
            await asyncio.wait([asyncio.ensure_future(ws.close()) for ws in open_sockets], timeout=15)


def run_fleet(conn: Connection, url: str, drivers: list[tuple[int, str, float, float]], options: FleetOptions) -> None:
    """Process entry point: one fleet worker."""
    os.nice(options.nice)
    fleet = [Driver(*d) for d in drivers]
    run_fast(FleetWorker(conn, url, fleet, options).run())


@dataclass
class _Sample:
    at: float
    seconds: float  # since the previous sample
    refreshed: int  # drivers whose last-seen score changed since the previous sample
    total: int
    stale: int  # drivers whose last-seen is older than the stale threshold
    stale_after: float
    age_p50: float
    age_p99: float
    age_max: float


@dataclass
class _ProbeLag:
    sent: float  # time.time() when the position left
    stamp: float  # the service's stamp minus `sent`: time until the service handled the message
    visible: float  # when the new score was seen in Redis minus `sent`: including the 150 ms flush


@dataclass
class _Probe:
    driver: Driver
    member: bytes
    pending: float | None = None  # time.time() of a sent position not yet seen in Redis


@dataclass
class MonitorOptions:
    """What the monitor watches."""

    redis_url: str
    interval: float
    # At most; shorter for short intervals (see Monitor.period). Reading 20,000 scores costs the monitor and
    # Redis CPU the service shares, so not more often than counting one update per driver needs.
    sample_seconds: float = 2.0
    poll_seconds: float = 0.01
    local_ip: str | None = None


@dataclass
class Monitor:
    """Ingestion as Redis sees it: every driver's last-seen score, and probe drivers timing their own positions.

    Probe drivers are real connections that go `on_break` (so they are never offered a ride) and send positions
    like everyone else; after each one the monitor polls Redis until the driver's last-seen score moves.
    """

    conn: Connection
    url: str
    probes: list[Driver]
    options: MonitorOptions
    samples: list[_Sample] = field(default_factory=list)
    lags: list[_ProbeLag] = field(default_factory=list)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        self.channel = Channel(self.conn, self.on_command)
        self.redis = aioredis.from_url(self.options.redis_url)
        async with aiohttp.ClientSession(connector=connector(self.options.local_ip)) as session:
            errors = await asyncio.gather(*(connect_with_retries(session, self.url, d, "on_break")
                                            for d in self.probes))
            failed = [e for e in errors if e is not None]
            watched = [_Probe(d, str(d.id).encode()) for d in self.probes if d.ws is not None]
            self.channel.send("online", len(watched), len(failed), failed[:3], 0.0)
            gc.freeze()
            gc.disable()
            tasks = [asyncio.create_task(self.sample()), asyncio.create_task(self.poll(watched)),
                     *(asyncio.create_task(self.probe(p)) for p in watched)]
            await self.stopped.wait()
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            await asyncio.wait([asyncio.ensure_future(p.driver.ws.close()) for p in watched if p.driver.ws],
                               timeout=10)
        await self.redis.aclose()
        self.channel.close()

    def on_command(self, command: tuple[Any, ...]) -> None:
        kind = command[0]
        if kind == "interval":
            self.options.interval = float(command[1])
        elif kind == "summary":
            self.channel.send("summary", command[1], self.summary(command[2], command[3]))
        elif kind in ("stop", "eof"):
            self.stopped.set()

    async def probe(self, probe: _Probe) -> None:
        """Send positions on the fleet's schedule; each one not yet seen is timed until Redis shows it."""
        ws = probe.driver.ws
        assert ws is not None
        await asyncio.sleep(random.random() * self.options.interval)
        while not ws.closed:
            probe.driver.lat, probe.driver.lng = wander(probe.driver.lat, probe.driver.lng)
            sent = time.time()
            await ws.send_str(position_message(probe.driver.lat, probe.driver.lng))
            if probe.pending is None:
                probe.pending = sent
            await asyncio.sleep(self.options.interval * random.uniform(1 - JITTER, 1 + JITTER))

    async def poll(self, probes: list[_Probe]) -> None:
        while True:
            await asyncio.sleep(self.options.poll_seconds)
            waiting = [p for p in probes if p.pending is not None]
            if not waiting:
                continue
            scores = await self.redis.zmscore(SEEN_KEY, [p.member for p in waiting])
            seen = time.time()
            for probe, score in zip(waiting, scores, strict=True):
                sent = probe.pending
                if score is not None and sent is not None and score >= sent - 0.001:
                    self.lags.append(_ProbeLag(sent, score - sent, seen - sent))
                    probe.pending = None

    async def sample(self) -> None:
        """Read every driver's last-seen score: how many moved since last time, and how old the oldest are."""
        previous: dict[bytes, float] | None = None
        before = time.time()
        while True:
            await asyncio.sleep(self.period)
            scores = dict(await self.redis.zrange(SEEN_KEY, 0, -1, withscores=True))
            now = time.time()
            if previous is not None:
                refreshed = sum(1 for member, score in scores.items() if previous.get(member) != score)
                ages = sorted(now - s for s in scores.values())
                stale_after = self.options.interval * (1 + JITTER) + 1.0
                stale = sum(1 for a in ages if a > stale_after)
                n = len(ages) or 1
                self.samples.append(_Sample(now, now - before, refreshed, len(ages), stale, stale_after,
                                            ages[n // 2] if ages else 0, ages[min(n - 1, int(0.99 * n))] if ages else 0,
                                            ages[-1] if ages else 0))
            previous, before = scores, now

    @property
    def period(self) -> float:
        """Sample more often than any driver can update twice, so a changed score is one update."""
        return min(self.options.sample_seconds, 0.8 * self.options.interval * (1 - JITTER))

    def summary(self, since: float, until: float) -> dict[str, Any]:
        """What the monitor saw between two time.time() instants."""
        samples = [s for s in self.samples if since <= s.at - s.seconds and s.at <= until]
        lags = [lag for lag in self.lags if since <= lag.sent <= until]
        seconds = sum(s.seconds for s in samples)
        stamps = sorted(lag.stamp * 1000 for lag in lags)
        visible = sorted(lag.visible * 1000 for lag in lags)
        return {
            "samples": len(samples),
            "redis_refreshed_per_s": round(sum(s.refreshed for s in samples) / seconds) if seconds else None,
            "drivers_on_map": min((s.total for s in samples), default=0),
            "stale_after_s": samples[-1].stale_after if samples else None,
            "stale_max": max((s.stale for s in samples), default=None),
            "age_s": {"p50": _round(max((s.age_p50 for s in samples), default=None)),
                      "p99": _round(max((s.age_p99 for s in samples), default=None)),
                      "max": _round(max((s.age_max for s in samples), default=None))},
            "probe_positions": len(lags),
            # Until the service handled the message (its stamp), and until it was readable in Redis.
            "probe_handled_ms": _percentiles(stamps),
            "probe_visible_ms": _percentiles(visible),
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    n = len(values)
    return {"p50": round(values[n // 2], 1), "p99": round(values[min(n - 1, int(0.99 * n))], 1),
            "max": round(values[-1], 1)}


def run_monitor(conn: Connection, url: str, probes: list[tuple[int, str, float, float]],
                options: MonitorOptions) -> None:
    """Process entry point: the ingestion monitor."""

    async def main() -> None:
        await Monitor(conn, url, [Driver(*p) for p in probes], options).run()

    run_fast(main())


def run_echo_server(conn: Connection, port: int) -> None:
    """Process entry point: a websocket server that sends every text message straight back."""

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for frame in ws:
            if frame.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(frame.data)
        return ws

    async def main() -> None:
        stopped = asyncio.Event()
        channel = Channel(conn, lambda command: stopped.set() if command[0] in ("stop", "eof") else None)
        app = web.Application()
        app.router.add_get("/echo", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        channel.send("online", 1, 0, [], 0.0)
        await stopped.wait()
        await runner.cleanup()
        channel.close()

    run_fast(main())
