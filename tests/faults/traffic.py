"""The call center's side of the fault suite: bookings, PBX calls, ratings and complaints, and what was acknowledged.

Every request goes to one of the instances in turn and, when the connection fails, to the next, as behind a
load balancer. Bookings carry an Idempotency-Key and are retried until they are acknowledged or a deadline
passes; a request that may have reached the server is only retried where the API makes retries safe.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.faults.drivers import CENTER

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
RETRY_FOR_SECONDS = 90.0
PICKUP_SPREAD, DESTINATION_SPREAD = 0.025, 0.05
# Errors after which a request surely never reached a handler: safe to send again whatever it was.
NOT_SENT = (aiohttp.ClientConnectorError,)
# Errors after which the request may or may not have been handled.
MAYBE_SENT = (aiohttp.ClientError, TimeoutError, ConnectionError, ValueError)  # ValueError: a body cut short
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class AckedBooking:
    """A booking the API acknowledged: its key and the ride it answered with."""

    key: str
    ride_id: int
    status: int


@dataclass
class TrafficLedger:
    """What the API acknowledged, and what it cost to get there."""

    bookings: list[AckedBooking] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # PBX call ids whose ringing event got 202
    ratings: list[tuple[int, int, int]] = field(default_factory=list)  # (rating id, ride id, value)
    complaints: list[tuple[int, int]] = field(default_factory=list)  # (complaint id, ride id)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class CallCenter:
    """The operators' and the PBX's requests against the instances."""

    session: aiohttp.ClientSession
    urls: list[str]
    operator_token: str
    webhook_secret: str
    ledger: TrafficLedger
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def _operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}

    async def _send(self, method: str, path: str, kind: str, *, retry_maybe_sent: bool,
                    **kwargs: Any) -> tuple[int, Any] | None:
        """Send a request, moving to the next instance on failure; return (status, body), or None if given up."""
        deadline = asyncio.get_running_loop().time() + RETRY_FOR_SECONDS
        delay = 0.5
        while True:
            url = self.urls[next(self._turn) % len(self.urls)] + path
            try:
                async with self.session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs) as response:
                    body = await response.json(content_type=None)
                    if response.status not in RETRY_STATUSES:
                        return response.status, body
                    self.ledger.counts[f"{kind}_http_{response.status}"] += 1
            except NOT_SENT:
                self.ledger.counts[f"{kind}_connect_errors"] += 1
            except MAYBE_SENT:
                self.ledger.counts[f"{kind}_broken_requests"] += 1
                if not retry_maybe_sent:
                    return None
            if asyncio.get_running_loop().time() > deadline:
                self.ledger.counts[f"{kind}_given_up"] += 1
                return None
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 5.0)

    async def book(self) -> None:
        """Book a walk-in's ride near the center; retried with the same key until acknowledged."""
        key = str(uuid.uuid4())
        lat, lng = (c + random.uniform(-PICKUP_SPREAD, PICKUP_SPREAD) for c in CENTER)
        to_lat, to_lng = (c + random.uniform(-DESTINATION_SPREAD, DESTINATION_SPREAD) for c in CENTER)
        body = {"walk_in_name": "Fault Suite", "walk_in_phone": f"0912{random.randrange(10**7):07d}",
                "confirm_duplicate": True, "pickup": {"text": "Pickup street", "lat": lat, "lng": lng},
                "destination": {"text": "Destination street", "lat": to_lat, "lng": to_lng}}
        self.ledger.counts["bookings_sent"] += 1
        answer = await self._send("POST", "/api/rides", "booking", retry_maybe_sent=True, json=body,
                                  headers={**self._operator, "Idempotency-Key": key})
        if answer is None:
            return
        status, reply = answer
        if status in (200, 201):
            self.ledger.bookings.append(AckedBooking(key, int(reply["ride"]["id"]), status))
        else:
            self.ledger.counts[f"booking_refused_{status}_{_code(reply)}"] += 1

    async def call(self) -> None:
        """A call rings and ends at the PBX; the webhook stores one row per PBX call, so retries are safe."""
        call_id = f"fault-{uuid.uuid4().hex[:16]}"
        headers = {"X-Taxicrm-Secret": self.webhook_secret}
        ringing = {"event": "ringing", "call_id": call_id, "caller": f"0935{random.randrange(10**7):07d}",
                   "extensions": "201"}
        self.ledger.counts["calls_sent"] += 1
        answer = await self._send("POST", "/api/pbx/call-events", "call", retry_maybe_sent=True, json=ringing,
                                  headers=headers)
        if answer is None or answer[0] != 202:
            self.ledger.counts[f"call_refused_{answer and answer[0]}"] += 1
            return
        self.ledger.calls.append(call_id)
        await asyncio.sleep(random.uniform(1, 5))
        await self._send("POST", "/api/pbx/call-events", "call_end", retry_maybe_sent=True, headers=headers,
                         json={"event": "ended", "call_id": call_id, "cause": "abandoned"})

    async def rate(self, ride_id: int) -> None:
        """An operator enters the customer's rating on a follow-up call (a retry only replaces it)."""
        value = random.randint(1, 5)
        self.ledger.counts["ratings_sent"] += 1
        answer = await self._send("PUT", f"/api/ratings/{ride_id}", "rating", retry_maybe_sent=True,
                                  json={"value": value, "comment": "Fault suite"}, headers=self._operator)
        if answer is not None and answer[0] == 200:
            self.ledger.ratings.append((int(answer[1]["rating"]["id"]), ride_id, value))
        elif answer is not None:
            self.ledger.counts[f"rating_refused_{answer[0]}_{_code(answer[1])}"] += 1

    async def complain(self, ride_id: int) -> None:
        """An operator opens a complaint about a ride; not resent once it may have arrived (it is no upsert)."""
        self.ledger.counts["complaints_sent"] += 1
        answer = await self._send("POST", "/api/complaints", "complaint", retry_maybe_sent=False,
                                  json={"category": "late_pickup", "description": "Fault suite: late.",
                                        "ride_id": ride_id}, headers=self._operator)
        if answer is not None and answer[0] == 201:
            self.ledger.complaints.append((int(answer[1]["complaint"]["id"]), ride_id))
        elif answer is not None:
            self.ledger.counts[f"complaint_refused_{answer[0]}_{_code(answer[1])}"] += 1


def _code(body: Any) -> str:
    try:
        return str(body["error"]["code"])
    except (KeyError, TypeError):
        return "?"
