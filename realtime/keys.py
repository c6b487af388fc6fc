"""Typed app keys for the realtime domain's resources."""

from __future__ import annotations

from aiohttp import web

from realtime.bus import RedisEventBus
from realtime.conversations import ConversationFactory
from realtime.hub import Hub
from taxicrm.auth import Role

BUS = web.AppKey("realtime_bus", RedisEventBus)
HUB = web.AppKey("realtime_hub", Hub)
# Who holds which conversation on their websocket; roles not listed hold the staff one.
CONVERSATIONS = web.AppKey("realtime_conversations", dict[Role, ConversationFactory])


def add_conversation(app: web.Application, role: Role, start: ConversationFactory) -> None:
    """Have websockets of `role` hold the conversation `start(request, principal)` returns."""
    if CONVERSATIONS not in app:
        app[CONVERSATIONS] = {}
    app[CONVERSATIONS][role] = start
