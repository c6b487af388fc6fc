"""The workflow of a case as pure rules: what each step needs, who may take it, and how a case ends by its kind."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from feedback.complaints import (
    OUTCOMES,
    check_may_handle,
    check_version,
    plan_assignment,
    plan_status_change,
    plan_triage,
)
from feedback.errors import (
    AlreadyAssigned,
    CaseClosed,
    ComplaintChanged,
    IllegalStatusChange,
    NotYourCase,
    SuspensionNeedsAdmin,
)
from feedback.model import (
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintId,
    ComplaintStatus,
    Kind,
    Links,
    Outcome,
    Priority,
    StatusRequest,
    TriageRequest,
)
from feedback.sla import SlaPolicy
from taxicrm.auth import Role
from taxicrm.errors import DomainError

S = ComplaintStatus
NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
RUDE = Category("rude_driver", "Rude driver", "بدرفتاری راننده", Priority.NORMAL, 30, is_active=True)
KIND = Category("courteous_driver", "Courteous driver", "رانندهٔ خوش‌برخورد", Priority.LOW, 110, is_active=True,
                kind=Kind.PRAISE)


def case(status: ComplaintStatus = S.NEW, *, kind: Kind = Kind.COMPLAINT, assignee_id: int | None = None,
         driver_id: int | None = 9, version: int = 3) -> Complaint:
    return Complaint(
        id=ComplaintId(7), category=KIND if kind is Kind.PRAISE else RUDE, priority=Priority.NORMAL,
        channel=ComplaintChannel.PHONE, status=status, description="x", links=Links(ride_id=1, driver_id=driver_id),
        opened_by=5, opened_by_name="Op", assignee_id=assignee_id, assignee_name=None, outcome=None,
        outcome_note=None, duplicate_of=None, first_response_at=None, closed_at=None, version=version,
        created_at=NOW, updated_at=NOW, kind=kind)


def test_a_new_case_becomes_assigned_when_given_to_someone_and_others_keep_their_status():
    assert plan_assignment(case(S.NEW), 4) is S.ASSIGNED
    assert plan_assignment(case(S.PENDING, assignee_id=3), 4) is S.PENDING
    assert plan_assignment(case(S.ASSIGNED, assignee_id=3), 4) is S.ASSIGNED


def test_a_closed_case_or_the_same_assignee_is_refused():
    with pytest.raises(CaseClosed) as closed:
        plan_assignment(case(S.RESOLVED), 4)
    assert closed.value.status == 409 and closed.value.code == "case_closed"
    with pytest.raises(AlreadyAssigned):
        plan_assignment(case(S.ASSIGNED, assignee_id=4), 4)


def test_resolving_needs_an_outcome_and_sets_the_close_time():
    change = plan_status_change(case(S.ASSIGNED, assignee_id=4), StatusRequest(
        S.RESOLVED, comment=" Called   the customer ", outcome=Outcome.WARNING, outcome_note="First warning"),
        Role.OPERATOR, NOW)
    assert (change.from_status, change.to_status, change.outcome, change.closed_at) == (
        S.ASSIGNED, S.RESOLVED, Outcome.WARNING, NOW)
    assert change.comment == "Called the customer" and change.outcome_note == "First warning"
    assert not change.suspends_driver


@pytest.mark.parametrize(("current", "asked", "role", "code"), [
    (case(S.NEW), StatusRequest(S.RESOLVED), Role.SUPERVISOR, "outcome_required"),
    (case(S.NEW), StatusRequest(S.PENDING, outcome=Outcome.REFUND), Role.SUPERVISOR, "outcome_only_when_resolving"),
    (case(S.NEW), StatusRequest(S.PENDING, outcome_note="why"), Role.SUPERVISOR, "outcome_only_when_resolving"),
    (case(S.NEW), StatusRequest(S.RESOLVED, outcome=Outcome.COMMENDED), Role.SUPERVISOR, "outcome_not_for_kind"),
    (case(S.NEW, kind=Kind.PRAISE), StatusRequest(S.RESOLVED, outcome=Outcome.WARNING), Role.SUPERVISOR,
     "outcome_not_for_kind"),
    (case(S.NEW, driver_id=None), StatusRequest(S.RESOLVED, outcome=Outcome.DRIVER_SUSPENDED), Role.ADMIN,
     "no_driver_to_suspend"),
    (case(S.NEW), StatusRequest(S.ASSIGNED), Role.SUPERVISOR, "assignee_required"),
    (case(S.NEW), StatusRequest(S.DUPLICATE), Role.SUPERVISOR, "duplicate_of_required"),
    (case(S.NEW), StatusRequest(S.DUPLICATE, duplicate_of=7), Role.SUPERVISOR, "duplicate_of_itself"),
    (case(S.NEW), StatusRequest(S.REJECTED, duplicate_of=3), Role.SUPERVISOR, "duplicate_of_unexpected"),
    (case(S.NEW), StatusRequest(S.PENDING, comment="  "), Role.SUPERVISOR, "missing_field"),
    (case(S.RESOLVED), StatusRequest(S.REJECTED), Role.SUPERVISOR, "illegal_status_change"),
    (case(S.ASSIGNED, assignee_id=4), StatusRequest(S.NEW), Role.SUPERVISOR, "illegal_status_change"),
])
def test_a_step_without_what_it_needs_is_refused_with_its_code(current, asked, role, code):
    with pytest.raises(DomainError) as raised:
        plan_status_change(current, asked, role, NOW)
    assert raised.value.code == code and 400 <= raised.value.status < 500


def test_suspending_the_driver_is_an_admin_s_outcome():
    asked = StatusRequest(S.RESOLVED, outcome=Outcome.DRIVER_SUSPENDED, outcome_note="Third complaint")
    with pytest.raises(SuspensionNeedsAdmin) as raised:
        plan_status_change(case(S.ASSIGNED, assignee_id=4), asked, Role.SUPERVISOR, NOW)
    assert raised.value.status == 403
    assert plan_status_change(case(S.ASSIGNED, assignee_id=4), asked, Role.ADMIN, NOW).suspends_driver


def test_praise_ends_with_a_commendation_or_nothing_and_complaints_never_with_one():
    assert OUTCOMES[Kind.PRAISE] == {Outcome.COMMENDED, Outcome.NO_ACTION}
    assert Outcome.COMMENDED not in OUTCOMES[Kind.COMPLAINT] and Outcome.DRIVER_SUSPENDED in OUTCOMES[Kind.COMPLAINT]
    praised = plan_status_change(case(S.NEW, kind=Kind.PRAISE), StatusRequest(S.RESOLVED, outcome=Outcome.COMMENDED),
                                 Role.OPERATOR, NOW)
    assert praised.outcome is Outcome.COMMENDED


def test_reopening_a_case_clears_its_outcome_and_close_time():
    change = plan_status_change(case(S.RESOLVED), StatusRequest(S.PENDING, comment="Customer called back"),
                                Role.SUPERVISOR, NOW)
    assert (change.to_status, change.outcome, change.closed_at, change.duplicate_of) == (S.PENDING, None, None, None)


def test_marking_a_duplicate_names_the_case_it_duplicates():
    change = plan_status_change(case(S.NEW), StatusRequest(S.DUPLICATE, duplicate_of=3), Role.SUPERVISOR, NOW)
    assert (change.duplicate_of, change.closed_at) == (3, NOW)


def test_only_handlers_or_the_assignee_move_a_case():
    for role in (Role.SUPERVISOR, Role.ADMIN):
        check_may_handle(role, 1, case(S.ASSIGNED, assignee_id=4))
    check_may_handle(Role.OPERATOR, 4, case(S.ASSIGNED, assignee_id=4))
    with pytest.raises(NotYourCase) as raised:
        check_may_handle(Role.OPERATOR, 5, case(S.ASSIGNED, assignee_id=4))
    assert raised.value.status == 403 and raised.value.code == "not_your_case"


def test_a_step_on_an_older_version_is_refused():
    check_version(case(version=3), None)
    check_version(case(version=3), 3)
    with pytest.raises(ComplaintChanged) as raised:
        check_version(case(version=3), 2)
    assert raised.value.status == 409 and "version 3" in raised.value.message


def test_illegal_steps_are_the_workflow_s_own_error():
    with pytest.raises(IllegalStatusChange):
        plan_status_change(dataclasses.replace(case(S.DUPLICATE)), StatusRequest(S.RESOLVED, outcome=Outcome.NO_ACTION),
                           Role.ADMIN, NOW)


POLICY = SlaPolicy.from_settings({"low": 240, "normal": 120, "high": 60, "urgent": 15},
                                 {"low": 120, "normal": 72, "high": 24, "urgent": 8})
LATE = Category("late_pickup", "Late pickup", "تأخیر در رسیدن", Priority.NORMAL, 10, is_active=True)


def test_a_re_triage_takes_the_new_category_and_priority_and_moves_the_clocks_from_the_opening():
    planned = plan_triage(case(S.ASSIGNED, assignee_id=4), TriageRequest(category="late_pickup",
                          priority=Priority.URGENT, comment="  It was about the wait. "), LATE, POLICY)
    assert planned.category is LATE and planned.priority is Priority.URGENT
    assert planned.first_response_due == NOW + timedelta(minutes=15)
    assert planned.resolution_due == NOW + timedelta(hours=8)
    assert planned.comment == "It was about the wait."
    # The priority alone keeps the category.
    alone = plan_triage(case(), TriageRequest(priority=Priority.LOW), None, POLICY)
    assert alone.category is RUDE and alone.resolution_due == NOW + timedelta(hours=120)


@pytest.mark.parametrize(("current", "asked", "found", "code"), [
    (case(S.RESOLVED), TriageRequest(priority=Priority.HIGH), None, "case_closed"),
    (case(S.DUPLICATE), TriageRequest(priority=Priority.HIGH), None, "case_closed"),
    (case(), TriageRequest(), None, "missing_field"),
    (case(), TriageRequest(category="nope"), None, "unknown_category"),
    (case(), TriageRequest(category="late_pickup"), dataclasses.replace(LATE, is_active=False), "retired_category"),
    (case(), TriageRequest(category="courteous_driver"), KIND, "category_kind_mismatch"),
    (case(kind=Kind.PRAISE), TriageRequest(category="rude_driver"), RUDE, "category_kind_mismatch"),
    (case(), TriageRequest(category="rude_driver", priority=Priority.NORMAL), RUDE, "nothing_to_change"),
])
def test_a_re_triage_of_a_closed_case_or_to_nothing_new_or_a_wrong_category_is_refused(current, asked, found, code):
    with pytest.raises(DomainError) as refused:
        plan_triage(current, asked, found, POLICY)
    assert refused.value.code == code


def test_praise_re_triaged_still_runs_no_clock():
    planned = plan_triage(case(kind=Kind.PRAISE), TriageRequest(priority=Priority.HIGH), None, POLICY)
    assert planned.first_response_due is None and planned.resolution_due is None
