"""The demand forecast: each hour of next week is the average of the same hour of the weeks before."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reports import erlang
from reports.forecast import HOURS_AHEAD, drivers_needed, forecast_week, slot_weeks
from reports.model import ServiceLevel, SlotTotals

TEHRAN = ZoneInfo("Asia/Tehran")
LEVEL = ServiceLevel(20, 0.8)
START = datetime(2024, 3, 16, 0, tzinfo=TEHRAN)  # a Saturday's midnight


def slot(weekday, hour, calls, rides, *, answered=None, handle=0, completed=0, busy=0):
    answered = calls if answered is None else answered
    return SlotTotals(weekday, hour, answered, calls - answered, 0, handle, rides, completed, 0, 0, busy)


def test_each_hour_is_the_average_of_the_same_hour_in_the_weeks_used():
    history = [slot(0, 8, calls=400, rides=200, handle=400 * 120, completed=200, busy=200 * 1800)]
    hours = forecast_week(history, START, 4, LEVEL, TEHRAN, START - timedelta(weeks=10))
    assert len(hours) == HOURS_AHEAD and hours[0].at == START and (hours[0].weekday, hours[0].hour) == (0, 0)
    eight = hours[8]
    assert (eight.weekday, eight.hour, eight.expected_calls, eight.expected_rides) == (0, 8, 100.0, 50.0)
    assert eight.operators_needed == erlang.operators_needed(100, 120, 20, 0.8)
    # 50 rides of half an hour: 25 hours of driving, at 70% busy.
    assert eight.drivers_needed == 36
    assert all(h.expected_calls == 0 and h.operators_needed == 0 for h in hours if (h.weekday, h.hour) != (0, 8))


def test_a_new_center_averages_only_the_weeks_it_has_existed():
    history = [slot(0, 8, calls=200, rides=0)]
    hours = forecast_week(history, START, 8, LEVEL, TEHRAN, START - timedelta(weeks=2))
    assert hours[8].expected_calls == 100.0
    assert forecast_week([], START, 8, LEVEL, TEHRAN, None)[8].expected_calls == 0.0


def test_slots_are_counted_once_a_week():
    weeks = slot_weeks(START - timedelta(weeks=3), START, TEHRAN)
    assert set(weeks.values()) == {3} and len(weeks) == 168
    assert slot_weeks(START, START + timedelta(hours=2), TEHRAN)[(0, 1)] == 1


def test_drivers_needed_rounds_up_the_driving_time_over_the_utilisation():
    assert drivers_needed(0, 1800) == 0
    assert drivers_needed(14, 1800) == 10
    assert drivers_needed(14.1, 1800) == 11
