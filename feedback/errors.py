"""Errors of feedback: unknown categories, links that do not fit, steps the workflow does not allow."""

from __future__ import annotations

from feedback.model import ComplaintStatus
from taxicrm.errors import Conflict, InvalidInput, NotFound


class ComplaintNotFound(NotFound):
    """No complaint has this id."""

    code = "complaint_not_found"

    def __init__(self, complaint_id: int) -> None:
        super().__init__(f"There is no complaint {complaint_id}.")


class UnknownCategory(InvalidInput):
    """The category is not in the center's taxonomy."""

    code = "unknown_category"

    def __init__(self, code: str) -> None:
        super().__init__(f"There is no complaint category {code[:40]!r}.")


class RetiredCategory(InvalidInput):
    """The category was retired: its complaints stay, new ones go elsewhere."""

    code = "retired_category"

    def __init__(self, code: str) -> None:
        super().__init__(f"The complaint category {code!r} is no longer used; choose another.")


class LinksDisagree(InvalidInput):
    """A link given with the complaint contradicts what its ride says."""

    code = "links_disagree"

    def __init__(self, name: str, asked: int, known: int) -> None:
        super().__init__(f"'{name}' is {asked}, but the ride's is {known}; leave it out or correct it.")


class LinkNotFound(NotFound):
    """A record the complaint names (a call, a driver, an operator) does not exist; the code names which."""

    def __init__(self, what: str, record_id: int) -> None:
        super().__init__(f"There is no {what} {record_id}.", code=f"{what}_not_found")


class IllegalStatusChange(Conflict):
    """The workflow does not lead from the complaint's status to the one asked for."""

    code = "illegal_status_change"

    def __init__(self, current: ComplaintStatus, wanted: ComplaintStatus) -> None:
        super().__init__(f"A {current.value} complaint cannot become {wanted.value}.")
        self.current = current
        self.wanted = wanted
