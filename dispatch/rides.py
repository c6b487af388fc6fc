"""The ride state machine: which action moves a ride where, who may do it, and when pre-bookings are released."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.errors import ActorNotAllowed, DriverRequired, IllegalTransition, ReasonRequired
from dispatch.model import Actor, ActorKind, DriverId, RideAction, RideEvent, RideState, RideStatus

DEFAULT_RELEASE_LEAD = timedelta(minutes=10)


class Party(StrEnum):
    """A role an actor plays towards one ride; drivers are told apart by their relation to it."""

    OPERATOR = "operator"
    CUSTOMER = "customer"
    SYSTEM = "system"
    ASSIGNED_DRIVER = "assigned_driver"
    OFFERED_DRIVER = "offered_driver"


@dataclass(frozen=True)
class Rule:
    """Where an action leads and who may take it."""

    to: RideStatus
    by: frozenset[Party]
    needs_reason: bool = False


def _rule(to: RideStatus, *by: Party, needs_reason: bool = False) -> Rule:
    return Rule(to=to, by=frozenset(by), needs_reason=needs_reason)


S, A, P = RideStatus, RideAction, Party

# A customer may still change their mind while the driver waits at the door; once aboard it is a trip.
_CANCELLABLE = (S.SCHEDULED, S.REQUESTED, S.OFFERING, S.UNASSIGNED, S.ASSIGNED, S.ARRIVED)

TRANSITIONS: Mapping[tuple[RideStatus, RideAction], Rule] = {
    # An operator may dispatch a pre-booking early, e.g. when the customer calls to say they are ready.
    (S.SCHEDULED, A.RELEASE): _rule(S.REQUESTED, P.SYSTEM, P.OPERATOR),
    (S.REQUESTED, A.OFFER): _rule(S.OFFERING, P.SYSTEM),
    # After a decline, a timeout or a lost connection the ride goes straight to the next driver.
    (S.OFFERING, A.OFFER): _rule(S.OFFERING, P.SYSTEM),
    # Retrying an unassigned ride happens when drivers become free, or when an operator asks for it.
    (S.UNASSIGNED, A.OFFER): _rule(S.OFFERING, P.SYSTEM, P.OPERATOR),
    (S.OFFERING, A.ACCEPT): _rule(S.ASSIGNED, P.OFFERED_DRIVER),
    # From offering too, withdrawing the offer: the store's conditional update lets exactly one of the
    # operator and an offered driver accepting in the same instant win, and the other is told.
    (S.REQUESTED, A.ASSIGN): _rule(S.ASSIGNED, P.OPERATOR),
    (S.OFFERING, A.ASSIGN): _rule(S.ASSIGNED, P.OPERATOR),
    (S.UNASSIGNED, A.ASSIGN): _rule(S.ASSIGNED, P.OPERATOR),
    # From requested too: the first search may find nobody at all.
    (S.REQUESTED, A.MARK_UNASSIGNED): _rule(S.UNASSIGNED, P.SYSTEM, P.OPERATOR),
    (S.OFFERING, A.MARK_UNASSIGNED): _rule(S.UNASSIGNED, P.SYSTEM, P.OPERATOR),
    (S.UNASSIGNED, A.MARK_NO_DRIVER_FOUND): _rule(S.NO_DRIVER_FOUND, P.SYSTEM, P.OPERATOR),
    (S.ASSIGNED, A.ARRIVE): _rule(S.ARRIVED, P.ASSIGNED_DRIVER),
    # Drivers in traffic often skip the arrival button; the trip must still be able to start.
    (S.ASSIGNED, A.PICK_UP): _rule(S.ON_BOARD, P.ASSIGNED_DRIVER),
    (S.ARRIVED, A.PICK_UP): _rule(S.ON_BOARD, P.ASSIGNED_DRIVER),
    (S.ON_BOARD, A.COMPLETE): _rule(S.COMPLETED, P.ASSIGNED_DRIVER),
    # The operator can confirm a no-show the driver reports by phone when the app is down.
    (S.ARRIVED, A.NO_SHOW): _rule(S.NO_SHOW, P.ASSIGNED_DRIVER, P.OPERATOR),
    **{(status, A.CANCEL): _rule(S.CANCELLED, P.OPERATOR, P.CUSTOMER, P.SYSTEM, needs_reason=True)
       for status in _CANCELLABLE},
}

FINAL_STATUSES = frozenset(s for s in RideStatus if not any(src == s for src, _ in TRANSITIONS))
ACTIVE_STATUSES = frozenset(RideStatus) - FINAL_STATUSES

# What an action is called in a message a person reads.
ACTION_PHRASES: Mapping[RideAction, str] = {
    A.RELEASE: "release the pre-booking to dispatch",
    A.OFFER: "offer the ride to drivers",
    A.ACCEPT: "accept the offer",
    A.ASSIGN: "assign a driver",
    A.MARK_UNASSIGNED: "move the ride to the unassigned list",
    A.MARK_NO_DRIVER_FOUND: "close the ride as no driver found",
    A.ARRIVE: "report arrival",
    A.PICK_UP: "start the trip",
    A.COMPLETE: "complete the trip",
    A.CANCEL: "cancel the ride",
    A.NO_SHOW: "report a no-show",
}

PARTY_PHRASES: Mapping[Party, str] = {
    P.OPERATOR: "an operator",
    P.CUSTOMER: "the customer",
    P.SYSTEM: "the dispatcher",
    P.ASSIGNED_DRIVER: "the assigned driver",
    P.OFFERED_DRIVER: "the driver it is offered to",
}

_KIND_PARTY: Mapping[ActorKind, Party] = {
    ActorKind.OPERATOR: P.OPERATOR,
    ActorKind.CUSTOMER: P.CUSTOMER,
    ActorKind.SYSTEM: P.SYSTEM,
}


def is_final(status: RideStatus) -> bool:
    """Whether nothing more can happen to a ride in this status."""
    return status in FINAL_STATUSES


def is_active(status: RideStatus) -> bool:
    """Whether a ride in this status still needs dispatch, a driver or a decision."""
    return status in ACTIVE_STATUSES


def allowed_actions(status: RideStatus) -> frozenset[RideAction]:
    """List the actions a ride in this status accepts from someone."""
    return frozenset(action for src, action in TRANSITIONS if src == status)


def parties_of(actor: Actor, ride: RideState) -> frozenset[Party]:
    """Return the roles this actor plays towards this ride."""
    if actor.kind is not ActorKind.DRIVER:
        return frozenset({_KIND_PARTY[actor.kind]})
    # A driver is nobody to a ride unless it is theirs or offered to them; ids compare, never mere kind.
    relations = {P.ASSIGNED_DRIVER: ride.driver_id, P.OFFERED_DRIVER: ride.offered_to}
    return frozenset(p for p, driver in relations.items() if driver is not None and driver == actor.id)


def transition(
    ride: RideState,
    action: RideAction,
    actor: Actor,
    *,
    at: datetime,
    reason: str | None = None,
    driver_id: DriverId | None = None,
) -> tuple[RideState, RideEvent]:
    """Apply an action to a ride, returning its new state and the event to store.

    `driver_id` names the driver an offer goes to, or the one an operator assigns.
    """
    rule = TRANSITIONS.get((ride.status, action))
    phrase = ACTION_PHRASES[action]
    if rule is None:
        status_words = ride.status.value.replace("_", " ")
        message = f"Ride {ride.id} is {status_words}, so it is not possible to {phrase}."
        raise IllegalTransition(ride.id, ride.status, action, message)
    if not rule.by & parties_of(actor, ride):
        who = " or ".join(PARTY_PHRASES[p] for p in sorted(rule.by))
        raise ActorNotAllowed(ride.id, action, f"Only {who} may {phrase} on ride {ride.id}.")
    reason = (reason or "").strip() or None
    if rule.needs_reason and reason is None:
        raise ReasonRequired(f"Say why, to {phrase} on ride {ride.id}.")
    new_driver = _driver_after(ride, action, actor, driver_id)
    new_state = replace(
        ride,
        status=rule.to,
        driver_id=new_driver,
        # An offer lives only while the ride is offering; leaving that status withdraws it.
        offered_to=_offered_after(ride, action, driver_id) if rule.to is S.OFFERING else None,
    )
    event = RideEvent(
        ride_id=ride.id, action=action, from_status=ride.status, to_status=rule.to,
        actor=actor, at=at, reason=reason, driver_id=new_state.offered_to if action is A.OFFER else new_driver,
    )
    return new_state, event


def _driver_after(ride: RideState, action: RideAction, actor: Actor, driver_id: DriverId | None) -> DriverId | None:
    if action is A.ACCEPT:
        # The actor is the offered driver here: the party check above made sure of it.
        return ride.offered_to
    if action is A.ASSIGN:
        if driver_id is None:
            raise DriverRequired(f"Name the driver to assign to ride {ride.id}.")
        return driver_id
    return ride.driver_id


def _offered_after(ride: RideState, action: RideAction, driver_id: DriverId | None) -> DriverId | None:
    if action is not A.OFFER:
        return ride.offered_to
    if driver_id is None:
        raise DriverRequired(f"Name the driver to offer ride {ride.id} to.")
    return driver_id


def release_time(pickup_at: datetime, lead: timedelta = DEFAULT_RELEASE_LEAD) -> datetime:
    """When a pre-booked ride goes to dispatch: `lead` before its pickup."""
    return pickup_at - lead


def status_at_booking(pickup_at: datetime | None, now: datetime, lead: timedelta = DEFAULT_RELEASE_LEAD) -> RideStatus:
    """Return the status a new ride starts in: held as scheduled only if its release time is still ahead."""
    if pickup_at is not None and release_time(pickup_at, lead) > now:
        return S.SCHEDULED
    return S.REQUESTED


def is_due(ride: RideState, now: datetime, lead: timedelta = DEFAULT_RELEASE_LEAD) -> bool:
    """Whether a scheduled ride should be released to dispatch now."""
    if ride.status is not S.SCHEDULED:
        return False
    # A scheduled ride without a time would otherwise wait forever; dispatching it at once loses nobody.
    return ride.pickup_at is None or release_time(ride.pickup_at, lead) <= now
