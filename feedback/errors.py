"""Errors of feedback: unknown categories, links that do not fit, steps the workflow does not allow, bad ratings."""

from __future__ import annotations

from feedback.model import ComplaintStatus
from taxicrm.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


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

    def __init__(self, name: str, asked: int, known: int | None) -> None:
        theirs = "none" if known is None else known
        super().__init__(f"'{name}' is {asked}, but the ride's is {theirs}; leave it out or correct it.")


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


class ComplaintChanged(Conflict):
    """Someone changed the case since the caller last saw it."""

    code = "complaint_changed"

    def __init__(self, complaint_id: int, version: int) -> None:
        super().__init__(f"Complaint {complaint_id} was changed meanwhile (it is at version {version}); "
                         "look at it again before changing it.")


class CaseClosed(Conflict):
    """A closed case takes comments but no other change until it is reopened."""

    code = "case_closed"

    def __init__(self, status: ComplaintStatus) -> None:
        super().__init__(f"The case is {status.value}; reopen it (make it pending) first.")


class AlreadyAssigned(Conflict):
    """The case is already with the person asked for."""

    code = "already_assigned"

    def __init__(self, assignee_id: int) -> None:
        super().__init__(f"The case is already assigned to staff member {assignee_id}.")


class AssigneeNotFound(NotFound):
    """No active staff account has this id."""

    code = "assignee_not_found"

    def __init__(self, user_id: int) -> None:
        super().__init__(f"There is no active staff member {user_id} to assign the case to.")


class StepIncomplete(InvalidInput):
    """A workflow step lacks what it needs, or carries what it must not; the code says which."""


class NotYourCase(Forbidden):
    """Only supervisors, admins and the case's assignee move a case along its workflow."""

    code = "not_your_case"

    def __init__(self) -> None:
        super().__init__("Only a supervisor, an admin or the person the case is assigned to may do this.")


class SuspensionNeedsAdmin(Forbidden):
    """Suspending a driver is an admin's decision, from a complaint as from the driver's record."""

    code = "suspension_needs_admin"

    def __init__(self) -> None:
        super().__init__("Only an admin may resolve a complaint by suspending the driver.")


class CategoryExists(Conflict):
    """A category with this code exists (perhaps retired: reinstate it instead)."""

    code = "category_exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"There is already a category {code!r}; rename or reinstate it instead.")


class CategoryNotFound(NotFound):
    """No category has this code."""

    code = "category_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(f"There is no category {code[:40]!r}.")


class RatingOutOfRange(InvalidInput):
    """A rating is a whole number of stars from 1 to 5."""

    code = "rating_out_of_range"

    def __init__(self, value: object) -> None:
        super().__init__(f"A rating is a whole number from 1 to 5, not {str(value)[:20]!r}.")


class RideNotCompleted(Conflict):
    """Only a completed ride is rated (or gets a rating link)."""

    code = "ride_not_completed"

    def __init__(self, ride_id: int, status: str) -> None:
        super().__init__(f"Ride {ride_id} is {status.replace('_', ' ')}: only a completed ride can be rated.")


class NotYourRide(Forbidden):
    """The token names another ride than the one asked about."""

    code = "not_your_ride"

    def __init__(self) -> None:
        super().__init__("This link is for another ride.")


class RatingLinkInvalid(NotFound):
    """The token is not one we issued (mistyped, cut short, or forged)."""

    code = "rating_link_invalid"

    def __init__(self) -> None:
        super().__init__("This rating link is not valid.")


class RatingLinkExpired(DomainError):
    """The link was good but its time is up."""

    status = 410
    code = "rating_link_expired"

    def __init__(self) -> None:
        super().__init__("This rating link has expired; the center can send a new one.")


class TooManyCustomerReports(Conflict):
    """A customer has reported enough about one ride; the center follows those up (by phone for anything more)."""

    code = "too_many_reports"

    def __init__(self, most: int) -> None:
        super().__init__(f"You have already sent {most} reports about this trip; the center will contact you. "
                         "Please call the center for anything more.")
