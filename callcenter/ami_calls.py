"""Follow Asterisk calls through their AMI events and say when each rings an operator, is answered, and ends.

A call is the set of channels sharing one Linkedid; its inbound leg is the channel whose Uniqueid is the
Linkedid. The caller's number and name come from that leg, raw (withheld ones like `<unknown>` included:
normalizing them is the job of the phone rules). Operator legs are recognised by their channel name
(`PJSIP/204-0000001a` is extension 204).

* `ringing` is emitted each time an operator extension starts ringing for the call (from DialBegin,
  AgentCalled or Newstate Ringing, whichever comes first), with that one extension: a queue ringing three
  operators gives three events, one screen-pop each. An extension that stops ringing and rings again (the
  next round of a queue) is announced again; so is the target of a blind transfer.
* `answered` is emitted when an operator answers (Newstate Up on its leg, DialEnd ANSWER, AgentConnect or
  BridgeEnter), once per extension in a row: a transfer to another operator (blind, once the new one
  answers; attended, when it completes) emits another `answered` with the new extension.
* `ended` is emitted once, when the inbound leg hangs up; the call is then forgotten.

Calls started by an operator's own phone (outbound and internal calls) are not followed: they are not intake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from callcenter.calls import CallEvent, CallEventKind, CallSource, EndCause

AmiEvent = Mapping[str, str]

# An operator's phone is a device channel named for its extension (1 to 10 digits, as accounts require);
# trunks (`PJSIP/provider-...`) and Local channels are not operators. A queue's Interface (`PJSIP/204`) has
# no suffix. Add a row here for another channel technology.
OPERATOR_CHANNELS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^(?:PJSIP|SIP|IAX2)/(?P<extension>[0-9]{1,10})(?:-[0-9a-fA-F]+)?$"),
)

# Why a never-answered call ended, by the Q.850 cause of the inbound leg's hangup. A normal clearing
# (None here) before any answer means the caller hung up, unless the last dial said otherwise.
HANGUP_CAUSES: dict[int, EndCause | None] = {
    0: None,  # Not set.
    16: None,  # Normal clearing.
    31: None,  # Normal, unspecified.
    17: EndCause.BUSY,
    18: EndCause.NO_ANSWER,  # No user responding.
    19: EndCause.NO_ANSWER,
    21: EndCause.FAILED,  # Call rejected.
    1: EndCause.FAILED,  # Unallocated number.
    3: EndCause.FAILED,  # No route to destination.
    20: EndCause.FAILED,  # Subscriber absent.
    27: EndCause.FAILED,  # Destination out of order.
    34: EndCause.FAILED,  # No circuit available (congestion).
    38: EndCause.FAILED,  # Network out of order.
    41: EndCause.FAILED,  # Temporary failure.
    42: EndCause.FAILED,  # Switching equipment congestion.
}
UNLISTED_CAUSE = EndCause.FAILED

# When the hangup was a normal clearing, the last Dial's outcome tells a ring-out from a caller giving up.
DIAL_OUTCOMES: dict[str, EndCause] = {
    "NOANSWER": EndCause.NO_ANSWER,
    "BUSY": EndCause.BUSY,
    "CONGESTION": EndCause.FAILED,
    "CHANUNAVAIL": EndCause.FAILED,
    "CANCEL": EndCause.ABANDONED,
}

# Extensions the dialplan starts in that are not what the caller dialled.
_PLACEHOLDER_EXTENS = frozenset({"", "s"})

STALE_AFTER = timedelta(hours=6)
MAX_CALLS = 10_000


def operator_extension(channel: str) -> str | None:
    """Return the operator extension a channel (or queue interface) name belongs to, or None."""
    for pattern in OPERATOR_CHANNELS:
        if match := pattern.match(channel):
            return match["extension"]
    return None


def end_cause(*, was_answered: bool, hangup_cause: str, last_dial_status: str | None, left_queue: bool) -> EndCause:
    """Say why a call ended from what happened to it and the Cause of its inbound leg's hangup."""
    if was_answered:
        return EndCause.NORMAL
    if left_queue:
        return EndCause.ABANDONED
    try:
        cause = HANGUP_CAUSES.get(int(hangup_cause), UNLISTED_CAUSE)
    except ValueError:
        cause = None
    if cause is not None:
        return cause
    return DIAL_OUTCOMES.get(last_dial_status or "", EndCause.ABANDONED)


@dataclass
class _Call:
    call_id: str
    last_seen: datetime
    caller: str | None = None
    caller_name: str | None = None
    dialled: str | None = None
    ringing_channels: dict[str, str] = field(default_factory=dict)  # Uniqueid -> extension.
    answered_by: str | None = None
    was_answered: bool = False
    last_dial_status: str | None = None
    left_queue: bool = False

    def ringing_extensions(self) -> set[str]:
        return set(self.ringing_channels.values())


class CallTracker:
    """Consume AMI events one at a time; return the CallEvents each one causes.

    Never raises on an event it does not know, nor on one for a call it is not following: both are ignored.
    Memory is bounded: a call is forgotten when it ends, after `stale_after` without news (its hangup was
    missed, e.g. during a disconnection), or, oldest first, beyond `max_calls`.
    """

    def __init__(self, *, stale_after: timedelta = STALE_AFTER, max_calls: int = MAX_CALLS) -> None:
        self.stale_after = stale_after
        self.max_calls = max_calls
        self._calls: dict[str, _Call] = {}
        self._now = datetime.now(UTC)
        self._handlers: dict[str, Callable[[AmiEvent, datetime], list[CallEvent]]] = {
            "Newchannel": self._on_newchannel,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "BridgeEnter": self._on_bridge_enter,
            "Hangup": self._on_hangup,
            "QueueCallerJoin": self._on_queue_caller_join,
            "AgentCalled": self._on_agent_called,
            "AgentConnect": self._on_agent_connect,
            "QueueCallerAbandon": self._on_queue_caller_abandon,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
        }

    @property
    def active_calls(self) -> int:
        """How many calls are being followed."""
        return len(self._calls)

    def handle(self, event: AmiEvent, now: datetime) -> list[CallEvent]:
        """Take one AMI event (any packet with an `Event` field) received at `now`; return what it means."""
        self._now = now
        self._forget_stale(now)
        handler = self._handlers.get(event.get("Event", ""))
        if handler is None:
            return []
        return handler(event, _event_time(event, now))

    # Channel life.

    def _on_newchannel(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        linkedid, uniqueid = event.get("Linkedid", ""), event.get("Uniqueid", "")
        if linkedid and uniqueid == linkedid and linkedid not in self._calls:
            if operator_extension(event.get("Channel", "")) is not None:
                return []  # An operator placing a call: not intake.
            if len(self._calls) >= self.max_calls:
                del self._calls[next(iter(self._calls))]
            self._calls[linkedid] = _Call(call_id=linkedid, last_seen=self._now)
        return self._on_newstate(event, at)

    def _on_newstate(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        if call is None:
            return []
        extension = operator_extension(event.get("Channel", ""))
        if extension is None or event.get("Uniqueid") == call.call_id:
            return []
        state = event.get("ChannelStateDesc")
        if state == "Ringing":
            return self._ring(call, event.get("Uniqueid", ""), extension, at)
        if state == "Up":
            return self._answer(call, extension, at)
        return []

    def _on_hangup(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        if call is None:
            return []
        uniqueid = event.get("Uniqueid", "")
        if uniqueid != call.call_id:
            call.ringing_channels.pop(uniqueid, None)
            return []
        del self._calls[call.call_id]
        cause = end_cause(
            was_answered=call.was_answered,
            hangup_cause=event.get("Cause", ""),
            last_dial_status=call.last_dial_status,
            left_queue=call.left_queue,
        )
        return [_event(call, CallEventKind.ENDED, at, cause=cause)]

    # Dialling and bridging.

    def _on_dial_begin(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow_dest(event)
        extension = operator_extension(event.get("DestChannel", ""))
        if call is None or extension is None:
            return []
        return self._ring(call, event.get("DestUniqueid", ""), extension, at)

    def _on_dial_end(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow_dest(event)
        if call is None:
            return []
        status = event.get("DialStatus", "")
        call.last_dial_status = status
        extension = operator_extension(event.get("DestChannel", ""))
        if extension is None:
            return []
        if status == "ANSWER":
            return self._answer(call, extension, at)
        call.ringing_channels.pop(event.get("DestUniqueid", ""), None)
        return []

    def _on_bridge_enter(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        extension = operator_extension(event.get("Channel", ""))
        if call is None or extension is None or event.get("Uniqueid") == call.call_id:
            return []
        return self._answer(call, extension, at)

    # Queues: the caller's channel is Channel, the operator's is DestChannel (or the member's Interface).

    def _on_queue_caller_join(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        self._follow(event)
        return []

    def _on_agent_called(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        extension = _agent_extension(event)
        if call is None or extension is None:
            return []
        return self._ring(call, event.get("DestUniqueid", ""), extension, at)

    def _on_agent_connect(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        extension = _agent_extension(event)
        if call is None or extension is None:
            return []
        return self._answer(call, extension, at)

    def _on_queue_caller_abandon(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        call = self._follow(event)
        if call is not None:
            call.left_queue = True
        return []

    # Transfers.

    def _on_blind_transfer(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        # Nothing to say yet: the target's phone rings next (DialBegin) and its answer is an `answered`.
        call = self._find(event.get("TransfereeLinkedid"), event.get("TransfererLinkedid"))
        if call is not None:
            self._touch(call)
        return []

    def _on_attended_transfer(self, event: AmiEvent, at: datetime) -> list[CallEvent]:
        # The target already answered the consultation call, which has a Linkedid of its own: the transfer's
        # completion is the only news our call gets that the target now talks to the caller.
        call = self._find(
            event.get("TransfereeLinkedid"),
            event.get("OrigTransfererLinkedid"),
            event.get("SecondTransfererLinkedid"),
        )
        extension = operator_extension(event.get("TransferTargetChannel", ""))
        if call is None or extension is None or event.get("Result") != "Success":
            return []
        self._touch(call)
        return self._answer(call, extension, at)

    # Shared steps.

    def _ring(self, call: _Call, uniqueid: str, extension: str, at: datetime) -> list[CallEvent]:
        if extension == call.answered_by:
            return []
        was_ringing = extension in call.ringing_extensions()
        call.ringing_channels[uniqueid] = extension
        if was_ringing:
            return []
        return [_event(call, CallEventKind.RINGING, at, extensions=(extension,))]

    def _answer(self, call: _Call, extension: str, at: datetime) -> list[CallEvent]:
        call.ringing_channels = {u: e for u, e in call.ringing_channels.items() if e != extension}
        if extension == call.answered_by:
            return []
        call.answered_by = extension
        call.was_answered = True
        return [_event(call, CallEventKind.ANSWERED, at, extensions=(extension,))]

    def _follow(self, event: AmiEvent) -> _Call | None:
        """Find the call this event's channel belongs to; note what the event says of its inbound leg."""
        call = self._find(event.get("Linkedid"))
        if call is None:
            return None
        self._touch(call)
        if event.get("Uniqueid") == call.call_id:
            call.caller = event.get("CallerIDNum") or call.caller
            call.caller_name = event.get("CallerIDName") or call.caller_name
            if call.dialled is None and (exten := event.get("Exten", "")) not in _PLACEHOLDER_EXTENS:
                call.dialled = exten
        return call

    def _follow_dest(self, event: AmiEvent) -> _Call | None:
        """Find the call a dial belongs to: the dialled channel's, else (older Asterisk) the dialling one's."""
        call = self._follow(event)
        dest = self._find(event.get("DestLinkedid"))
        if dest is not None:
            self._touch(dest)
        return dest or call

    def _find(self, *linkedids: str | None) -> _Call | None:
        for linkedid in linkedids:
            if linkedid and (call := self._calls.get(linkedid)) is not None:
                return call
        return None

    def _touch(self, call: _Call) -> None:
        # Our clock, not the PBX's: a skewed PBX clock must not make fresh calls look stale.
        call.last_seen = self._now
        # Moving the call to the end keeps the dict ordered by last news, oldest first.
        self._calls[call.call_id] = self._calls.pop(call.call_id)

    def _forget_stale(self, now: datetime) -> None:
        # The oldest news comes first: stop at the first call still fresh.
        for call_id, call in list(self._calls.items()):
            if now - call.last_seen < self.stale_after:
                break
            del self._calls[call_id]


def _agent_extension(event: AmiEvent) -> str | None:
    return operator_extension(event.get("DestChannel", "")) or operator_extension(event.get("Interface", ""))


def _event_time(event: AmiEvent, now: datetime) -> datetime:
    """When the PBX says the event happened (`timestampevents = yes`), else when it reached us."""
    try:
        return datetime.fromtimestamp(float(event["Timestamp"]), tz=UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return now


def _event(
    call: _Call,
    kind: CallEventKind,
    at: datetime,
    *,
    extensions: tuple[str, ...] = (),
    cause: EndCause | None = None,
) -> CallEvent:
    return CallEvent(
        kind=kind,
        call_id=call.call_id,
        source=CallSource.AMI,
        at=at,
        caller=call.caller,
        caller_name=call.caller_name,
        dialled=call.dialled,
        extensions=extensions,
        cause=cause,
    )
