"""Fuzzing the AMI intake: any bytes from the PBX are parsed without an exception, and calls still come through."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.ami_calls import CallTracker
from callcenter.ami_client import AmiClient, AmiTarget
from callcenter.ami_protocol import AmiParser
from callcenter.calls import CallEvent, CallEventKind
from tests.ami_peer import FAST, SECRET, FakeAsterisk, direct_call, wire

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)
NOW = datetime(2026, 12, 1, 19, 5, tzinfo=UTC)
GOOD = {"Event": "Newchannel", "Channel": "PJSIP/mci-trunk-00000010", "Uniqueid": "1.1", "Linkedid": "1.1"}

# Lines that look like AMI, lines that do not, and the separators that end them, in any mix.
LINES = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    st.builds(lambda k, v: f"{k}: {v}".encode(errors="surrogatepass"), st.text(max_size=12), st.text(max_size=30)),
    st.sampled_from([b"Asterisk Call Manager/7.0.3", b":", b": value", b"Event:", b"\xff\xfe", b"\x00" * 10]),
    st.integers(1, 80_000).map(lambda n: b"A" * n),
)
GARBAGE = st.lists(st.tuples(LINES, st.sampled_from([b"\r\n", b"\n", b"\r", b"", b"\r\n\r\n"])), max_size=12).map(
    lambda parts: b"".join(line + end for line, end in parts))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@FUZZ
@given(data=GARBAGE, cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_the_parser_takes_any_bytes_in_any_chunks_and_recovers(data: bytes, cuts: list[int]) -> None:
    parser = AmiParser()
    packets = [p for chunk in split(data, cuts) for p in parser.feed(chunk)]
    assert all(p and all(isinstance(k, str) and k and isinstance(v, str) for k, v in p.items()) for p in packets)
    # After a blank line, a well-formed packet is read whatever came before.
    assert parser.feed(b"\r\n\r\n" + wire(GOOD))[-1] == GOOD


@FUZZ
@given(data=GARBAGE, cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_how_the_bytes_are_chunked_does_not_change_the_packets(data: bytes, cuts: list[int]) -> None:
    whole, chunked = AmiParser(), AmiParser()
    assert whole.feed(data) == [p for chunk in split(data, cuts) for p in chunked.feed(chunk)]


EVENTS = st.sampled_from(["Newchannel", "Newstate", "DialBegin", "DialEnd", "BridgeEnter", "Hangup",
                          "QueueCallerJoin", "AgentCalled", "AgentConnect", "QueueCallerAbandon", "BlindTransfer",
                          "AttendedTransfer", "FullyBooted", ""])
FIELDS = st.sampled_from(["Channel", "Uniqueid", "Linkedid", "CallerIDNum", "CallerIDName", "ChannelStateDesc",
                          "DestChannel", "DestUniqueid", "DestLinkedid", "DialStatus", "Cause", "Exten", "Interface",
                          "Result", "Timestamp", "TransfererLinkedid", "TransfereeLinkedid", "OrigTransfererLinkedid",
                          "SecondTransfererLinkedid", "TransferTargetChannel"])
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(
    ["1.1", "1.2", "PJSIP/201-0000001a", "SIP/205-1", "Local/204@agents", "Ringing", "Up", "ANSWER", "BUSY", "16",
     "nan", "inf", "-1e309", "1e400", "99999999999999", "Agent/201", "Success", "Fail", "", "0"]))
PACKETS = st.builds(lambda event, fields: {"Event": event, **fields}, EVENTS,
                    st.dictionaries(FIELDS, VALUES, max_size=8))


@FUZZ
@given(packets=st.lists(PACKETS, max_size=25))
def test_the_call_tracker_takes_any_events_in_any_order(packets: list[dict[str, str]]) -> None:
    tracker = CallTracker()
    for packet in packets:
        assert all(isinstance(e, CallEvent) for e in tracker.handle(packet, NOW))


async def _one_call_through(garbage: bytes, call_id: str) -> list[CallEvent]:
    received: asyncio.Queue[CallEvent] = asyncio.Queue()
    pbx = FakeAsterisk(garbage + b"\r\n\r\n" + direct_call(call_id, "09121234567", "علی رضایی", "204"))
    port = await pbx.start()
    client = AmiClient(AmiTarget("127.0.0.1", port, "crm", SECRET), received.put, **FAST)
    task = asyncio.create_task(client.run())
    try:
        events = [await asyncio.wait_for(received.get(), 5) for _ in range(3)]
        assert not task.done() and client.logins == 1
        return events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pbx.stop()


@settings(FUZZ, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=GARBAGE)
def test_a_call_after_garbage_on_a_real_connection_still_comes_through(garbage: bytes) -> None:
    events = asyncio.run(_one_call_through(garbage, "1709271000.77"))
    assert [e.kind for e in events] == list(CallEventKind)
    assert {e.call_id for e in events} == {"1709271000.77"}
