"""Run a job on exactly one instance at a time: whichever holds a short Redis lease, renewed while it lives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Renew or release the lease only if this instance still holds it: compare and act atomically.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


async def run_as_leader(redis: aioredis.Redis, name: str, job: Callable[[], Awaitable[None]], *,
                        lease_seconds: float = 15.0) -> None:
    """Run `job` while this instance holds the lease `name`; stand by otherwise; never return (cancel to stop).

    If the lease cannot be renewed (Redis unreachable, or another instance took over after a stall), the job
    is cancelled at once: two instances must not both run it, and a lapsed lease may already be someone else's.
    """
    key, me = f"taxicrm:leader:{name}", uuid.uuid4().hex
    lease_ms = int(lease_seconds * 1000)
    current = asyncio.current_task()
    while True:
        # redis-py can swallow a cancellation that lands mid-command (it retries, or raises its own error):
        # look for a pending cancel on every turn, or shutdown would wait on this loop forever.
        if current is not None and current.cancelling():
            raise asyncio.CancelledError
        try:
            if await redis.set(key, me, nx=True, px=lease_ms):
                log.info("leading %s", name)
                await _lead(redis, key, me, lease_ms, job)
        except RedisError as err:
            log.warning("cannot reach Redis for the %s lease (%s)", name, err)
        await asyncio.sleep(lease_seconds / 3)


async def _lead(redis: aioredis.Redis, key: str, me: str, lease_ms: int,
                job: Callable[[], Awaitable[None]]) -> None:
    task = asyncio.ensure_future(job())
    current = asyncio.current_task()
    try:
        while True:
            # A cancel swallowed by the Redis command that won the lease (or renewed it) is still pending.
            if current is not None and current.cancelling():
                raise asyncio.CancelledError
            done, _ = await asyncio.wait({task}, timeout=lease_ms / 3000)
            if done:
                task.result()  # A job that ended (or failed) gives up the lease for another try.
                return
            if not await redis.eval(_RENEW, 1, key, me, lease_ms):
                log.warning("lost the lease %s; stopping its job here", key)
                return
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(RedisError):
            await redis.eval(_RELEASE, 1, key, me)
