"""Redis commands packed into the wire protocol by hiredis (C) rather than by redis-py's Python loop.

redis-py's synchronous client packs with hiredis when it is installed (as `redis[hiredis]` installs it); its
asyncio client does not. The fleet's batched writes carry thousands of arguments every 150 ms, and packing them
argument by argument in Python cost half of each flush (bench/README.md, the dispatch section).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.connection import HiredisRespSerializer

# The synchronous client's own packer: it splits a multi-word command name, turns buffers into bytes and raises
# redis-py's DataError for a value Redis cannot hold, as the Python packer does.
_SERIALIZER = HiredisRespSerializer()  # type: ignore[no-untyped-call,unused-ignore]  # Typed in some releases.


def packed_by_hiredis(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """Return `connection_class` (TCP, TLS or unix socket, as the URL chose) packing its commands with hiredis."""

    class HiredisPacked(connection_class):  # type: ignore[valid-type,misc]  # A class chosen at run time.
        def pack_command(self, *args: Any) -> list[bytes]:
            return _SERIALIZER.pack(*args)  # type: ignore[no-any-return]  # redis-py leaves it unannotated.

    HiredisPacked.__name__ = HiredisPacked.__qualname__ = f"HiredisPacked{connection_class.__name__}"
    return HiredisPacked
