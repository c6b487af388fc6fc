"""Call sequences shaped as Asterisk 16+ emits them (fields per the AMI event docs), run through CallTracker."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from callcenter.ami_calls import CallTracker, end_cause, operator_extension
from callcenter.calls import CallEvent, CallEventKind, CallSource, EndCause

T0 = datetime(2024, 3, 1, 5, 30, tzinfo=UTC)
STATE_CODES = {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6", "Busy": "7"}
RINGING, ANSWERED, ENDED = CallEventKind.RINGING, CallEventKind.ANSWERED, CallEventKind.ENDED


@dataclass
class Chan:
    name: str
    uniqueid: str
    linkedid: str
    number: str
    caller_name: str = "<unknown>"
    exten: str = "s"
    context: str = "from-internal"
    state: str = "Down"

    def fields(self, prefix: str = "") -> dict[str, str]:
        return {
            f"{prefix}Channel": self.name,
            f"{prefix}ChannelState": STATE_CODES[self.state],
            f"{prefix}ChannelStateDesc": self.state,
            f"{prefix}CallerIDNum": self.number,
            f"{prefix}CallerIDName": self.caller_name,
            f"{prefix}ConnectedLineNum": "<unknown>",
            f"{prefix}ConnectedLineName": "<unknown>",
            f"{prefix}Language": "fa",
            f"{prefix}AccountCode": "",
            f"{prefix}Context": self.context,
            f"{prefix}Exten": self.exten,
            f"{prefix}Priority": "1",
            f"{prefix}Uniqueid": self.uniqueid,
            f"{prefix}Linkedid": self.linkedid,
        }


def event(name: str, *channels: dict[str, str], **extra: str) -> dict[str, str]:
    packet = {"Event": name, "Privilege": "call,all"}
    for fields in channels:
        packet |= fields
    return packet | extra


def newchannel(ch: Chan) -> dict[str, str]:
    return event("Newchannel", ch.fields())


def newstate(ch: Chan, state: str) -> dict[str, str]:
    ch.state = state
    return event("Newstate", ch.fields())


def dial_begin(caller: Chan, dest: Chan) -> dict[str, str]:
    return event("DialBegin", caller.fields(), dest.fields("Dest"), DialString=dest.number)


def dial_end(caller: Chan, dest: Chan, status: str) -> dict[str, str]:
    return event("DialEnd", caller.fields(), dest.fields("Dest"), DialStatus=status)


def bridge_enter(ch: Chan, bridge: str = "b6f1c0de-1") -> dict[str, str]:
    return event("BridgeEnter", ch.fields(), BridgeUniqueid=bridge, BridgeType="basic", BridgeNumChannels="1")


def hangup(ch: Chan, cause: int, text: str = "Normal Clearing") -> dict[str, str]:
    return event("Hangup", ch.fields(), Cause=str(cause), **{"Cause-txt": text})


def inbound(linkedid: str = "1709271000.16", number: str = "09121234567", name: str = "علی رضایی") -> Chan:
    return Chan("PJSIP/mci-trunk-00000010", linkedid, linkedid, number, name, "02188001234", "from-trunk", "Ring")


def operator(extension: str, seq: int, linkedid: str = "1709271000.16") -> Chan:
    return Chan(f"PJSIP/{extension}-{seq:08x}", f"1709271000.{seq}", linkedid, extension)


def play(events: list[dict[str, str]], tracker: CallTracker | None = None) -> list[CallEvent]:
    tracker = tracker or CallTracker()
    out: list[CallEvent] = []
    for n, packet in enumerate(events):
        out.extend(tracker.handle(packet, T0 + timedelta(seconds=n)))
    return out


def summary(events: list[CallEvent]) -> list[tuple[CallEventKind, tuple[str, ...], EndCause | None]]:
    return [(e.kind, e.extensions, e.cause) for e in events]


def direct_call_answered(caller: Chan, op: Chan) -> list[dict[str, str]]:
    return [
        newchannel(caller),
        newchannel(op),
        dial_begin(caller, op),
        newstate(op, "Ringing"),
        newstate(op, "Up"),
        dial_end(caller, op, "ANSWER"),
        newstate(caller, "Up"),
        bridge_enter(caller),
        bridge_enter(op),
    ]


def test_a_direct_call_rings_is_answered_and_ends_normally():
    caller, op = inbound(), operator("204", 17)
    events = play([*direct_call_answered(caller, op), hangup(op, 16), hangup(caller, 16)])
    assert summary(events) == [(RINGING, ("204",), None), (ANSWERED, ("204",), None), (ENDED, (), EndCause.NORMAL)]
    ringing = events[0]
    assert ringing == CallEvent(
        kind=RINGING,
        call_id="1709271000.16",
        source=CallSource.AMI,
        at=T0 + timedelta(seconds=2),
        caller="09121234567",
        caller_name="علی رضایی",
        dialled="02188001234",
        extensions=("204",),
    )
    assert {e.call_id for e in events} == {"1709271000.16"}


def test_a_queue_ringing_three_operators_pops_each_then_one_answers():
    caller = inbound()
    ops = [operator(ext, seq) for ext, seq in (("201", 17), ("202", 18), ("203", 19))]
    caller_fields = caller.fields()
    sequence = [newchannel(caller), newstate(caller, "Up")]
    sequence.append(event("QueueCallerJoin", caller.fields(), Queue="taxi", Position="1", Count="1"))
    for op in ops:
        sequence += [
            newchannel(op),
            event(
                "AgentCalled",
                caller_fields,
                op.fields("Dest"),
                Queue="taxi",
                MemberName=op.number,
                Interface=f"PJSIP/{op.number}",
            ),
            dial_begin(caller, op),
        ]
    sequence += [newstate(op, "Ringing") for op in ops]
    first, answering, third = ops
    sequence += [
        newstate(answering, "Up"),
        dial_end(caller, answering, "ANSWER"),
        dial_end(caller, first, "CANCEL"),
        dial_end(caller, third, "CANCEL"),
        hangup(first, 26, "Answered elsewhere"),
        hangup(third, 26, "Answered elsewhere"),
        event("QueueCallerLeave", caller.fields(), Queue="taxi", Position="1", Count="0"),
        event(
            "AgentConnect",
            caller.fields(),
            answering.fields("Dest"),
            Queue="taxi",
            MemberName="202",
            Interface="PJSIP/202",
            HoldTime="4",
            RingTime="3",
        ),
        bridge_enter(caller),
        bridge_enter(answering),
        hangup(caller, 16),
        hangup(answering, 16),
    ]
    assert summary(play(sequence)) == [
        (RINGING, ("201",), None),
        (RINGING, ("202",), None),
        (RINGING, ("203",), None),
        (ANSWERED, ("202",), None),
        (ENDED, (), EndCause.NORMAL),
    ]


def test_a_queue_rings_again_after_a_round_without_answer():
    caller, op = inbound(), operator("201", 17)
    retry = operator("201", 18)
    sequence = [
        newchannel(caller),
        newchannel(op),
        dial_begin(caller, op),
        newstate(op, "Ringing"),
        dial_end(caller, op, "NOANSWER"),
        hangup(op, 16),
        newchannel(retry),
        dial_begin(caller, retry),
        newstate(retry, "Ringing"),
        dial_end(caller, retry, "CANCEL"),
        hangup(retry, 16),
        event("QueueCallerAbandon", caller.fields(), Queue="taxi", Position="1", OriginalPosition="1", HoldTime="31"),
        hangup(caller, 16),
    ]
    assert summary(play(sequence)) == [
        (RINGING, ("201",), None),
        (RINGING, ("201",), None),
        (ENDED, (), EndCause.ABANDONED),
    ]


def test_a_caller_hanging_up_while_it_rings_is_abandoned():
    caller, op = inbound(), operator("204", 17)
    sequence = [
        newchannel(caller),
        newchannel(op),
        dial_begin(caller, op),
        newstate(op, "Ringing"),
        dial_end(caller, op, "CANCEL"),
        hangup(op, 16),
        hangup(caller, 16),
    ]
    assert summary(play(sequence)) == [(RINGING, ("204",), None), (ENDED, (), EndCause.ABANDONED)]


def test_a_busy_operator_ends_the_call_as_busy():
    caller, op = inbound(), operator("204", 17)
    sequence = [
        newchannel(caller),
        newchannel(op),
        dial_begin(caller, op),
        newstate(op, "Busy"),
        dial_end(caller, op, "BUSY"),
        hangup(op, 17, "User busy"),
        hangup(caller, 17, "User busy"),
    ]
    assert summary(play(sequence))[-1] == (ENDED, (), EndCause.BUSY)


def test_ringing_out_then_hanging_up_normally_is_no_answer():
    caller, op = inbound(), operator("204", 17)
    sequence = [
        newchannel(caller),
        newchannel(op),
        dial_begin(caller, op),
        newstate(op, "Ringing"),
        dial_end(caller, op, "NOANSWER"),
        hangup(op, 16),
        newstate(caller, "Up"),  # The dialplan answers to play "nobody is free".
        hangup(caller, 16),
    ]
    assert summary(play(sequence)) == [(RINGING, ("204",), None), (ENDED, (), EndCause.NO_ANSWER)]


def test_a_blind_transfer_pops_and_answers_again_for_the_new_operator():
    caller, first = inbound(), operator("201", 17)
    local1 = Chan("Local/202@from-internal-00000003;1", "1709271000.20", caller.linkedid, "202")
    local2 = Chan("Local/202@from-internal-00000003;2", "1709271000.21", caller.linkedid, "202")
    second = operator("202", 22)
    sequence = [
        *direct_call_answered(caller, first),
        newchannel(local1),
        newchannel(local2),
        event(
            "BlindTransfer",
            first.fields("Transferer"),
            caller.fields("Transferee"),
            Result="Success",
            BridgeUniqueid="b6f1c0de-1",
            IsExternal="No",
            Context="from-internal",
            Extension="202",
        ),
        bridge_enter(local1),
        event("BridgeLeave", first.fields(), BridgeUniqueid="b6f1c0de-1"),
        hangup(first, 16),
        newchannel(second),
        dial_begin(local2, second),
        newstate(second, "Ringing"),
        newstate(local1, "Ringing"),
        newstate(second, "Up"),
        newstate(local1, "Up"),
        dial_end(local2, second, "ANSWER"),
        bridge_enter(local2, "7a1e-2"),
        bridge_enter(second, "7a1e-2"),
        bridge_enter(second),  # Local channel optimization moves 202 into the caller's bridge.
        hangup(local1, 16),
        hangup(local2, 16),
        hangup(caller, 16),
        hangup(second, 16),
    ]
    assert summary(play(sequence)) == [
        (RINGING, ("201",), None),
        (ANSWERED, ("201",), None),
        (RINGING, ("202",), None),
        (ANSWERED, ("202",), None),
        (ENDED, (), EndCause.NORMAL),
    ]


def test_an_attended_transfer_answers_again_with_the_target():
    caller, first = inbound(), operator("201", 17)
    # The consultation call is the operator's own call, with a Linkedid of its own.
    consult = Chan("PJSIP/201-00000018", "1709271050.24", "1709271050.24", "201", exten="202")
    target = operator("202", 25, linkedid="1709271050.24")
    sequence = [
        *direct_call_answered(caller, first),
        newchannel(consult),
        newchannel(target),
        dial_begin(consult, target),
        newstate(target, "Ringing"),
        newstate(target, "Up"),
        dial_end(consult, target, "ANSWER"),
        event(
            "AttendedTransfer",
            first.fields("OrigTransferer"),
            consult.fields("SecondTransferer"),
            caller.fields("Transferee"),
            target.fields("TransferTarget"),
            Result="Success",
            DestType="Bridge",
            DestBridgeUniqueid="b6f1c0de-1",
            IsExternal="No",
        ),
        hangup(first, 16),
        hangup(consult, 16),
        hangup(caller, 16),
        hangup(target, 16),
    ]
    assert summary(play(sequence)) == [
        (RINGING, ("201",), None),
        (ANSWERED, ("201",), None),
        (ANSWERED, ("202",), None),
        (ENDED, (), EndCause.NORMAL),
    ]


@pytest.mark.parametrize(("number", "name"), [("<unknown>", "<unknown>"), ("anonymous", "Anonymous")])
def test_withheld_callers_pass_through_raw(number, name):
    caller, op = inbound(number=number, name=name), operator("204", 17)
    [ringing] = play([newchannel(caller), newchannel(op), dial_begin(caller, op)])
    assert (ringing.caller, ringing.caller_name) == (number, name)


def test_dialled_is_the_first_real_exten_of_the_inbound_leg():
    caller, op = inbound(), operator("204", 17)
    caller.exten = "s"
    first = newchannel(caller)
    caller.exten = "02188001234"
    second = newstate(caller, "Up")
    caller.exten = "500"  # The IVR's queue, not what the caller dialled.
    [ringing] = play([first, second, newchannel(op), dial_begin(caller, op)])
    assert ringing.dialled == "02188001234"


def test_unknown_events_and_unknown_calls_and_broken_events_are_ignored():
    caller, op = inbound(), operator("204", 17)
    stranger = operator("209", 40, linkedid="1709260000.1")
    tracker = CallTracker()
    noise = [
        {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"},
        {"Event": "SomethingFromAsterisk42", "Channel": op.name, "Linkedid": caller.linkedid},
        {"Response": "Success", "Ping": "Pong"},
        {"Event": "Hangup"},
        {"Event": "DialBegin", "DestChannel": "PJSIP/204-1"},
        newstate(stranger, "Ringing"),
        hangup(stranger, 16),
        event("AttendedTransfer", Result="Success"),
    ]
    assert play(noise, tracker) == []
    assert summary(play([*direct_call_answered(caller, op), *noise, hangup(caller, 16)], tracker))[-1] == (
        ENDED,
        (),
        EndCause.NORMAL,
    )
    assert tracker.active_calls == 0


def test_calls_placed_by_operators_are_not_followed():
    own = Chan("PJSIP/201-00000030", "1709271100.48", "1709271100.48", "201", exten="09121234567")
    trunk = Chan("PJSIP/mci-trunk-00000031", "1709271100.49", own.linkedid, "09121234567")
    tracker = CallTracker()
    assert (
        play([newchannel(own), newchannel(trunk), dial_begin(own, trunk), hangup(trunk, 16), hangup(own, 16)], tracker)
        == []
    )
    assert tracker.active_calls == 0


def test_a_call_whose_hangup_was_missed_is_forgotten_after_hours():
    tracker = CallTracker(stale_after=timedelta(hours=6))
    tracker.handle(newchannel(inbound("1709271000.1")), T0)
    tracker.handle(newchannel(inbound("1709271000.2")), T0 + timedelta(hours=5))
    tracker.handle({"Event": "FullyBooted"}, T0 + timedelta(hours=7))
    assert tracker.active_calls == 1


def test_the_number_of_calls_followed_is_bounded():
    tracker = CallTracker(max_calls=3)
    for n in range(10):
        tracker.handle(newchannel(inbound(f"1709271000.{n}")), T0)
    assert tracker.active_calls == 3


def test_the_pbx_timestamp_is_used_when_present():
    caller, op = inbound(), operator("204", 17)
    begin = dial_begin(caller, op) | {"Timestamp": "1709271000.250000"}
    [ringing] = play([newchannel(caller), newchannel(op), begin])
    assert ringing.at == datetime(2024, 3, 1, 5, 30, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "extension"),
    [
        ("PJSIP/204-0000001a", "204"),
        ("SIP/204-0a1b2c3d", "204"),
        ("IAX2/1001-3921", "1001"),
        ("PJSIP/204", "204"),
        ("PJSIP/mci-trunk-00000010", None),
        ("Local/204@from-queue-00000003;1", None),
        ("DAHDI/i1/02188001234-1", None),
        ("", None),
    ],
)
def test_operator_extensions_come_from_device_channel_names(channel, extension):
    assert operator_extension(channel) == extension


@pytest.mark.parametrize(
    ("cause", "dial_status", "expected"),
    [
        ("16", None, EndCause.ABANDONED),
        ("16", "CANCEL", EndCause.ABANDONED),
        ("16", "NOANSWER", EndCause.NO_ANSWER),
        ("0", "CHANUNAVAIL", EndCause.FAILED),
        ("17", None, EndCause.BUSY),
        ("19", None, EndCause.NO_ANSWER),
        ("21", None, EndCause.FAILED),
        ("34", None, EndCause.FAILED),
        ("38", None, EndCause.FAILED),
        ("127", None, EndCause.FAILED),
        ("", None, EndCause.ABANDONED),
        ("sixteen", None, EndCause.ABANDONED),
    ],
)
def test_a_never_answered_call_ends_for_the_reason_its_hangup_gives(cause, dial_status, expected):
    assert end_cause(was_answered=False, hangup_cause=cause, last_dial_status=dial_status, left_queue=False) == expected


def test_an_answered_call_ends_normally_whatever_the_cause():
    assert end_cause(was_answered=True, hangup_cause="38", last_dial_status="ANSWER", left_queue=False) == (
        EndCause.NORMAL
    )
