"""Typed app keys of the call center, through which other domains add what they know to the caller's card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from aiohttp import web

# Given the pool, the subscriber who owns the ringing number (None: nobody) and the number in E.164, returns
# keys to add to the screen-pop card, e.g. {"last_rides": [...]}. Sections run side by side with the logging
# of the call, each on a connection of its own, so a card costs two round trips however many sections it has.
CardSection = Callable[[asyncpg.Pool, int | None, str], Awaitable[Mapping[str, Any]]]

CARD_SECTIONS = web.AppKey("callcenter.card_sections", list[CardSection])


def add_card_section(app: web.Application, section: CardSection) -> None:
    """Have every screen-pop card carry what `section` returns; works whichever domain's setup runs first."""
    if CARD_SECTIONS not in app:
        app[CARD_SECTIONS] = []
    app[CARD_SECTIONS].append(section)
