"""The websocket hub: who is connected, which audiences each hears, and a bounded queue per client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from taxicrm.auth import Principal, Role
from taxicrm.events import (
    DRIVERS,
    OPERATORS,
    SUPERVISORS,
    PublishedEvent,
    driver_audience,
    operator_audience,
    rider_audience,
)

log = logging.getLogger(__name__)

# Audiences every member of a role hears, besides their own personal one.
SHARED_AUDIENCES: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset({OPERATORS}),
    Role.SUPERVISOR: frozenset({OPERATORS, SUPERVISORS}),
    Role.ADMIN: frozenset({OPERATORS, SUPERVISORS}),
}


def audiences_for(principal: Principal) -> frozenset[str]:
    """Return the audiences a principal hears: their role's shared ones plus their personal one."""
    if principal.role is Role.DRIVER:
        return frozenset({DRIVERS, driver_audience(principal.id)})
    if principal.role is Role.RIDER:
        return frozenset({rider_audience(principal.id)})  # One ride's news, nobody else's.
    if principal.role in SHARED_AUDIENCES:
        return SHARED_AUDIENCES[principal.role] | {operator_audience(principal.id)}
    return frozenset()


class Stop(Enum):
    """Why the hub tells a client's connection to end; queued after the client's last event."""

    OVERRUN = "overrun"
    GOING_AWAY = "going_away"


@dataclass(eq=False)
class Client:
    """One connection's share of the hub: its audiences and the events waiting to be sent to it."""

    audiences: frozenset[str]
    queue: asyncio.Queue[PublishedEvent | Stop]
    stopped: Stop | None = None


class Hub:
    """Route each event to the connected clients whose audiences it names, never buffering without bound."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._by_audience: dict[str, set[Client]] = {}
        self._clients: set[Client] = set()

    def __len__(self) -> int:
        return len(self._clients)

    def register(self, audiences: Iterable[str]) -> Client:
        """Start buffering events for a new client."""
        client = Client(frozenset(audiences), asyncio.Queue(maxsize=self._queue_size))
        self._clients.add(client)
        for audience in client.audiences:
            self._by_audience.setdefault(audience, set()).add(client)
        return client

    def unregister(self, client: Client) -> None:
        """Forget a client; safe to call twice."""
        self._clients.discard(client)
        self._unroute(client)

    @contextmanager
    def connect(self, audiences: Iterable[str]) -> Iterator[Client]:
        """Register a client for the duration of a `with` block."""
        client = self.register(audiences)
        try:
            yield client
        finally:
            self.unregister(client)

    def deliver(self, event: PublishedEvent) -> bool:
        """Queue the event for every client that hears one of its audiences; cut off any that is full.

        Return whether a client's queue is half full: its connection should get to send before the next event.
        """
        targets = set().union(*(self._by_audience.get(audience, ()) for audience in event.audiences))
        filling = False
        for client in targets:
            try:
                client.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.info("websocket client %x fell %d events behind; cutting it off",
                         id(client), client.queue.qsize())
                self.stop(client, Stop.OVERRUN)
            else:
                filling = filling or 2 * client.queue.qsize() >= self._queue_size
        return filling

    def stop(self, client: Client, reason: Stop) -> None:
        """Drop what the client has not been sent yet and queue the reason its connection must end."""
        if client.stopped is not None:
            return
        client.stopped = reason
        self._unroute(client)
        # The client will reload or reconnect anyway; the pending events would only hold memory.
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(reason)

    def stop_all(self, reason: Stop = Stop.GOING_AWAY) -> None:
        """Tell every connection to end, as when the instance shuts down."""
        for client in list(self._clients):
            self.stop(client, reason)

    def _unroute(self, client: Client) -> None:
        for audience in client.audiences:
            clients = self._by_audience.get(audience)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self._by_audience[audience]
