"""Records of dispatch: drivers and their cars, rides and their history, matching decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, NewType

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
    # Holding another ride's offer, or driving a ride: such a driver cannot take one more.
    has_other_offer: bool = False
    on_a_ride: bool = False


class SkipReason(StrEnum):
    """Why a nearby driver was not offered a ride: the supervisor's answer to "why not me"."""

    SUSPENDED = "suspended"
    WRONG_CLASS = "wrong_class"
    NOT_AVAILABLE = "not_available"
    ON_A_RIDE = "on_a_ride"
    ON_ANOTHER_OFFER = "on_another_offer"
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
    via: OfferVia | None = None

    @property
    def is_eligible(self) -> bool:
        """Whether the driver may be offered the ride."""
        return self.skip_reason is None


OfferId = NewType("OfferId", int)


class OfferVia(StrEnum):
    """How the offered driver was chosen."""

    NEAREST = "nearest"
    ZONE_QUEUE = "zone_queue"
    MANUAL = "manual"


class OfferStatus(StrEnum):
    """Where an offer stands: pending until the driver answers, or why it ended."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    # The driver dropped off and did not come back within the reconnect grace.
    LOST = "lost"
    # The ride was cancelled, assigned by hand or closed while the offer was open.
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Offer:
    """One driver's chance at one ride, for a limited time."""

    id: OfferId
    ride_id: RideId
    driver_id: DriverId
    search_id: int
    rank: int
    distance_m: int
    via: OfferVia
    offered_at: datetime
    expires_at: datetime
    status: OfferStatus
    answered_at: datetime | None
    reason: str | None


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
    # Since when the driver has been available, for fairness among equally close drivers; None: not known.
    idle_since: datetime | None = None



class FareBasis(StrEnum):
    """What a completed ride's fare came from."""

    # The quote given on the phone at booking: the trip went where it was booked to.
    LOCKED_QUOTE = "locked_quote"
    # The meter: the driver's trace priced by the tariff.
    METER = "meter"


class Channel(StrEnum):
    """Where a booking came from."""

    CONSOLE = "console"
    SELF_SERVICE = "self_service"


@dataclass(frozen=True)
class Place:
    """A pickup or destination as the ride keeps it; `address_id` names the saved address it came from."""

    text: str
    landmark: str | None = None
    lat: float | None = None
    lng: float | None = None
    address_id: int | None = None


@dataclass(frozen=True)
class NewRide:
    """A validated booking, ready to insert."""

    subscriber_id: int | None
    walk_in_name: str | None
    walk_in_phone: str | None
    call_id: int | None
    pickup: Place
    destination: Place | None
    passengers: int
    vehicle_class: VehicleClass
    notes_for_driver: str | None
    pickup_at: datetime | None
    status: RideStatus
    booked_by: int | None
    booked_via: Channel
    idempotency_scope: str
    idempotency_key: str
    request_hash: str
    created_at: datetime
    # When the dispatcher should first look at the ride: its release time if pre-booked.
    dispatch_after: datetime | None = None
    # The fare quote (pricing.fare_json) and whether it is the price; None without a priced route.
    quote: Mapping[str, Any] | None = None
    quote_locked: bool = False


@dataclass(frozen=True)
class Ride:
    """A booked ride as the console shows it; `version` counts its changes."""

    id: RideId
    status: RideStatus
    subscriber_id: int | None
    walk_in_name: str | None
    walk_in_phone: str | None
    call_id: int | None
    pickup: Place
    destination: Place | None
    passengers: int
    vehicle_class: VehicleClass
    notes_for_driver: str | None
    pickup_at: datetime | None
    due_at: datetime
    driver_id: DriverId | None
    offered_to: DriverId | None
    offer_count: int
    cancelled_by: Actor | None
    cancel_reason: str | None
    booked_by: int | None
    booked_via: Channel
    request_hash: str
    assigned_at: datetime | None
    arrived_at: datetime | None
    picked_up_at: datetime | None
    finished_at: datetime | None
    # JSON renderings of dispatch.fares.Fare (see pricing.fare_json); totals in integer rials.
    quote: Mapping[str, Any] | None
    quote_total_rials: int | None
    quote_locked: bool
    fare: Mapping[str, Any] | None
    fare_total_rials: int | None
    driver_share_rials: int | None
    center_share_rials: int | None
    fare_basis: FareBasis | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def state(self) -> RideState:
        """The part the state machine reads."""
        return RideState(id=self.id, status=self.status, vehicle_class=self.vehicle_class,
                         pickup_at=self.pickup_at, driver_id=self.driver_id, offered_to=self.offered_to)


@dataclass(frozen=True)
class RideStep:
    """One stored step of a ride's history; `action` is a RideAction, "book" or "change_route"."""

    id: int
    ride_id: RideId
    action: str
    from_status: RideStatus | None
    to_status: RideStatus
    actor: Actor
    reason: str | None
    driver_id: DriverId | None
    details: Mapping[str, Any] | None
    at: datetime


@dataclass(frozen=True)
class RideFilter:
    """What a ride list asks for; empty `statuses` means any status."""

    statuses: frozenset[RideStatus] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    subscriber_id: int | None = None
    phone: str | None = None
    limit: int = 100


ZoneId = NewType("ZoneId", int)


class ZoneStrategy(StrEnum):
    """How a zone picks the driver for a pickup inside it."""

    # The zone's rank queue first (the driver waiting longest at the rank), then the nearest driver.
    QUEUE_FIRST = "queue_first"
    NEAREST = "nearest"


@dataclass(frozen=True)
class StrategyWindow:
    """A strategy in force on some weekdays between two local times; `start` == `end` is the whole day.

    `days` holds `date.weekday()` numbers (Monday 0). A window past midnight belongs to the day it starts on.
    """

    days: frozenset[int]
    start: time
    end: time
    strategy: ZoneStrategy


@dataclass(frozen=True)
class Zone:
    """An area of the city: a polygon of (lat, lng) vertices with a rank queue and a dispatch strategy.

    `code` is what fixed zone prices in a tariff name (e.g. "IKA" for the airport).
    """

    id: ZoneId
    code: str
    name: str
    polygon: tuple[tuple[float, float], ...]
    default_strategy: ZoneStrategy
    windows: tuple[StrategyWindow, ...]
    is_active: bool
    updated_at: datetime


@dataclass(frozen=True)
class QueuedDriver:
    """A driver waiting in a zone's rank queue, first come first served."""

    driver_id: DriverId
    zone_id: ZoneId
    joined_at: datetime
