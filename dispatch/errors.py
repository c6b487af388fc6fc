"""Errors of dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from taxicrm.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests

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


class InvalidPolygon(InvalidInput):
    """A zone border that cannot be used; the code names the rule it breaks (polygon_self_intersecting...)."""

    code = "invalid_polygon"


class InvalidStrategyWindow(InvalidInput):
    """A zone's strategy window that cannot be read; the message names the window."""

    code = "invalid_window"


class OverlappingWindows(InvalidStrategyWindow):
    """Two strategy windows of one zone cover the same moment, so neither could be said to be in force."""

    code = "overlapping_windows"


class ZoneNotFound(NotFound):
    """No zone has this id."""

    code = "zone_not_found"

    def __init__(self, zone_id: int | str) -> None:
        super().__init__(f"There is no zone {zone_id}.")


class ZoneCodeTaken(Conflict):
    """Another zone (active or not) already has this code."""

    code = "zone_code_taken"

    def __init__(self, code: str) -> None:
        super().__init__(f"Another zone already has the code {code}.")


class NotInZone(Conflict):
    """A driver checked in at a zone's rank from a position outside the zone."""

    code = "not_in_zone"

    def __init__(self, zone_code: str) -> None:
        super().__init__(f"Your position is not inside zone {zone_code}; drive to its rank and check in again.")


class ZoneInactive(Conflict):
    """A deactivated zone has no queue to join."""

    code = "zone_inactive"

    def __init__(self, zone_code: str) -> None:
        super().__init__(f"Zone {zone_code} has been deactivated; it has no queue.")


class InvalidTariff(InvalidInput):
    """A tariff document that cannot be priced from; the message names the field, the code the rule it breaks."""

    code = "invalid_tariff"


class OverlappingSchedules(InvalidTariff):
    """Two schedules of the same shape would both apply at one moment, so a fare would count the moment twice."""

    code = "overlapping_schedules"

    def __init__(self, first: str, second: str, when: str) -> None:
        super().__init__(f"Schedules '{first}' and '{second}' overlap: both would apply {when}. Change their days "
                         "or hours, or merge them into one schedule.")
        self.first, self.second, self.when = first, second, when


class InvalidHoliday(InvalidInput):
    """A holiday list that cannot be stored; the message names the entry."""

    code = "invalid_holiday"


class TariffNotFound(NotFound):
    """No tariff (or no version of it) has this code."""

    code = "tariff_not_found"

    def __init__(self, tariff_code: str, version: int | None = None) -> None:
        which = f"version {version} of tariff '{tariff_code}'" if version is not None else f"tariff '{tariff_code}'"
        super().__init__(f"There is no {which}.")


class TariffOverlap(Conflict):
    """A new tariff version would be in force while another version for the same vehicle class is."""

    code = "tariff_overlap"

    def __init__(self, vehicle_class: str, other_code: str, other_version: int, other_from: datetime,
                 other_until: datetime | None) -> None:
        until = f"until {other_until.isoformat()}" if other_until else "with no end"
        super().__init__(f"Tariff '{other_code}' version {other_version} already prices {vehicle_class} rides from "
                         f"{other_from.isoformat()} {until}; a vehicle class has one tariff at a time.")
        self.other_code, self.other_version = other_code, other_version


class TariffClassChanged(Conflict):
    """A new version names another vehicle class than its tariff has."""

    code = "tariff_vehicle_class_changed"

    def __init__(self, tariff_code: str, vehicle_class: str) -> None:
        super().__init__(f"Tariff '{tariff_code}' prices {vehicle_class} rides; publish a tariff with another code "
                         "for another vehicle class.")


class TariffVersionStarted(Conflict):
    """Withdrawing a version that is already (or was) in force: it may have priced rides."""

    code = "tariff_version_started"

    def __init__(self, tariff_code: str, version: int) -> None:
        super().__init__(f"Version {version} of tariff '{tariff_code}' has already taken effect and may have priced "
                         "rides; publish a new version instead.")


class TariffVersionWithdrawn(Conflict):
    """Withdrawing a version that was already withdrawn."""

    code = "tariff_version_withdrawn"

    def __init__(self, tariff_code: str, version: int) -> None:
        super().__init__(f"Version {version} of tariff '{tariff_code}' was already withdrawn.")


class OfferNotFound(NotFound):
    """No offer with this id was made to this driver (someone else's offers are not found either)."""

    code = "offer_not_found"

    def __init__(self, offer_id: int) -> None:
        super().__init__(f"You have no offer {offer_id}.")


class OfferClosed(Conflict):
    """The offer was answered, timed out or withdrawn before this answer came."""

    def __init__(self, offer_id: int, how: str) -> None:
        words = {"expired": "timed out", "lost": "timed out", "withdrawn": "was withdrawn"}.get(how, "was answered")
        super().__init__(f"Offer {offer_id} {words}; it can no longer be answered.",
                         code=_OFFER_CLOSED_CODES.get(how, "offer_closed"))
        self.how = how


# Stable codes by how the offer ended, so the app can tell the driver the right thing.
_OFFER_CLOSED_CODES = {"expired": "offer_expired", "lost": "offer_expired", "withdrawn": "offer_withdrawn",
                       "declined": "offer_already_answered", "accepted": "offer_already_answered"}


class DriverBusy(Conflict):
    """The driver already holds an offer or drives a ride."""

    code = "driver_busy"


class DriverNotDispatchable(Conflict):
    """The driver may not take rides (suspended)."""

    code = "driver_not_dispatchable"


class OutsideServiceArea(InvalidInput):
    """A position far outside the service area: a broken GPS or a typing mistake."""

    code = "outside_service_area"


# The customer page's errors: a customer reads them, so none names a ride, a person or a note of the center's.

class MobileRequired(InvalidInput):
    """The customer page books for mobile numbers only: the driver must be able to reach the passenger."""

    code = "mobile_required"

    def __init__(self) -> None:
        super().__init__("Enter a mobile number, such as 0912 345 6789: the driver may need to call you.")


class PickupPositionRequired(InvalidInput):
    """A self-service pickup needs a point on the map: no operator is there to ask where it is."""

    code = "pickup_position_required"

    def __init__(self) -> None:
        super().__init__("Put the pickup on the map (or use your location) so that a driver can find you.")


class TooManyBookings(TooManyRequests):
    """One phone or one address booked as often as the customer page allows in an hour."""

    code = "too_many_bookings"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many bookings from this number or this connection; try again later, or call the "
                         "center.", retry_after=retry_after)


class TooManyQuotes(TooManyRequests):
    """One address asked for quotes faster than a person could read them."""

    code = "too_many_quotes"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many fare quotes from this connection; wait a moment and try again.",
                         retry_after=retry_after)


class TrackingNotFound(NotFound):
    """No ride has this tracking token."""

    code = "tracking_not_found"

    def __init__(self) -> None:
        super().__init__("This tracking link is not valid. Check the link, or call the center.")


class BookingRefused(Conflict):
    """The phone belongs to a subscriber the center has blocked; the reason stays with the center."""

    code = "booking_refused"

    def __init__(self) -> None:
        super().__init__("This number cannot book online; please call the center.")


class CustomerRideUnderWay(Conflict):
    """The phone's rider already has a ride under way."""

    code = "active_ride_exists"

    def __init__(self) -> None:
        super().__init__("This number already has a ride under way: follow it on the page you booked it from, "
                         "or call the center.")


class BookingKeyReused(Conflict):
    """The page sent the same Idempotency-Key with another booking."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("This booking was already sent with other details; reload the page and book again.")


class NotCancellable(Conflict):
    """The ride is past the point where the customer may cancel it (aboard, or over)."""

    code = "not_cancellable"

    def __init__(self, status: str) -> None:
        super().__init__(f"The ride can no longer be cancelled online: it is {status.replace('_', ' ')}.")
