"""Records of feedback: categories, complaints and praise as cases with their history, and ratings of rides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, NewType, TypeVar

ComplaintId = NewType("ComplaintId", int)
RatingId = NewType("RatingId", int)
T = TypeVar("T")


class Kind(StrEnum):
    """Whether a case is a complaint or praise; each category is one or the other."""

    COMPLAINT = "complaint"
    PRAISE = "praise"


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
    COMMENDED = "commended"  # praise passed on: the driver or operator was thanked


class EventKind(StrEnum):
    """What one entry in a complaint's history records."""

    OPENED = "opened"
    COMMENTED = "commented"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    OUTCOME_SET = "outcome_set"
    SUBSCRIBER_MERGED = "subscriber_merged"
    TRIAGED = "triaged"  # its category or priority changed


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
    kind: Kind = Kind.COMPLAINT


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
    kind: Kind = Kind.COMPLAINT
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None


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
    assignee_name: str | None
    outcome: Outcome | None
    outcome_note: str | None
    duplicate_of: ComplaintId | None
    first_response_at: datetime | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    kind: Kind = Kind.COMPLAINT
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None


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
    """Which complaints a list asks for; an empty set means any; `overdue` needs `now`."""

    subscriber_id: int | None = None
    ride_id: int | None = None
    driver_id: int | None = None
    statuses: frozenset[ComplaintStatus] = frozenset()
    kind: Kind | None = None
    categories: frozenset[str] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    assignee_id: int | None = None
    overdue: bool | None = None
    now: datetime | None = None
    limit: int = 100


@dataclass(frozen=True)
class StatusRequest:
    """A step of the workflow as asked: the status wanted, with what that status needs."""

    status: ComplaintStatus
    comment: str | None = None
    outcome: Outcome | None = None
    outcome_note: str | None = None
    duplicate_of: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class TriageRequest:
    """A case put in another category or priority as asked; None keeps that one."""

    category: str | None = None
    priority: Priority | None = None
    comment: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class Triage:
    """A validated re-triage: the category and priority a case takes, its SLA clocks due again from its opening."""

    category: Category
    priority: Priority
    first_response_due: datetime | None
    resolution_due: datetime | None
    comment: str | None


@dataclass(frozen=True)
class StatusChange:
    """A validated step of the workflow: the columns it sets."""

    from_status: ComplaintStatus
    to_status: ComplaintStatus
    comment: str | None
    outcome: Outcome | None
    outcome_note: str | None
    duplicate_of: ComplaintId | None
    closed_at: datetime | None

    @property
    def suspends_driver(self) -> bool:
        """Tell whether this step suspends the driver the case is about."""
        return self.outcome is Outcome.DRIVER_SUSPENDED


@dataclass(frozen=True)
class CategoryEdit:
    """A change to a category as asked; None leaves a field as it is."""

    name_en: str | None = None
    name_fa: str | None = None
    default_priority: Priority | None = None
    position: int | None = None
    is_active: bool | None = None


class RatingChannel(StrEnum):
    """Where a rating was given."""

    CUSTOMER_PAGE = "customer_page"  # the self-service ride's tracking page
    LINK = "link"  # the signed link sent after the ride
    OPERATOR = "operator"  # entered by staff on a follow-up call


@dataclass(frozen=True)
class RatingRequest:
    """A rating as given, before validation."""

    value: int
    comment: str | None = None
    channel: RatingChannel = RatingChannel.OPERATOR
    entered_by: int | None = None
    call_id: int | None = None
    # On a follow-up call, the caller's record: it must be the ride's subscriber.
    subscriber_id: int | None = None


@dataclass(frozen=True)
class RatedRide:
    """What a rating needs to know of its ride (from dispatch)."""

    ride_id: int
    status: str
    driver_id: int | None
    subscriber_id: int | None


@dataclass(frozen=True)
class NewRating:
    """A validated rating of a ride, ready to store."""

    ride: RatedRide
    driver_id: int
    value: int
    comment: str | None
    channel: RatingChannel
    entered_by: int | None
    call_id: int | None
    at: datetime


@dataclass(frozen=True)
class Rating:
    """One rating of a ride; `is_current` is False once a later one replaced it."""

    id: RatingId
    ride_id: int
    driver_id: int
    subscriber_id: int | None
    value: int
    comment: str | None
    channel: RatingChannel
    entered_by: int | None
    entered_by_name: str | None
    call_id: int | None
    is_current: bool
    replaced_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class ChangeCursor:
    """Where a reader of changed facts got to: a transaction watermark and, within it, the last row id."""

    xid: int = 0
    id: int = 0


@dataclass(frozen=True)
class ComplaintFact:
    """A complaint or praise as reports count it."""

    id: ComplaintId
    kind: Kind
    category: str
    priority: Priority
    channel: ComplaintChannel
    status: ComplaintStatus
    outcome: Outcome | None
    ride_id: int | None
    driver_id: int | None
    operator_id: int | None
    subscriber_id: int | None
    opened_by: int | None
    assignee_id: int | None
    created_at: datetime
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    closed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class RatingFact:
    """A rating as reports count it: only current ones count; a replaced one comes back with is_current False."""

    id: RatingId
    ride_id: int
    driver_id: int
    subscriber_id: int | None
    value: int
    channel: RatingChannel
    entered_by: int | None
    is_current: bool
    created_at: datetime
    replaced_at: datetime | None


@dataclass(frozen=True)
class Changes(Generic[T]):
    """Facts changed since a cursor, oldest change first, and the cursor to read on from."""

    facts: tuple[T, ...]
    cursor: ChangeCursor
