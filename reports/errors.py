"""Errors of reports: periods and options a report cannot be asked for."""

from __future__ import annotations

from taxicrm.errors import InvalidInput


class InvalidDate(InvalidInput):
    """A date is not a calendar date written YYYY-MM-DD."""

    code = "invalid_date"

    def __init__(self, name: str, raw: str) -> None:
        super().__init__(f"'{name}' must be a date written YYYY-MM-DD, not {raw[:20]!r}.")


class InvertedRange(InvalidInput):
    """The period ends before it starts."""

    code = "inverted_range"

    def __init__(self) -> None:
        super().__init__("'from' must not be after 'to'.")


class RangeTooLong(InvalidInput):
    """The period is longer than a report may cover."""

    code = "range_too_long"

    def __init__(self, days: int, most: int) -> None:
        super().__init__(f"A report covers at most {most} days; this period has {days}.")


class InvalidOption(InvalidInput):
    """A query parameter is not one of its choices, or out of its range."""

    code = "invalid_option"
