from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from dispatch.errors import ActorNotAllowed, DriverRequired, IllegalTransition, ReasonRequired
from dispatch.model import Actor, ActorKind, DriverId, RideAction, RideId, RideState, RideStatus, VehicleClass
from dispatch.rides import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    TRANSITIONS,
    Party,
    is_active,
    is_due,
    is_final,
    release_time,
    status_at_booking,
    transition,
)
from taxicrm.errors import Conflict, Forbidden, InvalidInput

S, A, P = RideStatus, RideAction, Party
NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
ASSIGNED_DRIVER, OFFERED_DRIVER, OTHER_DRIVER = DriverId(7), DriverId(8), DriverId(9)
CANCELLERS = {P.OPERATOR, P.CUSTOMER, P.SYSTEM}

# The table restated by hand, so a change to the rules has to be made twice, on purpose.
EXPECTED = {
    (S.SCHEDULED, A.RELEASE): (S.REQUESTED, {P.SYSTEM, P.OPERATOR}),
    (S.REQUESTED, A.OFFER): (S.OFFERING, {P.SYSTEM}),
    (S.OFFERING, A.OFFER): (S.OFFERING, {P.SYSTEM}),
    (S.UNASSIGNED, A.OFFER): (S.OFFERING, {P.SYSTEM, P.OPERATOR}),
    (S.OFFERING, A.ACCEPT): (S.ASSIGNED, {P.OFFERED_DRIVER}),
    (S.REQUESTED, A.ASSIGN): (S.ASSIGNED, {P.OPERATOR}),
    (S.OFFERING, A.ASSIGN): (S.ASSIGNED, {P.OPERATOR}),
    (S.UNASSIGNED, A.ASSIGN): (S.ASSIGNED, {P.OPERATOR}),
    (S.REQUESTED, A.MARK_UNASSIGNED): (S.UNASSIGNED, {P.SYSTEM, P.OPERATOR}),
    (S.OFFERING, A.MARK_UNASSIGNED): (S.UNASSIGNED, {P.SYSTEM, P.OPERATOR}),
    (S.UNASSIGNED, A.MARK_NO_DRIVER_FOUND): (S.NO_DRIVER_FOUND, {P.SYSTEM, P.OPERATOR}),
    (S.ASSIGNED, A.ARRIVE): (S.ARRIVED, {P.ASSIGNED_DRIVER}),
    (S.ASSIGNED, A.PICK_UP): (S.ON_BOARD, {P.ASSIGNED_DRIVER}),
    (S.ARRIVED, A.PICK_UP): (S.ON_BOARD, {P.ASSIGNED_DRIVER}),
    (S.ON_BOARD, A.COMPLETE): (S.COMPLETED, {P.ASSIGNED_DRIVER}),
    (S.ARRIVED, A.NO_SHOW): (S.NO_SHOW, {P.ASSIGNED_DRIVER, P.OPERATOR}),
    (S.SCHEDULED, A.CANCEL): (S.CANCELLED, CANCELLERS),
    (S.REQUESTED, A.CANCEL): (S.CANCELLED, CANCELLERS),
    (S.OFFERING, A.CANCEL): (S.CANCELLED, CANCELLERS),
    (S.UNASSIGNED, A.CANCEL): (S.CANCELLED, CANCELLERS),
    (S.ASSIGNED, A.CANCEL): (S.CANCELLED, CANCELLERS),
    (S.ARRIVED, A.CANCEL): (S.CANCELLED, CANCELLERS),
}

ACTOR_FOR = {
    P.OPERATOR: Actor(ActorKind.OPERATOR, 3),
    P.CUSTOMER: Actor(ActorKind.CUSTOMER, 11),
    P.SYSTEM: Actor(ActorKind.SYSTEM),
    P.ASSIGNED_DRIVER: Actor(ActorKind.DRIVER, ASSIGNED_DRIVER),
    P.OFFERED_DRIVER: Actor(ActorKind.DRIVER, OFFERED_DRIVER),
}


def ride(status: RideStatus, **changes: object) -> RideState:
    base = RideState(id=RideId(42), status=status, vehicle_class=VehicleClass.SEDAN)
    # Only statuses that hold a driver or an offer get one, as the store would have it.
    if status in {S.ASSIGNED, S.ARRIVED, S.ON_BOARD}:
        base = replace(base, driver_id=ASSIGNED_DRIVER)
    if status is S.OFFERING:
        base = replace(base, offered_to=OFFERED_DRIVER)
    return replace(base, **changes)


def test_the_table_is_the_one_agreed():
    assert {key: (rule.to, set(rule.by)) for key, rule in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("source", "action", "party"),
                         [(s, a, p) for (s, a), (_, parties) in EXPECTED.items() for p in sorted(parties)])
def test_every_legal_transition_moves_the_ride_and_records_an_event(source, action, party):
    before = ride(source)
    actor = ACTOR_FOR[party]
    after, event = transition(before, action, actor, at=NOW, reason="customer asked", driver_id=OTHER_DRIVER)
    assert after.status is EXPECTED[source, action][0]
    assert (event.ride_id, event.action, event.from_status, event.to_status) == (42, action, source, after.status)
    expected_driver = after.offered_to if action is A.OFFER else after.driver_id
    assert (event.actor, event.at, event.reason, event.driver_id) == (actor, NOW, "customer asked", expected_driver)


@pytest.mark.parametrize(("status", "action"), [k for k in product(RideStatus, RideAction) if k not in EXPECTED])
def test_every_pair_outside_the_table_is_refused(status, action):
    with pytest.raises(IllegalTransition) as caught:
        transition(ride(status), action, ACTOR_FOR[P.OPERATOR], at=NOW, reason="r", driver_id=OTHER_DRIVER)
    assert (caught.value.ride_status, caught.value.action) == (status, action)


@pytest.mark.parametrize(("status", "action", "message"), [
    (S.COMPLETED, A.CANCEL, "Ride 42 is completed, so it is not possible to cancel the ride."),
    (S.ON_BOARD, A.CANCEL, "Ride 42 is on board, so it is not possible to cancel the ride."),
    (S.REQUESTED, A.ARRIVE, "Ride 42 is requested, so it is not possible to report arrival."),
    (S.SCHEDULED, A.OFFER, "Ride 42 is scheduled, so it is not possible to offer the ride to drivers."),
    (S.ARRIVED, A.ASSIGN, "Ride 42 is arrived, so it is not possible to assign a driver."),
    (S.ASSIGNED, A.NO_SHOW, "Ride 42 is assigned, so it is not possible to report a no-show."),
])
def test_an_illegal_transition_names_the_status_and_the_action(status, action, message):
    with pytest.raises(IllegalTransition) as caught:
        transition(ride(status), action, ACTOR_FOR[P.ASSIGNED_DRIVER], at=NOW, reason="r")
    assert isinstance(caught.value, Conflict)
    assert (caught.value.code, caught.value.status, caught.value.message) == ("illegal_transition", 409, message)


@pytest.mark.parametrize(("status", "action"), list(product(sorted(FINAL_STATUSES), RideAction)))
def test_final_states_refuse_everything(status, action):
    for actor in ACTOR_FOR.values():
        with pytest.raises(IllegalTransition):
            transition(ride(status, driver_id=ASSIGNED_DRIVER), action, actor, at=NOW, reason="r")


def test_final_and_active_statuses_split_the_lifecycle():
    final = {S.COMPLETED, S.CANCELLED, S.NO_DRIVER_FOUND, S.NO_SHOW}
    assert final == FINAL_STATUSES
    assert set(RideStatus) - final == ACTIVE_STATUSES
    assert is_final(S.NO_SHOW) and not is_active(S.NO_SHOW)
    assert is_active(S.SCHEDULED) and not is_final(S.SCHEDULED)


def test_a_driver_who_is_not_the_assigned_one_cannot_report_arrival():
    with pytest.raises(ActorNotAllowed) as caught:
        transition(ride(S.ASSIGNED), A.ARRIVE, Actor(ActorKind.DRIVER, OTHER_DRIVER), at=NOW)
    assert isinstance(caught.value, Forbidden)
    assert (caught.value.code, caught.value.status) == ("actor_not_allowed", 403)
    assert caught.value.message == "Only the assigned driver may report arrival on ride 42."


def test_only_the_driver_holding_the_offer_can_accept_it():
    for driver in (ASSIGNED_DRIVER, OTHER_DRIVER):
        with pytest.raises(ActorNotAllowed, match="Only the driver it is offered to may accept the offer"):
            transition(ride(S.OFFERING), A.ACCEPT, Actor(ActorKind.DRIVER, driver), at=NOW)


@pytest.mark.parametrize(("status", "action", "party"), [
    (S.ASSIGNED, A.CANCEL, P.ASSIGNED_DRIVER),      # A driver hands a job back through an operator, not by cancelling.
    (S.ON_BOARD, A.COMPLETE, P.OPERATOR),
    (S.ARRIVED, A.NO_SHOW, P.CUSTOMER),
    (S.REQUESTED, A.ASSIGN, P.SYSTEM),
    (S.REQUESTED, A.OFFER, P.OPERATOR),
    (S.OFFERING, A.ACCEPT, P.OPERATOR),
])
def test_actors_outside_the_rule_are_refused(status, action, party):
    with pytest.raises(ActorNotAllowed):
        transition(ride(status), action, ACTOR_FOR[party], at=NOW, reason="r", driver_id=OTHER_DRIVER)


def test_a_driver_without_an_id_is_nobody_to_a_ride_without_a_driver():
    with pytest.raises(ActorNotAllowed):
        transition(ride(S.ASSIGNED, driver_id=None), A.ARRIVE, Actor(ActorKind.DRIVER), at=NOW)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_cancellation_must_say_why(reason):
    with pytest.raises(ReasonRequired) as caught:
        transition(ride(S.ASSIGNED), A.CANCEL, ACTOR_FOR[P.CUSTOMER], at=NOW, reason=reason)
    assert isinstance(caught.value, InvalidInput) and caught.value.code == "reason_required"


def test_a_reason_is_stored_trimmed_and_other_actions_need_none():
    _, cancelled = transition(ride(S.REQUESTED), A.CANCEL, ACTOR_FOR[P.OPERATOR], at=NOW, reason="  found a bus ")
    _, arrived = transition(ride(S.ASSIGNED), A.ARRIVE, ACTOR_FOR[P.ASSIGNED_DRIVER], at=NOW, reason=" ")
    assert (cancelled.reason, arrived.reason) == ("found a bus", None)


def test_accepting_gives_the_ride_to_the_offered_driver_and_ends_the_offer():
    after, event = transition(ride(S.OFFERING), A.ACCEPT, ACTOR_FOR[P.OFFERED_DRIVER], at=NOW)
    assert (after.status, after.driver_id, after.offered_to, event.driver_id) == (
        S.ASSIGNED, OFFERED_DRIVER, None, OFFERED_DRIVER)


@pytest.mark.parametrize("action", [A.MARK_UNASSIGNED, A.CANCEL])
def test_leaving_offering_withdraws_the_offer(action):
    after, _ = transition(ride(S.OFFERING), action, ACTOR_FOR[P.SYSTEM], at=NOW, reason="r")
    assert after.offered_to is None


def test_an_offer_goes_to_the_driver_named_and_the_next_one_replaces_it():
    after, event = transition(ride(S.REQUESTED), A.OFFER, ACTOR_FOR[P.SYSTEM], at=NOW, driver_id=OTHER_DRIVER)
    assert (after.status, after.offered_to, after.driver_id, event.driver_id) == (
        S.OFFERING, OTHER_DRIVER, None, OTHER_DRIVER)
    again, _ = transition(after, A.OFFER, ACTOR_FOR[P.SYSTEM], at=NOW, driver_id=OFFERED_DRIVER)
    assert (again.status, again.offered_to) == (S.OFFERING, OFFERED_DRIVER)


def test_an_offer_must_name_a_driver():
    with pytest.raises(DriverRequired):
        transition(ride(S.REQUESTED), A.OFFER, ACTOR_FOR[P.SYSTEM], at=NOW)


def test_assigning_by_hand_while_offering_withdraws_the_offer():
    after, _ = transition(ride(S.OFFERING), A.ASSIGN, ACTOR_FOR[P.OPERATOR], at=NOW, driver_id=OTHER_DRIVER)
    assert (after.status, after.driver_id, after.offered_to) == (S.ASSIGNED, OTHER_DRIVER, None)


def test_an_operator_assigns_the_driver_they_name():
    after, event = transition(ride(S.UNASSIGNED), A.ASSIGN, ACTOR_FOR[P.OPERATOR], at=NOW, driver_id=OTHER_DRIVER)
    assert (after.status, after.driver_id, event.driver_id) == (S.ASSIGNED, OTHER_DRIVER, OTHER_DRIVER)


def test_assigning_by_hand_must_name_a_driver():
    with pytest.raises(DriverRequired) as caught:
        transition(ride(S.UNASSIGNED), A.ASSIGN, ACTOR_FOR[P.OPERATOR], at=NOW)
    assert caught.value.code == "driver_required"


def test_a_ride_keeps_its_driver_through_the_trip():
    state = ride(S.ASSIGNED)
    for action in (A.ARRIVE, A.PICK_UP, A.COMPLETE):
        state, event = transition(state, action, ACTOR_FOR[P.ASSIGNED_DRIVER], at=NOW)
        assert state.driver_id == event.driver_id == ASSIGNED_DRIVER
    assert state.status is S.COMPLETED


PICKUP = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_a_pre_booking_is_released_ten_minutes_before_pickup_by_default():
    assert release_time(PICKUP) == datetime(2024, 5, 1, 9, 20, tzinfo=UTC)
    assert release_time(PICKUP, timedelta(minutes=25)) == datetime(2024, 5, 1, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize(("now", "lead", "due"), [
    (datetime(2024, 5, 1, 9, 19, 59, tzinfo=UTC), timedelta(minutes=10), False),
    (datetime(2024, 5, 1, 9, 20, tzinfo=UTC), timedelta(minutes=10), True),
    (datetime(2024, 5, 1, 9, 45, tzinfo=UTC), timedelta(minutes=10), True),   # Overdue work is still picked up.
    (datetime(2024, 5, 1, 9, 10, tzinfo=UTC), timedelta(minutes=20), True),
    (datetime(2024, 5, 1, 9, 9, tzinfo=UTC), timedelta(minutes=20), False),
])
def test_a_scheduled_ride_is_due_from_its_release_time(now, lead, due):
    assert is_due(ride(S.SCHEDULED, pickup_at=PICKUP), now, lead) is due


def test_the_default_lead_is_used_when_none_is_given():
    assert not is_due(ride(S.SCHEDULED, pickup_at=PICKUP), datetime(2024, 5, 1, 9, 19, tzinfo=UTC))
    assert is_due(ride(S.SCHEDULED, pickup_at=PICKUP), datetime(2024, 5, 1, 9, 20, tzinfo=UTC))


@pytest.mark.parametrize("status", [s for s in RideStatus if s is not S.SCHEDULED])
def test_only_scheduled_rides_are_ever_due(status):
    assert not is_due(ride(status, pickup_at=PICKUP), PICKUP)


def test_a_scheduled_ride_without_a_time_is_due_at_once():
    assert is_due(ride(S.SCHEDULED), NOW)


@pytest.mark.parametrize(("pickup_at", "status"), [
    (None, S.REQUESTED),
    (NOW + timedelta(minutes=5), S.REQUESTED),      # Inside the lead time: dispatch at once.
    (NOW + timedelta(minutes=10), S.REQUESTED),
    (NOW + timedelta(minutes=10, seconds=1), S.SCHEDULED),
    (NOW + timedelta(days=2), S.SCHEDULED),
])
def test_a_new_ride_waits_as_scheduled_only_when_its_release_is_ahead(pickup_at, status):
    assert status_at_booking(pickup_at, NOW) is status
