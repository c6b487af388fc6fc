"""Records of subscribers: the people who call the center, their numbers, addresses, notes and flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

SubscriberId = NewType("SubscriberId", int)
PhoneId = NewType("PhoneId", int)
AddressId = NewType("AddressId", int)
NoteId = NewType("NoteId", int)


class LoyaltyTier(StrEnum):
    """A subscriber's loyalty level, lowest first."""

    NONE = "none"
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def rank(self) -> int:
        """Return the tier's position, so two tiers compare by value."""
        return list(LoyaltyTier).index(self)


class Mood(StrEnum):
    """How an operator found the caller: a hint for the next operator."""

    CALM = "calm"
    ANGRY = "angry"
    IN_A_HURRY = "in_a_hurry"
    ELDERLY = "elderly"
    NEEDS_HELP = "needs_help"


@dataclass(frozen=True)
class Subscriber:
    """A subscriber's identity and flags, without the lists that hang off it."""

    id: SubscriberId
    name: str
    is_vip: bool
    loyalty_tier: LoyaltyTier
    blocked_at: datetime | None
    blocked_reason: str | None
    blocked_by: int | None
    blocked_by_name: str | None
    merged_into: SubscriberId | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_blocked(self) -> bool:
        """Tell whether the center refuses this subscriber's rides."""
        return self.blocked_at is not None


@dataclass(frozen=True)
class SubscriberPhone:
    """One of a subscriber's numbers: E.164 for matching, the raw form as typed, its national digits."""

    id: PhoneId
    subscriber_id: SubscriberId
    e164: str
    raw: str
    national: str
    kind: str
    label: str | None
    created_at: datetime


@dataclass(frozen=True)
class Position:
    """A point on the map, in degrees."""

    lat: float
    lng: float


@dataclass(frozen=True)
class Address:
    """A saved address and how often it was used, so the likely one can be offered first."""

    id: AddressId
    subscriber_id: SubscriberId
    label: str
    full_text: str
    landmark: str | None
    position: Position | None
    pickup_count: int
    dropoff_count: int
    pickups_by_hour: tuple[int, ...]
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Note:
    """An operator's note on a subscriber, with its author's name for display."""

    id: NoteId
    subscriber_id: SubscriberId
    body: str
    mood: Mood | None
    is_pinned: bool
    author_id: int | None
    author_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class SubscriberRecord:
    """Everything about one subscriber: phones, addresses by use, notes pinned then newest first."""

    subscriber: Subscriber
    phones: tuple[SubscriberPhone, ...]
    addresses: tuple[Address, ...]
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class SearchHit:
    """A subscriber found by a search, with its phones so the list needs no second request."""

    subscriber: Subscriber
    phones: tuple[SubscriberPhone, ...]


@dataclass(frozen=True)
class NewPhone:
    """A number as an operator typed it, before normalization."""

    number: str
    label: str | None = None


@dataclass(frozen=True)
class NewAddress:
    """An address as an operator typed it, before cleaning."""

    full_text: str
    label: str = ""
    landmark: str | None = None
    position: Position | None = None


@dataclass(frozen=True)
class AddressEdit:
    """Changes to a saved address; None leaves a field as it is."""

    label: str | None = None
    full_text: str | None = None
    landmark: str | None = None  # "" removes the landmark.
    position: Position | None = None
    clear_position: bool = False

    @property
    def is_empty(self) -> bool:
        """Tell whether the edit changes nothing."""
        return self == AddressEdit()


@dataclass(frozen=True)
class SubscriberName:
    """A subscriber as duplicate detection sees it: an id, a name to show and the key to compare."""

    id: SubscriberId
    name: str
    name_key: str


class DuplicateKind(StrEnum):
    """Why two subscribers look like one person."""

    PHONE_IN_HISTORY = "phone_in_history"
    SAME_NAME_SAME_ADDRESS = "same_name_same_address"
    SIMILAR_NAME_SAME_ADDRESS = "similar_name_same_address"


@dataclass(frozen=True)
class PhoneReuse:
    """A number one subscriber used to have and another has now."""

    earlier: SubscriberName
    current: SubscriberName
    e164: str


@dataclass(frozen=True)
class SharedAddress:
    """Two subscribers with an address of the same search key."""

    first: SubscriberName
    second: SubscriberName
    address_text: str


@dataclass(frozen=True)
class DuplicateReason:
    """One reason a pair looks like a duplicate, with the number or address that says so."""

    kind: DuplicateKind
    detail: str


@dataclass(frozen=True)
class DuplicatePair:
    """Two subscribers (lower id first) that are likely one person, and every reason why."""

    first: SubscriberName
    second: SubscriberName
    reasons: tuple[DuplicateReason, ...] = field(default=())


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: which subscriber was kept and what moved to it, by kind."""

    merge_id: int
    kept_id: SubscriberId
    merged_id: SubscriberId
    moved: dict[str, list[int] | int]
    merged_at: datetime


@dataclass(frozen=True)
class MergedFlags:
    """The kept subscriber's name and flags once another subscriber's have been folded in."""

    name: str
    is_vip: bool
    loyalty_tier: LoyaltyTier
    blocked_at: datetime | None
    blocked_reason: str | None
    blocked_by: int | None
