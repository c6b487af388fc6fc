"""Erlang C against published table values, and the operators a call volume needs."""

import pytest

from reports import erlang


@pytest.mark.parametrize(("agents", "waiting"), [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)])
def test_the_chance_of_waiting_matches_the_erlang_c_table_for_ten_erlangs(agents, waiting):
    assert erlang.probability_of_waiting(10.0, agents) == pytest.approx(waiting, abs=1e-4)


def test_too_few_operators_make_every_call_wait_and_none_are_answered_in_time():
    assert erlang.probability_of_waiting(10.0, 10) == 1.0
    assert erlang.service_level(10.0, 9, 180, 20) == 0.0


def test_the_textbook_center_needs_fourteen_operators_for_80_percent_within_20_seconds():
    # 200 calls an hour of 3 minutes each: 10 erlangs; 13 operators answer 79.6% in time, 14 answer 88.8%.
    assert erlang.traffic_erlangs(200, 180) == 10.0
    assert erlang.service_level(10.0, 13, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    assert erlang.operators_needed(200, 180, 20, 0.8) == 14


def test_a_stricter_target_or_a_shorter_time_needs_more_operators():
    assert erlang.operators_needed(200, 180, 20, 0.95) > 14
    # 14 operators answer 88.8% within 20 s but 84.4% within 5 s.
    assert erlang.operators_needed(200, 180, 20, 0.88) == 14
    assert erlang.operators_needed(200, 180, 5, 0.88) == 15
    assert erlang.operators_needed(400, 180, 20, 0.8) < 2 * 14  # Pooling: twice the calls, fewer than twice the staff.


def test_no_calls_need_no_operators_and_a_trickle_needs_one():
    assert erlang.operators_needed(0, 180, 20, 0.8) == 0
    assert erlang.operators_needed(1, 180, 20, 0.8) == 1


def test_a_huge_volume_stays_finite_and_stable():
    assert erlang.operators_needed(20_000, 180, 20, 0.8) == pytest.approx(1011, abs=2)
