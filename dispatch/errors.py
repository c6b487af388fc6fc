"""Errors of dispatch."""

from __future__ import annotations

from taxicrm.errors import NotFound


class DriverNotFound(NotFound):
    """No driver has this id."""

    code = "driver_not_found"

    def __init__(self, driver_id: int) -> None:
        super().__init__(f"There is no driver {driver_id}.")
