"""Stream ids and the rule deciding whether a stream still holds everything after a given id."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STREAM_ID = re.compile(r"(\d{1,20})-(\d{1,20})")
_MAX_PART = 2**64 - 1


@dataclass(frozen=True, order=True)
class StreamId:
    """A Redis stream entry id (`<ms>-<seq>`), ordered the way Redis orders entries."""

    ms: int
    seq: int

    @classmethod
    def parse(cls, text: str) -> StreamId:
        """Read an id in its full `<ms>-<seq>` form, or raise ValueError."""
        match = _STREAM_ID.fullmatch(text)
        if match is None:
            raise ValueError(f"not a stream id: {text!r}")
        ms, seq = int(match[1]), int(match[2])
        if ms > _MAX_PART or seq > _MAX_PART:
            raise ValueError(f"stream id out of range: {text!r}")
        return cls(ms, seq)

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"


ZERO = StreamId(0, 0)


@dataclass(frozen=True)
class StreamState:
    """What `XINFO STREAM` says about the stream's extent."""

    last_generated: StreamId
    first: StreamId | None
    length: int
    entries_added: int | None  # Redis 7 counts every entry ever added; older servers do not say.


def holds_everything_after(after: StreamId, state: StreamState | None) -> bool:
    """Say whether every entry ever added after `after` is still in the stream (None: no stream).

    We only ever trim from the head, so the stream is complete after any id at or past its first entry.
    Before that we cannot tell a trimmed gap from none, and answer no: a needless resync is cheap, a
    silent gap is not. An id the stream never reached comes from a stream that was lost and rebuilt.
    """
    if state is None:
        return after == ZERO
    if after >= state.last_generated:
        return after == state.last_generated
    if state.first is None:
        return False
    if after >= state.first:
        return True
    return after == ZERO and state.entries_added == state.length  # Nothing ever removed.
