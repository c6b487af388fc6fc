import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dispatch import ride_store
from dispatch.model import Actor, ActorKind, Channel, Driver, NewRide, Place, Ride, RideFilter, RideStatus, VehicleClass

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SYSTEM = Actor(ActorKind.SYSTEM)
CANCELLED = {"status": "cancelled", "cancelled_by_kind": "system", "cancel_reason": "gone"}


def new_ride(key: str = "k1", *, phone: str = "+989121234567", pickup_at: datetime | None = None,
             status: RideStatus = RideStatus.REQUESTED) -> NewRide:
    return NewRide(
        subscriber_id=None, walk_in_name="Walker", walk_in_phone=phone, call_id=None, pickup=Place("Azadi Square"),
        destination=None, passengers=1, vehicle_class=VehicleClass.SEDAN, notes_for_driver=None, pickup_at=pickup_at,
        status=status, booked_by=None, booked_via=Channel.SELF_SERVICE, idempotency_scope="customer:1",
        idempotency_key=key, request_hash="h", created_at=NOW,
    )


async def insert(db: asyncpg.Pool, new: NewRide) -> Ride:
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new)
    assert ride is not None
    return ride


async def test_a_second_insert_with_the_same_key_inserts_nothing(db: asyncpg.Pool) -> None:
    first = await insert(db, new_ride("k"))
    async with db.acquire() as conn:
        assert await ride_store.insert_ride(conn, dataclasses.replace(new_ride("k"), passengers=4)) is None
        found = await ride_store.ride_by_key(conn, "customer:1", "k")
        other_scope = await ride_store.insert_ride(conn, dataclasses.replace(new_ride("k"), idempotency_scope="x"))
    assert found == first
    assert other_scope is not None and other_scope.id != first.id


async def test_a_ride_round_trips_with_its_places(db: asyncpg.Pool) -> None:
    new = dataclasses.replace(new_ride(), pickup=Place("A", "gate 2", 35.7, 51.4), destination=Place("B"),
                              pickup_at=NOW + timedelta(hours=1), status=RideStatus.SCHEDULED)
    ride = await insert(db, new)
    async with db.acquire() as conn:
        assert await ride_store.ride(conn, ride.id) == ride
    assert (ride.pickup, ride.destination) == (Place("A", "gate 2", 35.7, 51.4), Place("B"))
    assert ride.due_at == NOW + timedelta(hours=1) and ride.version == 1


async def test_a_stale_version_changes_nothing(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride())
    async with db.acquire() as conn:
        moved = await ride_store.update_route(conn, ride.id, ride.version, Place("Vanak"), None, NOW)
        assert moved is not None and moved.version == 2
        assert await ride_store.update_ride(conn, ride.id, ride.version, NOW, CANCELLED) is None
        assert (await ride_store.ride(conn, ride.id)) == moved


async def test_of_two_concurrent_writers_of_one_version_only_the_first_wins(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride())
    async with db.acquire() as first, db.acquire() as second:
        tx = first.transaction()
        await tx.start()
        assert await ride_store.update_ride(first, ride.id, ride.version, NOW, CANCELLED) is not None
        # The second writer waits on the row lock, then re-checks the version and finds it moved on.
        late = asyncio.create_task(ride_store.update_route(second, ride.id, ride.version, Place("Vanak"), None, NOW))
        await asyncio.sleep(0.2)
        assert not late.done()
        await tx.commit()
        assert await late is None
        stored = await ride_store.ride(first, ride.id)
    assert stored is not None and stored.status is RideStatus.CANCELLED and stored.pickup.text == "Azadi Square"


async def test_a_driver_has_at_most_one_active_ride(db: asyncpg.Pool,
                                                    make_driver: Callable[[], Awaitable[tuple[Driver, str]]]) -> None:
    driver, _ = await make_driver()
    first, second = await insert(db, new_ride("a")), await insert(db, new_ride("b"))
    assign = "UPDATE rides SET status = $3, driver_id = $2 WHERE id = $1"
    await db.execute(assign, first.id, driver.id, "assigned")
    with pytest.raises(asyncpg.UniqueViolationError):
        await db.execute(assign, second.id, driver.id, "assigned")
    await db.execute(assign, first.id, driver.id, "completed")
    await db.execute(assign, second.id, driver.id, "assigned")


async def test_the_active_ride_of_a_caller_is_found_by_phone_and_only_while_active(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride(phone="+989120000001"))
    active = frozenset({RideStatus.REQUESTED, RideStatus.SCHEDULED})

    async def look(phone: str, statuses: frozenset[RideStatus] = active, key: str = "other") -> tuple:
        async with db.acquire() as conn:
            return await ride_store.earlier_and_active(conn, "customer:1", key, None, phone, statuses)

    assert await look("+989120000001") == (None, ride)
    assert await look("+989120000002") == (None, None)
    assert await look("+989120000001", frozenset()) == (None, None)  # A confirmed duplicate asks for none.
    # The same key's ride and the active one, in one answer: here they are the same ride.
    assert await look("+989120000001", key="k1") == (ride, ride)
    await db.execute("UPDATE rides SET status = 'cancelled', cancel_reason = 'x' WHERE id = $1", ride.id)
    assert await look("+989120000001") == (None, None)


async def test_rides_are_listed_by_status_and_due_time(db: asyncpg.Pool) -> None:
    asap = await insert(db, new_ride("a"))
    later = await insert(db, new_ride("b", pickup_at=NOW + timedelta(days=1), status=RideStatus.SCHEDULED))
    async with db.acquire() as conn:
        everything = await ride_store.list_rides(conn, RideFilter())
        scheduled = await ride_store.list_rides(conn, RideFilter(statuses=frozenset({RideStatus.SCHEDULED})))
        today = await ride_store.list_rides(conn, RideFilter(since=NOW, until=NOW + timedelta(hours=1)))
        one = await ride_store.list_rides(conn, RideFilter(limit=1))
    assert [r.id for r in everything] == [later.id, asap.id]
    assert [r.id for r in scheduled] == [later.id]
    assert [r.id for r in today] == [asap.id]
    assert [r.id for r in one] == [later.id]


async def test_steps_are_stored_in_order_with_their_details(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride())
    operator = Actor(ActorKind.OPERATOR, None)
    async with db.acquire() as conn:
        await ride_store.insert_step(conn, ride.id, "book", None, RideStatus.REQUESTED, SYSTEM, NOW)
        await ride_store.insert_step(conn, ride.id, "change_route", RideStatus.REQUESTED, RideStatus.REQUESTED,
                                     operator, NOW, details={"after": {"pickup": "Vanak"}})
        steps = await ride_store.steps_of(conn, ride.id)
    assert [(s.action, s.from_status, s.actor) for s in steps] == [
        ("book", None, SYSTEM), ("change_route", RideStatus.REQUESTED, operator)]
    assert steps[1].details == {"after": {"pickup": "Vanak"}}


async def test_a_cancelled_ride_must_carry_its_reason(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride())
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE rides SET status = 'cancelled' WHERE id = $1", ride.id)


async def test_waking_rides_skips_one_another_transaction_holds_instead_of_waiting_for_it(db: asyncpg.Pool) -> None:
    # Waits here deadlocked two instances' wakes and dispatch (found by the fault suite, tests/faults); a ride
    # someone holds is being dispatched right now, so it needs no wake.
    held = await insert(db, new_ride("w1", status=RideStatus.UNASSIGNED))
    free = await insert(db, new_ride("w2", status=RideStatus.UNASSIGNED))
    async with db.acquire() as holder, holder.transaction():
        await holder.execute("SELECT 1 FROM rides WHERE id = $1 FOR UPDATE", held.id)
        async with db.acquire() as conn, asyncio.timeout(5):
            await ride_store.wake(conn, [held.id, free.id], NOW)
    woken = await db.fetch("SELECT id FROM rides WHERE dispatch_after = $1", NOW)
    assert [r["id"] for r in woken] == [free.id]


async def test_a_booking_stores_its_step_with_the_ride_and_a_replayed_key_stores_neither(db: asyncpg.Pool) -> None:
    booked = ride_store.StepRecord("book", None, RideStatus.REQUESTED, SYSTEM, NOW)
    async with db.acquire() as conn:
        ride = await ride_store.insert_ride(conn, new_ride("k"), booked)
        assert await ride_store.insert_ride(conn, new_ride("k"), booked) is None
        assert ride is not None
        steps = await ride_store.steps_of(conn, ride.id)
    assert [(s.action, s.from_status, s.to_status, s.actor, s.at) for s in steps] == [
        ("book", None, RideStatus.REQUESTED, SYSTEM, NOW)]


async def test_a_change_stores_its_step_in_the_same_statement_and_a_stale_one_stores_none(db: asyncpg.Pool) -> None:
    ride = await insert(db, new_ride())
    operator = Actor(ActorKind.OPERATOR, 7)
    cancel = ride_store.StepRecord("cancel", RideStatus.REQUESTED, RideStatus.CANCELLED, operator, NOW,
                                   reason="gone", details={"why": "test"})
    async with db.acquire() as conn:
        cancelled = await ride_store.update_ride(conn, ride.id, ride.version, NOW, CANCELLED, cancel)
        assert await ride_store.update_ride(conn, ride.id, ride.version, NOW, CANCELLED, cancel) is None
        steps = await ride_store.steps_of(conn, ride.id)
    assert cancelled is not None and cancelled.status is RideStatus.CANCELLED and cancelled.version == 2
    assert [(s.action, s.to_status, s.actor, s.reason, s.details) for s in steps] == [
        ("cancel", RideStatus.CANCELLED, operator, "gone", {"why": "test"})]
