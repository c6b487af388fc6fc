"""Short garbage-collector pauses for a long-running service holding thousands of live connections.

Every connection keeps objects alive for as long as it waits for its next message: a driver's app sends every few
seconds, so each second tens of thousands of new waiting readers (coroutines, futures, messages) replace the last
ones. Every collection walks all the young ones still alive, at a cache miss per reference, and finds next to
nothing to free (a few dozen objects in ten seconds of bench/dispatch.py, bookings included): beside 10,000 apps
that cost a worker 25-30 ms a second, in pauses of 3 ms, and the middle and old generations' passes 30-50 ms each.

So, while tended, the collector does not run by itself. Every second whatever is alive is frozen out of its view
(cheap: no object is visited), and a full collection frees whatever cyclic garbage built up among the frozen
objects: every FULL_EVERY, or sooner once the process's memory has grown GROWTH-fold since the last one (a flood of
cyclic garbage must not wait half an hour; a fleet connecting costs a few such passes). Its pause is logged.
Objects frozen and later dropped are still freed at once by reference counting. (Counting the frozen objects is
no cheaper than a collection: it walks them all.)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FREEZE_EVERY_SECONDS = 1.0
FULL_EVERY_SECONDS = 30 * 60.0
GROWTH = 2.0
# Below this much resident memory growth alone never calls for a full collection (a service with few connections).
GROWTH_FLOOR_BYTES = 256 * 2**20
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """Return the process's resident memory (0 where /proc cannot tell: then only the timer calls for one)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def freeze_survivors() -> None:
    """Collect the youngest generation, then freeze whatever survived out of every later collection."""
    gc.collect(0)
    gc.freeze()


def collect_everything() -> float:
    """Unfreeze and run a full collection (freeing cyclic garbage among frozen objects); return its seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


async def tend_collector(freeze_every: float = FREEZE_EVERY_SECONDS, full_every: float = FULL_EVERY_SECONDS,
                         growth: float = GROWTH, growth_floor: int = GROWTH_FLOOR_BYTES,
                         memory: Callable[[], int] = resident_bytes) -> None:
    """Freeze every `freeze_every` seconds and collect everything when due, until cancelled (see the module).

    The interpreter's own collections are off meanwhile, and back on after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    last_full, after_full = time.monotonic(), memory()
    try:
        while True:
            await asyncio.sleep(freeze_every)
            gc.freeze()
            if time.monotonic() - last_full >= full_every or memory() > max(growth_floor, after_full * growth):
                took = collect_everything()
                last_full, after_full = time.monotonic(), memory()
                log.info("full garbage collection took %.0f ms", took * 1000)
    finally:
        if was_enabled:
            gc.enable()
