"""Use cases of subscriber records: create and edit them, search, spot duplicates and merge them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from subscribers import duplicates, merging, store
from subscribers.errors import (
    AddressNotFound,
    AlreadyBlocked,
    LastPhone,
    MergeRefused,
    NotBlocked,
    NoteNotFound,
    PhoneAlreadyListed,
    PhoneNotFound,
    PhoneTaken,
    SubscriberMerged,
    SubscriberNotFound,
)
from subscribers.keys import MergeParticipant
from subscribers.model import (
    Address,
    AddressEdit,
    AddressId,
    DuplicatePair,
    LoyaltyTier,
    MergeResult,
    Mood,
    NewAddress,
    NewPhone,
    Note,
    NoteId,
    PhoneId,
    SearchHit,
    Subscriber,
    SubscriberId,
    SubscriberPhone,
    SubscriberRecord,
)
from subscribers.phones import Phone, PhonePlan, parse_phone, search_digits
from subscribers.text import clean_text, search_key, to_ascii_digits
from taxicrm.errors import InvalidInput

MAX_PHONES = 10
MAX_ADDRESSES = 50
SEARCH_LIMIT = 50
MIN_SEARCH_LENGTH = 2
# A number needs this many digits before a partial match means anything.
MIN_SEARCH_DIGITS = 3
DUPLICATE_CANDIDATES = 2000
_PHONE_LIKE = re.compile(r"[+\d\s\-().]+")
_LIKE_SPECIALS = re.compile(r"([\\%_])")


@dataclass(frozen=True)
class SearchTerms:
    """What a search query matches: national digits of a number, and a name or address key."""

    digits: str | None
    key: str


def search_terms(query: str) -> SearchTerms:
    """Read a query as typed: a number in any digit set also searches phones; any text searches names and addresses."""
    key = search_key(query)
    if len(key) < MIN_SEARCH_LENGTH:
        raise InvalidInput(f"Type at least {MIN_SEARCH_LENGTH} characters to search.", code="query_too_short")
    ascii_query = to_ascii_digits(query).strip()
    digits = re.sub(r"\D", "", ascii_query)
    is_number = _PHONE_LIKE.fullmatch(ascii_query) is not None and len(digits) >= MIN_SEARCH_DIGITS
    return SearchTerms(digits=search_digits(ascii_query) if is_number else None, key=key)


def escape_like(text: str) -> str:
    """Escape LIKE's wildcards, so a typed % or _ matches itself."""
    return _LIKE_SPECIALS.sub(r"\\\1", text)


def _name(raw: str) -> tuple[str, str]:
    name = clean_text(raw)
    if not name:
        raise InvalidInput("A subscriber needs a name.", code="invalid_name")
    return name, search_key(name)


def _address_text(raw: str) -> tuple[str, str]:
    text = clean_text(raw)
    if not text:
        raise InvalidInput("An address needs its text.", code="invalid_address")
    return text, search_key(text)


def _optional_text(raw: str | None) -> str | None:
    return None if raw is None else clean_text(raw) or None


async def _live(conn: asyncpg.Connection, subscriber_id: SubscriberId, *, lock: bool = True) -> Subscriber:
    """Return the subscriber (locked for the transaction), or raise if there is none or it was merged away."""
    found = await (store.lock_subscriber if lock else store.subscriber)(conn, subscriber_id)
    if found is None:
        raise SubscriberNotFound(subscriber_id)
    if found.merged_into is not None:
        raise SubscriberMerged(subscriber_id, found.merged_into)
    return found


async def _record(conn: asyncpg.Connection, subscriber: Subscriber) -> SubscriberRecord:
    return SubscriberRecord(
        subscriber=subscriber,
        phones=tuple(await store.phones_of(conn, [subscriber.id])),
        addresses=tuple(await store.addresses(conn, subscriber.id)),
        notes=tuple(await store.notes(conn, subscriber.id)),
    )


async def _add_phones(conn: asyncpg.Connection, subscriber_id: SubscriberId,
                      phones: Sequence[tuple[Phone, str | None]]) -> list[SubscriberPhone]:
    """Insert numbers after checking no other subscriber has them; the caller holds the subscriber's lock."""
    owners = await store.phone_owners(conn, [phone.e164 for phone, _ in phones])
    for phone, _ in phones:
        if phone.e164 in owners:
            owner_id, owner_name = owners[phone.e164]
            if owner_id == subscriber_id:
                raise PhoneAlreadyListed(phone.e164)
            raise PhoneTaken(phone.e164, owner_id, owner_name)
    added = []
    for phone, label in phones:
        try:
            async with conn.transaction():  # A savepoint, so a lost race leaves the outer transaction usable.
                added.append(await store.insert_phone(conn, subscriber_id, phone.e164, phone.raw,
                                                      phone.national_digits, phone.kind.value, label))
        except asyncpg.UniqueViolationError as err:
            raise PhoneTaken(phone.e164) from err
    return added


def _parse_phones(phones: Sequence[NewPhone], plan: PhonePlan) -> list[tuple[Phone, str | None]]:
    parsed = [(parse_phone(p.number, plan), _optional_text(p.label)) for p in phones]
    numbers = [phone.e164 for phone, _ in parsed]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise InvalidInput(f"{', '.join(repeated)} is listed more than once.", code="phone_listed_twice")
    return parsed


async def create_subscriber(pool: asyncpg.Pool, name: str, phones: Sequence[NewPhone],
                            addresses: Sequence[NewAddress], plan: PhonePlan) -> SubscriberRecord:
    """Create a subscriber with at least one phone and any addresses, all or nothing."""
    clean_name, name_key = _name(name)
    if not 1 <= len(phones) <= MAX_PHONES:
        raise InvalidInput(f"A subscriber needs 1 to {MAX_PHONES} phones.", code="invalid_phones")
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidInput(f"A subscriber has at most {MAX_ADDRESSES} addresses.", code="too_many_addresses")
    parsed = _parse_phones(phones, plan)
    texts = [_address_text(a.full_text) for a in addresses]
    async with pool.acquire() as conn, conn.transaction():
        subscriber_id = await store.insert_subscriber(conn, clean_name, name_key)
        await _add_phones(conn, subscriber_id, parsed)
        for address, (text, text_key) in zip(addresses, texts, strict=True):
            await store.insert_address(conn, subscriber_id, clean_text(address.label), text, text_key,
                                       _optional_text(address.landmark), address.position)
        return await _record(conn, await _live(conn, subscriber_id))


async def get_subscriber(pool: asyncpg.Pool, subscriber_id: SubscriberId) -> SubscriberRecord:
    """Return a live subscriber with phones, addresses and notes; a merged-away one raises SubscriberMerged."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return await _record(conn, await _live(conn, subscriber_id, lock=False))


async def owner_of_phone(pool: asyncpg.Pool, e164: str) -> SubscriberId | None:
    """Return the subscriber who holds this E.164 number, or None if nobody does."""
    async with pool.acquire() as conn:
        owners = await store.phone_owners(conn, [e164])
    return owners[e164][0] if e164 in owners else None


async def rename(pool: asyncpg.Pool, subscriber_id: SubscriberId, name: str, now: datetime) -> SubscriberRecord:
    """Change a subscriber's name."""
    clean_name, name_key = _name(name)
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        await store.update_name(conn, subscriber_id, clean_name, name_key, now)
        return await _record(conn, await _live(conn, subscriber_id))


async def add_phone(pool: asyncpg.Pool, subscriber_id: SubscriberId, phone: NewPhone,
                    plan: PhonePlan) -> SubscriberPhone:
    """Give a subscriber another number, unless another subscriber has it."""
    parsed = _parse_phones([phone], plan)
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        if await store.count_phones(conn, subscriber_id) >= MAX_PHONES:
            raise InvalidInput(f"A subscriber has at most {MAX_PHONES} phones.", code="too_many_phones")
        return (await _add_phones(conn, subscriber_id, parsed))[0]


async def remove_phone(pool: asyncpg.Pool, subscriber_id: SubscriberId, phone_id: PhoneId,
                       now: datetime) -> SubscriberPhone:
    """Take a number off a subscriber, keeping it in their phone history; the last number stays."""
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        removed = await store.delete_phone(conn, subscriber_id, phone_id)
        if removed is None:
            raise PhoneNotFound(phone_id)
        if await store.count_phones(conn, subscriber_id) == 0:
            raise LastPhone()  # Rolls the delete back.
        await store.insert_phone_history(conn, subscriber_id, removed.e164, now)
        return removed


async def add_address(pool: asyncpg.Pool, subscriber_id: SubscriberId, address: NewAddress) -> Address:
    """Save an address for a subscriber."""
    text, text_key = _address_text(address.full_text)
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        if len(await store.addresses(conn, subscriber_id)) >= MAX_ADDRESSES:
            raise InvalidInput(f"A subscriber has at most {MAX_ADDRESSES} addresses.", code="too_many_addresses")
        return await store.insert_address(conn, subscriber_id, clean_text(address.label), text, text_key,
                                          _optional_text(address.landmark), address.position)


def apply_address_edit(address: Address, edit: AddressEdit) -> Address:
    """Return the address with the edit's changes; fields the edit leaves None stay as they are."""
    return dataclasses.replace(
        address,
        label=address.label if edit.label is None else clean_text(edit.label),
        full_text=address.full_text if edit.full_text is None else _address_text(edit.full_text)[0],
        landmark=address.landmark if edit.landmark is None else _optional_text(edit.landmark),
        position=edit.position if edit.position is not None or edit.clear_position else address.position,
    )


async def edit_address(pool: asyncpg.Pool, subscriber_id: SubscriberId, address_id: AddressId, edit: AddressEdit,
                       now: datetime) -> Address:
    """Relabel, reword, move or re-landmark a saved address."""
    if edit.is_empty:
        raise InvalidInput("Say what to change: label, text, landmark or lat and lng.", code="no_changes")
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        address = await store.lock_address(conn, subscriber_id, address_id)
        if address is None:
            raise AddressNotFound(address_id)
        changed = apply_address_edit(address, edit)
        return await store.update_address(conn, changed, search_key(changed.full_text), now)


async def delete_address(pool: asyncpg.Pool, subscriber_id: SubscriberId, address_id: AddressId) -> None:
    """Delete a saved address."""
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        if not await store.delete_address(conn, subscriber_id, address_id):
            raise AddressNotFound(address_id)


async def record_address_use(conn: asyncpg.Connection, address_id: AddressId, *, as_pickup: bool, local_hour: int,
                             at: datetime) -> None:
    """Count a ride from (pickup) or to (drop-off) a saved address, in the caller's transaction.

    `local_hour` is the hour of day in the center's zone (0-23); only pickups count by hour.
    """
    if not 0 <= local_hour <= 23:
        raise ValueError(f"local_hour must be 0 to 23, got {local_hour}")
    if not await store.record_address_use(conn, address_id, as_pickup=as_pickup, local_hour=local_hour, at=at):
        raise AddressNotFound(address_id)


async def add_note(pool: asyncpg.Pool, subscriber_id: SubscriberId, body: str, mood: Mood | None, author_id: int,
                   now: datetime) -> Note:
    """Add an operator's note to a subscriber."""
    text = clean_text(body)
    if not text:
        raise InvalidInput("A note needs some text.", code="invalid_note")
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        return await store.insert_note(conn, subscriber_id, text, mood, author_id, now)


async def pin_note(pool: asyncpg.Pool, subscriber_id: SubscriberId, note_id: NoteId, is_pinned: bool) -> Note:
    """Pin a note to the top of the card, or unpin it."""
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        note = await store.set_note_pin(conn, subscriber_id, note_id, is_pinned)
        if note is None:
            raise NoteNotFound(note_id)
        return note


async def set_vip(pool: asyncpg.Pool, subscriber_id: SubscriberId, is_vip: bool, now: datetime) -> Subscriber:
    """Mark or unmark a subscriber as VIP."""
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        await store.set_vip(conn, subscriber_id, is_vip, now)
        return await _live(conn, subscriber_id)


async def set_loyalty(pool: asyncpg.Pool, subscriber_id: SubscriberId, tier: LoyaltyTier,
                      now: datetime) -> Subscriber:
    """Set a subscriber's loyalty tier."""
    async with pool.acquire() as conn, conn.transaction():
        await _live(conn, subscriber_id)
        await store.set_loyalty(conn, subscriber_id, tier, now)
        return await _live(conn, subscriber_id)


async def block(pool: asyncpg.Pool, subscriber_id: SubscriberId, reason: str, by: int, now: datetime) -> Subscriber:
    """Block a subscriber, recording why, who and when."""
    text = clean_text(reason)
    if not text:
        raise InvalidInput("Say why the subscriber is blocked.", code="invalid_reason")
    async with pool.acquire() as conn, conn.transaction():
        if (await _live(conn, subscriber_id)).is_blocked:
            raise AlreadyBlocked(subscriber_id)
        await store.block(conn, subscriber_id, text, by, now)
        return await _live(conn, subscriber_id)


async def unblock(pool: asyncpg.Pool, subscriber_id: SubscriberId, now: datetime) -> Subscriber:
    """Lift a subscriber's block."""
    async with pool.acquire() as conn, conn.transaction():
        if not (await _live(conn, subscriber_id)).is_blocked:
            raise NotBlocked(subscriber_id)
        await store.unblock(conn, subscriber_id, now)
        return await _live(conn, subscriber_id)


async def search(pool: asyncpg.Pool, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Find live subscribers by part of a number, a name or an address; best matches first."""
    terms = search_terms(query)
    key_pattern = escape_like(terms.key)
    async with pool.acquire() as conn:
        found = await store.search(conn, terms.digits, terms.key, key_pattern, limit)
        phones = await store.phones_of(conn, [s.id for s in found])  # One query for the page, never one per row.
    by_subscriber: dict[int, list[SubscriberPhone]] = {}
    for phone in phones:
        by_subscriber.setdefault(phone.subscriber_id, []).append(phone)
    return [SearchHit(subscriber=s, phones=tuple(by_subscriber.get(s.id, ()))) for s in found]


async def find_duplicates(pool: asyncpg.Pool) -> list[DuplicatePair]:
    """Return pairs of live subscribers that are likely one person, each with its reasons; merges nothing."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        reuses = await store.phone_reuses(conn, DUPLICATE_CANDIDATES)
        shared = await store.shared_addresses(conn, DUPLICATE_CANDIDATES)
    return duplicates.find_duplicates(reuses, shared)


def _mergeable(subscriber_id: SubscriberId, found: Subscriber | None) -> Subscriber:
    if found is None:
        raise SubscriberNotFound(subscriber_id)
    if found.merged_into is not None:
        raise MergeRefused(f"Subscriber {subscriber_id} was already merged into subscriber {found.merged_into}.",
                           code="already_merged")
    return found


async def merge(pool: asyncpg.Pool, kept_id: SubscriberId, other_id: SubscriberId, *, by: int, now: datetime,
                participants: Sequence[MergeParticipant] = ()) -> MergeResult:
    """Fold `other` into `kept` in one transaction: its rows, its flags, and other domains' rows.

    Each participant moves its own domain's rows and says how many; the merge record lists them all.
    """
    if kept_id == other_id:
        raise MergeRefused("A subscriber cannot be merged into itself.", code="merge_into_itself", status=400)
    async with pool.acquire() as conn, conn.transaction():
        # Lock in id order, so two merges of the same pair in opposite directions cannot deadlock.
        locked = {s_id: await store.lock_subscriber(conn, s_id) for s_id in sorted((kept_id, other_id))}
        kept, other = _mergeable(kept_id, locked[kept_id]), _mergeable(other_id, locked[other_id])
        flags = merging.merge_flags(kept, other)
        moved: dict[str, list[int] | int] = dict(await store.move_rows(conn, other_id, kept_id))
        for participant in participants:
            what, count = await participant(conn, other_id, kept_id)
            if what in moved:
                raise ValueError(f"merge participant {participant!r} reports {what!r}, which is already taken")
            moved[what] = count
        await store.apply_merged_flags(conn, kept_id, flags, search_key(flags.name), now)
        await store.mark_merged(conn, other_id, kept_id, now)
        merge_id = await store.insert_merge(conn, kept_id, other_id, moved, by, now)
    return MergeResult(merge_id=merge_id, kept_id=kept_id, merged_id=other_id, moved=moved, merged_at=now)


async def names_of(pool: asyncpg.Pool, subscriber_ids: Sequence[int]) -> dict[SubscriberId, str]:
    """Return the names of these subscribers, for lists of customers (unknown ids are left out)."""
    async with pool.acquire() as conn:
        return await store.names_of(conn, subscriber_ids)


async def loyalty_tiers(pool: asyncpg.Pool) -> tuple[dict[LoyaltyTier, list[SubscriberId]], int]:
    """Return who is in each loyalty tier above none, and how many subscribers there are in all."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return await store.tier_members(conn), await store.count_live(conn)
