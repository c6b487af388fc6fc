from datetime import UTC, datetime

import pytest

from feedback.complaints import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    check_category,
    check_transition,
    clean_body,
    combine_links,
    new_complaint,
    wanted_statuses,
)
from feedback.errors import IllegalStatusChange, LinksDisagree, RetiredCategory, UnknownCategory
from feedback.model import Category, ComplaintChannel, ComplaintRequest, ComplaintStatus, Links, Priority
from taxicrm.errors import InvalidInput

S = ComplaintStatus
NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NO_SHOW = Category("driver_no_show", "Driver no-show", "نیامدن راننده", Priority.HIGH, 20, is_active=True)


def test_every_status_has_its_next_steps_and_none_leads_to_itself_or_back_to_new():
    assert set(TRANSITIONS) == set(ComplaintStatus)
    for status, following in TRANSITIONS.items():
        assert status not in following and S.NEW not in following


@pytest.mark.parametrize(("current", "wanted"), [
    (S.NEW, S.ASSIGNED), (S.NEW, S.RESOLVED), (S.NEW, S.DUPLICATE), (S.ASSIGNED, S.PENDING),
    (S.PENDING, S.ASSIGNED), (S.PENDING, S.REJECTED), (S.RESOLVED, S.PENDING), (S.DUPLICATE, S.PENDING),
])
def test_the_workflow_allows_its_steps(current, wanted):
    check_transition(current, wanted)


@pytest.mark.parametrize(("current", "wanted"), [
    (S.RESOLVED, S.REJECTED), (S.REJECTED, S.RESOLVED), (S.RESOLVED, S.ASSIGNED), (S.ASSIGNED, S.NEW),
    (S.PENDING, S.PENDING),
])
def test_a_closed_case_is_reopened_before_it_changes_and_nothing_goes_back_to_new(current, wanted):
    with pytest.raises(IllegalStatusChange) as raised:
        check_transition(current, wanted)
    assert raised.value.status == 409 and raised.value.code == "illegal_status_change"


def test_open_and_closed_statuses_split_the_workflow():
    assert set(ComplaintStatus) == OPEN_STATUSES | CLOSED_STATUSES and not OPEN_STATUSES & CLOSED_STATUSES
    assert S.PENDING in OPEN_STATUSES and S.DUPLICATE in CLOSED_STATUSES


def test_an_unknown_or_retired_category_takes_no_new_complaints():
    assert check_category("driver_no_show", NO_SHOW) is NO_SHOW
    with pytest.raises(UnknownCategory):
        check_category("aliens", None)
    retired = Category("old", "Old", "قدیمی", Priority.LOW, 1, is_active=False)
    with pytest.raises(RetiredCategory):
        check_category("old", retired)


def test_a_ride_fills_in_the_links_not_given():
    known = Links(ride_id=7, subscriber_id=3, driver_id=9)
    assert combine_links(Links(ride_id=7, call_id=12), known) == Links(ride_id=7, subscriber_id=3, driver_id=9,
                                                                       call_id=12)
    # The same values given twice are no contradiction; a walk-in ride's missing subscriber is filled by the one given.
    assert combine_links(Links(ride_id=7, subscriber_id=3), known).subscriber_id == 3
    assert combine_links(Links(ride_id=7, subscriber_id=4), Links(ride_id=7)).subscriber_id == 4
    assert combine_links(Links(subscriber_id=4), Links()) == Links(subscriber_id=4)


def test_a_link_that_contradicts_the_ride_is_refused():
    with pytest.raises(LinksDisagree) as raised:
        combine_links(Links(ride_id=7, driver_id=2), Links(ride_id=7, subscriber_id=3, driver_id=9))
    assert raised.value.code == "links_disagree" and "driver_id" in raised.value.message


def test_a_new_complaint_takes_its_category_s_priority_unless_one_is_chosen():
    asked = ComplaintRequest(category="driver_no_show", description="  Nobody  came ")
    made = new_complaint(asked, NO_SHOW, Links(ride_id=1), opened_by=5, at=NOW)
    assert (made.priority, made.channel, made.description, made.opened_by) == (Priority.HIGH, ComplaintChannel.PHONE,
                                                                               "Nobody came", 5)
    chosen = ComplaintRequest(category="driver_no_show", description="x", priority=Priority.LOW)
    assert new_complaint(chosen, NO_SHOW, Links(), opened_by=5, at=NOW).priority is Priority.LOW


@pytest.mark.parametrize(("raw", "code"), [("", "missing_field"), ("   \n ", "missing_field"), ("x" * 11, "too_long")])
def test_an_empty_or_oversize_text_is_refused(raw, code):
    with pytest.raises(InvalidInput) as raised:
        clean_body(raw, "description", 10)
    assert raised.value.code == code and "description" in raised.value.message


def test_persian_text_is_tidied_like_every_other_text():
    assert clean_body("راننده ي بد  ۱۲", "body", 100) == "راننده ی بد 12"


def test_the_open_filter_narrows_the_status_filter():
    assert wanted_statuses(frozenset(), None) == frozenset()
    assert wanted_statuses(frozenset(), True) == OPEN_STATUSES
    assert wanted_statuses(frozenset({S.NEW, S.RESOLVED}), False) == {S.RESOLVED}
    with pytest.raises(InvalidInput) as raised:
        wanted_statuses(frozenset({S.RESOLVED}), True)
    assert raised.value.code == "contradictory_filter"
