"""Records of drivers, as far as the foundation needs them: identity, status and app tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
