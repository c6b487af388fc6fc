"""The SLA clocks as pure rules: deadlines by priority, where each clock stands, and what is overdue."""

import dataclasses
from datetime import UTC, datetime, timedelta

from feedback.model import Kind, Priority
from feedback.sla import ClockState, SlaPolicy, clock, due_times, is_overdue
from tests.unit.feedback.test_case_workflow import case

OPENED = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
POLICY = SlaPolicy.from_settings({"urgent": 15, "high": 60, "normal": 240, "low": 1440},
                                 {"urgent": 8, "high": 24, "normal": 72, "low": 168})


def test_the_deadlines_follow_the_priority():
    assert due_times(POLICY, Kind.COMPLAINT, Priority.URGENT, OPENED) == (OPENED + timedelta(minutes=15),
                                                                          OPENED + timedelta(hours=8))
    assert due_times(POLICY, Kind.COMPLAINT, Priority.LOW, OPENED) == (OPENED + timedelta(days=1),
                                                                       OPENED + timedelta(days=7))


def test_praise_runs_no_clock():
    assert due_times(POLICY, Kind.PRAISE, Priority.HIGH, OPENED) == (None, None)
    assert clock(None, None, OPENED) is None


def test_a_clock_runs_until_due_then_is_overdue_and_once_met_says_whether_in_time():
    due = OPENED + timedelta(hours=1)
    assert clock(due, None, due).state is ClockState.RUNNING  # due at, not yet past
    assert clock(due, None, due + timedelta(seconds=1)).state is ClockState.OVERDUE
    assert clock(due, due - timedelta(minutes=1), due + timedelta(days=1)).state is ClockState.MET
    assert clock(due, due + timedelta(minutes=1), due).state is ClockState.BREACHED


def test_an_open_case_is_overdue_when_either_clock_is_past_due():
    fresh = dataclasses.replace(case(), created_at=OPENED, first_response_due=OPENED + timedelta(hours=1),
                                resolution_due=OPENED + timedelta(hours=24))
    assert not is_overdue(fresh, OPENED + timedelta(minutes=59))
    assert is_overdue(fresh, OPENED + timedelta(minutes=61))
    answered = dataclasses.replace(fresh, first_response_at=OPENED + timedelta(minutes=30))
    assert not is_overdue(answered, OPENED + timedelta(hours=23))
    assert is_overdue(answered, OPENED + timedelta(hours=25))
    closed = dataclasses.replace(answered, closed_at=OPENED + timedelta(hours=30))
    assert not is_overdue(closed, OPENED + timedelta(days=30))  # late, but no longer overdue: it was breached
    praise = dataclasses.replace(case(kind=Kind.PRAISE), created_at=OPENED)
    assert not is_overdue(praise, OPENED + timedelta(days=365))
