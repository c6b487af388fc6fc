import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from subscribers import service
from subscribers.errors import PhoneTaken
from subscribers.model import NewPhone
from subscribers.phones import PhonePlan

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def make(db):
    async def create(name, *numbers):
        record = await service.create_subscriber(db, name, [NewPhone(n) for n in numbers], [], PhonePlan())
        return record.subscriber.id

    return create


@pytest.fixture
async def staff_id(db):
    return await db.fetchval("INSERT INTO staff_users (username, display_name, role, password_hash)"
                             " VALUES ('sup', 'Sup', 'supervisor', 'x') RETURNING id")


async def test_a_search_page_costs_two_queries_however_many_rows(database_url, make):
    for n in range(20):
        await make(f"Karimi {n}", f"0912{n:07d}", f"0935{n:07d}")
    queries = []
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1,
                                   init=lambda conn: _log_into(conn, queries)) as pool:
        hits = await service.search(pool, "karimi")
    assert len(hits) == 20 and all(len(hit.phones) == 2 for hit in hits)
    assert len([q for q in queries if "subscriber" in q]) == 2


async def _log_into(conn, queries):
    conn.add_query_logger(lambda logged: queries.append(logged.query))


async def test_merge_participants_run_in_the_merge_transaction_and_are_recorded(db, make, staff_id):
    kept, other = await make("Ali", "09121234567"), await make("Ali R", "09351112233")
    seen = []

    async def move_calls(conn, from_id, to_id):
        # The participant sees the merge's uncommitted state: it runs inside the same transaction.
        seen.append((from_id, to_id, conn.is_in_transaction(),
                     await conn.fetchval("SELECT count(*) FROM subscriber_phones WHERE subscriber_id = $1", to_id)))
        return "calls", 7

    result = await service.merge(db, kept, other, by=staff_id, now=NOW, participants=[move_calls])
    assert seen == [(other, kept, True, 2)]
    assert result.moved["calls"] == 7
    recorded = await db.fetchval("SELECT moved->>'calls' FROM subscriber_merges WHERE id = $1", result.merge_id)
    assert recorded == "7"


async def test_a_failing_participant_rolls_the_whole_merge_back(db, make, staff_id):
    kept, other = await make("Ali", "09121234567"), await make("Ali R", "09351112233")
    before = await db.fetch("SELECT subscriber_id, e164 FROM subscriber_phones ORDER BY id")

    async def broken(conn, from_id, to_id):
        raise RuntimeError("rides table is locked")

    with pytest.raises(RuntimeError):
        await service.merge(db, kept, other, by=staff_id, now=NOW, participants=[broken])
    assert await db.fetch("SELECT subscriber_id, e164 FROM subscriber_phones ORDER BY id") == before
    assert await db.fetchval("SELECT merged_into FROM subscribers WHERE id = $1", other) is None
    assert await db.fetchval("SELECT count(*) FROM subscriber_merges") == 0


async def test_a_participant_may_not_claim_a_kind_the_merge_reports_itself(db, make, staff_id):
    kept, other = await make("Ali", "09121234567"), await make("Ali R", "09351112233")

    async def clash(conn, from_id, to_id):
        return "phones", 1

    with pytest.raises(ValueError, match="phones"):
        await service.merge(db, kept, other, by=staff_id, now=NOW, participants=[clash])


async def test_two_subscribers_racing_for_one_number_leave_it_with_one(db, make):
    first, second = await make("Ali", "09121234567"), await make("Reza", "09351112233")
    outcomes = await asyncio.gather(
        *(service.add_phone(db, s, NewPhone("09191234567"), PhonePlan()) for s in (first, second)),
        return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["PhoneTaken", "SubscriberPhone"]
    assert await db.fetchval("SELECT count(*) FROM subscriber_phones WHERE e164 = '+989191234567'") == 1
    assert isinstance(next(o for o in outcomes if isinstance(o, Exception)), PhoneTaken)


async def test_concurrent_opposite_merges_of_one_pair_do_not_deadlock(db, make, staff_id):
    first, second = await make("Ali", "09121234567"), await make("Ali R", "09351112233")
    outcomes = await asyncio.gather(service.merge(db, first, second, by=staff_id, now=NOW),
                                    service.merge(db, second, first, by=staff_id, now=NOW),
                                    return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["MergeRefused", "MergeResult"]
    assert await db.fetchval("SELECT count(*) FROM subscribers WHERE merged_into IS NOT NULL") == 1
