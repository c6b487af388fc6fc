"""Hypothesis strategies for what a broken, old or hostile app sends over a websocket."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Every command of docs/driver-protocol.md, and names an app might get wrong.
COMMAND_TYPES = ("position", "status", "accept", "decline", "arrived", "picked_up", "completed", "no_show",
                 "check_in", "state", "ping")
FIELDS = ("lat", "lng", "accuracy", "at", "status", "offer_id", "ride_id", "zone_id", "reason", "trace", "ref")

HUGE_INTS = st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -1, 0])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["available", "on_break", "offline", "busy", "2026-12-01T19:20:01+03:30", "NaN", "١٢٣"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4), max_leaves=12)


@st.composite
def commands(draw: st.DrawFn) -> dict[str, Any]:
    """A command: a known or odd type, with known fields holding anything at all."""
    kind = draw(st.sampled_from(COMMAND_TYPES) | JSON)
    names = draw(st.lists(st.sampled_from(FIELDS) | st.text(max_size=10), max_size=5, unique=True))
    return {"type": kind, **{name: draw(JSON) for name in names}}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # Python writes NaN and Infinity, as a sloppy JSON library does.


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# A text frame: a command, any JSON, deep nesting, or not JSON at all.
TEXT_FRAMES = st.one_of(
    commands().map(_dumps),
    JSON.map(_dumps),
    st.integers(100, 30_000).map(_nested),
    st.integers(100, 30_000).map(lambda depth: '{"type": "position", "lat": ' + "[" * depth),
    st.text(max_size=200),
    st.sampled_from(["", "{", "null", '"ping"', '{"type": "ping", "ref": true}', "1" * 5000, "\x00"]),
)
FRAMES = st.one_of(TEXT_FRAMES.map(lambda text: ("text", text)),
                   st.binary(max_size=64).map(lambda data: ("bytes", data)))
