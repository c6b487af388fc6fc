"""Records of the call center's staff accounts and their sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NewType

UserId = NewType("UserId", int)


@dataclass(frozen=True)
class StaffUser:
    """An operator, supervisor or admin who logs in to the console."""

    id: UserId
    username: str
    display_name: str
    role: str
    extension: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the token goes to the client once and is stored only as a hash."""

    token: str
    user: StaffUser
    expires_at: datetime
