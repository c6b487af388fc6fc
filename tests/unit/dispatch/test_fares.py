"""Fares under a Tehran-style tariff configured as data.

The numbers are illustrative, not the city council's published rates: flag fall 250,000 rials including the
first 1,000 m, 120,000 rials per km after that, 40,000 rials per minute of waiting (below 10 km/h), a minimum
fare of 300,000 rials, totals rounded to 10,000 rials (1,000 tomans), 20 % at night from 23:00 to 05:00,
10 % on Fridays and holidays, and a fixed price to Imam Khomeini airport.
"""

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dispatch.errors import NoTariffInForce
from dispatch.fares import (
    EVERY_DAY,
    DayType,
    FareLine,
    PricingRule,
    Schedule,
    ScheduleKind,
    Split,
    Tariff,
    Trip,
    Weekday,
    ZonePrice,
    estimate_trip,
    quote,
    split,
    tariff_in_force,
)
from dispatch.traces import LatLng

TEHRAN = ZoneInfo("Asia/Tehran")
# Sizdah Be-dar (13 Farvardin 1403), a public holiday that fell on a Monday.
HOLIDAYS = frozenset({date(2024, 4, 1)})

NIGHT = Schedule(
    name="night",
    days=EVERY_DAY,
    start=time(23, 0),
    end=time(5, 0),
    kind=ScheduleKind.SURCHARGE_PERCENT,
    value=20,
    label_en="Night (23:00-05:00)",
    label_fa="شبانه",
)
FRIDAY_OR_HOLIDAY = Schedule(
    name="friday_holiday",
    days=frozenset({Weekday.FRIDAY, DayType.HOLIDAY}),
    start=time(0, 0),
    end=time(0, 0),
    kind=ScheduleKind.SURCHARGE_PERCENT,
    value=10,
    label_en="Friday or holiday",
    label_fa="جمعه و تعطیل",
)
AIRPORT = ZonePrice(from_zone="ika_airport", to_zone="tehran_west", price_rials=7_500_000, schedules_apply=False)

TEHRAN_2024 = Tariff(
    id="tehran_standard",
    version=1403,
    effective_from=datetime(2024, 3, 20, tzinfo=TEHRAN),
    effective_until=None,
    flag_fall_rials=250_000,
    included_metres=1_000,
    per_km_rials=120_000,
    per_minute_waiting_rials=40_000,
    slow_speed_kmh=10,
    time_or_distance_higher=False,
    minimum_fare_rials=300_000,
    rounding_unit_rials=10_000,
    schedules=(NIGHT, FRIDAY_OR_HOLIDAY),
    zone_prices=(AIRPORT,),
)
# The next year's version: the city raised the flag fall.
TEHRAN_2025 = replace(
    TEHRAN_2024, version=1404, effective_from=datetime(2025, 3, 21, tzinfo=TEHRAN), flag_fall_rials=300_000
)

TUESDAY_AFTERNOON = datetime(2024, 10, 15, 14, 0, tzinfo=TEHRAN)


def trip(at: datetime = TUESDAY_AFTERNOON, **changes: object) -> Trip:
    # 8.4 km in 25 minutes, 3 of them stuck at lights: a typical cross-town ride.
    measured = Trip(distance_m=8_400, duration_s=25 * 60, waiting_s=180, started_at=at)
    return replace(measured, **changes)


def amounts(fare_lines: tuple[FareLine, ...]) -> dict[str, int]:
    return {line.code: line.amount_rials for line in fare_lines}


def price(measured: Trip, tariff: Tariff = TEHRAN_2024) -> tuple[int, dict[str, int], PricingRule]:
    fare = quote(tariff, measured, local_tz=TEHRAN, holidays=HOLIDAYS)
    assert sum(line.amount_rials for line in fare.lines) == fare.total_rials
    return fare.total_rials, amounts(fare.lines), fare.rule


def test_daytime_metered_fare_is_itemised_and_rounded_half_up():
    total, lines, rule = price(trip())
    # 250,000 + 7,400 m x 120 rials/m + 3 min x 40,000 = 1,258,000, rounded to 1,260,000.
    assert lines == {"flag_fall": 250_000, "distance": 888_000, "waiting": 120_000, "rounding": 2_000}
    assert (total, rule) == (1_260_000, PricingRule.METER)


def test_fare_lines_carry_english_and_persian_labels():
    fare = quote(TEHRAN_2024, trip(), local_tz=TEHRAN, holidays=HOLIDAYS)
    assert [(line.label_en, line.label_fa) for line in fare.lines[:2]] == [
        ("Flag fall", "ورودی"),
        ("Distance", "مسافت"),
    ]


def test_exact_half_unit_rounds_up():
    # 250,000 + 1,625 m x 120 = 445,000: exactly half of 10,000 over 440,000.
    total, lines, _ = price(trip(distance_m=2_625, waiting_s=0))
    assert (total, lines["rounding"]) == (450_000, 5_000)


def test_night_surcharge_is_a_percent_of_the_metered_fare():
    total, lines, _ = price(trip(datetime(2024, 10, 15, 23, 30, tzinfo=TEHRAN)))
    # 20 % of 1,258,000 = 251,600; 1,509,600 rounds to 1,510,000.
    assert lines["night"] == 251_600
    assert (total, lines["rounding"]) == (1_510_000, 400)


def test_night_window_wraps_past_midnight():
    assert price(trip(datetime(2024, 10, 16, 4, 59, tzinfo=TEHRAN)))[0] == 1_510_000
    assert "night" not in price(trip(datetime(2024, 10, 16, 5, 0, tzinfo=TEHRAN)))[1]
    assert "night" not in price(trip(datetime(2024, 10, 15, 22, 59, tzinfo=TEHRAN)))[1]


def test_schedules_use_tehran_local_time_whatever_zone_the_trip_time_is_in():
    # 20:00 UTC is 23:30 in Tehran (UTC+03:30).
    assert "night" in price(trip(datetime(2024, 10, 15, 20, 0, tzinfo=ZoneInfo("UTC"))))[1]


def test_friday_night_percent_surcharges_add():
    total, lines, _ = price(trip(datetime(2024, 10, 18, 23, 30, tzinfo=TEHRAN)))
    # 20 % + 10 % of 1,258,000 = 377,400; 1,635,400 rounds to 1,640,000.
    assert (lines["night"], lines["friday_holiday"]) == (251_600, 125_800)
    assert total == 1_640_000


def test_holiday_is_surcharged_like_friday():
    assert price(trip(datetime(2024, 4, 1, 10, 0, tzinfo=TEHRAN)))[1]["friday_holiday"] == 125_800
    assert "friday_holiday" not in price(trip(datetime(2024, 4, 8, 10, 0, tzinfo=TEHRAN)))[1]


def test_a_wrapping_window_belongs_to_the_day_it_starts():
    friday_night = replace(NIGHT, name="friday_night", days=frozenset({Weekday.FRIDAY}))
    tariff = replace(TEHRAN_2024, schedules=(friday_night,))
    assert "friday_night" in price(trip(datetime(2024, 10, 19, 2, 0, tzinfo=TEHRAN)), tariff)[1]  # Saturday 02:00
    assert "friday_night" not in price(trip(datetime(2024, 10, 18, 2, 0, tzinfo=TEHRAN)), tariff)[1]  # Friday 02:00


def test_multipliers_compound_before_percents_and_fixed_surcharges():
    storm = Schedule("storm", EVERY_DAY, time(0), time(0), ScheduleKind.MULTIPLIER, Decimal("1.5"), "Storm", "طوفان")
    late = Schedule("late_fee", EVERY_DAY, time(23), time(5), ScheduleKind.FIXED_SURCHARGE, 50_000, "Late", "دیرهنگام")
    tariff = replace(TEHRAN_2024, schedules=(NIGHT, late, storm))
    total, lines, _ = price(trip(datetime(2024, 10, 15, 23, 30, tzinfo=TEHRAN)), tariff)
    # x1.5 on 1,258,000 adds 629,000; 20 % of 1,887,000 is 377,400; + 50,000 = 2,314,400, rounded down.
    assert (lines["storm"], lines["night"], lines["late_fee"]) == (629_000, 377_400, 50_000)
    assert (total, lines["rounding"]) == (2_310_000, -4_400)


def test_short_trip_is_topped_up_to_the_minimum_fare_before_surcharges():
    short = trip(distance_m=1_200, duration_s=180, waiting_s=0)
    total, lines, rule = price(short)
    # 250,000 + 200 m x 120 = 274,000, topped up by 26,000.
    assert (total, lines["minimum"], rule) == (300_000, 26_000, PricingRule.MINIMUM)
    assert price(replace(short, started_at=datetime(2024, 10, 15, 23, 30, tzinfo=TEHRAN)))[0] == 360_000


def test_airport_zone_price_overrides_the_meter_in_both_directions():
    for pickup, dropoff in [("ika_airport", "tehran_west"), ("tehran_west", "ika_airport")]:
        total, lines, rule = price(trip(distance_m=52_000, pickup_zone=pickup, dropoff_zone=dropoff))
        assert (total, lines, rule) == (7_500_000, {"zone_fixed": 7_500_000}, PricingRule.ZONE_FIXED)


def test_all_inclusive_zone_price_ignores_the_night_surcharge_unless_configured():
    night = datetime(2024, 10, 15, 23, 30, tzinfo=TEHRAN)
    airport_trip = trip(night, pickup_zone="ika_airport", dropoff_zone="tehran_west")
    assert price(airport_trip)[0] == 7_500_000
    with_night = replace(TEHRAN_2024, zone_prices=(replace(AIRPORT, schedules_apply=True),))
    assert price(airport_trip, with_night)[0] == 9_000_000


def test_one_way_zone_price_leaves_the_return_trip_on_the_meter():
    one_way = replace(TEHRAN_2024, zone_prices=(replace(AIRPORT, both_directions=False),))
    assert price(trip(pickup_zone="tehran_west", dropoff_zone="ika_airport"), one_way)[2] is PricingRule.METER


def test_time_or_distance_charges_the_whole_trip_time_when_it_costs_more():
    tariff = replace(TEHRAN_2024, time_or_distance_higher=True)
    # Crawling: 2,000 m beyond the flag fall = 240,000; 20 minutes = 800,000, so time wins.
    total, lines, _ = price(trip(distance_m=3_000, duration_s=1_200, waiting_s=600), tariff)
    assert (total, lines) == (1_050_000, {"flag_fall": 250_000, "time": 800_000})
    # Highway: 9,000 m = 1,080,000 beats 12 minutes = 480,000; waiting is not charged on top.
    total, lines, _ = price(trip(distance_m=10_000, duration_s=720, waiting_s=60), tariff)
    assert (total, lines) == (1_330_000, {"flag_fall": 250_000, "distance": 1_080_000})


def test_the_version_in_force_switches_at_its_effective_instant():
    versions = [TEHRAN_2025, TEHRAN_2024]
    utc = ZoneInfo("UTC")
    assert tariff_in_force(versions, datetime(2025, 3, 20, 20, 29, 59, tzinfo=utc)).version == 1403
    # Midnight in Tehran on 1 Farvardin 1404 is 20:30 UTC the day before.
    assert tariff_in_force(versions, datetime(2025, 3, 20, 20, 30, tzinfo=utc)).version == 1404
    assert price(trip(datetime(2025, 4, 1, 14, 0, tzinfo=TEHRAN)), TEHRAN_2025)[1]["flag_fall"] == 300_000


def test_a_closed_version_is_not_in_force_after_it_ends():
    closed = replace(TEHRAN_2024, effective_until=datetime(2025, 3, 21, tzinfo=TEHRAN))
    with pytest.raises(NoTariffInForce):
        tariff_in_force([closed], datetime(2025, 3, 21, tzinfo=TEHRAN))


def test_no_version_in_force_is_a_clear_error():
    with pytest.raises(NoTariffInForce, match="No tariff is in force at 2024-03-19"):
        tariff_in_force([TEHRAN_2024, TEHRAN_2025], datetime(2024, 3, 19, 12, 0, tzinfo=TEHRAN))


def test_naive_effective_dates_are_refused():
    with pytest.raises(ValueError, match="tz-aware"):
        replace(TEHRAN_2024, effective_from=datetime(2024, 3, 20))


def test_estimate_from_azadi_square_to_tajrish_is_plausible():
    estimate = estimate_trip(LatLng(35.6997, 51.3380), LatLng(35.8045, 51.4330), started_at=TUESDAY_AFTERNOON)
    # About 14.5 km as the crow flies; by road roughly 19 km, about 45 minutes at 25 km/h.
    assert 17_500 < estimate.distance_m < 20_500
    assert 40 * 60 < estimate.duration_s < 50 * 60
    assert estimate.waiting_s == 0
    assert 2_000_000 < price(estimate)[0] < 3_000_000


def test_road_factor_scales_the_estimate():
    azadi, tajrish = LatLng(35.6997, 51.3380), LatLng(35.8045, 51.4330)
    straight = estimate_trip(azadi, tajrish, started_at=TUESDAY_AFTERNOON, road_factor=1.0)
    assert 14_000 < straight.distance_m < 15_000


def test_split_gives_the_center_its_commission():
    assert split(1_260_000, 1_500) == Split(driver_rials=1_071_000, center_rials=189_000)


def test_split_leaves_the_odd_rial_with_the_driver():
    assert split(1_001, 1_250) == Split(driver_rials=876, center_rials=125)


@pytest.mark.parametrize("commission_bp", [0, 1, 333, 1_500, 2_499, 10_000])
def test_split_always_sums_to_the_fare(commission_bp):
    for total in [0, 1, 7, 999_999, 1_260_000, 12_345_679]:
        shares = split(total, commission_bp)
        assert shares.driver_rials + shares.center_rials == total
        assert min(shares.driver_rials, shares.center_rials) >= 0


def test_split_refuses_a_commission_over_100_percent():
    with pytest.raises(ValueError, match="basis points"):
        split(1_000_000, 10_001)
