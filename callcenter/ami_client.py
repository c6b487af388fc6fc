"""A long-lived connection to Asterisk's Manager Interface that turns its call events into CallEvents."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from callcenter.ami_calls import CallTracker
from callcenter.ami_protocol import AmiParser, encode_action
from callcenter.calls import CallEvent

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5038
# Channel events are in the "call" class; queue events (AgentCalled, AgentConnect, ...) in "agent".
EVENT_CLASSES = "call,agent"
READ_CHUNK = 64 * 1024


class AmiError(Exception):
    """The AMI session cannot go on; the client reconnects."""


class AmiLoginRefused(AmiError):
    """Asterisk refused our username or secret."""


@dataclass(frozen=True)
class AmiTarget:
    """Where the Manager Interface listens and whom to log in as."""

    host: str
    port: int
    username: str
    secret: str = field(repr=False)


def parse_ami_url(url: str) -> AmiTarget:
    """Read `ami://user:secret@host:5038` (port optional; user and secret may be percent-encoded)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORT
    except ValueError as err:
        raise ValueError(f"The AMI URL is not a URL with a valid port: {err}.") from err
    if parts.scheme != "ami":
        raise ValueError("The AMI URL must start with ami://, e.g. ami://user:secret@pbx.example:5038.")
    if not parts.hostname:
        raise ValueError("The AMI URL names no host, e.g. ami://user:secret@pbx.example:5038.")
    if not parts.username or parts.password is None:
        raise ValueError("The AMI URL needs a username and a secret, e.g. ami://user:secret@pbx.example:5038.")
    username, secret = unquote(parts.username), unquote(parts.password)
    if any(c in username + secret for c in "\r\n"):
        raise ValueError("The AMI username and secret must not contain line breaks.")
    return AmiTarget(host=parts.hostname, port=port, username=username, secret=secret)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AmiClient:
    """Stay logged in to Asterisk and pass every call event, through a CallTracker, to `on_event`.

    `run()` never returns: after a refused login, a dead connection (no reply to a Ping within
    `reply_timeout_seconds`) or a PBX restart it reconnects, waiting `backoff_initial_seconds`, then twice as
    long each time, up to `backoff_max_seconds`; a session that logged in resets the wait. Cancel the task to
    stop it: the socket is closed and the CancelledError goes on.
    An exception raised by `on_event` is logged and the next event goes on.
    """

    def __init__(
        self,
        target: AmiTarget,
        on_event: Callable[[CallEvent], Awaitable[None]],
        *,
        keepalive_seconds: float = 20.0,
        reply_timeout_seconds: float = 10.0,
        backoff_initial_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        clock: Callable[[], datetime] = _utc_now,
        tracker: CallTracker | None = None,
    ) -> None:
        self.target = target
        self._on_event = on_event
        self._keepalive = keepalive_seconds
        self._reply_timeout = reply_timeout_seconds
        self._backoff_initial = backoff_initial_seconds
        self._backoff_max = backoff_max_seconds
        self._clock = clock
        # One tracker for the client's life: calls survive a short disconnection.
        self.tracker = tracker or CallTracker()
        self._action_ids = itertools.count(1)
        self.logins = 0

    async def run(self) -> None:
        """Connect, log in and relay events until cancelled, reconnecting with backoff whenever needed."""
        delay = self._backoff_initial
        while True:
            logins_before = self.logins
            try:
                await self._session()
            except AmiLoginRefused as err:
                logger.error("Asterisk refused the AMI login of %r: %s", self.target.username, err)
            except (OSError, EOFError, TimeoutError, AmiError) as err:
                logger.warning(
                    "AMI connection to %s:%d lost: %s",
                    self.target.host,
                    self.target.port,
                    str(err) or type(err).__name__,
                )
            except Exception:
                # A bug of ours must not end call intake for the rest of the day: log it and start afresh.
                logger.exception("AMI session failed unexpectedly")
            if self.logins > logins_before:
                delay = self._backoff_initial
            logger.info("Reconnecting to AMI in %.1f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _session(self) -> None:
        logger.info("Connecting to AMI at %s:%d", self.target.host, self.target.port)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.target.host, self.target.port), self._reply_timeout
        )
        try:
            parser = AmiParser()
            early = await self._log_in(reader, writer, parser)
            await self._relay(reader, writer, parser, early)
        finally:
            writer.close()
            # Closing must not hide why we are closing; a CancelledError still goes through.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _log_in(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: AmiParser
    ) -> list[dict[str, str]]:
        """Wait for the banner, log in; return the packets that came in the same read as the reply."""
        async with asyncio.timeout(self._reply_timeout):
            while parser.banner is None:
                await self._read(reader, parser)  # Nothing but the banner is expected before we speak.
        logger.info("Connected to %s", parser.banner)
        action_id = self._next_action_id()
        writer.write(
            encode_action(
                "Login",
                action_id=action_id,
                Username=self.target.username,
                Secret=self.target.secret,
                Events=EVENT_CLASSES,
            )
        )
        await writer.drain()
        async with asyncio.timeout(self._reply_timeout):
            while True:
                packets = await self._read(reader, parser)
                for index, packet in enumerate(packets):
                    if packet.get("ActionID") != action_id:
                        continue
                    if packet.get("Response") != "Success":
                        raise AmiLoginRefused(packet.get("Message") or "no reason given")
                    self.logins += 1
                    logger.info("Logged in to AMI as %r", self.target.username)
                    return packets[index + 1 :]

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        parser: AmiParser,
        early: list[dict[str, str]],
    ) -> None:
        """Pass events on, and Ping when the line is quiet, until the connection fails."""
        for packet in early:
            if "Event" in packet:
                await self._dispatch(packet)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self._keepalive
        ping_id: str | None = None  # The Ping awaiting its reply.
        # Only time spent waiting on the socket counts against a Ping: while a slow on_event runs, the reply
        # may already sit unread in the buffer, and that is no sign of a dead PBX.
        ping_wait_left = 0.0
        while True:
            if ping_id is None and loop.time() >= next_ping:
                ping_id = self._next_action_id()
                writer.write(encode_action("Ping", action_id=ping_id))
                await writer.drain()
                ping_wait_left = self._reply_timeout
            timeout = ping_wait_left if ping_id is not None else next_ping - loop.time()
            started = loop.time()
            try:
                packets = await asyncio.wait_for(self._read(reader, parser), max(timeout, 0))
            except TimeoutError:
                if ping_id is not None:
                    raise AmiError(f"no reply to Ping within {self._reply_timeout:g} s") from None
                continue
            ping_wait_left -= loop.time() - started
            for packet in packets:
                if ping_id is not None and packet.get("ActionID") == ping_id:
                    ping_id = None
                    next_ping = loop.time() + self._keepalive
                elif "Event" in packet:
                    await self._dispatch(packet)

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> list[dict[str, str]]:
        data = await reader.read(READ_CHUNK)
        if not data:
            raise AmiError("Asterisk closed the connection")
        malformed, dropped = parser.malformed_lines, parser.dropped_packets
        packets = parser.feed(data)
        if parser.malformed_lines > malformed or parser.dropped_packets > dropped:
            logger.warning(
                "Skipped AMI input that is not `Key: Value` lines: %d malformed line(s), %d oversize packet(s)",
                parser.malformed_lines - malformed,
                parser.dropped_packets - dropped,
            )
        return packets

    async def _dispatch(self, packet: dict[str, str]) -> None:
        try:
            events = self.tracker.handle(packet, self._clock())
        except Exception:
            logger.exception("Skipped an AMI %r event the call tracker could not read", packet.get("Event"))
            return
        for event in events:
            try:
                await self._on_event(event)
            except Exception:
                logger.exception("Handling the %s event of call %s failed", event.kind, event.call_id)

    def _next_action_id(self) -> str:
        return f"taxicrm-{next(self._action_ids)}"
