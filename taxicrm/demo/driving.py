"""A simulated driver: a real websocket client of /ws/driver that takes offers and drives them along streets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp

from taxicrm.demo.options import DemoOptions
from taxicrm.demo.paths import street_path, walk
from taxicrm.demo.places import DECLINE_REASONS, NEIGHBOURHOODS
from taxicrm.demo.population import Cabbie, Point, near
from taxicrm.demo.tally import Tally

log = logging.getLogger("taxicrm.demo.driving")
Message = dict[str, Any]
# Errors that only say the world moved on (the offer timed out, the ride was cancelled meanwhile).
EXPECTED_ERRORS = frozenset({"offer_expired", "offer_withdrawn", "offer_already_answered", "offer_not_found",
                             "illegal_transition", "actor_not_allowed", "ride_not_found", "driver_busy"})
MAX_BACKOFF_S = 30.0


class Goal(StrEnum):
    """What the driver is doing."""

    CRUISING = "cruising"  # Free: parked, or driving slowly somewhere nearby.
    TO_PICKUP = "to_pickup"
    WAITING = "waiting"  # At the pickup, for the passenger to come down.
    TO_DROPOFF = "to_dropoff"
    ON_BREAK = "on_break"


@dataclass(frozen=True)
class Habits:
    """How this driver behaves: some take nearly everything, a few are choosy."""

    accept_share: float
    break_share: float  # After a ride.
    offline_share: float  # After a ride: goes home (disconnects) for a while.
    no_show_share: float = 0.02


def habits(rng: random.Random) -> Habits:
    """Return a driver's habits, drawn once."""
    return Habits(accept_share=min(0.98, max(0.5, rng.betavariate(9, 1.6))), break_share=rng.uniform(0.03, 0.1),
                  offline_share=rng.uniform(0.01, 0.05))


class SimDriver:
    """One driver's phone app, following docs/driver-protocol.md."""

    def __init__(self, session: aiohttp.ClientSession, ws_url: str, token: str, cabbie: Cabbie,
                 options: DemoOptions, tally: Tally, rng: random.Random) -> None:
        self.session, self.ws_url, self.token = session, ws_url, token
        self.cabbie, self.options, self.tally, self.rng = cabbie, options, tally, rng
        self.habits = habits(rng)
        self.position: Point = cabbie.home
        self.goal = Goal.CRUISING
        self.route: Iterator[Point] | None = None
        self.job: Message | None = None
        self.offer: tuple[int, float, bool] | None = None  # (offer id, when to answer, accept?)
        self.resume_at = 0.0
        self.leave_for: float | None = None  # Seconds to stay offline after this shift.
        self.is_online = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    @property
    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def run(self, stop: asyncio.Event, start_within_s: float) -> None:
        """Connect, work shifts, reconnect with backoff after drops, until `stop` is set."""
        await _sleep_unless(stop, self.rng.uniform(0, start_within_s))
        backoff = 1.0
        while not stop.is_set():
            away = backoff
            try:
                async with self.session.ws_connect(self.ws_url, params={"token": self.token}) as ws:
                    self._ws = ws
                    away = await self._shift(ws, stop)
                    backoff = 1.0
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                log.debug("driver %s: connection problem: %s", self.cabbie.phone, err)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
            finally:
                self._ws = None
                self._set_online(False)
            await _sleep_unless(stop, away)

    async def _shift(self, ws: aiohttp.ClientWebSocketResponse, stop: asyncio.Event) -> float:
        """Work until stopped, dropped or going home; return how long to stay away."""
        # The position first, so the center can offer rides as soon as the `status` (sent on `state`) arrives.
        await self._send("position", lat=self.position[0], lng=self.position[1], accuracy=8)
        interval = self.options.position_interval_s
        next_tick = self._loop_time + self.rng.uniform(0, interval)
        while not stop.is_set():
            wake = next_tick if self.offer is None else min(next_tick, self.offer[1])
            try:
                frame = await ws.receive(timeout=max(0.01, wake - self._loop_time))
            except TimeoutError:
                frame = None
            if frame is not None:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    return 1.0  # Closed or broken: reconnect soon, as the protocol asks.
                await self._handle(json.loads(frame.data))
            now = self._loop_time
            if self.offer is not None and now >= self.offer[1]:
                await self._answer_offer()
            if now >= next_tick:
                next_tick = now + interval * self.rng.uniform(0.9, 1.1)
                await self._tick(now)
            if self.leave_for is not None:
                away, self.leave_for = self.leave_for, None
                await self._send("status", status="offline")
                self.tally.went_offline += 1
                return away
        await self._send("status", status="offline")
        return 0.0

    async def _send(self, kind: str, **fields: Any) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps({"type": kind, **fields}))

    def _set_online(self, is_online: bool) -> None:
        if is_online != self.is_online:
            self.tally.drivers_online += 1 if is_online else -1
            self.is_online = is_online

    # What the server says ------------------------------------------------------------------------------

    async def _handle(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "state":
            self._set_online(True)
            if self._resume(message):
                await self._send("status", status="on_break" if self.goal is Goal.ON_BREAK else "available")
        elif kind == "offer":
            self.tally.offers += 1
            think = self.rng.uniform(1.5, 6.0) / self.options.pace
            self.offer = (int(message["offer_id"]), self._loop_time + think,
                          self.rng.random() < self.habits.accept_share)
        elif kind == "accepted":
            self.tally.accepted += 1
            self._take(message["job"])
        elif kind == "ride":
            self._ride_news(str(message.get("event")), message.get("job") or {})
        elif kind == "offer_withdrawn":
            if self.offer is not None and self.offer[0] == message.get("offer_id"):
                self.offer = None
        elif kind == "error" and message.get("code") not in EXPECTED_ERRORS:
            self.tally.errors += 1
            log.warning("driver %s: %s: %s", self.cabbie.phone, message.get("code"), message.get("message"))

    def _resume(self, state: Message) -> bool:
        """Carry on with the ride or offer `state` names (it is the truth); return whether the driver is free."""
        ride = state.get("ride")
        if ride:
            self._take(ride, resuming=True)
            return False
        if self.job is not None:  # The ride ended (cancelled, say) while the app was away.
            self.job, self.goal, self.route = None, Goal.CRUISING, None
        offer = state.get("offer")
        if offer and self.offer is None:
            self.offer = (int(offer["offer_id"]), self._loop_time + 1.0 / self.options.pace,
                          self.rng.random() < self.habits.accept_share)
        return True

    def _ride_news(self, event: str, job: Message) -> None:
        if event == "assigned" and (self.job is None or self.job.get("ride_id") != job.get("ride_id")):
            self._take(job)  # Given by hand by an operator.
        elif event == "cancelled":
            self.tally.cancelled += 1
            self.job, self.goal, self.route = None, Goal.CRUISING, None
        elif event == "changed" and self.job is not None:
            self.job = job
            if self.goal is Goal.TO_PICKUP:
                self._drive_to(_point(job.get("pickup")) or self.position)
        elif event == "completed":
            self.tally.completed += 1

    def _take(self, job: Message, *, resuming: bool = False) -> None:
        self.job, self.offer = job, None
        status = job.get("status")
        if resuming and status == "on_board":
            self.goal = Goal.TO_DROPOFF
            self._drive_to(self._dropoff_point(job))
        elif resuming and status == "arrived":
            self.goal, self.route = Goal.WAITING, None
            self.resume_at = self._loop_time + 5.0 / self.options.pace
        else:
            self.goal = Goal.TO_PICKUP
            self._drive_to(_point(job.get("pickup")) or self.position)

    # What the driver does ------------------------------------------------------------------------------

    async def _answer_offer(self) -> None:
        if self.offer is None:
            return
        offer_id, _, accept = self.offer
        self.offer = None
        if accept:
            await self._send("accept", offer_id=offer_id)
            return
        self.tally.declined += 1
        reason = self.rng.choice(DECLINE_REASONS)
        await self._send("decline", offer_id=offer_id, **({"reason": reason} if reason else {}))

    async def _tick(self, now: float) -> None:
        """Every few seconds: move along the route and report the position; act on arriving."""
        if self.route is not None:
            step = next(self.route, None)
            if step is None:
                self.route = None
                await self._arrive(now)
            else:
                self.position = step
        elif self.goal is Goal.WAITING and now >= self.resume_at:
            await self._board_or_give_up(now)
        elif self.goal is Goal.ON_BREAK and now >= self.resume_at:
            self.goal = Goal.CRUISING
            await self._send("status", status="available")
        elif self.goal is Goal.CRUISING and self.job is None and self.rng.random() < 0.08:
            # Free cars move now and then rather than sit still all shift: back towards the driver's own part of
            # town, or to a busy neighbourhood (never a random walk, which would wander out of the city).
            area = self.cabbie.home if self.rng.random() < 0.7 else self.rng.choice(NEIGHBOURHOODS)[1:3]
            self._drive_to(near(self.rng, area[0], area[1], 1.5), speed_kmh=self.rng.uniform(12, 25))
        await self._send("position", lat=self.position[0], lng=self.position[1], accuracy=self.rng.randint(4, 15))

    async def _arrive(self, now: float) -> None:
        ride_id = None if self.job is None else self.job.get("ride_id")
        if self.goal is Goal.TO_PICKUP and ride_id is not None:
            await self._send("arrived", ride_id=ride_id)
            self.goal = Goal.WAITING
            self.resume_at = now + self.rng.uniform(15, 90) / self.options.pace
        elif self.goal is Goal.TO_DROPOFF and ride_id is not None:
            await self._send("completed", ride_id=ride_id)
            self.job, self.goal = None, Goal.CRUISING
            await self._maybe_rest(now)

    async def _board_or_give_up(self, now: float) -> None:
        ride_id = None if self.job is None else self.job.get("ride_id")
        if ride_id is None or self.job is None:
            self.goal = Goal.CRUISING
            return
        if self.rng.random() < self.habits.no_show_share:
            await self._send("no_show", ride_id=ride_id, reason="مسافر نیامد")
            self.job, self.goal = None, Goal.CRUISING
            return
        await self._send("picked_up", ride_id=ride_id)
        self.goal = Goal.TO_DROPOFF
        self._drive_to(self._dropoff_point(self.job))

    async def _maybe_rest(self, now: float) -> None:
        roll = self.rng.random()
        if roll < self.habits.offline_share:
            self.leave_for = self.rng.uniform(120, 600) / self.options.pace
        elif roll < self.habits.offline_share + self.habits.break_share:
            self.tally.breaks += 1
            self.goal = Goal.ON_BREAK
            self.resume_at = now + self.rng.uniform(120, 600) / self.options.pace
            await self._send("status", status="on_break")

    def _dropoff_point(self, job: Message) -> Point:
        # A ride booked without a destination goes somewhere a few kilometres away.
        return _point(job.get("destination")) or near(self.rng, *self.position, 3.0)

    def _drive_to(self, target: Point, speed_kmh: float | None = None) -> None:
        speed = speed_kmh or self.rng.uniform(20, 40)
        step_m = speed / 3.6 * self.options.pace * self.options.position_interval_s
        self.route = walk(street_path(self.position, target, self.rng), step_m)


def _point(place: Any) -> Point | None:
    if not isinstance(place, dict):
        return None
    lat, lng = place.get("lat"), place.get("lng")
    if isinstance(lat, int | float) and isinstance(lng, int | float):
        return (float(lat), float(lng))
    return None


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, waking early when `stop` is set."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
