"""What a websocket says besides the transport: the conversation a role's connections hold with the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from realtime import messages
from realtime.messages import Message
from taxicrm.auth import Principal
from taxicrm.events import PublishedEvent


class Conversation(Protocol):
    """One connection's domain side; the transport (realtime/ws.py) numbers and sends what it returns."""

    async def opening(self) -> list[Message]:
        """Return what to send after the hello and the missed events: the state the client must show now."""
        ...

    async def answer(self, command: dict[str, Any]) -> list[Message]:
        """Act on a command from the client (any type but `ping`) and return the replies.

        A DomainError raised here becomes an error reply; the connection stays open.
        """
        ...

    async def heard(self) -> None:
        """Note that the client is alive (it pinged)."""
        ...

    def render(self, event: PublishedEvent) -> Message | None:
        """Return how to show one of the client's events, or None to leave it out."""
        ...

    async def close(self) -> None:
        """Clean up once the connection is over, however it ended."""
        ...


ConversationFactory = Callable[[web.Request, Principal], Conversation]


class StaffConversation:
    """The console's side: events as they are; the console sends nothing but pings."""

    def __init__(self, request: web.Request, principal: Principal) -> None:
        self.principal = principal

    async def opening(self) -> list[Message]:
        """Send nothing more: the console loads its state over HTTP."""
        return []

    async def answer(self, command: dict[str, Any]) -> list[Message]:
        """Refuse: the console acts over HTTP."""
        return [messages.error("unknown_type", "This connection does not accept that message type.")]

    async def heard(self) -> None:
        """Nothing to note: the heartbeat already tells a dead console apart."""

    def render(self, event: PublishedEvent) -> Message | None:
        """Show every event as it was published."""
        return messages.event(event)

    async def close(self) -> None:
        """Nothing to clean up."""
