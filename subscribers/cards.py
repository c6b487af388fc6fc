"""The caller's card for the screen-pop: everything an operator needs, read in one or two indexed queries."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

ADDRESSES_ON_CARD = 9  # One per number key the operator can press to pick it.
NOTES_ON_CARD = 5

# One round trip: the subscriber owning the number with phones, ranked addresses and notes. (Staff names are
# read from staff_users for display only; the call center owns that table and its writes.)
# Addresses likely wanted now come first: those used at this hour of day, then the most used overall.
SELECT_CARD = f"""
    SELECT json_build_object(
        'id', s.id, 'name', s.name, 'is_vip', s.is_vip, 'loyalty_tier', s.loyalty_tier,
        'blocked', CASE WHEN s.blocked_at IS NULL THEN NULL ELSE json_build_object(
            'reason', s.blocked_reason, 'at', s.blocked_at,
            'by', (SELECT display_name FROM staff_users WHERE id = s.blocked_by)) END,
        'phones', (SELECT coalesce(json_agg(json_build_object(
            'e164', ph.e164, 'kind', ph.kind, 'label', ph.label) ORDER BY ph.id), '[]')
            FROM subscriber_phones ph WHERE ph.subscriber_id = s.id),
        'addresses', (SELECT coalesce(json_agg(a), '[]') FROM (
            SELECT ad.id, ad.label, ad.full_text, ad.landmark, ad.lat, ad.lng,
                   ad.pickup_count + ad.dropoff_count AS uses, ad.last_used_at
            FROM subscriber_addresses ad WHERE ad.subscriber_id = s.id
            ORDER BY ad.pickups_by_hour[$2 + 1] DESC, ad.pickup_count + ad.dropoff_count DESC,
                     ad.last_used_at DESC NULLS LAST, ad.id
            LIMIT {ADDRESSES_ON_CARD}) a),
        'notes', (SELECT coalesce(json_agg(n), '[]') FROM (
            SELECT nt.id, nt.body, nt.mood, nt.is_pinned, nt.created_at, u.display_name AS author
            FROM subscriber_notes nt LEFT JOIN staff_users u ON u.id = nt.author_id
            WHERE nt.subscriber_id = s.id
            ORDER BY nt.is_pinned DESC, nt.created_at DESC LIMIT {NOTES_ON_CARD}) n)
    )::text
    FROM subscriber_phones p JOIN subscribers s ON s.id = p.subscriber_id
    WHERE p.e164 = $1 AND s.merged_into IS NULL
"""

# Asked only when nobody owns the number now: who had it before, for the operator to choose from.
SELECT_PAST_OWNERS = """
    SELECT DISTINCT ON (s.id) s.id, s.name, h.removed_at
    FROM subscriber_phone_history h
    JOIN subscribers s ON s.id = coalesce(
        (SELECT m.id FROM subscribers m WHERE m.id = h.subscriber_id AND m.merged_into IS NULL),
        (SELECT m.merged_into FROM subscribers m WHERE m.id = h.subscriber_id))
    WHERE h.e164 = $1
    ORDER BY s.id, h.removed_at DESC
    LIMIT 10
"""


async def subscriber_card(conn: asyncpg.Connection, e164: str, local_hour: int) -> dict[str, Any] | None:
    """Return the card of the subscriber who owns this number, or None if nobody does."""
    row = await conn.fetchval(SELECT_CARD, e164, local_hour)
    return None if row is None else json.loads(row)


async def past_owners(conn: asyncpg.Connection, e164: str) -> list[dict[str, Any]]:
    """Return subscribers who used to have this number, newest first, for the operator to choose from."""
    rows = await conn.fetch(SELECT_PAST_OWNERS, e164)
    return sorted(({"id": r["id"], "name": r["name"], "had_number_until": r["removed_at"].isoformat()}
                   for r in rows), key=lambda m: m["had_number_until"], reverse=True)


SELECT_NAME = """
    SELECT s.name FROM subscriber_phones p JOIN subscribers s ON s.id = p.subscriber_id
    WHERE p.e164 = $1 AND s.merged_into IS NULL
"""


async def name_for_phone(conn: asyncpg.Connection, e164: str) -> str | None:
    """Return the name of the subscriber owning this number (for the PBX's caller-name lookup), or None."""
    name: str | None = await conn.fetchval(SELECT_NAME, e164)
    return name
