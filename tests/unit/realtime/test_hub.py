import asyncio

import asyncpg
import pytest
import redis.exceptions

from realtime.hub import Hub, Stop, audiences_for
from taxicrm.auth import Principal, Role
from taxicrm.events import DRIVERS, OPERATORS, SUPERVISORS, PublishedEvent, driver_audience, operator_audience


def event(n: int, *audiences: str) -> PublishedEvent:
    return PublishedEvent(f"1700000000000-{n}", "ride.created", audiences, {"n": n})


def drain(queue: asyncio.Queue) -> list:
    return [queue.get_nowait() for _ in range(queue.qsize())]


def test_each_role_hears_its_shared_audiences_and_its_own():
    assert audiences_for(Principal(Role.OPERATOR, 3, "Sara")) == {OPERATORS, operator_audience(3)}
    for role in (Role.SUPERVISOR, Role.ADMIN):
        assert audiences_for(Principal(role, 4, "Ali")) == {OPERATORS, SUPERVISORS, operator_audience(4)}
    assert audiences_for(Principal(Role.DRIVER, 3, "Reza")) == {DRIVERS, driver_audience(3)}
    assert audiences_for(Principal(Role.METRICS, 0, "metrics")) == frozenset()


def test_events_reach_only_the_clients_whose_audiences_they_name():
    hub = Hub(queue_size=10)
    operator = hub.register(audiences_for(Principal(Role.OPERATOR, 1, "Sara")))
    supervisor = hub.register(audiences_for(Principal(Role.SUPERVISOR, 2, "Ali")))
    driver = hub.register(audiences_for(Principal(Role.DRIVER, 1, "Reza")))
    other_driver = hub.register(audiences_for(Principal(Role.DRIVER, 2, "Hamid")))
    floor, bosses, mine = event(1, OPERATORS), event(2, SUPERVISORS), event(3, driver_audience(1))
    both = event(4, OPERATORS, operator_audience(1))
    for e in (floor, bosses, mine, both):
        hub.deliver(e)
    assert drain(operator.queue) == [floor, both]  # Once, though it names two of the operator's audiences.
    assert drain(supervisor.queue) == [floor, bosses, both]
    assert drain(driver.queue) == [mine]
    assert drain(other_driver.queue) == []


def test_a_client_that_falls_behind_is_cut_off_with_only_the_reason_left_queued():
    hub = Hub(queue_size=2)
    slow = hub.register({OPERATORS})
    keeping_up = hub.register({OPERATORS})
    for n in range(3):
        hub.deliver(event(n, OPERATORS))
        drain(keeping_up.queue)
    assert slow.stopped is Stop.OVERRUN
    assert drain(slow.queue) == [Stop.OVERRUN]  # The pending events are dropped: memory stays bounded.
    hub.deliver(event(9, OPERATORS))
    assert drain(slow.queue) == []  # Nothing more for a client that is being cut off.
    assert keeping_up.stopped is None and drain(keeping_up.queue) == [event(9, OPERATORS)]


def test_delivering_says_when_a_client_s_queue_is_half_full_so_its_connection_gets_to_send():
    hub = Hub(queue_size=4)
    console = hub.register({OPERATORS})
    hub.register({SUPERVISORS})
    assert hub.deliver(event(1, OPERATORS)) is False
    assert hub.deliver(event(2, SUPERVISORS)) is False
    assert hub.deliver(event(3, OPERATORS)) is True  # Two of four queued for the console.
    drain(console.queue)
    assert hub.deliver(event(4, OPERATORS)) is False

def test_stopping_everyone_queues_going_away_once_and_unregistering_forgets_the_client():
    hub = Hub(queue_size=2)
    full = hub.register({OPERATORS})
    hub.deliver(event(1, OPERATORS))
    hub.deliver(event(2, OPERATORS))
    with hub.connect({SUPERVISORS}) as idle:
        assert len(hub) == 2
        hub.stop_all()
        hub.stop_all()
        assert drain(full.queue) == [Stop.GOING_AWAY] and drain(idle.queue) == [Stop.GOING_AWAY]
    assert len(hub) == 1
    hub.unregister(full)
    hub.unregister(full)
    assert len(hub) == 0


def test_a_storm_of_failed_commands_logs_a_few_tracebacks_and_a_count(caplog):
    from realtime.ws import FailureLog

    failures = FailureLog(most=2, window_seconds=3600)
    with caplog.at_level("ERROR", logger="realtime.ws"):
        for _ in range(50):
            failures.report("position", ConnectionError("redis went away"))
    assert [r.exc_info is not None for r in caplog.records] == [True, True]
    failures._window_start -= 3600  # The window ends: the next failure first says how many were held back.
    with caplog.at_level("ERROR", logger="realtime.ws"):
        failures.report("position", ConnectionError("redis went away"))
    assert "48 more websocket commands failed" in caplog.records[2].getMessage()


class _Failing:
    """A conversation whose every command meets the error it was given, as when a backing server goes away."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def opening(self) -> list[dict]:
        return []

    async def answer(self, command: dict) -> list[dict]:
        raise self.error

    async def heard(self) -> None:
        return None


@pytest.mark.parametrize("error", [asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
                                   redis.exceptions.ConnectionError("Error 111 connecting"),
                                   ConnectionResetError("reset by peer")])
async def test_a_command_met_by_an_outage_is_service_unavailable_not_internal_error(caplog, error):
    # Found by the fault suite: accept/arrive during a PostgreSQL restart answered internal_error, with a traceback.
    from realtime.ws import _replies

    with caplog.at_level("WARNING", logger="realtime.ws"):
        replies = await _replies({"type": "accept", "offer_id": 1}, _Failing(error))
    assert [(r["type"], r["code"]) for r in replies] == [("error", "service_unavailable")]
    assert all(r.exc_info is None and r.levelname == "WARNING" for r in caplog.records)


async def test_a_bug_in_a_command_is_still_internal_error():
    from realtime.ws import _replies

    replies = await _replies({"type": "accept", "offer_id": 1}, _Failing(KeyError("oops")))
    assert [(r["type"], r["code"]) for r in replies] == [("error", "internal_error")]
