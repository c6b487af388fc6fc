"""AmiClient against a real TCP peer that speaks AMI as Asterisk does."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from callcenter.ami_client import AmiClient, AmiTarget
from callcenter.calls import CallEvent, CallEventKind, EndCause
from tests.ami_peer import FAST, SECRET, FakeAsterisk, direct_call


class Received:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[CallEvent] = asyncio.Queue()

    async def __call__(self, event: CallEvent) -> None:
        await self.queue.put(event)

    async def next(self, count: int) -> list[CallEvent]:
        return [await asyncio.wait_for(self.queue.get(), 3) for _ in range(count)]


@pytest.fixture
async def servers() -> AsyncIterator[list[FakeAsterisk]]:
    started: list[FakeAsterisk] = []
    yield started
    for server in started:
        with contextlib.suppress(AssertionError):
            await server.stop()


async def start(servers: list[FakeAsterisk], server: FakeAsterisk, port: int = 0) -> int:
    port = await server.start(port)
    servers.append(server)
    return port


@contextlib.asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(client.run())
    try:
        yield task
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def target(port: int, secret: str = SECRET) -> AmiTarget:
    return AmiTarget("127.0.0.1", port, "crm", secret)


async def test_the_client_logs_in_and_turns_a_call_into_events(servers):
    pbx = FakeAsterisk(direct_call("1709271000.16", "09121234567", "علی رضایی", "204"))
    port = await start(servers, pbx)
    received = Received()
    async with running(AmiClient(target(port), received, **FAST)):
        ringing, answered, ended = await received.next(3)
    assert [ringing.kind, answered.kind, ended.kind] == list(CallEventKind)
    assert (ringing.caller, ringing.caller_name, ringing.extensions) == ("09121234567", "علی رضایی", ("204",))
    assert ended.cause == EndCause.NORMAL
    assert pbx.logins[0]["Events"] == "call,agent"
    await asyncio.wait_for(pbx.closed_by_client.wait(), 1)  # Cancelling closed the socket.


async def test_the_client_comes_back_after_the_pbx_restarts(servers):
    received = Received()
    first = FakeAsterisk(direct_call("1709271000.16", "09121234567", "علی", "204"))
    port = await start(servers, first)
    async with running(AmiClient(target(port), received, **FAST)) as task:
        assert {e.call_id for e in await received.next(3)} == {"1709271000.16"}
        await first.stop()
        await asyncio.sleep(0.1)
        assert not task.done()
        second = FakeAsterisk(direct_call("1709272000.3", "02166554433", "مریم", "205"))
        await start(servers, second, port)
        events = await received.next(3)
    assert {e.call_id for e in events} == {"1709272000.3"}
    assert events[1].extensions == ("205",)
    assert len(second.logins) == 1


async def test_keepalive_pings_and_a_silent_pbx_is_dropped(servers):
    answering, silent = FakeAsterisk(), FakeAsterisk(answers_pings=False)
    answering_port, silent_port = await start(servers, answering), await start(servers, silent)
    async with (
        running(AmiClient(target(answering_port), Received(), **FAST)),
        running(AmiClient(target(silent_port), Received(), **FAST)),
    ):
        await asyncio.sleep(1.2)
    assert answering.pings >= 3 and answering.connections == 1
    assert silent.connections >= 2


async def test_garbage_from_the_pbx_is_skipped_and_later_events_still_come(servers, caplog):
    garbage = b"\x00\xff\xfe not ami at all\r\n\r\n" + b"x" * 100_000 + b"\r\n\r\nEvent: Newstate\r\nLinkedid\r\n\r\n"
    pbx = FakeAsterisk(garbage + direct_call("1709271000.16", "09121234567", "علی", "204"))
    port = await start(servers, pbx)
    received = Received()
    with caplog.at_level(logging.WARNING, "callcenter.ami_client"):
        async with running(AmiClient(target(port), received, **FAST)):
            assert [e.kind for e in await received.next(3)] == list(CallEventKind)
    assert pbx.connections == 1
    assert "Skipped AMI input" in caplog.text


async def test_a_peer_that_is_not_asterisk_is_retried_without_crashing(servers):
    pbx = FakeAsterisk(banner=b"SSH-2.0-OpenSSH_9.6\r\n")
    port = await start(servers, pbx)
    async with running(AmiClient(target(port), Received(), **FAST)) as task:
        await asyncio.sleep(1.3)
        assert not task.done()
    assert pbx.connections >= 2
    assert pbx.logins == []


async def test_a_wrong_secret_is_refused_and_retried_with_backoff(servers, caplog):
    pbx = FakeAsterisk()
    port = await start(servers, pbx)
    with caplog.at_level(logging.DEBUG, "callcenter.ami_client"):
        async with running(AmiClient(target(port, "wrong-secret"), Received(), **FAST)) as task:
            await asyncio.sleep(1.0)
            assert not task.done()
    # Backoff 0.05, 0.1, 0.2, 0.2, ...: a handful of tries a second, not a hot loop.
    assert 3 <= pbx.refused <= 10
    assert "refused the AMI login" in caplog.text
    assert "wrong-secret" not in caplog.text


async def test_an_event_handler_that_fails_does_not_stop_the_next_events(servers, caplog):
    pbx = FakeAsterisk(direct_call("1709271000.16", "09121234567", "علی", "204"))
    port = await start(servers, pbx)
    received = Received()

    async def flaky(event: CallEvent) -> None:
        if event.kind == CallEventKind.RINGING:
            raise RuntimeError("screen-pop failed")
        await received(event)

    async with running(AmiClient(target(port), flaky, **FAST)):
        answered, ended = await received.next(2)
    assert (answered.kind, ended.kind) == (CallEventKind.ANSWERED, CallEventKind.ENDED)
    assert "screen-pop failed" in caplog.text
