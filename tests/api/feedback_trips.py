"""Real trips for feedback's API tests: a driver's app online near Azadi Square takes a ride to its end."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch.model import Driver
from tests.driver_app import AZADI, DriverApp

Client = TestClient[web.Request, web.Application]
Headers = dict[str, str]
Json = dict[str, Any]
MakeDriver = Callable[..., Awaitable[tuple[Driver, str]]]
LAT, LNG = AZADI
PICKUP = {"text": "Azadi Square", "lat": LAT, "lng": LNG}
DESTINATION = {"text": "Sharif University", "lat": 35.7036, "lng": 51.3515}
MOBILE = "0912 765 4321"


async def online(client: Client, make_driver: MakeDriver, name: str = "Hassan Karimi") -> tuple[Driver, DriverApp]:
    """A driver whose app is connected, available and 200 m north of Azadi Square."""
    driver, token = await make_driver(name)
    app = await DriverApp.connect(client, "/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + 200 / 111_000, LNG)
    return driver, app


async def book_by_phone(client: Client, headers: Headers, **extra: Any) -> Json:
    """Book a ride from the console, as an operator on the phone."""
    body = {"walk_in_name": "Hasan Walker", "walk_in_phone": MOBILE, "pickup": PICKUP, "destination": DESTINATION,
            "confirm_duplicate": True, **extra}
    response = await client.post("/api/rides", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert response.status == 201, await response.text()
    ride: Json = (await response.json())["ride"]
    return ride


async def book_online(client: Client, phone: str = MOBILE) -> tuple[Json, str]:
    """Book a ride on the customer page; returns the ride's view and its tracking token."""
    response = await client.post("/api/public/rides", json={"phone": phone, "pickup": PICKUP,
                                                            "destination": DESTINATION},
                                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status == 201, await response.text()
    booked: Json = await response.json()
    return booked["ride"], booked["token"]


async def drive(app: DriverApp, ride_id: int, *, until: str = "completed") -> Json:
    """Take the offered ride through its steps to `until`, with a GPS trace of the trip uploaded at its end."""
    offer = await app.wait_for("offer", ride_id=ride_id)
    reply = await app.ask("accept", offer_id=offer["offer_id"])
    for step in ("arrived", "picked_up", "completed"):
        if reply["job"]["status"] == until:
            break
        if step == "completed":
            start = datetime.now(UTC) - timedelta(minutes=5)
            trace = [{"lat": LAT + (DESTINATION["lat"] - LAT) * n / 10,
                      "lng": LNG + (DESTINATION["lng"] - LNG) * n / 10,
                      "at": (start + timedelta(seconds=20 * n)).isoformat(), "accuracy": 8} for n in range(11)]
            reply = await app.ask(step, ride_id=ride_id, trace=trace)
        else:
            reply = await app.ask(step, ride_id=ride_id)
        assert reply["type"] == "ride", reply
    job: Json = reply["job"]
    return job
