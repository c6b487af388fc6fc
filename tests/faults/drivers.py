"""Simulated drivers for the fault suite: real driver-app websocket clients that take rides and survive drops.

Each driver goes online near central Tehran, sends its position every few seconds, accepts most offers,
declines some, lets a few lapse, drives accepted rides to completion, and reconnects with backoff when its
connection drops, trusting the server's `state` message for where it stands (docs/driver-protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Message = dict[str, Any]
CENTER = (35.70, 51.40)
SPREAD_DEGREES = 0.03  # drivers start within about 3 km of the center
POSITION_SECONDS = (3.0, 5.0)
REPLY_TIMEOUT = 10.0
MAX_BACKOFF = 8.0
# What a driver does with an offer: the shares must add up to 1.
ACCEPT_SHARE, DECLINE_SHARE = 0.85, 0.10  # the rest let it lapse
STEP_DELAYS = {"arrived": (0.5, 2.0), "picked_up": (0.5, 2.0), "completed": (2.0, 6.0)}
# The next step from each state of an accepted ride.
NEXT_STEP = {"assigned": "arrived", "arrived": "picked_up", "on_board": "completed"}


class ConnectionLost(Exception):
    """The socket closed, or the server stopped answering."""


@dataclass
class FleetLedger:
    """What the whole fleet saw, for the report and the checks."""

    counts: Counter[str] = field(default_factory=Counter)
    completed_rides: list[int] = field(default_factory=list)
    sequence_gaps: list[str] = field(default_factory=list)


@dataclass(eq=False)
class SimulatedDriver:
    """One driver's phone."""

    driver_id: int
    token: str
    urls: list[str]
    ledger: FleetLedger
    lat: float = 0.0
    lng: float = 0.0
    preferred: int = 0
    ws: aiohttp.ClientWebSocketResponse | None = None
    _replies: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    _refs: int = 0
    _driving: int | None = None  # the ride a trip task is driving on this connection

    def __post_init__(self) -> None:
        self.lat = CENTER[0] + random.uniform(-SPREAD_DEGREES, SPREAD_DEGREES)
        self.lng = CENTER[1] + random.uniform(-SPREAD_DEGREES, SPREAD_DEGREES)
        self.preferred = self.driver_id % len(self.urls)

    async def run(self, session: aiohttp.ClientSession, stopped: asyncio.Event) -> None:
        """Stay connected until stopped: connect, converse, and on any drop reconnect with backoff."""
        backoff = 1.0
        while not stopped.is_set():
            url = self.urls[self.preferred % len(self.urls)]
            try:
                self.ws = await session.ws_connect(f"{url}/ws/driver", params={"token": self.token},
                                                   autoping=True, timeout=aiohttp.ClientWSTimeout(ws_close=5.0))
            except (aiohttp.ClientError, OSError, TimeoutError):
                self.ledger.counts["connect_failures"] += 1
                self.preferred += 1  # The load balancer would send the app to another instance.
                await _sleep_unless(stopped, backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
            self.ledger.counts["connections"] += 1
            try:
                await self._converse(self.ws, stopped)
            except ConnectionLost:
                self.ledger.counts["drops"] += 1
            finally:
                for future in self._replies.values():
                    future.cancel()
                self._replies.clear()
                with contextlib.suppress(Exception):
                    await self.ws.close()
                self.ws = None
            if not stopped.is_set():
                await _sleep_unless(stopped, random.uniform(0.2, 1.0))

    def cut(self) -> bool:
        """Drop the connection abruptly, as a phone losing its signal does: no close handshake."""
        ws = self.ws
        connection = getattr(ws, "_conn", None)
        transport = getattr(connection, "transport", None)
        if ws is None or ws.closed or transport is None:
            return False
        transport.abort()
        return True

    async def standing(self) -> str:
        """Ask the server where this driver stands: `free:<status>`, `ride:<status>`, or `disconnected`."""
        try:
            state = await self._ask({"type": "state"})
        except ConnectionLost:
            return "disconnected"
        if state.get("type") != "state":
            return f"error:{state.get('code')}"
        return f"ride:{state['ride']['status']}" if state.get("ride") else f"free:{state.get('status')}"

    async def _converse(self, ws: aiohttp.ClientWebSocketResponse, stopped: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        self._driving = None
        reader = asyncio.create_task(self._read(ws, tasks))
        try:
            await self._wait_reply_or_lost(reader, self._ask({"type": "state"}), on_state=tasks)
            ticker = asyncio.create_task(self._send_positions(ws))
            tasks.add(ticker)
            stop = asyncio.create_task(stopped.wait())
            await asyncio.wait({reader, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if reader.done() and not stopped.is_set():
                raise ConnectionLost
        finally:
            reader.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(reader, *tasks, return_exceptions=True)

    async def _wait_reply_or_lost(self, reader: asyncio.Task[None], asking: Any, on_state: set[asyncio.Task[None]]
                                  ) -> None:
        ask = asyncio.ensure_future(asking)
        await asyncio.wait({reader, ask}, return_when=asyncio.FIRST_COMPLETED)
        if not ask.done():
            ask.cancel()
            raise ConnectionLost
        try:
            state = ask.result()
        except (ConnectionLost, asyncio.CancelledError) as err:
            raise ConnectionLost from err
        self._take_state(state, on_state)

    def _take_state(self, state: Message, tasks: set[asyncio.Task[None]]) -> None:
        """Act on what the server says we are doing: a ride to finish, an offer to answer, or go online."""
        if state.get("type") != "state":
            self.ledger.counts[f"state_refused_{state.get('code')}"] += 1
            return
        ride, offer = state.get("ride"), state.get("offer")
        if ride is not None:
            self.ledger.counts["resumed_rides"] += 1
            self._start_trip(ride, tasks)
        else:
            if offer is not None:
                self.ledger.counts["resumed_offers"] += 1
                self._spawn(tasks, self._answer(offer, tasks))
            self._spawn(tasks, self._go_online())

    async def _go_online(self) -> None:
        await self._send({"type": "position", "lat": self.lat, "lng": self.lng, "accuracy": 8})
        reply = await self._ask({"type": "status", "status": "available"})
        self.ledger.counts[f"online_{reply.get('type')}"] += 1

    async def _send_positions(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(random.uniform(*POSITION_SECONDS))
            self.lat += random.uniform(-0.0003, 0.0003)
            self.lng += random.uniform(-0.0003, 0.0003)
            with contextlib.suppress(ConnectionLost):
                await self._send({"type": "position", "lat": self.lat, "lng": self.lng, "accuracy": 8})

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, tasks: set[asyncio.Task[None]]) -> None:
        last_seq = 0
        with contextlib.suppress(aiohttp.ClientError, ConnectionError, OSError):
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    continue
                message: Message = json.loads(frame.data)
                if message.get("seq") != last_seq + 1:
                    self.ledger.sequence_gaps.append(f"driver {self.driver_id}: {last_seq} then {message.get('seq')}")
                last_seq = message.get("seq", last_seq)
                self._on_message(message, tasks)

    def _on_message(self, message: Message, tasks: set[asyncio.Task[None]]) -> None:
        kind = message.get("type", "?")
        self.ledger.counts[f"got_{kind}"] += 1
        ref = message.get("ref")
        if ref is not None and ref in self._replies:
            future = self._replies.pop(ref)
            if not future.done():
                future.set_result(message)
            return
        if kind == "offer":
            self._spawn(tasks, self._answer(message, tasks))
        elif kind == "ride" and message.get("event") == "assigned":
            self._start_trip(message["job"], tasks)

    async def _answer(self, offer: Message, tasks: set[asyncio.Task[None]]) -> None:
        await asyncio.sleep(random.uniform(0.2, 2.0))
        roll = random.random()
        if roll < ACCEPT_SHARE:
            reply = await self._ask({"type": "accept", "offer_id": offer["offer_id"]})
            self.ledger.counts[f"accept_{reply.get('type')}_{reply.get('code', 'ok')}"] += 1
            if reply.get("type") == "accepted":
                self._start_trip(reply["job"], tasks)
        elif roll < ACCEPT_SHARE + DECLINE_SHARE:
            reply = await self._ask({"type": "decline", "offer_id": offer["offer_id"], "reason": "fault suite"})
            self.ledger.counts[f"decline_{reply.get('type')}_{reply.get('code', 'ok')}"] += 1
        else:
            self.ledger.counts["offers_ignored"] += 1

    def _start_trip(self, job: Message, tasks: set[asyncio.Task[None]]) -> None:
        if self._driving == job["ride_id"]:
            return
        self._driving = job["ride_id"]
        self._spawn(tasks, self._drive(job["ride_id"], job["status"]))

    async def _drive(self, ride_id: int, status: str) -> None:
        """Take the ride from its status to completion, one step after another."""
        while status in NEXT_STEP:
            step = NEXT_STEP[status]
            await asyncio.sleep(random.uniform(*STEP_DELAYS[step]))
            reply = await self._ask({"type": step, "ride_id": ride_id})
            if reply.get("type") == "ride":
                status = reply["job"]["status"]
                continue
            self.ledger.counts[f"step_error_{reply.get('code')}"] += 1
            if reply.get("code") not in ("service_unavailable", "internal_error"):
                # The ride moved on without us (cancelled, or already further): the server's state says how.
                state = await self._ask({"type": "state"})
                ride = state.get("ride")
                if ride is None or ride["ride_id"] != ride_id:
                    break
                status = ride["status"]
        if status == "completed":
            self.ledger.completed_rides.append(ride_id)
            self.ledger.counts["rides_completed"] += 1
        self._driving = None

    async def _ask(self, command: Message) -> Message:
        """Send a command tagged with a ref and return the reply to it."""
        self._refs += 1
        ref = f"{command['type']}-{self._refs}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._replies[ref] = future
        await self._send({**command, "ref": ref})
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await future
        except (TimeoutError, asyncio.CancelledError) as err:
            self._replies.pop(ref, None)
            if isinstance(err, TimeoutError):
                self.ledger.counts["reply_timeouts"] += 1
                self.cut()  # A server that stops answering is as good as gone: reconnect and resync.
            raise ConnectionLost from err

    async def _send(self, command: Message) -> None:
        ws = self.ws
        if ws is None or ws.closed:
            raise ConnectionLost
        try:
            await ws.send_str(json.dumps(command))
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            raise ConnectionLost from err

    def _spawn(self, tasks: set[asyncio.Task[None]], work: Any) -> None:
        async def guarded() -> None:
            with contextlib.suppress(ConnectionLost):
                await work

        task = asyncio.create_task(guarded())
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _sleep_unless(stopped: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopped.wait()
