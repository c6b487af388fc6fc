"""The rules of ratings: 1 to 5 stars for a completed ride, an optional comment, and whose ride a token names."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from feedback.errors import LinksDisagree, NotYourRide, RatingOutOfRange, RideNotCompleted
from feedback.model import NewRating, RatedRide, RatingRequest
from subscribers.text import clean_text
from taxicrm.errors import InvalidInput

LOWEST: Final = 1
HIGHEST: Final = 5
MAX_COMMENT: Final = 1000
# dispatch's RideStatus.COMPLETED: only a ride that was driven to its end is rated.
COMPLETED: Final = "completed"


def check_value(value: object) -> int:
    """Return the number of stars if it is a whole number from 1 to 5; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not LOWEST <= value <= HIGHEST:
        raise RatingOutOfRange(value)
    return value


def check_rateable(ride: RatedRide) -> int:
    """Return the driver of a completed ride; raise unless the ride is completed."""
    if ride.status != COMPLETED or ride.driver_id is None:
        raise RideNotCompleted(ride.ride_id, ride.status)
    return ride.driver_id


def check_same_ride(token_ride_id: int, asked_ride_id: int | None) -> None:
    """Raise if the page asks about another ride than the one its token names."""
    if asked_ride_id is not None and asked_ride_id != token_ride_id:
        raise NotYourRide()


def clean_comment(raw: str | None) -> str | None:
    """Tidy an optional comment as typed; blank is none."""
    text = clean_text(raw or "")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"'comment' is longer than {MAX_COMMENT} characters.", code="too_long")
    return text or None


def new_rating(ride: RatedRide, request: RatingRequest, at: datetime) -> NewRating:
    """Validate a rating of a completed ride as given; a caller named on a follow-up call must be the ride's."""
    driver_id = check_rateable(ride)
    if request.subscriber_id is not None and request.subscriber_id != ride.subscriber_id:
        raise LinksDisagree("subscriber_id", request.subscriber_id, ride.subscriber_id)
    return NewRating(ride=ride, driver_id=driver_id, value=check_value(request.value),
                     comment=clean_comment(request.comment), channel=request.channel, entered_by=request.entered_by,
                     call_id=request.call_id, at=at)
