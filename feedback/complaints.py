"""The rules of complaints: what a valid one is, how its links combine, and the workflow of a case."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from feedback.errors import (
    AlreadyAssigned,
    CaseClosed,
    ComplaintChanged,
    IllegalStatusChange,
    LinksDisagree,
    NotYourCase,
    RetiredCategory,
    StepIncomplete,
    SuspensionNeedsAdmin,
    TooManyCustomerReports,
    UnknownCategory,
)
from feedback.model import (
    Category,
    Complaint,
    ComplaintId,
    ComplaintRequest,
    ComplaintStatus,
    Kind,
    Links,
    NewComplaint,
    Outcome,
    StatusChange,
    StatusRequest,
    Triage,
    TriageRequest,
)
from feedback.sla import SlaPolicy, due_times
from subscribers.text import clean_text
from taxicrm.auth import Role
from taxicrm.errors import InvalidInput

MAX_DESCRIPTION: Final = 4000
MAX_COMMENT: Final = 4000
MAX_OUTCOME_NOTE: Final = 2000
# How many cases a customer may open about one ride from the customer page or a rating link.
MAX_CUSTOMER_REPORTS_PER_RIDE: Final = 3
OPEN_STATUSES: Final = frozenset({ComplaintStatus.NEW, ComplaintStatus.ASSIGNED, ComplaintStatus.PENDING})
CLOSED_STATUSES: Final = frozenset(ComplaintStatus) - OPEN_STATUSES

_NEW, _ASSIGNED, _PENDING = ComplaintStatus.NEW, ComplaintStatus.ASSIGNED, ComplaintStatus.PENDING
_CLOSE = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.REJECTED, ComplaintStatus.DUPLICATE})
# From each status, where a case may go next. A closed case that needs more work is reopened as pending, so
# whoever picks it up sees it was closed once.
TRANSITIONS: Final[Mapping[ComplaintStatus, frozenset[ComplaintStatus]]] = {
    _NEW: _CLOSE | {_ASSIGNED, _PENDING},
    _ASSIGNED: _CLOSE | {_PENDING},
    _PENDING: _CLOSE | {_ASSIGNED},
    ComplaintStatus.RESOLVED: frozenset({_PENDING}),
    ComplaintStatus.REJECTED: frozenset({_PENDING}),
    ComplaintStatus.DUPLICATE: frozenset({_PENDING}),
}


# How a case may end, by its kind: praise is passed on (or not); only a complaint warns, refunds or suspends.
OUTCOMES: Final[Mapping[Kind, frozenset[Outcome]]] = {
    Kind.COMPLAINT: frozenset({Outcome.NO_ACTION, Outcome.WARNING, Outcome.REFUND, Outcome.DRIVER_SUSPENDED}),
    Kind.PRAISE: frozenset({Outcome.NO_ACTION, Outcome.COMMENDED}),
}
# Who moves any case along its workflow; others move only the cases assigned to them.
CASE_HANDLERS: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})


def check_transition(current: ComplaintStatus, wanted: ComplaintStatus) -> None:
    """Raise unless the workflow leads from `current` to `wanted`."""
    if wanted not in TRANSITIONS[current]:
        raise IllegalStatusChange(current, wanted)


def check_category(code: str, found: Category | None) -> Category:
    """Return the category a new complaint may use, or raise saying why not."""
    if found is None:
        raise UnknownCategory(code)
    if not found.is_active:
        raise RetiredCategory(code)
    return found


def check_customer_report(code: str, found: Category | None, earlier_reports: int) -> Category:
    """Return the category a customer's report about a ride may use, or raise.

    Customers report complaints (their praise comes as a rating), a few per ride.
    """
    category = check_category(code, found)
    if category.kind is not Kind.COMPLAINT:
        raise InvalidInput(f"{code!r} is not a complaint category.", code="category_kind_mismatch")
    if earlier_reports >= MAX_CUSTOMER_REPORTS_PER_RIDE:
        raise TooManyCustomerReports(MAX_CUSTOMER_REPORTS_PER_RIDE)
    return category


def clean_body(raw: str, name: str, max_length: int) -> str:
    """Tidy a description or comment as typed; raise if nothing is left or it is too long."""
    text = clean_text(raw)
    if not text:
        raise InvalidInput(f"'{name}' must not be empty.", code="missing_field")
    if len(text) > max_length:
        raise InvalidInput(f"'{name}' is longer than {max_length} characters.", code="too_long")
    return text


def combine_links(asked: Links, known: Links) -> Links:
    """Fill the links not given from what is known (a ride's subscriber and driver); a contradiction is refused.

    A walk-in ride has no subscriber, so one given with it stands; a ride with no driver yet leaves the driver open.
    """
    combined: dict[str, int | None] = {}
    for name in (f.name for f in dataclasses.fields(Links)):
        mine, theirs = getattr(asked, name), getattr(known, name)
        if mine is not None and theirs is not None and mine != theirs:
            raise LinksDisagree(name, mine, theirs)
        combined[name] = mine if mine is not None else theirs
    return Links(**combined)


def new_complaint(request: ComplaintRequest, category: Category, links: Links, opened_by: int | None,
                  at: datetime, policy: SlaPolicy | None = None) -> NewComplaint:
    """Validate a complaint (or praise) as asked; its priority defaults to its category's, its clocks start now."""
    description = clean_body(request.description, "description", MAX_DESCRIPTION)
    priority = request.priority or category.default_priority
    first_response_due, resolution_due = due_times(policy, category.kind, priority, at)
    return NewComplaint(category=category.code, priority=priority, channel=request.channel, description=description,
                        links=links, opened_by=opened_by, at=at, kind=category.kind,
                        first_response_due=first_response_due, resolution_due=resolution_due)


def check_version(complaint: Complaint, expected: int | None) -> None:
    """Raise if the caller acted on an older version of the case than the one stored."""
    if expected is not None and expected != complaint.version:
        raise ComplaintChanged(complaint.id, complaint.version)


def check_may_handle(role: Role, user_id: int, complaint: Complaint) -> None:
    """Raise unless this staff member may move the case along: a supervisor, an admin or its assignee."""
    if role not in CASE_HANDLERS and complaint.assignee_id != user_id:
        raise NotYourCase()


def plan_assignment(complaint: Complaint, assignee_id: int) -> ComplaintStatus:
    """Return the status a case takes when given to `assignee_id`: a new case becomes assigned, others keep theirs."""
    if complaint.status in CLOSED_STATUSES:
        raise CaseClosed(complaint.status)
    if complaint.assignee_id == assignee_id:
        raise AlreadyAssigned(assignee_id)
    return ComplaintStatus.ASSIGNED if complaint.status is ComplaintStatus.NEW else complaint.status


def plan_triage(complaint: Complaint, asked: TriageRequest, category: Category | None, policy: SlaPolicy | None
                ) -> Triage:
    """Check a re-triage of an open case and return what it sets; `category` is the one asked for, if any.

    The new category must be usable and of the case's kind (praise does not become a complaint by re-filing it:
    open a new case). A new priority moves both SLA clocks, still counted from the case's opening; a clock already
    met stays met.
    """
    if complaint.status in CLOSED_STATUSES:
        raise CaseClosed(complaint.status)
    if asked.category is None and asked.priority is None:
        raise InvalidInput("Give a new 'category' or 'priority'.", code="missing_field")
    new_category = complaint.category if asked.category is None else check_category(asked.category, category)
    if new_category.kind is not complaint.kind:
        raise InvalidInput(f"A {complaint.kind.value} stays a {complaint.kind.value}: {new_category.code!r} is a "
                           f"{new_category.kind.value} category.", code="category_kind_mismatch")
    priority = asked.priority or complaint.priority
    if new_category.code == complaint.category.code and priority is complaint.priority:
        raise InvalidInput("The case already has this category and priority.", code="nothing_to_change")
    first_response_due, resolution_due = due_times(policy, complaint.kind, priority, complaint.created_at)
    comment = None if asked.comment is None else clean_body(asked.comment, "comment", MAX_COMMENT)
    return Triage(category=new_category, priority=priority, first_response_due=first_response_due,
                  resolution_due=resolution_due, comment=comment)


def plan_status_change(complaint: Complaint, asked: StatusRequest, role: Role, now: datetime) -> StatusChange:
    """Check one step of the workflow with what it needs, and return what it sets.

    Resolving needs an outcome that fits the case's kind (suspending needs an admin and a driver on the case);
    marking a duplicate needs the case it duplicates. Reopening clears the outcome: the history keeps it.
    """
    wanted = asked.status
    check_transition(complaint.status, wanted)
    if wanted is ComplaintStatus.ASSIGNED and complaint.assignee_id is None:
        raise StepIncomplete("Assign the case to someone to make it assigned.", code="assignee_required")
    outcome = _outcome(complaint, asked, role)
    note = None if asked.outcome_note is None else clean_body(asked.outcome_note, "outcome_note", MAX_OUTCOME_NOTE)
    if note is not None and outcome is None:
        raise StepIncomplete("An outcome note goes with an outcome.", code="outcome_only_when_resolving")
    duplicate_of = _duplicate_of(complaint, asked)
    comment = None if asked.comment is None else clean_body(asked.comment, "comment", MAX_COMMENT)
    return StatusChange(from_status=complaint.status, to_status=wanted, comment=comment, outcome=outcome,
                        outcome_note=note, duplicate_of=duplicate_of,
                        closed_at=now if wanted in CLOSED_STATUSES else None)


def _outcome(complaint: Complaint, asked: StatusRequest, role: Role) -> Outcome | None:
    if asked.status is not ComplaintStatus.RESOLVED:
        if asked.outcome is not None:
            raise StepIncomplete("Only resolving a case sets its outcome.", code="outcome_only_when_resolving")
        return None
    outcome = asked.outcome
    if outcome is None:
        raise StepIncomplete("Say what was done: resolving a case needs an outcome.", code="outcome_required")
    if outcome not in OUTCOMES[complaint.kind]:
        allowed = ", ".join(sorted(o.value for o in OUTCOMES[complaint.kind]))
        raise StepIncomplete(f"A {complaint.kind.value} ends with one of {allowed}, not {outcome.value}.",
                             code="outcome_not_for_kind")
    if outcome is Outcome.DRIVER_SUSPENDED:
        if complaint.links.driver_id is None:
            raise StepIncomplete("The complaint names no driver to suspend.", code="no_driver_to_suspend")
        if role is not Role.ADMIN:
            raise SuspensionNeedsAdmin()
    return outcome


def _duplicate_of(complaint: Complaint, asked: StatusRequest) -> ComplaintId | None:
    if asked.status is not ComplaintStatus.DUPLICATE:
        if asked.duplicate_of is not None:
            raise StepIncomplete("'duplicate_of' goes only with the duplicate status.", code="duplicate_of_unexpected")
        return None
    if asked.duplicate_of is None:
        raise StepIncomplete("Say which case this one duplicates ('duplicate_of').", code="duplicate_of_required")
    if asked.duplicate_of == complaint.id:
        raise StepIncomplete("A case cannot duplicate itself.", code="duplicate_of_itself")
    return ComplaintId(asked.duplicate_of)



def wanted_statuses(statuses: frozenset[ComplaintStatus], is_open: bool | None) -> frozenset[ComplaintStatus]:
    """Combine a list's status filter with its open / closed filter; an empty result means any status."""
    if is_open is None:
        return statuses
    side = OPEN_STATUSES if is_open else CLOSED_STATUSES
    wanted = statuses & side if statuses else side
    if not wanted:
        raise InvalidInput("No status is both among those asked for and " + ("open." if is_open else "closed."),
                           code="contradictory_filter")
    return wanted

