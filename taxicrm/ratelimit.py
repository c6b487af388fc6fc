"""Fixed-window counters in Redis, shared by every instance, for rate limits such as failed logins."""

from __future__ import annotations

import redis.asyncio as aioredis


async def retry_after(redis: aioredis.Redis, keys: list[str], limit: int) -> int:
    """Return seconds until the caller may try again (0 when no key has reached `limit`)."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        replies = await pipe.execute()
    waits = [max(int(ttl), 1) for count, ttl in zip(replies[::2], replies[1::2], strict=True)
             if count is not None and int(count) >= limit]
    return max(waits, default=0)


async def count(redis: aioredis.Redis, keys: list[str], window_seconds: int) -> None:
    """Add one to each key's count; a key's window starts at its first count."""
    async with redis.pipeline(transaction=True) as pipe:
        for key in keys:
            # SET NX starts the window only on the first count; INCR keeps the expiry it set.
            pipe.set(key, 0, ex=window_seconds, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def clear(redis: aioredis.Redis, keys: list[str]) -> None:
    """Forget the counts, e.g. after a successful login."""
    if keys:
        await redis.delete(*keys)
