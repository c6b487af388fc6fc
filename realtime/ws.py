"""Websocket endpoints: staff, drivers and riders receive their events live and resume after a reconnect.

The transport is the same for everyone: a hello, the events missed since `last_id`, then live events, every
message numbered by `seq`. What a connection says after the hello, how it answers the client's commands and
how it shows each event is up to the conversation its user's role registered (see `conversations`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web
from redis.exceptions import RedisError

from realtime import messages
from realtime.bus import RedisEventBus
from realtime.conversations import Conversation, StaffConversation
from realtime.errors import RealtimeUnavailable
from realtime.hub import Client, Stop, audiences_for
from realtime.keys import BUS, CONVERSATIONS, HUB
from realtime.messages import Message
from realtime.streams import StreamId
from taxicrm.auth import STAFF_ROLES, Principal, Role, allow
from taxicrm.errors import DomainError, InvalidInput
from taxicrm.keys import PRINCIPAL, SETTINGS
from taxicrm.outages import UNAVAILABLE, UNAVAILABLE_MESSAGE

log = logging.getLogger(__name__)

# Clients send small commands; anything bigger is a mistake or an attack.
MAX_INCOMING_BYTES = 64 * 1024
# How long a new connection waits for a reader that is still starting, or for the peer's close reply.
READY_TIMEOUT_SECONDS = 5.0
CLOSE_TIMEOUT_SECONDS = 5.0

# A client cut off for being slow may come straight back; one leaving with the instance should go elsewhere.
CLOSE_CODES = {Stop.OVERRUN: WSCloseCode.TRY_AGAIN_LATER, Stop.GOING_AWAY: WSCloseCode.GOING_AWAY}
# A client may tag a command with a short `ref`; the replies to it carry the same ref back.
MAX_REF_LENGTH = 64


@allow(*STAFF_ROLES)
async def staff_socket(request: web.Request) -> web.WebSocketResponse:
    """Stream a staff member's events: the floor's, their own, and supervisors' if they are one."""
    return await _serve(request)


@allow(Role.DRIVER)
async def driver_socket(request: web.Request) -> web.WebSocketResponse:
    """Stream a driver's own events."""
    return await _serve(request)


@allow(Role.RIDER)
async def rider_socket(request: web.Request) -> web.WebSocketResponse:
    """Stream the small, customer-safe news of one self-service ride to the customer following it."""
    return await _serve(request)


@dataclass(frozen=True)
class Opening:
    """What a connection sends first, and the id after which live events are new to the client."""

    messages: list[Message]
    cursor: StreamId


class Sender:
    """Send messages on one websocket in order, each numbered one more than the last (the hello is 1)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._seq = 0
        self._lock = asyncio.Lock()

    async def send(self, message: Message) -> None:
        """Send the message with the next sequence number."""
        async with self._lock:
            self._seq += 1
            await self._ws.send_json({"seq": self._seq, **message})


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
    start = request.app[CONVERSATIONS].get(principal.role, StaffConversation)
    with hub.connect(audiences_for(principal)) as client:
        # Registered before the backlog is read, so live events queue meanwhile: no gap between the two.
        opening = await _opening(bus, client, principal, resume_from)
        conversation = start(request, principal)
        try:
            # Its state comes after the backlog: the newest word on what the client must show.
            opening.messages.extend(await conversation.opening())
            await ws.prepare(request)
            await _converse(ws, client, opening, conversation)
        finally:
            await conversation.close()
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


async def _converse(ws: web.WebSocketResponse, client: Client, opening: Opening,
                    conversation: Conversation) -> None:
    """Send events and answer the client until either side ends the connection."""
    sender = Sender(ws)
    pump = asyncio.create_task(_pump(sender, client, opening, conversation))
    listen = asyncio.create_task(_listen(ws, sender, conversation))
    try:
        await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, listen):
            task.cancel()
        await asyncio.wait({pump, listen})
    stop = pump.result() if pump.done() and not pump.cancelled() else None
    if stop is not None:
        await ws.close(code=CLOSE_CODES[stop], message=stop.value.encode())


async def _pump(sender: Sender, client: Client, opening: Opening, conversation: Conversation) -> Stop | None:
    """Send the opening and then each queued event once, in order; return why the hub ended it."""
    cursor = opening.cursor
    try:
        for message in opening.messages:
            await sender.send(message)
        while True:
            item = await client.queue.get()
            if isinstance(item, Stop):
                if item is Stop.OVERRUN:
                    await sender.send(messages.resync("too_slow"))
                return item
            event_id = StreamId.parse(item.id)
            if event_id <= cursor:
                continue  # Already sent with the backlog.
            cursor = event_id
            shown = conversation.render(item)
            if shown is not None:
                await sender.send(shown)
    except ConnectionResetError:
        return None  # The client is gone; the listening side sees the close too.
    except Exception:  # After the upgrade no error may escape: it would be written into the socket as HTTP.
        log.exception("websocket pump failed")
        return None


async def _listen(ws: web.WebSocketResponse, sender: Sender, conversation: Conversation) -> None:
    """Read the client's messages until it closes, answering each; none may crash the connection."""
    try:
        async for frame in ws:
            if frame.type is WSMsgType.ERROR:
                return
            for reply in await _answer(frame, conversation):
                await sender.send(reply)
    except ConnectionResetError:
        return


async def _answer(frame: WSMessage, conversation: Conversation) -> list[Message]:
    if frame.type is not WSMsgType.TEXT:
        return [messages.error("not_text", "Send messages as JSON text.")]
    try:
        command = json.loads(frame.data)
    except ValueError:
        return [messages.error("malformed_json", "Messages must be JSON objects.")]
    except RecursionError:  # Thousands of nested brackets exhaust the parser's stack; no command nests so.
        return [messages.error("malformed_json", "Messages must be JSON objects, not nested this deeply.")]
    if not isinstance(command, dict):
        return [messages.error("malformed_json", "Messages must be JSON objects.")]
    ref = command.get("ref")
    if ref is not None and not (isinstance(ref, str | int) and not isinstance(ref, bool)
                                and len(str(ref)) <= MAX_REF_LENGTH):
        return [messages.error("invalid_ref", f"'ref' must be a string or number of at most {MAX_REF_LENGTH} "
                                              "characters.")]
    replies = await _replies(command, conversation)
    return replies if ref is None else [{**reply, "ref": ref} for reply in replies]


async def _replies(command: dict[str, Any], conversation: Conversation) -> list[Message]:
    if not isinstance(command.get("type"), str):
        return [messages.error("unknown_type", "Every message needs a 'type'.")]
    # `ping` lets a browser, which cannot send ping frames, check that the connection is alive.
    if command["type"] == "ping":
        await conversation.heard()
        return [{"type": "pong"}]
    try:
        return await conversation.answer(command)
    except DomainError as err:
        return [messages.error(err.code, err.message)]
    except UNAVAILABLE as err:  # PostgreSQL or Redis away mid-command: an outage to retry through, as HTTP's 503.
        _OUTAGES.report(command["type"], err)
        return [messages.error("service_unavailable", UNAVAILABLE_MESSAGE)]
    except Exception as err:  # A bug in one command must not end the connection; the log has the details.
        _FAILURES.report(command["type"], err)
        return [messages.error("internal_error", "Something went wrong on our side; please try again.")]


class FailureLog:
    """Log failed commands, with tracebacks for the first few in each window and a count of the rest.

    When Redis or PostgreSQL goes away, thousands of apps fail at once; formatting a traceback for each would
    take the CPU the instance needs to recover.
    """

    def __init__(self, most: int = 5, window_seconds: float = 10.0, *, level: int = logging.ERROR) -> None:
        # Below ERROR (an outage, expected while a backing server restarts) a failure is one line, no traceback.
        self._most, self._window, self._level = most, window_seconds, level
        self._window_start, self._logged, self._suppressed = 0.0, 0, 0

    def report(self, kind: str, err: Exception) -> None:
        """Log one failure of a command of this kind."""
        now = time.monotonic()
        if now - self._window_start >= self._window:
            if self._suppressed:
                log.log(self._level, "%d more websocket commands failed in the last %.0fs", self._suppressed,
                        self._window)
            self._window_start, self._logged, self._suppressed = now, 0, 0
        if self._logged < self._most:
            self._logged += 1
            log.log(self._level, "websocket command %r failed: %r", kind, err,
                    exc_info=err if self._level >= logging.ERROR else None)
        else:
            self._suppressed += 1


_FAILURES = FailureLog()
_OUTAGES = FailureLog(level=logging.WARNING)
