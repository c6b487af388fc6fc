"""Websocket endpoints: staff and drivers receive their events live and resume after a reconnect."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web
from redis.exceptions import RedisError

from realtime import messages
from realtime.bus import RedisEventBus
from realtime.errors import RealtimeUnavailable
from realtime.hub import Client, Stop, audiences_for
from realtime.keys import BUS, HUB
from realtime.messages import Message
from realtime.streams import StreamId
from taxicrm.auth import STAFF_ROLES, Principal, Role, allow
from taxicrm.errors import InvalidInput
from taxicrm.keys import PRINCIPAL, SETTINGS

log = logging.getLogger(__name__)

# Clients send small commands; anything bigger is a mistake or an attack.
MAX_INCOMING_BYTES = 64 * 1024
# How long a new connection waits for a reader that is still starting, or for the peer's close reply.
READY_TIMEOUT_SECONDS = 5.0
CLOSE_TIMEOUT_SECONDS = 5.0

# A client cut off for being slow may come straight back; one leaving with the instance should go elsewhere.
CLOSE_CODES = {Stop.OVERRUN: WSCloseCode.TRY_AGAIN_LATER, Stop.GOING_AWAY: WSCloseCode.GOING_AWAY}
# Replies to the commands any client may send: `ping` lets a browser, which cannot send ping frames,
# check that the connection is alive.
REPLIES: dict[str, Message] = {"ping": {"type": "pong"}}


@allow(*STAFF_ROLES)
async def staff_socket(request: web.Request) -> web.WebSocketResponse:
    """Stream a staff member's events: the floor's, their own, and supervisors' if they are one."""
    return await _serve(request)


@allow(Role.DRIVER)
async def driver_socket(request: web.Request) -> web.WebSocketResponse:
    """Stream a driver's own events."""
    return await _serve(request)


@dataclass(frozen=True)
class Opening:
    """What a connection sends first, and the id after which live events are new to the client."""

    messages: list[Message]
    cursor: StreamId


async def _serve(request: web.Request) -> web.WebSocketResponse:
    settings, bus, hub = request.app[SETTINGS], request.app[BUS], request.app[HUB]
    principal = request[PRINCIPAL]
    ws = web.WebSocketResponse(
        heartbeat=settings.ws_heartbeat_seconds, max_msg_size=MAX_INCOMING_BYTES,
        timeout=CLOSE_TIMEOUT_SECONDS,
    )
    if not ws.can_prepare(request).ok:
        raise InvalidInput("This address only accepts websocket connections.", code="websocket_required",
                           status=426)
    resume_from = _resume_from(request)
    with hub.connect(audiences_for(principal)) as client:
        # Registered before the backlog is read, so live events queue meanwhile: no gap between the two.
        opening = await _opening(bus, client, principal, resume_from)
        await ws.prepare(request)
        await _converse(ws, client, opening)
    return ws


def _resume_from(request: web.Request) -> StreamId | None:
    raw = request.query.get("last_id", "")
    try:
        return StreamId.parse(raw) if raw else None
    except ValueError:
        raise InvalidInput("'last_id' must be an event id as sent by the server, like 1700000000000-0.",
                           code="invalid_last_id") from None


async def _opening(
    bus: RedisEventBus, client: Client, principal: Principal, resume_from: StreamId | None,
) -> Opening:
    """Say hello, then replay what the client missed, or tell it to resync if that is gone."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await bus.wait_reading()
            backlog = await bus.read_since(str(resume_from)) if resume_from is not None else None
            if backlog is not None and resume_from is not None:
                mine = [messages.event(e) for e in backlog if client.audiences.intersection(e.audiences)]
                cursor = StreamId.parse(backlog[-1].id) if backlog else resume_from
                return Opening([messages.hello(str(resume_from), principal), *mine], cursor)
            tip = StreamId.parse(await bus.last_id())
    except (RedisError, OSError, TimeoutError) as err:
        raise RealtimeUnavailable("Live updates are unavailable right now; please retry shortly.") from err
    first = [messages.hello(str(tip), principal)]
    if resume_from is not None:
        first.append(messages.resync("history_gone"))
    return Opening(first, tip)


async def _converse(ws: web.WebSocketResponse, client: Client, opening: Opening) -> None:
    """Send events and answer the client until either side ends the connection."""
    pump = asyncio.create_task(_pump(ws, client, opening))
    listen = asyncio.create_task(_listen(ws))
    try:
        await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, listen):
            task.cancel()
        await asyncio.wait({pump, listen})
    stop = pump.result() if pump.done() and not pump.cancelled() else None
    if stop is not None:
        await ws.close(code=CLOSE_CODES[stop], message=stop.value.encode())


async def _pump(ws: web.WebSocketResponse, client: Client, opening: Opening) -> Stop | None:
    """Send the opening and then each queued event once, in order; return why the hub ended it."""
    cursor = opening.cursor
    try:
        for message in opening.messages:
            await ws.send_json(message)
        while True:
            item = await client.queue.get()
            if isinstance(item, Stop):
                if item is Stop.OVERRUN:
                    await ws.send_json(messages.resync("too_slow"))
                return item
            event_id = StreamId.parse(item.id)
            if event_id <= cursor:
                continue  # Already sent with the backlog.
            cursor = event_id
            await ws.send_json(messages.event(item))
    except ConnectionResetError:
        return None  # The client is gone; the listening side sees the close too.
    except Exception:  # After the upgrade no error may escape: it would be written into the socket as HTTP.
        log.exception("websocket pump failed")
        return None


async def _listen(ws: web.WebSocketResponse) -> None:
    """Read the client's messages until it closes, answering each; none may crash the connection."""
    try:
        async for frame in ws:
            if frame.type is WSMsgType.ERROR:
                return
            await ws.send_json(_answer(frame))
    except ConnectionResetError:
        return


def _answer(frame: WSMessage) -> Message:
    if frame.type is not WSMsgType.TEXT:
        return messages.error("not_text", "Send messages as JSON text.")
    try:
        command = json.loads(frame.data)
    except ValueError:
        return messages.error("malformed_json", "Messages must be JSON objects.")
    if not isinstance(command, dict):
        return messages.error("malformed_json", "Messages must be JSON objects.")
    kind = command.get("type")
    reply = REPLIES.get(kind) if isinstance(kind, str) else None
    return reply or messages.error("unknown_type", "This connection does not accept that message type.")
