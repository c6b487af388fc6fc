"""Short garbage-collector pauses for a long-running service holding thousands of live connections.

Every connection leaves thousands of long-lived objects; left in the collector's oldest generation, each full
collection rescans them all, which with ten thousand driver apps connected takes a second and stalls every
socket. So, every few seconds, the young generations are collected (cheap: recent garbage is freed rather
than kept forever) and everything still alive is frozen out of the collector's view. Objects frozen and later
dropped are still freed by reference counting; only cyclic garbage among them waits, for the full collection
run every FULL_EVERY (its pause is logged).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

FREEZE_EVERY_SECONDS = 10.0
FULL_EVERY_SECONDS = 30 * 60.0


def freeze_survivors() -> None:
    """Collect the young generations, then freeze whatever survived out of every later collection."""
    gc.collect(1)
    gc.freeze()


def collect_everything() -> float:
    """Unfreeze and run a full collection (freeing cyclic garbage among frozen objects); return its seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


async def tend_collector(freeze_every: float = FREEZE_EVERY_SECONDS, full_every: float = FULL_EVERY_SECONDS) -> None:
    """Freeze survivors every `freeze_every` seconds and collect everything every `full_every`, until cancelled."""
    last_full = time.monotonic()
    while True:
        await asyncio.sleep(freeze_every)
        if time.monotonic() - last_full >= full_every:
            last_full = time.monotonic()
            log.info("full garbage collection took %.0f ms", collect_everything() * 1000)
        else:
            freeze_survivors()
