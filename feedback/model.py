"""Records of feedback: complaint categories, complaints as cases, and the history of each case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NewType

ComplaintId = NewType("ComplaintId", int)


class Priority(StrEnum):
    """How urgently a complaint needs handling, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ComplaintChannel(StrEnum):
    """How a complaint reached the center."""

    PHONE = "phone"
    CUSTOMER_PAGE = "customer_page"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    """Where a case is in its workflow (see complaints.TRANSITIONS)."""

    NEW = "new"
    ASSIGNED = "assigned"
    PENDING = "pending"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Outcome(StrEnum):
    """What the center did about a resolved complaint."""

    NO_ACTION = "no_action"
    WARNING = "warning"
    REFUND = "refund"  # a refund or a fare adjustment
    DRIVER_SUSPENDED = "driver_suspended"


class EventKind(StrEnum):
    """What one entry in a complaint's history records."""

    OPENED = "opened"
    COMMENTED = "commented"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    OUTCOME_SET = "outcome_set"
    SUBSCRIBER_MERGED = "subscriber_merged"


class ActorKind(StrEnum):
    """Who acts on a complaint."""

    STAFF = "staff"
    CUSTOMER = "customer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """One who acts on a complaint: a staff account or a subscriber by id, or the system (no id)."""

    kind: ActorKind
    id: int | None = None


@dataclass(frozen=True)
class Category:
    """A kind of complaint from the center's taxonomy, named in both languages."""

    code: str
    name_en: str
    name_fa: str
    default_priority: Priority
    position: int
    is_active: bool


@dataclass(frozen=True)
class Links:
    """What a complaint concerns, as far as is known; None where unknown."""

    ride_id: int | None = None
    subscriber_id: int | None = None
    driver_id: int | None = None
    call_id: int | None = None
    operator_id: int | None = None


@dataclass(frozen=True)
class ComplaintRequest:
    """A complaint as asked, before validation."""

    category: str
    description: str
    priority: Priority | None = None
    channel: ComplaintChannel = ComplaintChannel.PHONE
    links: Links = field(default_factory=Links)


@dataclass(frozen=True)
class NewComplaint:
    """A validated complaint, ready to store."""

    category: str
    priority: Priority
    channel: ComplaintChannel
    description: str
    links: Links
    opened_by: int | None
    at: datetime


@dataclass(frozen=True)
class Complaint:
    """A complaint as a case: what it is about, where it stands, and who handles it."""

    id: ComplaintId
    category: Category
    priority: Priority
    channel: ComplaintChannel
    status: ComplaintStatus
    description: str
    links: Links
    opened_by: int | None
    opened_by_name: str | None
    assignee_id: int | None
    outcome: Outcome | None
    outcome_note: str | None
    duplicate_of: ComplaintId | None
    first_response_at: datetime | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ComplaintEvent:
    """One entry in a complaint's history."""

    id: int
    complaint_id: ComplaintId
    kind: EventKind
    actor: Actor
    actor_name: str | None
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus | None
    body: str | None
    details: Mapping[str, Any] | None
    at: datetime


@dataclass(frozen=True)
class ComplaintRecord:
    """A complaint with its whole history, oldest first."""

    complaint: Complaint
    events: tuple[ComplaintEvent, ...]


@dataclass(frozen=True)
class ComplaintFilter:
    """Which complaints a list asks for; an empty `statuses` means any status."""

    subscriber_id: int | None = None
    ride_id: int | None = None
    driver_id: int | None = None
    statuses: frozenset[ComplaintStatus] = frozenset()
    limit: int = 100
