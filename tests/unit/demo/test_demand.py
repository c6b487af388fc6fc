"""When calls come and what callers do: a Tehran day's shape, Poisson arrivals, hang-ups."""

import random
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

from taxicrm.demo.demand import HOURLY_SHAPE, CallerKind, demand_share, local_hour, next_call_in, plan_call


def test_the_day_peaks_in_the_morning_and_evening_and_is_quiet_at_night():
    assert max(HOURLY_SHAPE) == 1.0 and len(HOURLY_SHAPE) == 24
    assert demand_share(9) == demand_share(18) == 1.0
    assert demand_share(4) < 0.1 < demand_share(13) < demand_share(8)
    assert demand_share(8.5) == (HOURLY_SHAPE[8] + HOURLY_SHAPE[9]) / 2
    assert demand_share(23.5) == (HOURLY_SHAPE[23] + HOURLY_SHAPE[0]) / 2


def test_the_hour_is_read_on_the_centers_clock():
    at = datetime(2026, 12, 2, 4, 30, tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Tehran"))
    assert local_hour(at) == 8.0  # 04:30 UTC is 08:00 in Tehran.


def test_calls_arrive_at_the_asked_rate():
    rng = random.Random(1)
    gaps = [next_call_in(rng, 600, 0.5) for _ in range(20_000)]
    assert 11.5 < statistics.mean(gaps) < 12.5  # 300 calls an hour: one every 12 s on average.


def test_callers_hang_up_at_the_asked_share_and_more_when_everyone_is_busy():
    rng = random.Random(2)
    calm = [plan_call(rng, 1.0, all_busy=False, hang_up_share=0.1) for _ in range(10_000)]
    busy = [plan_call(rng, 1.0, all_busy=True, hang_up_share=0.1) for _ in range(10_000)]
    assert 0.08 < sum(c.hangs_up for c in calm) / len(calm) < 0.12
    assert 0.27 < sum(c.hangs_up for c in busy) / len(busy) < 0.33
    assert statistics.mean(c.rings_s for c in busy if not c.hangs_up) > statistics.mean(
        c.rings_s for c in calm if not c.hangs_up)


def test_most_callers_are_known_and_want_a_ride_and_the_pace_shortens_the_talk():
    rng = random.Random(3)
    calls = [plan_call(rng, 1.0, all_busy=False) for _ in range(10_000)]
    known = [c for c in calls if c.caller is CallerKind.SUBSCRIBER]
    assert 0.7 < len(known) / len(calls) < 0.78
    assert not any(c.wants_ride for c in calls if c.caller is CallerKind.WITHHELD)
    assert 0.8 < sum(c.wants_ride for c in known) / len(known) < 0.9
    assert 30 < statistics.median(c.talk_s for c in calls) < 80
    fast, slow = plan_call(random.Random(3), 10.0, all_busy=False), plan_call(random.Random(3), 1.0, all_busy=False)
    assert fast.talk_s == slow.talk_s / 10 and fast.rings_s == slow.rings_s / 10
