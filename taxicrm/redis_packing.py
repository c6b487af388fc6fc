"""Redis commands packed into the wire protocol by hiredis (C) rather than by redis-py's Python loop.

redis-py's synchronous client packs with hiredis when it is installed; its asyncio client does not. The fleet's
batched writes carry thousands of arguments every 150 ms, and packing them argument by argument in Python cost
more than half of each flush (bench/README.md, the dispatch section).
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import DataError


def pack(args: tuple[Any, ...]) -> list[bytes]:
    """Pack one command as redis-py's own packers do: a multi-word command name is split, buffers become bytes."""
    first = args[0]
    if isinstance(first, str):
        args = (*first.encode().split(), *args[1:])
    elif b" " in first:
        args = (*first.split(), *args[1:])
    args = tuple(bytes(arg) if isinstance(arg, bytearray | memoryview) else arg for arg in args)
    try:
        return [hiredis.pack_command(args)]
    except TypeError as err:  # What redis-py's encoder says of a bool or None, so callers see the same error.
        raise DataError(str(err)) from err


def packed_by_hiredis(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """Return `connection_class` (TCP, TLS or unix socket, as the URL chose) packing its commands with hiredis."""

    class HiredisPacked(connection_class):  # type: ignore[valid-type,misc]  # A class chosen at run time.
        def pack_command(self, *args: Any) -> list[bytes]:
            return pack(args)

    HiredisPacked.__name__ = HiredisPacked.__qualname__ = f"HiredisPacked{connection_class.__name__}"
    return HiredisPacked
