"""Fuzzing the websockets: malformed, mistyped and out-of-place frames get an error reply, never a crash.

Each example opens a real connection to a real service, sends a few generated frames, then a ping tagged
with a ref: the pong proves every frame before it was answered (frames are handled in order) and that the
connection survived. The driver must still be able to go online afterwards.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.driver_app import DriverApp
from tests.fuzz.frames import FRAMES
from tests.fuzz.service import FuzzTarget

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
Frame = tuple[str, Any]


async def open_socket(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> DriverApp:
    """Connect and read the hello (and the driver's state, which follows it)."""
    socket = DriverApp(await session.ws_connect(url, headers=headers))
    hello = await socket.next_message()
    assert hello["type"] == "hello", hello
    return socket


async def send_and_probe(socket: DriverApp, frames: list[Frame]) -> None:
    """Send the frames, then a tagged ping; every reply must be a well-formed message, none ours to blame."""
    for kind, data in frames:
        if kind == "text":
            await socket.ws.send_str(data)
        else:
            await socket.ws.send_bytes(data)
    probe = f"probe-{len(socket.seen)}"
    await socket.send("ping", ref=probe)
    assert (await socket.reply_to(probe))["type"] == "pong"
    for message in socket.seen:
        assert isinstance(message.get("type"), str), message
        if message["type"] == "error":
            assert isinstance(message["code"], str) and isinstance(message["message"], str), message
            assert message["code"] != "internal_error", message


async def fuzz_driver(target: FuzzTarget, token: str, frames: list[Frame]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        socket = await open_socket(session, target.url.replace("http", "ws") + "/ws/driver", headers)
        await socket.wait_for("state")
        await send_and_probe(socket, frames)
        await socket.go_online()
        await socket.close()


async def fuzz_socket(target: FuzzTarget, path: str, token: str, frames: list[Frame]) -> None:
    """Fuzz a socket whose conversation is not the driver's (the console's, the customer's)."""
    async with aiohttp.ClientSession() as session:
        socket = await open_socket(session, target.url.replace("http", "ws") + path,
                                   {"Authorization": f"Bearer {token}"})
        await send_and_probe(socket, frames)
        await socket.close()


def test_the_driver_socket_answers_any_frame_and_stays_usable(target: FuzzTarget) -> None:
    token = target.driver_token()

    @FUZZ
    @given(frames=st.lists(FRAMES, min_size=1, max_size=6))
    def converse(frames: list[Frame]) -> None:
        asyncio.run(fuzz_driver(target, token, frames))

    converse()


def test_the_staff_and_rider_sockets_answer_any_frame_and_stay_usable(target: FuzzTarget) -> None:
    staff = target.staff_headers("operator")["Authorization"].removeprefix("Bearer ")
    rider = target.rider_token()

    @settings(FUZZ, max_examples=20)
    @given(frames=st.lists(FRAMES, min_size=1, max_size=6), who=st.sampled_from(["staff", "rider"]))
    def converse(frames: list[Frame], who: str) -> None:
        path, token = ("/ws", staff) if who == "staff" else ("/ws/rider", rider)
        asyncio.run(fuzz_socket(target, path, token, frames))

    converse()


async def oversize_then_online(target: FuzzTarget, token: str) -> int | None:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        socket = await open_socket(session, target.url.replace("http", "ws") + "/ws/driver", headers)
        await socket.wait_for("state")
        await socket.ws.send_str('{"type": "ping", "ref": "' + "x" * 70_000 + '"}')
        closing = await socket.ws.receive(timeout=5)
        assert closing.type is aiohttp.WSMsgType.CLOSE, closing
        code = socket.ws.close_code
        again = await open_socket(session, target.url.replace("http", "ws") + "/ws/driver", headers)
        await again.wait_for("state")
        await again.go_online()
        await again.close()
        return code


def test_a_frame_over_the_size_limit_closes_with_message_too_big_and_the_app_can_come_back(
        target: FuzzTarget) -> None:
    assert asyncio.run(oversize_then_online(target, target.driver_token())) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
