"""Errors of the subscriber records."""

from __future__ import annotations

from taxicrm.errors import InvalidInput, NotFound


class InvalidPhone(InvalidInput):
    """A phone number that cannot be normalized; the message quotes it and says why."""

    code = "invalid_phone"

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"'{raw}' is not a usable phone number: {reason}.")
        self.reason = reason


class SubscriberNotFound(NotFound):
    """No subscriber has this id."""

    code = "subscriber_not_found"

    def __init__(self, subscriber_id: int) -> None:
        super().__init__(f"There is no subscriber {subscriber_id}.")
