"""Redis commands packed into the wire protocol by hiredis (C) rather than by redis-py's Python loop.

redis-py's synchronous client packs with hiredis when it is installed (as `redis[hiredis]` installs it); its
asyncio client does not. The fleet's batched writes carry thousands of arguments every 150 ms, and packing them
argument by argument in Python cost half of each flush (bench/README.md, the dispatch section).
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection
from redis.connection import HiredisRespSerializer

# The synchronous client's own packer: it splits a multi-word command name, turns buffers into bytes and raises
# redis-py's DataError for a value Redis cannot hold, as the Python packer does.
_SERIALIZER = HiredisRespSerializer()  # type: ignore[no-untyped-call,unused-ignore]  # Typed in some releases.


def pack(*args: Any) -> list[bytes]:
    """Pack one command as redis-py's own packer would, byte for byte.

    The usual command (a one-word name; str, bytes, int and float arguments) goes to hiredis as it is: the
    serializer's own look at every argument first cost as much as the packing (a 500-fix flush: 0.75 of its 1.4 ms
    under cProfile). Anything else (a two-word name, a bytearray, a value Redis cannot hold) takes the serializer.
    """
    name = args[0]
    if (name.find(" ") if isinstance(name, str) else name.find(b" ")) < 0:
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            pass  # The serializer converts what it can, and raises DataError for the rest.
    return _SERIALIZER.pack(*args)  # type: ignore[no-any-return]  # redis-py leaves it unannotated.


def packed_by_hiredis(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """Return `connection_class` (TCP, TLS or unix socket, as the URL chose) packing its commands with hiredis."""

    class HiredisPacked(connection_class):  # type: ignore[valid-type,misc]  # A class chosen at run time.
        def pack_command(self, *args: Any) -> list[bytes]:
            return pack(*args)

    HiredisPacked.__name__ = HiredisPacked.__qualname__ = f"HiredisPacked{connection_class.__name__}"
    return HiredisPacked
