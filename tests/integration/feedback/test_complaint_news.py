"""A complaint stored while Redis is away is answered as opened: a 503 would have the operator open it twice."""

from datetime import UTC, datetime

import asyncpg
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from feedback import service
from feedback.model import Actor, ActorKind, ComplaintRequest
from feedback.sla import SlaPolicy
from realtime.bus import RedisEventBus
from taxicrm.settings import Settings
from tests.support import free_port


async def test_a_complaint_opened_while_redis_is_away_is_stored_and_answered(
        db: asyncpg.Pool, make_staff, settings: Settings) -> None:
    operator = await make_staff("operator")
    dead = aioredis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)
    policy = SlaPolicy.from_settings(settings.complaint_first_response_minutes, settings.complaint_resolution_hours)
    opened = await service.open_complaint(
        db, RedisEventBus(dead, retention=10), policy,
        ComplaintRequest(category="late_pickup", description="Twenty minutes late."),
        Actor(ActorKind.STAFF, operator.id), datetime.now(UTC))
    assert await db.fetchval("SELECT count(*) FROM complaints WHERE id = $1", opened.id) == 1
    await dead.aclose()
