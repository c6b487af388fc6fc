"""Errors of dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from taxicrm.errors import Conflict, Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:
    from dispatch.model import Ride


class DriverNotFound(NotFound):
    """No driver has this id."""

    code = "driver_not_found"

    def __init__(self, driver_id: int) -> None:
        super().__init__(f"There is no driver {driver_id}.")


class IllegalTransition(Conflict):
    """The ride's status does not allow this action."""

    code = "illegal_transition"

    def __init__(self, ride_id: int, ride_status: str, action: str, message: str) -> None:
        super().__init__(message)
        # Not `status`: that attribute is the HTTP status every DomainError carries.
        self.ride_id, self.ride_status, self.action = ride_id, ride_status, action


class ActorNotAllowed(Forbidden):
    """The action is possible in the ride's status, but not for this actor."""

    code = "actor_not_allowed"

    def __init__(self, ride_id: int, action: str, message: str) -> None:
        super().__init__(message)
        self.ride_id, self.action = ride_id, action


class ReasonRequired(InvalidInput):
    """An action that must say why (a cancellation) came without a reason."""

    code = "reason_required"


class DriverRequired(InvalidInput):
    """Assigning a ride by hand must name the driver."""

    code = "driver_required"


class NoTariffInForce(Conflict):
    """No tariff version covers the moment a trip is priced."""

    code = "no_tariff_in_force"

    def __init__(self, at: datetime) -> None:
        super().__init__(f"No tariff is in force at {at.isoformat()}.")


class InvalidPlate(InvalidInput):
    """A vehicle plate that cannot be read; the message quotes it and says why."""

    code = "invalid_plate"

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"'{raw}' is not a usable plate: {reason}.")
        self.reason = reason


class InvalidCoordinates(InvalidInput):
    """A position outside the ranges a map (and Redis GEO) can hold."""

    code = "invalid_coordinates"


class DriverPhoneTaken(Conflict):
    """Another driver already has this phone number."""

    code = "driver_phone_taken"

    def __init__(self, phone: str) -> None:
        super().__init__(f"Another driver already has the phone number {phone}.")


class DriverAlreadySuspended(Conflict):
    """Suspending a driver who is already suspended."""

    code = "driver_already_suspended"

    def __init__(self, driver_id: int) -> None:
        super().__init__(f"Driver {driver_id} is already suspended.")


class DriverNotSuspended(Conflict):
    """Reinstating a driver who is not suspended."""

    code = "driver_not_suspended"

    def __init__(self, driver_id: int) -> None:
        super().__init__(f"Driver {driver_id} is not suspended.")


class RideNotFound(NotFound):
    """No ride has this id."""

    code = "ride_not_found"

    def __init__(self, ride_id: int) -> None:
        super().__init__(f"There is no ride {ride_id}.")


class ActiveRideExists(Conflict):
    """The caller already has a ride under way; booking another must be confirmed."""

    code = "active_ride_exists"

    def __init__(self, ride: Ride) -> None:
        when = f" for {ride.pickup_at.isoformat()}" if ride.pickup_at else ""
        super().__init__(f"This caller already has ride {ride.id} ({ride.status.value.replace('_', ' ')}{when}, "
                         f"from {ride.pickup.text}). Confirm to book another.")
        self.ride_id = ride.id


class RideChanged(Conflict):
    """Someone changed the ride between reading and writing it; reload and try again."""

    code = "ride_changed"

    def __init__(self, ride_id: int) -> None:
        super().__init__(f"Ride {ride_id} was changed by someone else just now; reload it and try again.")


class IdempotencyKeyReused(Conflict):
    """An idempotency key came back with a different booking than the one it booked."""

    code = "idempotency_key_reused"

    def __init__(self, ride_id: int) -> None:
        super().__init__(f"This Idempotency-Key already booked ride {ride_id} with other details; "
                         "use a new key for a new booking.")


class SubscriberBlocked(Conflict):
    """The subscriber is blocked; booking for them must be confirmed."""

    code = "subscriber_blocked"

    def __init__(self, subscriber_id: int, reason: str | None) -> None:
        super().__init__(f"Subscriber {subscriber_id} is blocked: {reason or 'no reason given'}. "
                         "Confirm to book anyway.")


class CallNotFound(NotFound):
    """The call a booking names does not exist."""

    code = "call_not_found"

    def __init__(self, call_id: int) -> None:
        super().__init__(f"There is no call {call_id}.")
