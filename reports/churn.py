"""What last happened to a customer who stopped riding: a complaint, a ride nobody took or cancelled, or a ride."""

from __future__ import annotations

from datetime import datetime

from reports.model import LastEvent

# A ride's outcome as the kind of event it was for the customer.
_LETDOWN_KINDS = {"no_driver": "no_driver", "cancelled": "cancelled", "cancelled_waiting": "cancelled"}


def last_event(last_ride_at: datetime, letdown: tuple[str, datetime] | None,
               complaint: tuple[str, datetime] | None) -> LastEvent:
    """Return the latest of the last ride, the last letdown (outcome, when) and the last complaint (category, when).

    At the same moment a complaint says most, then a letdown: they are what may have sent the customer away.
    """
    candidates = [(last_ride_at, 0, LastEvent("ride", last_ride_at, None))]
    if letdown is not None:
        outcome, at = letdown
        candidates.append((at, 1, LastEvent(_LETDOWN_KINDS[outcome], at, outcome)))
    if complaint is not None:
        category, at = complaint
        candidates.append((at, 2, LastEvent("complaint", at, category)))
    return max(candidates, key=lambda c: (c[0], c[1]))[2]
