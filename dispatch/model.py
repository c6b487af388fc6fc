"""Records of drivers, as far as the foundation needs them: identity, status and app tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NewType

DriverId = NewType("DriverId", int)


class DriverStatus(StrEnum):
    """Whether a driver may work: suspended drivers cannot connect or be dispatched."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Driver:
    """A driver of the center's fleet."""

    id: DriverId
    name: str
    status: DriverStatus
    suspended_reason: str | None
    created_at: datetime


RideId = NewType("RideId", int)


class VehicleClass(StrEnum):
    """The kind of car a ride asks for; a driver is only offered rides of their own class."""

    SEDAN = "sedan"
    VAN = "van"
    LUXURY = "luxury"


class DriverAvailability(StrEnum):
    """What a driver's app last said about their readiness for a job."""

    AVAILABLE = "available"
    BUSY = "busy"
    ON_BREAK = "on_break"
    OFFLINE = "offline"
    # Set by the center, never by the app: the driver went silent and was taken out of dispatch.
    UNREACHABLE = "unreachable"


class RideStatus(StrEnum):
    """Where a ride stands in its lifecycle."""

    SCHEDULED = "scheduled"
    REQUESTED = "requested"
    OFFERING = "offering"
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    ARRIVED = "arrived"
    ON_BOARD = "on_board"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_DRIVER_FOUND = "no_driver_found"
    NO_SHOW = "no_show"


class RideAction(StrEnum):
    """Something done to a ride that may move it to another status."""

    RELEASE = "release"
    OFFER = "offer"
    ACCEPT = "accept"
    ASSIGN = "assign"
    MARK_UNASSIGNED = "mark_unassigned"
    MARK_NO_DRIVER_FOUND = "mark_no_driver_found"
    ARRIVE = "arrive"
    PICK_UP = "pick_up"
    COMPLETE = "complete"
    CANCEL = "cancel"
    NO_SHOW = "no_show"


class ActorKind(StrEnum):
    """Who acts on a ride."""

    OPERATOR = "operator"
    DRIVER = "driver"
    CUSTOMER = "customer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """One who acts on a ride; `id` is the operator's account, the driver's id, or None for the system."""

    kind: ActorKind
    id: int | None = None


@dataclass(frozen=True)
class RideState:
    """The part of a ride its state machine and matching read."""

    id: RideId
    status: RideStatus
    vehicle_class: VehicleClass
    # None means "as soon as possible"; a time means a pre-booking.
    pickup_at: datetime | None = None
    driver_id: DriverId | None = None
    # The driver holding the current offer; only meaningful while the ride is offering.
    offered_to: DriverId | None = None


@dataclass(frozen=True)
class RideEvent:
    """One stored step of a ride's history: what was done, by whom, when and why."""

    ride_id: RideId
    action: RideAction
    from_status: RideStatus
    to_status: RideStatus
    actor: Actor
    at: datetime
    reason: str | None
    driver_id: DriverId | None


@dataclass(frozen=True)
class Candidate:
    """A driver found near a pickup, with what matching needs to know about them."""

    driver_id: DriverId
    distance_m: float
    idle_since: datetime
    vehicle_class: VehicleClass
    status: DriverAvailability
    last_seen: datetime
    suspended: bool


class SkipReason(StrEnum):
    """Why a nearby driver was not offered a ride: the supervisor's answer to "why not me"."""

    SUSPENDED = "suspended"
    WRONG_CLASS = "wrong_class"
    NOT_AVAILABLE = "not_available"
    STALE_POSITION = "stale_position"
    DECLINED_BEFORE = "declined_before"
    ALREADY_OFFERED = "already_offered"
    TOO_FAR = "too_far"


@dataclass(frozen=True)
class Decision:
    """What matching made of one candidate: its place in the offer order, or why it was skipped."""

    candidate: Candidate
    rank: int | None
    skip_reason: SkipReason | None

    @property
    def is_eligible(self) -> bool:
        """Whether the driver may be offered the ride."""
        return self.skip_reason is None


class OfferStep(StrEnum):
    """What to do after an offer was declined, timed out or lost to a disconnect."""

    OFFER_NEXT = "offer_next"
    UNASSIGNED = "unassigned"


class PlateKind(StrEnum):
    """How a vehicle plate is read: the Iranian civilian format, or free text for anything else."""

    IRANIAN = "iranian"
    OTHER = "other"


@dataclass(frozen=True)
class Plate:
    """A vehicle plate: the canonical form stored and matched, and the form shown to people."""

    kind: PlateKind
    canonical: str
    display: str


@dataclass(frozen=True)
class DriverProfile:
    """Everything the center records about a driver: identity, car, contract and suspension."""

    id: DriverId
    name: str
    status: DriverStatus
    suspended_reason: str | None
    suspended_at: datetime | None
    suspended_by: int | None
    phone: str | None
    licence_number: str | None
    plate_kind: PlateKind | None
    plate: str | None
    plate_display: str | None
    vehicle_make: str | None
    vehicle_model: str | None
    vehicle_colour: str | None
    vehicle_class: VehicleClass
    contract_start: date | None
    contract_end: date | None
    commission_bp: int
    created_at: datetime


@dataclass(frozen=True)
class LivePosition:
    """Where a driver was last seen, from the live (Redis) state, and how far from a search point."""

    driver_id: DriverId
    lat: float
    lng: float
    distance_m: float
    last_seen: datetime
    status: DriverAvailability
