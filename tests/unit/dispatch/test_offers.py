from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.model import (
    Candidate,
    DriverAvailability,
    DriverId,
    OfferStep,
    OfferVia,
    RideId,
    RideState,
    RideStatus,
    SkipReason,
    VehicleClass,
)
from dispatch.offers import after_offer_outcome, next_search_radius, offer_expires_at, rank_candidates

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
RIDE = RideState(id=RideId(42), status=RideStatus.REQUESTED, vehicle_class=VehicleClass.SEDAN)


def driver(id_: int, distance_m: float, idle_minutes: int = 10, **changes: object) -> Candidate:
    base = Candidate(
        driver_id=DriverId(id_), distance_m=distance_m, idle_since=NOW - timedelta(minutes=idle_minutes),
        vehicle_class=VehicleClass.SEDAN, status=DriverAvailability.AVAILABLE, last_seen=NOW - timedelta(seconds=5),
        suspended=False,
    )
    return replace(base, **changes)


def rank(candidates, **options):
    return rank_candidates(candidates, RIDE, now=NOW, radius_m=options.pop("radius_m", 1_000), **options)


def test_the_nearest_driver_comes_first():
    decisions = rank([driver(1, 900), driver(2, 300), driver(3, 600)])
    assert [(d.candidate.driver_id, d.rank) for d in decisions] == [(2, 1), (3, 2), (1, 3)]


def test_among_drivers_about_equally_close_the_one_idle_longest_comes_first():
    decisions = rank([
        driver(1, 20, idle_minutes=2),
        driver(2, 190, idle_minutes=30),    # Same 200 m band as driver 1, idle far longer.
        driver(3, 250, idle_minutes=90),    # Idle longest of all, but a band further out.
    ])
    assert [d.candidate.driver_id for d in decisions] == [2, 1, 3]


def test_the_band_width_is_configurable():
    candidates = [driver(1, 20, idle_minutes=2), driver(2, 190, idle_minutes=30)]
    assert [d.candidate.driver_id for d in rank(candidates, distance_bucket_m=100)] == [1, 2]


def test_equal_band_and_idle_time_falls_back_to_distance_then_id():
    decisions = rank([driver(5, 150), driver(4, 150), driver(3, 100)])
    assert [d.candidate.driver_id for d in decisions] == [3, 4, 5]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"suspended": True}, SkipReason.SUSPENDED),
    ({"vehicle_class": VehicleClass.VAN}, SkipReason.WRONG_CLASS),
    ({"status": DriverAvailability.BUSY}, SkipReason.NOT_AVAILABLE),
    ({"status": DriverAvailability.ON_BREAK}, SkipReason.NOT_AVAILABLE),
    ({"status": DriverAvailability.OFFLINE}, SkipReason.NOT_AVAILABLE),
    ({"last_seen": NOW - timedelta(seconds=61)}, SkipReason.STALE_POSITION),
    ({"driver_id": DriverId(66)}, SkipReason.DECLINED_BEFORE),
    ({"driver_id": DriverId(77)}, SkipReason.ALREADY_OFFERED),
    ({"distance_m": 1_000.5}, SkipReason.TOO_FAR),
])
def test_every_skipped_driver_is_told_why(changes, reason):
    decisions = rank([replace(driver(1, 400), **changes)], declined_by={DriverId(66)}, offered={DriverId(77)})
    assert [(d.rank, d.skip_reason, d.is_eligible) for d in decisions] == [(None, reason, False)]


def test_a_position_exactly_as_old_as_the_freshness_limit_still_counts():
    fresh = driver(1, 400, last_seen=NOW - timedelta(seconds=30))
    stale = driver(2, 400, last_seen=NOW - timedelta(seconds=31))
    decisions = rank([fresh, stale], freshness=timedelta(seconds=30))
    assert [(d.candidate.driver_id, d.skip_reason) for d in decisions] == [(1, None), (2, SkipReason.STALE_POSITION)]


def test_a_driver_on_the_edge_of_the_radius_is_in():
    assert rank([driver(1, 1_000)])[0].rank == 1


def test_the_most_basic_reason_is_the_one_given():
    decisions = rank([driver(1, 5_000, suspended=True, vehicle_class=VehicleClass.VAN)], declined_by={DriverId(1)})
    assert decisions[0].skip_reason is SkipReason.SUSPENDED


def test_skipped_drivers_follow_the_ranked_ones_nearest_first_and_keep_their_details():
    far, busy, ok = driver(1, 2_000), driver(2, 100, status=DriverAvailability.BUSY), driver(3, 800)
    decisions = rank([far, busy, ok])
    assert [(d.candidate, d.rank, d.skip_reason) for d in decisions] == [
        (ok, 1, None), (busy, None, SkipReason.NOT_AVAILABLE), (far, None, SkipReason.TOO_FAR)]


def test_a_declined_driver_is_not_offered_the_same_ride_again():
    decisions = rank([driver(1, 100), driver(2, 500)], declined_by={DriverId(1)})
    assert [(d.candidate.driver_id, d.rank) for d in decisions] == [(2, 1), (1, None)]


def test_no_candidates_give_no_decisions():
    assert rank([]) == []


@pytest.mark.parametrize(("attempt", "radius"),
                         [(0, 1_000), (1, 2_000), (2, 4_000), (3, 8_000), (4, 8_000), (50, 8_000)])
def test_the_search_radius_grows_then_stays_at_the_widest(attempt, radius):
    assert next_search_radius(attempt) == radius


def test_a_negative_attempt_is_a_mistake():
    with pytest.raises(ValueError, match="attempt"):
        next_search_radius(-1)


def test_a_wider_radius_takes_in_the_driver_a_narrower_one_left_out():
    far = driver(1, 1_500)
    assert rank([far], radius_m=next_search_radius(0))[0].skip_reason is SkipReason.TOO_FAR
    assert rank([far], radius_m=next_search_radius(1))[0].rank == 1


@pytest.mark.parametrize(("tries", "max_tries", "left", "step"), [
    (1, 5, 3, OfferStep.OFFER_NEXT),
    (4, 5, 1, OfferStep.OFFER_NEXT),
    (5, 5, 3, OfferStep.UNASSIGNED),     # Out of tries, though drivers remain.
    (6, 5, 3, OfferStep.UNASSIGNED),
    (1, 5, 0, OfferStep.UNASSIGNED),     # Nobody left to ask.
])
def test_after_a_failed_offer_the_next_driver_is_asked_until_tries_or_drivers_run_out(tries, max_tries, left, step):
    assert after_offer_outcome(tries, max_tries, left) is step


def test_an_offer_lapses_after_fifteen_seconds_by_default():
    assert offer_expires_at(NOW) == NOW + timedelta(seconds=15)
    assert offer_expires_at(NOW, timedelta(seconds=25)) == NOW + timedelta(seconds=25)


def test_drivers_waiting_at_the_zone_rank_go_first_in_queue_order():
    queue = [DriverId(3), DriverId(9), DriverId(1)]   # 9 is not near enough to be a candidate at all.
    decisions = rank([driver(1, 800), driver(2, 100), driver(3, 600), driver(4, 300)], queue=queue)
    assert [(d.candidate.driver_id, d.via) for d in decisions] == [
        (3, OfferVia.ZONE_QUEUE), (1, OfferVia.ZONE_QUEUE), (2, OfferVia.NEAREST), (4, OfferVia.NEAREST)]


def test_a_queued_driver_beyond_the_radius_is_still_in_the_zone():
    decisions = rank([driver(1, 2_500), driver(2, 3_000)], radius_m=1_000, queue=[DriverId(1)])
    assert [(d.candidate.driver_id, d.rank, d.skip_reason) for d in decisions] == [
        (1, 1, None), (2, None, SkipReason.TOO_FAR)]


def test_an_ineligible_driver_loses_their_queue_place():
    decisions = rank([driver(1, 100, status=DriverAvailability.ON_BREAK), driver(2, 200)], queue=[DriverId(1)])
    assert [(d.candidate.driver_id, d.rank, d.skip_reason) for d in decisions] == [
        (2, 1, None), (1, None, SkipReason.NOT_AVAILABLE)]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"on_a_ride": True, "status": DriverAvailability.BUSY}, SkipReason.ON_A_RIDE),
    ({"has_other_offer": True}, SkipReason.ON_ANOTHER_OFFER),
])
def test_a_driver_busy_with_another_ride_or_offer_is_skipped(changes, reason):
    decisions = rank([driver(1, 100, **changes)])
    assert (decisions[0].rank, decisions[0].skip_reason) == (None, reason)
