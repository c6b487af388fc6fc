"""No use case waits for a second pooled connection while holding one (found by the fault suite, tests/faults).

A burst of such callers takes every connection of the pool, each waiting for another, and the instance hangs
for good. With a pool of one connection, the old code waits forever; these tests give it a few seconds. (A trip's
completion is tested so in test_trips.py.)
"""

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from callcenter import telephony
from callcenter.webhook import parse_call_event
from dispatch import booking
from feedback.service import open_complaints_on_card
from realtime.bus import RedisEventBus
from subscribers.phones import PhonePlan

TEHRAN = ZoneInfo("Asia/Tehran")
LAT, LNG = 35.6997, 51.3380
WITHIN_SECONDS = 10


@pytest.fixture
async def one_connection(database_url: str):
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        yield pool


async def test_a_ringing_call_gathers_the_card_without_holding_a_connection(one_connection, redis_client):
    sections = (booking.rides_on_card, open_complaints_on_card)
    phone = telephony.Telephony(one_connection, RedisEventBus(redis_client, retention=10), PhonePlan(), TEHRAN,
                                sections)
    event = parse_call_event({"event": "ringing", "call_id": "pool-1", "caller": "09121234567", "extensions": "201"},
                             datetime.now(UTC))
    async with asyncio.timeout(WITHIN_SECONDS):
        outcome = await telephony.handle_call_event(phone, event)
    assert outcome.call_id is not None
