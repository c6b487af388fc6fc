"""Erlang C: how many operators a call volume needs to answer a share of calls within a target time."""

from __future__ import annotations

import math

MAX_AGENTS = 2_000  # Far beyond any call center's floor; a volume needing more is answered with this many.


def traffic_erlangs(calls_per_hour: float, handle_seconds: float) -> float:
    """Return the offered load: the number of operators kept busy on average."""
    return calls_per_hour * handle_seconds / 3600


def probability_of_waiting(traffic: float, agents: int) -> float:
    """Return Erlang C's chance that a call waits in the queue (1 when the operators cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    # Erlang B by its stable recursion, then C from B: no factorials or powers that overflow for large centers.
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(traffic: float, agents: int, handle_seconds: float, within_seconds: float) -> float:
    """Return the share of calls answered within `within_seconds` with `agents` operators."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = probability_of_waiting(traffic, agents)
    return 1 - waiting * math.exp(-(agents - traffic) * within_seconds / handle_seconds)


def operators_needed(calls_per_hour: float, handle_seconds: float, within_seconds: float, target: float) -> int:
    """Return the fewest operators answering `target` of the calls within `within_seconds` (0 with no calls)."""
    if calls_per_hour <= 0 or handle_seconds <= 0:
        return 0
    traffic = traffic_erlangs(calls_per_hour, handle_seconds)
    agents = max(1, math.floor(traffic) + 1)  # Fewer than the load can never keep the queue from growing.
    while agents < MAX_AGENTS and service_level(traffic, agents, handle_seconds, within_seconds) < target:
        agents += 1
    return agents
