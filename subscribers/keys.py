"""Typed app keys of the subscribers domain, through which other domains take part in merges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

# Moves another domain's rows (calls, rides, complaints) from one subscriber to another, inside the
# merge's transaction, on the connection given; returns what it moved and how many, e.g. ("calls", 12).
MergeParticipant = Callable[[asyncpg.Connection, int, int], Awaitable[tuple[str, int]]]

MERGE_PARTICIPANTS = web.AppKey("subscribers.merge_participants", list[MergeParticipant])


def add_merge_participant(app: web.Application, participant: MergeParticipant) -> None:
    """Have merges call `participant(conn, from_id, to_id)`; works whichever domain's setup runs first."""
    if MERGE_PARTICIPANTS not in app:
        app[MERGE_PARTICIPANTS] = []
    app[MERGE_PARTICIPANTS].append(participant)
