"""Dispatch across two real instances sharing PostgreSQL and Redis: nothing depends on who serves whom."""

import signal
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from dispatch.model import Driver
from tests.conftest import PASSWORD
from tests.driver_app import AZADI, DriverApp
from tests.support import ServiceProcess, log_in

LAT, LNG = AZADI
FAST = {"TAXICRM_OFFER_TIMEOUT_SECONDS": "2", "TAXICRM_RECONNECT_GRACE_SECONDS": "30"}


async def book(session: aiohttp.ClientSession, instance: ServiceProcess, headers: dict[str, str], key: str) -> Any:
    body = {"walk_in_name": "Two Instances", "walk_in_phone": "09121112233", "confirm_duplicate": True,
            "pickup": {"text": "Azadi Square", "lat": LAT, "lng": LNG}}
    async with session.post(f"{instance.url}/api/rides", json=body,
                            headers={**headers, "Idempotency-Key": key}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["ride"]


@pytest.fixture
async def operator_headers(make_staff: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[dict[str, str]]]:
    user = await make_staff("operator")

    async def headers(session: aiohttp.ClientSession, instance: ServiceProcess) -> dict[str, str]:
        token = await log_in(session, instance.url, user.username, PASSWORD)
        session.cookie_jar.clear()
        return {"Authorization": f"Bearer {token}"}

    return headers


async def online(session: aiohttp.ClientSession, instance: ServiceProcess, token: str, north_m: float) -> DriverApp:
    app = await DriverApp.connect(session, f"{instance.url}/ws/driver", token)
    await app.wait_for("state")
    await app.go_online(LAT + north_m / 111_000, LNG)
    return app


async def test_a_ride_booked_on_one_instance_goes_to_a_driver_connected_to_the_other(
        start_service: Callable[..., ServiceProcess], make_driver: Callable[..., Awaitable[tuple[Driver, str]]],
        operator_headers: Callable[..., Awaitable[dict[str, str]]]) -> None:
    a, b = start_service(**FAST), start_service(**FAST)
    driver, token = await make_driver("On A")
    async with aiohttp.ClientSession() as session:
        app = await online(session, a, token, north_m=200)
        ride = await book(session, b, await operator_headers(session, b), "cross-1")
        offer = await app.wait_for("offer")
        assert offer["ride_id"] == ride["id"]
        accepted = await app.ask("accept", offer_id=offer["offer_id"])
        assert accepted["type"] == "accepted"
        async with session.get(f"{b.url}/api/rides/{ride['id']}",
                               headers=await operator_headers(session, b)) as response:
            assert (await response.json())["ride"]["driver_id"] == driver.id
        await app.close()


async def test_an_offer_made_by_an_instance_that_dies_still_times_out_and_moves_on(
        start_service: Callable[..., ServiceProcess], make_driver: Callable[..., Awaitable[tuple[Driver, str]]],
        operator_headers: Callable[..., Awaitable[dict[str, str]]]) -> None:
    a, b = start_service(**FAST), start_service(**FAST)
    _, first_token = await make_driver("Silent on B")
    _, second_token = await make_driver("Waiting on B")
    async with aiohttp.ClientSession() as session:
        first = await online(session, b, first_token, north_m=100)
        second = await online(session, b, second_token, north_m=600)
        ride = await book(session, a, await operator_headers(session, a), "dying-1")
        offer = await first.wait_for("offer")
        assert offer["ride_id"] == ride["id"]
        a.stop(signal.SIGKILL)  # The instance that made the offer, and meant to time it out, is gone.
        expired = await first.wait_for("offer_withdrawn", within=6)
        assert (expired["offer_id"], expired["status"]) == (offer["offer_id"], "expired")
        assert (await second.wait_for("offer", within=3))["ride_id"] == ride["id"]
        for app in (first, second):
            await app.close()
