"""Supervisor announcements to the floor, carried as events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from taxicrm.auth import Principal
from taxicrm.events import OPERATORS, SUPERVISORS, Event

BROADCAST_SENT = "broadcast.sent"
MAX_MESSAGE_LENGTH = 500


class BroadcastAudience(StrEnum):
    """Who an announcement is for; supervisors hear the operators' announcements too."""

    OPERATORS = OPERATORS
    SUPERVISORS = SUPERVISORS


def broadcast_sent(message: str, audience: BroadcastAudience, sender: Principal, at: datetime) -> Event:
    """Build the event announcing `message` to `audience`, signed by its sender."""
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
