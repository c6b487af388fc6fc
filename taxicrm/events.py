"""The event shape every domain publishes on the bus, and the publisher protocol they depend on."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# What publishing may fail with while Redis is away or restarting.
PUBLISH_FAILURES = (RedisError, OSError, TimeoutError)

# Audiences name who may receive an event over a websocket.
OPERATORS = "operators"
SUPERVISORS = "supervisors"
DRIVERS = "drivers"


def operator_audience(user_id: int) -> str:
    """Return the audience of one operator (or any staff member) by user id."""
    return f"operator:{user_id}"


def driver_audience(driver_id: int) -> str:
    """Return the audience of one driver."""
    return f"driver:{driver_id}"


def rider_audience(ride_id: int) -> str:
    """Return the audience of the customer following one self-service ride."""
    return f"rider:{ride_id}"


@dataclass(frozen=True)
class Event:
    """Something that happened: a topic (`ride.assigned`), its audiences and a JSON-safe payload."""

    topic: str
    audiences: tuple[str, ...]
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedEvent:
    """An event as stored on the bus, with its stream id (`<ms>-<seq>`, ordered)."""

    id: str
    topic: str
    audiences: tuple[str, ...]
    data: Mapping[str, Any]


class Publisher(Protocol):
    """Anything that can publish an event; domains depend on this, not on Redis."""

    async def publish(self, event: Event) -> str:
        """Publish the event to every instance and return its stream id."""
        ...

    async def publish_all(self, events: Sequence[Event]) -> list[str]:
        """Publish the events together, in order, and return their stream ids."""
        ...


async def publish_committed(publisher: Publisher, events: Sequence[Event]) -> None:
    """Publish the news of a change that has committed; Redis being away delays or loses news, never the change.

    Never raises for Redis: the caller must answer that the change happened. An error would make a driver
    retry a step already taken and an operator or customer send again what is stored (a second complaint).
    Apps and the console catch up from the state they get on reconnecting.
    """
    try:
        await publisher.publish_all(events)
    except PUBLISH_FAILURES:
        log.warning("could not publish %s after its commit; the records are safe", [e.topic for e in events],
                    exc_info=True)
