"""The JSON messages the server sends over a websocket."""

from __future__ import annotations

from typing import Any

from taxicrm.auth import Principal
from taxicrm.events import PublishedEvent

Message = dict[str, Any]


def hello(last_id: str, principal: Principal) -> Message:
    """Open a connection: every event after `last_id` for this principal will follow."""
    who = {"role": str(principal.role), "id": principal.id}
    return {"type": "hello", "last_id": last_id, "principal": who}


def event(published: PublishedEvent) -> Message:
    """Carry one event; its id is what a client passes as `last_id` to resume after a reconnect."""
    return {"type": "event", "id": published.id, "topic": published.topic, "data": dict(published.data)}


def resync(reason: str) -> Message:
    """Tell the client some events cannot be delivered: it must reload its state over HTTP."""
    return {"type": "resync", "reason": reason}


def error(code: str, message: str) -> Message:
    """Answer a message from the client that the server could not act on."""
    return {"type": "error", "code": code, "message": message}
