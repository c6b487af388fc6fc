"""The SLA clocks of a complaint: when its first response and its resolution fall due, and whether it is late.

Both clocks start when the complaint is opened; their targets depend on its priority (TAXICRM_COMPLAINT_*).
The first response is the first thing staff do with the case after opening it (assign, comment, change its
status); the resolution is its close (resolved, rejected or duplicate). Praise runs no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from feedback.model import Complaint, Kind, Priority


@dataclass(frozen=True)
class SlaPolicy:
    """How soon a complaint of each priority must get its first response and its resolution."""

    first_response: Mapping[Priority, timedelta]
    resolution: Mapping[Priority, timedelta]

    @classmethod
    def from_settings(cls, first_response_minutes: Mapping[str, int], resolution_hours: Mapping[str, int]
                      ) -> SlaPolicy:
        """Build the policy from the settings' per-priority minutes and hours."""
        return cls(first_response={Priority(p): timedelta(minutes=m) for p, m in first_response_minutes.items()},
                   resolution={Priority(p): timedelta(hours=h) for p, h in resolution_hours.items()})


class ClockState(StrEnum):
    """Where one clock stands."""

    RUNNING = "running"  # not met, not yet due
    OVERDUE = "overdue"  # not met, past due
    MET = "met"  # met in time
    BREACHED = "breached"  # met, but late


@dataclass(frozen=True)
class Clock:
    """One SLA clock: when it falls due, when it was met (if it was), and so where it stands."""

    due_at: datetime
    met_at: datetime | None
    state: ClockState


def due_times(policy: SlaPolicy | None, kind: Kind, priority: Priority, opened_at: datetime
              ) -> tuple[datetime | None, datetime | None]:
    """Return when a new case's first response and resolution fall due; none for praise or without a policy."""
    if policy is None or kind is Kind.PRAISE:
        return None, None
    return opened_at + policy.first_response[priority], opened_at + policy.resolution[priority]


def clock(due_at: datetime | None, met_at: datetime | None, now: datetime) -> Clock | None:
    """Return where a clock stands at `now`; None where the case runs no such clock."""
    if due_at is None:
        return None
    if met_at is None:
        return Clock(due_at, None, ClockState.OVERDUE if now > due_at else ClockState.RUNNING)
    return Clock(due_at, met_at, ClockState.BREACHED if met_at > due_at else ClockState.MET)


def first_response_clock(complaint: Complaint, now: datetime) -> Clock | None:
    """Return the first-response clock of a case."""
    return clock(complaint.first_response_due, complaint.first_response_at, now)


def resolution_clock(complaint: Complaint, now: datetime) -> Clock | None:
    """Return the resolution clock of a case; reopening a case sets it running again against its old deadline."""
    return clock(complaint.resolution_due, complaint.closed_at, now)


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    """Tell whether either clock of the case is past due and not met."""
    return any(c is not None and c.state is ClockState.OVERDUE
               for c in (first_response_clock(complaint, now), resolution_clock(complaint, now)))
