"""Supervisor announcements to the floor or to every driver, carried as events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from taxicrm.auth import Principal
from taxicrm.errors import InvalidInput
from taxicrm.events import DRIVERS, OPERATORS, SUPERVISORS, Event

BROADCAST_SENT = "broadcast.sent"
MAX_MESSAGE_LENGTH = 500


class BroadcastAudience(StrEnum):
    """Who an announcement is for; supervisors hear the operators' announcements too."""

    OPERATORS = OPERATORS
    SUPERVISORS = SUPERVISORS
    # Every driver's app shows it as a message from the center (roadworks, a demand surge).
    DRIVERS = DRIVERS


def broadcast_sent(message: str, audience_name: str, sender: Principal, at: datetime) -> Event:
    """Build the event announcing `message` to the named audience, signed by its sender.

    Raises InvalidInput for an empty message or an audience that is not one of BroadcastAudience.
    """
    message = message.strip()
    if not message:
        raise InvalidInput("'message' must not be empty.", code="empty_field")
    try:
        audience = BroadcastAudience(audience_name)
    except ValueError:
        choices = ", ".join(a.value for a in BroadcastAudience)
        raise InvalidInput(f"'audience' must be one of: {choices}.", code="invalid_choice") from None
    return Event(
        topic=BROADCAST_SENT,
        audiences=(str(audience),),
        data={
            "message": message,
            "audience": str(audience),
            "sender": {"id": sender.id, "name": sender.name, "role": str(sender.role)},
            "sent_at": at.isoformat(),
        },
    )
