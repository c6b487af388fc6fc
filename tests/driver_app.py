"""A driver app for tests: a real websocket client speaking the driver protocol (docs/driver-protocol.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import aiohttp

Message = dict[str, Any]
# Azadi Square, Tehran; 0.001 degrees of latitude is about 111 m.
AZADI = (35.6997, 51.3380)


class DriverApp:
    """One driver's phone: sends commands, keeps every message the server sent, checks their numbering."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[Message] = []
        self._next = 0  # Index in `seen` of the first message not yet taken by a wait.
        self._last_seq = 0

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession | Any, url: str, token: str,
                      **params: str) -> DriverApp:
        """Open the driver websocket (a TestClient or a ClientSession) and read its hello and state."""
        ws = await session.ws_connect(url, params={"token": token, **params})
        app = cls(ws)
        hello = await app.next_message()
        if hello["type"] != "hello":
            raise AssertionError(f"expected a hello first, got {hello}")
        return app

    async def next_message(self, within: float = 5.0) -> Message:
        """Read the next message from the socket, checking it is numbered one more than the last."""
        frame = await self.ws.receive(timeout=within)
        if frame.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"the socket sent {frame.type.name}, not a message")
        message: Message = json.loads(frame.data)
        if message.get("seq") != self._last_seq + 1:
            raise AssertionError(f"message out of sequence after {self._last_seq}: {message}")
        self._last_seq = message["seq"]
        self.seen.append(message)
        return message

    async def wait_for(self, kinds: str | Iterable[str], within: float = 5.0, **fields: Any) -> Message:
        """Return the first message not yet waited for of one of these types (and with these fields)."""
        wanted = {kinds} if isinstance(kinds, str) else set(kinds)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for index in range(self._next, len(self.seen)):
                message = self.seen[index]
                if message["type"] in wanted and all(message.get(k) == v for k, v in fields.items()):
                    self._next = index + 1
                    return message
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {sorted(wanted)} {fields} within {within}s; seen: {self.seen[self._next:]}")
            await self.next_message(within=left)

    async def send(self, kind: str, **fields: Any) -> None:
        """Send a command."""
        await self.ws.send_json({"type": kind, **fields})

    async def ask(self, kind: str, **fields: Any) -> Message:
        """Send a command tagged with a ref and return the server's reply to it (an error reply included)."""
        ref = f"{kind}-{len(self.seen)}"
        await self.send(kind, ref=ref, **fields)
        return await self.reply_to(ref)

    async def reply_to(self, ref: str) -> Message:
        """Return the server's reply to the command sent with this ref."""
        deadline = asyncio.get_running_loop().time() + 5.0
        while True:
            for message in self.seen:
                if message.get("ref") == ref:
                    return message
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no reply to {ref} within 5s; seen: {self.seen[self._next:]}")
            await self.next_message(within=left)

    async def go_online(self, lat: float = AZADI[0], lng: float = AZADI[1]) -> None:
        """Say where the car is and that the driver takes jobs, as an app does after connecting."""
        await self.send("position", lat=lat, lng=lng)
        reply = await self.ask("status", status="available")
        if reply["type"] != "status":
            raise AssertionError(f"could not go online: {reply}")

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()
