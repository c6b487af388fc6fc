"""The realtime domain's errors."""

from __future__ import annotations

from taxicrm.errors import DomainError


class RealtimeUnavailable(DomainError):
    """The event bus cannot be reached, so a live connection could not promise to miss nothing."""

    status = 503
    code = "realtime_unavailable"
