"""SQL for subscribers, their phones, addresses, notes, duplicate hints and merges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from subscribers.model import (
    Address,
    AddressId,
    LoyaltyTier,
    MergedFlags,
    Mood,
    Note,
    NoteId,
    PhoneId,
    PhoneReuse,
    Position,
    SharedAddress,
    Subscriber,
    SubscriberId,
    SubscriberName,
    SubscriberPhone,
)

# Staff names are read for display only (who blocked, who wrote a note); callcenter owns staff_users.
_SUBSCRIBER_COLUMNS = """s.id, s.name, s.is_vip, s.loyalty_tier, s.blocked_at, s.blocked_reason, s.blocked_by,
    b.display_name AS blocked_by_name, s.merged_into, s.created_at, s.updated_at"""
_BLOCKER = "LEFT JOIN staff_users b ON b.id = s.blocked_by"
_SUBSCRIBER_SELECT = f"SELECT {_SUBSCRIBER_COLUMNS} FROM subscribers s {_BLOCKER}\n"
SELECT_SUBSCRIBER = _SUBSCRIBER_SELECT + "WHERE s.id = $1"
LOCK_SUBSCRIBER = _SUBSCRIBER_SELECT + "WHERE s.id = $1 FOR UPDATE OF s"
INSERT_SUBSCRIBER = "INSERT INTO subscribers (name, name_key) VALUES ($1, $2) RETURNING id"
UPDATE_NAME = "UPDATE subscribers SET name = $2, name_key = $3, updated_at = $4 WHERE id = $1"
SET_VIP = "UPDATE subscribers SET is_vip = $2, updated_at = $3 WHERE id = $1"
SET_LOYALTY = "UPDATE subscribers SET loyalty_tier = $2, updated_at = $3 WHERE id = $1"
BLOCK = """
    UPDATE subscribers SET blocked_at = $2, blocked_reason = $3, blocked_by = $4, updated_at = $2 WHERE id = $1
"""
UNBLOCK = """
    UPDATE subscribers SET blocked_at = NULL, blocked_reason = NULL, blocked_by = NULL, updated_at = $2
    WHERE id = $1
"""

_PHONE_COLUMNS = "id, subscriber_id, e164, raw, national, kind, label, created_at"
INSERT_PHONE = f"""
    INSERT INTO subscriber_phones (subscriber_id, e164, raw, national, kind, label)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING {_PHONE_COLUMNS}
"""
SELECT_PHONES = f"SELECT {_PHONE_COLUMNS} FROM subscriber_phones WHERE subscriber_id = ANY($1::bigint[]) ORDER BY id"
PHONE_OWNERS = """
    SELECT p.e164, s.id, s.name FROM subscriber_phones p JOIN subscribers s ON s.id = p.subscriber_id
    WHERE p.e164 = ANY($1::text[])
"""
COUNT_PHONES = "SELECT count(*) FROM subscriber_phones WHERE subscriber_id = $1"
DELETE_PHONE = f"DELETE FROM subscriber_phones WHERE id = $1 AND subscriber_id = $2 RETURNING {_PHONE_COLUMNS}"
INSERT_PHONE_HISTORY = "INSERT INTO subscriber_phone_history (subscriber_id, e164, removed_at) VALUES ($1, $2, $3)"

_ADDRESS_COLUMNS = """id, subscriber_id, label, full_text, landmark, lat, lng, pickup_count, dropoff_count,
    pickups_by_hour, last_used_at, created_at, updated_at"""
INSERT_ADDRESS = f"""
    INSERT INTO subscriber_addresses (subscriber_id, label, full_text, text_key, landmark, lat, lng)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING {_ADDRESS_COLUMNS}
"""
# The most used first, then the most recently used: the one the caller likely wants is on top.
SELECT_ADDRESSES = f"""
    SELECT {_ADDRESS_COLUMNS} FROM subscriber_addresses WHERE subscriber_id = $1
    ORDER BY pickup_count + dropoff_count DESC, last_used_at DESC NULLS LAST, id
"""
LOCK_ADDRESS = f"SELECT {_ADDRESS_COLUMNS} FROM subscriber_addresses WHERE id = $1 AND subscriber_id = $2 FOR UPDATE"
UPDATE_ADDRESS = f"""
    UPDATE subscriber_addresses
    SET label = $2, full_text = $3, text_key = $4, landmark = $5, lat = $6, lng = $7, updated_at = $8
    WHERE id = $1
    RETURNING {_ADDRESS_COLUMNS}
"""
DELETE_ADDRESS = "DELETE FROM subscriber_addresses WHERE id = $1 AND subscriber_id = $2 RETURNING id"
RECORD_ADDRESS_USE = """
    UPDATE subscriber_addresses
    SET pickup_count = pickup_count + $2::int,
        dropoff_count = dropoff_count + 1 - $2::int,
        pickups_by_hour[$3] = pickups_by_hour[$3] + $2::int,
        last_used_at = greatest(last_used_at, $4)
    WHERE id = $1
    RETURNING id
"""  # greatest() ignores NULL, and a late report of an older ride does not move last_used_at back.

_NOTE_COLUMNS = "n.id, n.subscriber_id, n.body, n.mood, n.is_pinned, n.author_id, u.display_name AS author_name, " \
                "n.created_at"
INSERT_NOTE = f"""
    WITH n AS (
        INSERT INTO subscriber_notes (subscriber_id, body, mood, author_id, created_at)
        VALUES ($1, $2, $3, $4, $5) RETURNING *
    )
    SELECT {_NOTE_COLUMNS} FROM n LEFT JOIN staff_users u ON u.id = n.author_id
"""
SELECT_NOTES = f"""
    SELECT {_NOTE_COLUMNS} FROM subscriber_notes n LEFT JOIN staff_users u ON u.id = n.author_id
    WHERE n.subscriber_id = $1
    ORDER BY n.is_pinned DESC, n.created_at DESC, n.id DESC
"""
SET_NOTE_PIN = f"""
    WITH n AS (
        UPDATE subscriber_notes SET is_pinned = $3 WHERE id = $1 AND subscriber_id = $2 RETURNING *
    )
    SELECT {_NOTE_COLUMNS} FROM n LEFT JOIN staff_users u ON u.id = n.author_id
"""

# Candidates from each kind of match, each able to use its own (trigram) index; the best rank per
# subscriber wins: a number match, then the exact name, a name prefix, a name part, an address part.
SEARCH = f"""
    SELECT {_SUBSCRIBER_COLUMNS}
    FROM (
        SELECT id, min(rank) AS rank FROM (
            SELECT p.subscriber_id AS id, 0 AS rank FROM subscriber_phones p
            WHERE $1::text IS NOT NULL AND p.national LIKE '%' || $1 || '%' ESCAPE '\\'
            UNION ALL
            SELECT s.id, CASE WHEN s.name_key = $2 THEN 1 WHEN s.name_key LIKE $3 || '%' ESCAPE '\\' THEN 2 ELSE 3 END
            FROM subscribers s
            WHERE $2::text IS NOT NULL AND s.merged_into IS NULL AND s.name_key LIKE '%' || $3 || '%' ESCAPE '\\'
            UNION ALL
            SELECT a.subscriber_id, 4 FROM subscriber_addresses a
            WHERE $2::text IS NOT NULL AND a.text_key LIKE '%' || $3 || '%' ESCAPE '\\'
        ) candidates GROUP BY id
    ) m JOIN subscribers s ON s.id = m.id {_BLOCKER}
    WHERE s.merged_into IS NULL
    ORDER BY m.rank, s.updated_at DESC, s.id DESC
    LIMIT $4
"""

# A number one subscriber gave up and another holds now: the same person with a new card, most often.
PHONE_REUSES = """
    SELECT DISTINCT h.e164, e.id AS earlier_id, e.name AS earlier_name, e.name_key AS earlier_key,
           c.id AS current_id, c.name AS current_name, c.name_key AS current_key
    FROM subscriber_phone_history h
    JOIN subscriber_phones p ON p.e164 = h.e164 AND p.subscriber_id <> h.subscriber_id
    JOIN subscribers e ON e.id = h.subscriber_id AND e.merged_into IS NULL
    JOIN subscribers c ON c.id = p.subscriber_id AND c.merged_into IS NULL
    ORDER BY e.id, c.id, h.e164
    LIMIT $1
"""
# Pairs sharing an address whose names could be one (equal, contained, or close in length); the
# duplicates rules decide. The length test keeps a busy building's households out of the candidates.
SHARED_ADDRESSES = """
    SELECT DISTINCT ON (f.id, s.id) f.id AS first_id, f.name AS first_name, f.name_key AS first_key,
           s.id AS second_id, s.name AS second_name, s.name_key AS second_key, a.full_text
    FROM subscriber_addresses a
    JOIN subscriber_addresses b ON b.text_key = a.text_key AND b.subscriber_id > a.subscriber_id
    JOIN subscribers f ON f.id = a.subscriber_id AND f.merged_into IS NULL AND f.name_key <> ''
    JOIN subscribers s ON s.id = b.subscriber_id AND s.merged_into IS NULL AND s.name_key <> ''
    WHERE abs(length(f.name_key) - length(s.name_key)) <= 2
       OR strpos(f.name_key, s.name_key) > 0 OR strpos(s.name_key, f.name_key) > 0
    ORDER BY f.id, s.id, a.id
    LIMIT $1
"""

MOVE_PHONES = "UPDATE subscriber_phones SET subscriber_id = $2 WHERE subscriber_id = $1 RETURNING id"
MOVE_PHONE_HISTORY = "UPDATE subscriber_phone_history SET subscriber_id = $2 WHERE subscriber_id = $1 RETURNING id"
MOVE_ADDRESSES = "UPDATE subscriber_addresses SET subscriber_id = $2 WHERE subscriber_id = $1 RETURNING id"
MOVE_NOTES = "UPDATE subscriber_notes SET subscriber_id = $2 WHERE subscriber_id = $1 RETURNING id"
APPLY_MERGED_FLAGS = """
    UPDATE subscribers
    SET name = $2, name_key = $3, is_vip = $4, loyalty_tier = $5, blocked_at = $6, blocked_reason = $7,
        blocked_by = $8, updated_at = $9
    WHERE id = $1
"""
# Subscribers merged into the merged one earlier now point straight at the kept one: no chains to follow.
MARK_MERGED = "UPDATE subscribers SET merged_into = $2, updated_at = $3 WHERE id = $1 OR merged_into = $1"
INSERT_MERGE = """
    INSERT INTO subscriber_merges (kept_id, merged_id, moved, merged_by, merged_at)
    VALUES ($1, $2, $3::jsonb, $4, $5)
    RETURNING id
"""


def _subscriber(row: asyncpg.Record) -> Subscriber:
    return Subscriber(
        id=SubscriberId(row["id"]), name=row["name"], is_vip=row["is_vip"],
        loyalty_tier=LoyaltyTier(row["loyalty_tier"]), blocked_at=row["blocked_at"],
        blocked_reason=row["blocked_reason"], blocked_by=row["blocked_by"], blocked_by_name=row["blocked_by_name"],
        merged_into=None if row["merged_into"] is None else SubscriberId(row["merged_into"]),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _phone(row: asyncpg.Record) -> SubscriberPhone:
    return SubscriberPhone(
        id=PhoneId(row["id"]), subscriber_id=SubscriberId(row["subscriber_id"]), e164=row["e164"], raw=row["raw"],
        national=row["national"], kind=row["kind"], label=row["label"], created_at=row["created_at"],
    )


def _address(row: asyncpg.Record) -> Address:
    return Address(
        id=AddressId(row["id"]), subscriber_id=SubscriberId(row["subscriber_id"]), label=row["label"],
        full_text=row["full_text"], landmark=row["landmark"],
        position=None if row["lat"] is None else Position(lat=row["lat"], lng=row["lng"]),
        pickup_count=row["pickup_count"], dropoff_count=row["dropoff_count"],
        pickups_by_hour=tuple(row["pickups_by_hour"]), last_used_at=row["last_used_at"],
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _note(row: asyncpg.Record) -> Note:
    return Note(
        id=NoteId(row["id"]), subscriber_id=SubscriberId(row["subscriber_id"]), body=row["body"],
        mood=None if row["mood"] is None else Mood(row["mood"]), is_pinned=row["is_pinned"],
        author_id=row["author_id"], author_name=row["author_name"], created_at=row["created_at"],
    )


def _name(row: asyncpg.Record, prefix: str) -> SubscriberName:
    return SubscriberName(id=SubscriberId(row[f"{prefix}_id"]), name=row[f"{prefix}_name"],
                          name_key=row[f"{prefix}_key"])


async def subscriber(conn: asyncpg.Connection, subscriber_id: SubscriberId) -> Subscriber | None:
    """Return the subscriber (merged away or not), or None."""
    row = await conn.fetchrow(SELECT_SUBSCRIBER, subscriber_id)
    return None if row is None else _subscriber(row)


async def lock_subscriber(conn: asyncpg.Connection, subscriber_id: SubscriberId) -> Subscriber | None:
    """Lock the subscriber's row for this transaction and return it, or None if there is no such id."""
    row = await conn.fetchrow(LOCK_SUBSCRIBER, subscriber_id)
    return None if row is None else _subscriber(row)


async def insert_subscriber(conn: asyncpg.Connection, name: str, name_key: str) -> SubscriberId:
    """Insert a subscriber and return its id."""
    return SubscriberId(await conn.fetchval(INSERT_SUBSCRIBER, name, name_key))


async def update_name(conn: asyncpg.Connection, subscriber_id: SubscriberId, name: str, name_key: str,
                      now: datetime) -> None:
    """Rename a subscriber."""
    await conn.execute(UPDATE_NAME, subscriber_id, name, name_key, now)


async def set_vip(conn: asyncpg.Connection, subscriber_id: SubscriberId, is_vip: bool, now: datetime) -> None:
    """Mark or unmark a subscriber as VIP."""
    await conn.execute(SET_VIP, subscriber_id, is_vip, now)


async def set_loyalty(conn: asyncpg.Connection, subscriber_id: SubscriberId, tier: LoyaltyTier,
                      now: datetime) -> None:
    """Set a subscriber's loyalty tier."""
    await conn.execute(SET_LOYALTY, subscriber_id, tier.value, now)


async def block(conn: asyncpg.Connection, subscriber_id: SubscriberId, reason: str, by: int,
                now: datetime) -> None:
    """Block a subscriber, recording why, who and when."""
    await conn.execute(BLOCK, subscriber_id, now, reason, by)


async def unblock(conn: asyncpg.Connection, subscriber_id: SubscriberId, now: datetime) -> None:
    """Lift a subscriber's block."""
    await conn.execute(UNBLOCK, subscriber_id, now)


async def insert_phone(conn: asyncpg.Connection, subscriber_id: SubscriberId, e164: str, raw: str,
                       national: str, kind: str, label: str | None) -> SubscriberPhone:
    """Insert a phone; raises asyncpg.UniqueViolationError if any subscriber has the number."""
    return _phone(await conn.fetchrow(INSERT_PHONE, subscriber_id, e164, raw, national, kind, label))


async def phones_of(conn: asyncpg.Connection, subscriber_ids: Sequence[int]) -> list[SubscriberPhone]:
    """Return the phones of all these subscribers in one query, oldest first."""
    return [_phone(row) for row in await conn.fetch(SELECT_PHONES, list(subscriber_ids))]


async def phone_owners(conn: asyncpg.Connection, numbers: Sequence[str]) -> dict[str, tuple[SubscriberId, str]]:
    """Return, for each of these E.164 numbers already held, its subscriber's id and name."""
    rows = await conn.fetch(PHONE_OWNERS, list(numbers))
    return {row["e164"]: (SubscriberId(row["id"]), row["name"]) for row in rows}


async def count_phones(conn: asyncpg.Connection, subscriber_id: SubscriberId) -> int:
    """Return how many phones the subscriber has."""
    return int(await conn.fetchval(COUNT_PHONES, subscriber_id))


async def delete_phone(conn: asyncpg.Connection, subscriber_id: SubscriberId,
                       phone_id: PhoneId) -> SubscriberPhone | None:
    """Delete the subscriber's phone and return it, or None if the subscriber has no such phone."""
    row = await conn.fetchrow(DELETE_PHONE, phone_id, subscriber_id)
    return None if row is None else _phone(row)


async def insert_phone_history(conn: asyncpg.Connection, subscriber_id: SubscriberId, e164: str,
                               removed_at: datetime) -> None:
    """Remember that the subscriber used to have this number."""
    await conn.execute(INSERT_PHONE_HISTORY, subscriber_id, e164, removed_at)


async def insert_address(conn: asyncpg.Connection, subscriber_id: SubscriberId, label: str, full_text: str,
                         text_key: str, landmark: str | None, position: Position | None) -> Address:
    """Insert a saved address."""
    lat, lng = (None, None) if position is None else (position.lat, position.lng)
    return _address(await conn.fetchrow(INSERT_ADDRESS, subscriber_id, label, full_text, text_key, landmark,
                                        lat, lng))


async def addresses(conn: asyncpg.Connection, subscriber_id: SubscriberId) -> list[Address]:
    """Return the subscriber's addresses, most used first."""
    return [_address(row) for row in await conn.fetch(SELECT_ADDRESSES, subscriber_id)]


async def lock_address(conn: asyncpg.Connection, subscriber_id: SubscriberId,
                       address_id: AddressId) -> Address | None:
    """Lock and return the subscriber's address, or None if the subscriber has no such address."""
    row = await conn.fetchrow(LOCK_ADDRESS, address_id, subscriber_id)
    return None if row is None else _address(row)


async def update_address(conn: asyncpg.Connection, address: Address, text_key: str, now: datetime) -> Address:
    """Store an address's label, text, landmark and position."""
    lat, lng = (None, None) if address.position is None else (address.position.lat, address.position.lng)
    return _address(await conn.fetchrow(UPDATE_ADDRESS, address.id, address.label, address.full_text, text_key,
                                        address.landmark, lat, lng, now))


async def delete_address(conn: asyncpg.Connection, subscriber_id: SubscriberId, address_id: AddressId) -> bool:
    """Delete the subscriber's address; False if the subscriber has no such address."""
    return await conn.fetchval(DELETE_ADDRESS, address_id, subscriber_id) is not None


async def record_address_use(conn: asyncpg.Connection, address_id: AddressId, *, as_pickup: bool,
                             local_hour: int, at: datetime) -> bool:
    """Count one use of an address; False if there is no such address."""
    return await conn.fetchval(RECORD_ADDRESS_USE, address_id, int(as_pickup), local_hour + 1, at) is not None


async def insert_note(conn: asyncpg.Connection, subscriber_id: SubscriberId, body: str, mood: Mood | None,
                      author_id: int, at: datetime) -> Note:
    """Insert a note by this staff member."""
    return _note(await conn.fetchrow(INSERT_NOTE, subscriber_id, body, None if mood is None else mood.value,
                                     author_id, at))


async def notes(conn: asyncpg.Connection, subscriber_id: SubscriberId) -> list[Note]:
    """Return the subscriber's notes, pinned first, then newest first."""
    return [_note(row) for row in await conn.fetch(SELECT_NOTES, subscriber_id)]


async def set_note_pin(conn: asyncpg.Connection, subscriber_id: SubscriberId, note_id: NoteId,
                       is_pinned: bool) -> Note | None:
    """Pin or unpin the subscriber's note; None if the subscriber has no such note."""
    row = await conn.fetchrow(SET_NOTE_PIN, note_id, subscriber_id, is_pinned)
    return None if row is None else _note(row)


async def search(conn: asyncpg.Connection, digits_pattern: str | None, key: str | None, key_pattern: str | None,
                 limit: int) -> list[Subscriber]:
    """Return live subscribers matching a number part or a name or address part, best matches first.

    The patterns must have LIKE's wildcards escaped already.
    """
    return [_subscriber(row) for row in await conn.fetch(SEARCH, digits_pattern, key, key_pattern, limit)]


async def phone_reuses(conn: asyncpg.Connection, limit: int) -> list[PhoneReuse]:
    """Return numbers in one live subscriber's history that another live subscriber holds now."""
    return [PhoneReuse(earlier=_name(row, "earlier"), current=_name(row, "current"), e164=row["e164"])
            for row in await conn.fetch(PHONE_REUSES, limit)]


async def shared_addresses(conn: asyncpg.Connection, limit: int) -> list[SharedAddress]:
    """Return pairs of live subscribers sharing an address, where the names could be one person's."""
    return [SharedAddress(first=_name(row, "first"), second=_name(row, "second"), address_text=row["full_text"])
            for row in await conn.fetch(SHARED_ADDRESSES, limit)]


async def move_rows(conn: asyncpg.Connection, from_id: SubscriberId, to_id: SubscriberId) -> dict[str, list[int]]:
    """Move phones, phone history, addresses and notes to another subscriber; return the moved ids by kind."""
    moved = {}
    for what, sql in (("phones", MOVE_PHONES), ("phone_history", MOVE_PHONE_HISTORY),
                      ("addresses", MOVE_ADDRESSES), ("notes", MOVE_NOTES)):
        moved[what] = sorted(row["id"] for row in await conn.fetch(sql, from_id, to_id))
    return moved


async def apply_merged_flags(conn: asyncpg.Connection, subscriber_id: SubscriberId, flags: MergedFlags,
                             name_key: str, now: datetime) -> None:
    """Store the kept subscriber's name and flags after a merge."""
    await conn.execute(APPLY_MERGED_FLAGS, subscriber_id, flags.name, name_key, flags.is_vip,
                       flags.loyalty_tier.value, flags.blocked_at, flags.blocked_reason, flags.blocked_by, now)


async def mark_merged(conn: asyncpg.Connection, merged_id: SubscriberId, kept_id: SubscriberId,
                      now: datetime) -> None:
    """Point the merged subscriber, and any merged into it before, at the kept one."""
    await conn.execute(MARK_MERGED, merged_id, kept_id, now)


async def insert_merge(conn: asyncpg.Connection, kept_id: SubscriberId, merged_id: SubscriberId,
                       moved: dict[str, list[int] | int], by: int, at: datetime) -> int:
    """Record a merge and what it moved; return the record's id."""
    return int(await conn.fetchval(INSERT_MERGE, kept_id, merged_id, json.dumps(moved), by, at))


# What reports need of subscribers: names for their lists of customers, and who is in which loyalty tier.
SELECT_NAMES = "SELECT id, name FROM subscribers WHERE id = ANY($1::bigint[])"
SELECT_TIER_MEMBERS = """
    SELECT loyalty_tier, array_agg(id) AS ids FROM subscribers
    WHERE loyalty_tier <> 'none' AND merged_into IS NULL GROUP BY loyalty_tier
"""
COUNT_LIVE = "SELECT count(*) FROM subscribers WHERE merged_into IS NULL"


async def names_of(conn: asyncpg.Connection, subscriber_ids: Sequence[int]) -> dict[SubscriberId, str]:
    """Return the names of these subscribers (unknown ids are left out)."""
    return {SubscriberId(r["id"]): r["name"] for r in await conn.fetch(SELECT_NAMES, list(subscriber_ids))}


async def tier_members(conn: asyncpg.Connection) -> dict[LoyaltyTier, list[SubscriberId]]:
    """Return the subscribers of each loyalty tier but none (merged-away records left out)."""
    return {LoyaltyTier(r["loyalty_tier"]): [SubscriberId(i) for i in r["ids"]]
            for r in await conn.fetch(SELECT_TIER_MEMBERS)}


async def count_live(conn: asyncpg.Connection) -> int:
    """Return how many subscribers there are, merged-away records left out."""
    count: int = await conn.fetchval(COUNT_LIVE)
    return count
