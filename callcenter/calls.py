"""The one internal model of a call's life that every telephony source is turned into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallEventKind(StrEnum):
    """The three moments of a call the center cares about."""

    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class EndCause(StrEnum):
    """Why a call ended."""

    NORMAL = "normal"  # Answered, then hung up by either side.
    ABANDONED = "abandoned"  # The caller hung up before anyone answered.
    BUSY = "busy"
    NO_ANSWER = "no_answer"  # Rang out without an answer.
    FAILED = "failed"  # Congestion, unreachable, or any network failure.


class CallSource(StrEnum):
    """Where call events come from."""

    WEBHOOK = "webhook"
    AMI = "ami"


@dataclass(frozen=True)
class CallEvent:
    """One moment of one call, as any source reports it.

    `call_id` is the PBX's id for the whole call (Asterisk's Linkedid), stable across its channels.
    `extensions` are the operator extensions ringing (ringing) or the one that answered (answered).
    """

    kind: CallEventKind
    call_id: str
    source: CallSource
    at: datetime
    caller: str | None = None
    caller_name: str | None = None
    dialled: str | None = None
    extensions: tuple[str, ...] = ()
    cause: EndCause | None = None
