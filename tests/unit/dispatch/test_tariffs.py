"""Tariff documents: a Tehran-style tariff configured as data, priced by hand, and every way a document is refused.

The published rates below are illustrative, in the style of Tehran's taxi tariff: a flag fall of 250,000 rials
including the first 1,000 m, 120,000 rials per km after that, 40,000 rials per minute of waiting, a minimum fare of
300,000 rials, totals rounded to 10,000 rials, 20 % from 23:00 to 05:00 and 10 % on Fridays and holidays.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.errors import InvalidHoliday, InvalidTariff, OverlappingSchedules
from dispatch.fares import DayType, ScheduleKind, Trip, Weekday, quote
from dispatch.model import VehicleClass
from dispatch.tariffs import (
    Holiday,
    TariffVersion,
    VersionStatus,
    parse_holidays,
    parse_tariff,
    tariff_document,
    version_status,
)

TEHRAN = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Doc = dict[str, Any]

FLAG_FALL, INCLUDED_M, PER_KM, PER_MINUTE, MINIMUM, UNIT = 250_000, 1_000, 120_000, 40_000, 300_000, 10_000
NIGHT_PERCENT, FRIDAY_PERCENT = 20, 10
EVERY_WEEKDAY = ["saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"]


def tehran_document() -> Doc:
    return {
        "code": "standard",
        "vehicle_class": "sedan",
        "effective_from": "2026-03-21",
        "flag_fall_rials": FLAG_FALL,
        "included_metres": INCLUDED_M,
        "per_km_rials": PER_KM,
        "per_minute_waiting_rials": PER_MINUTE,
        "minimum_fare_rials": MINIMUM,
        "rounding_unit_rials": UNIT,
        "schedules": [
            {"name": "night", "days": EVERY_WEEKDAY, "start": "23:00", "end": "05:00",
             "kind": "surcharge_percent", "value": NIGHT_PERCENT, "label_en": "Night", "label_fa": "شبانه"},
            {"name": "friday_holiday", "days": ["friday", "holiday"], "kind": "surcharge_percent",
             "value": FRIDAY_PERCENT, "label_en": "Friday or holiday", "label_fa": "جمعه و تعطیل"},
        ],
        "zone_prices": [{"from_zone": "ika", "to_zone": "WEST", "price_rials": 7_500_000, "schedules_apply": False}],
    }


def parse(document: Doc, now: datetime = NOW) -> TariffVersion:
    return parse_tariff(document, local_tz=TEHRAN, now=now)


def schedule(name: str, days: list[str], start: str | None = None, end: str | None = None, **extra: Any) -> Doc:
    window = {} if start is None else {"start": start, "end": end}
    return {"name": name, "days": days, **window, "kind": "surcharge_percent", "value": 10, "label_en": name,
            "label_fa": name, **extra}


def with_schedules(*schedules: Doc) -> Doc:
    return {**tehran_document(), "schedules": list(schedules)}


def half_up(amount: int, unit: int) -> int:
    return (amount + unit // 2) // unit * unit


def test_a_tehran_style_tariff_from_a_document_prices_a_night_trip_as_worked_out_by_hand() -> None:
    tariff = parse(tehran_document()).tariff
    # Tuesday 00:40 in Tehran is still Monday's night: 12.35 km with 4.5 minutes stuck in traffic.
    trip = Trip(distance_m=12_350, duration_s=32 * 60, waiting_s=270,
                started_at=datetime(2026, 4, 7, 0, 40, tzinfo=TEHRAN))
    fare = quote(tariff, trip, local_tz=TEHRAN, holidays=frozenset())

    distance = (12_350 - INCLUDED_M) * PER_KM // 1_000  # 11,350 m at 120 rials a metre = 1,362,000
    waiting = 270 * PER_MINUTE // 60  # 4.5 minutes = 180,000
    metered = FLAG_FALL + distance + waiting  # 1,792,000
    night = metered * NIGHT_PERCENT // 100  # 358,400
    total = half_up(metered + night, UNIT)  # 2,150,400 -> 2,150,000
    assert [(line.code, line.amount_rials) for line in fare.lines] == [
        ("flag_fall", FLAG_FALL), ("distance", distance), ("waiting", waiting), ("night", night),
        ("rounding", total - metered - night),
    ]
    assert (fare.total_rials, total) == (2_150_000, 2_150_000)
    assert (fare.tariff_id, fare.lines[3].label_fa) == ("standard", "شبانه")


def test_the_document_is_read_into_the_fare_rules() -> None:
    version = parse(tehran_document())
    tariff = version.tariff
    assert (version.code, version.vehicle_class, tariff.version) == ("standard", VehicleClass.SEDAN, 0)
    # A bare date is midnight on the center's wall clock: 1 Farvardin 1405 began at 20:30 UTC the day before.
    assert tariff.effective_from == datetime(2026, 3, 20, 20, 30, tzinfo=UTC)
    night, friday = tariff.schedules
    assert (night.start, night.end, night.kind, night.value) == (time(23), time(5), ScheduleKind.SURCHARGE_PERCENT, 20)
    assert night.days == frozenset(Weekday)
    assert (friday.start, friday.end, friday.days) == (time(0), time(0), frozenset({Weekday.FRIDAY, DayType.HOLIDAY}))
    # Zone codes are upper case, as zones keep them.
    assert (tariff.zone_prices[0].from_zone, tariff.zone_prices[0].both_directions) == ("IKA", True)


def test_rendering_gives_back_the_document_in_its_canonical_form() -> None:
    rendered = tariff_document(parse(tehran_document()))
    again = tariff_document(parse(rendered))
    assert rendered == again
    assert rendered["effective_from"] == "2026-03-20T20:30:00+00:00"
    assert rendered["schedules"][1] == {
        "name": "friday_holiday", "days": ["friday", "holiday"], "start": "00:00", "end": "00:00",
        "kind": "surcharge_percent", "value": 10, "label_en": "Friday or holiday", "label_fa": "جمعه و تعطیل",
    }
    assert rendered["zone_prices"] == [{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7_500_000,
                                        "both_directions": True, "schedules_apply": False}]


def test_optional_fields_take_their_defaults_and_no_start_means_now() -> None:
    document = {key: value for key, value in tehran_document().items()
                if key not in {"effective_from", "included_metres", "minimum_fare_rials", "schedules", "zone_prices"}}
    tariff = parse(document).tariff
    assert (tariff.effective_from, tariff.effective_until) == (NOW, None)
    assert (tariff.included_metres, tariff.minimum_fare_rials, tariff.slow_speed_kmh) == (0, 0, 10.0)
    assert (tariff.time_or_distance_higher, tariff.schedules, tariff.zone_prices) == (False, (), ())


def test_fractional_multipliers_and_percents_are_exact_decimals() -> None:
    tariff = parse(with_schedules(schedule("storm", EVERY_WEEKDAY, kind="multiplier", value=1.15),
                                  schedule("late", EVERY_WEEKDAY, "23:00", "05:00", value=12.5))).tariff
    assert [s.value for s in tariff.schedules] == [Decimal("1.15"), Decimal("12.5")]
    assert tariff_document(parse(tehran_document()))["schedules"][0]["value"] == 20


@pytest.mark.parametrize(("schedules", "named", "when"), [
    pytest.param([schedule("night", ["friday"], "23:00", "05:00"), schedule("late", ["friday"], "23:30", "01:00")],
                 ("night", "late"), "on Friday at 23:30", id="windows sharing a day and hours"),
    pytest.param([schedule("night", ["friday"], "23:00", "05:00"), schedule("dawn", ["saturday"], "02:00", "04:00")],
                 ("night", "dawn"), "on Saturday at 02:00", id="a window past midnight runs into the next week"),
    pytest.param([schedule("peak", ["sunday", "monday"], "07:00", "10:00"),
                  schedule("school", ["monday"], "09:30", "11:00")],
                 ("peak", "school"), "on Monday at 09:30", id="one shared day among several"),
    pytest.param([schedule("friday", ["friday"]), schedule("weekend", ["thursday", "friday"])],
                 ("friday", "weekend"), "on Friday all day", id="whole days sharing a day"),
    pytest.param([schedule("holiday_noon", ["holiday"], "10:00", "12:00"),
                  schedule("monday_noon", ["monday"], "11:00", "13:00")],
                 ("holiday_noon", "monday_noon"), "on Monday at 11:00 when it is a holiday",
                 id="a holiday may fall on that weekday"),
    pytest.param([schedule("holiday_night", ["holiday"], "22:00", "03:00"),
                  schedule("holiday_dawn", ["holiday"], "02:00", "06:00")],
                 ("holiday_night", "holiday_dawn"), "on a holiday at 02:00", id="holidays come in runs"),
    pytest.param([schedule("holidays", ["holiday"]), schedule("nowruz", ["holiday"])],
                 ("holidays", "nowruz"), "on a holiday all day", id="two whole-day holiday schedules"),
])
def test_overlapping_schedules_are_refused_naming_both_and_the_moment_they_share(
        schedules: list[Doc], named: tuple[str, str], when: str) -> None:
    with pytest.raises(OverlappingSchedules) as refused:
        parse(with_schedules(*schedules))
    assert (refused.value.first, refused.value.second, refused.value.code) == (*named, "overlapping_schedules")
    assert f"Schedules '{named[0]}' and '{named[1]}' overlap: both would apply {when}." in refused.value.message


@pytest.mark.parametrize("schedules", [
    pytest.param([schedule("night", EVERY_WEEKDAY, "23:00", "05:00"), schedule("friday", ["friday", "holiday"])],
                 id="a whole day stacks on a night window"),
    pytest.param([schedule("night", ["friday"], "23:00", "05:00"), schedule("morning", ["saturday"], "05:00", "07:00")],
                 id="windows that only touch"),
    pytest.param([schedule("rush", ["saturday"], "07:00", "09:00"), schedule("rush_sun", ["sunday"], "07:00", "09:00")],
                 id="the same hours on other days"),
    pytest.param([schedule("friday", ["friday"]), schedule("saturday", ["saturday"])], id="whole days apart"),
])
def test_schedules_that_never_cover_the_same_moment_are_accepted(schedules: list[Doc]) -> None:
    assert len(parse(with_schedules(*schedules)).tariff.schedules) == 2


def multiplier(value: Any) -> Callable[[Doc], None]:
    """Make the night schedule a multiplier of `value`."""
    def change(document: Doc) -> None:
        document["schedules"][0].update(kind="multiplier", value=value)
    return change


def changed(path: tuple[str | int, ...], value: Any) -> Callable[[Doc], None]:
    """Set (or, with ..., delete) one field of the document, given as a path."""
    def change(document: Doc) -> None:
        target: Any = document
        for key in path[:-1]:
            target = target[key]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


@pytest.mark.parametrize(("change", "code", "says"), [
    (changed(("surcharge",), 5), "unknown_field", "'surcharge' is not a field here"),
    (changed(("version",), 3), "unknown_field", "'version' is set by the server"),
    (changed(("schedules", 0, "priority"), 1), "unknown_field", "schedule 'night': 'priority' is not a field"),
    (changed(("zone_prices", 0, "via"), "X"), "unknown_field", "zone_prices[0]: 'via' is not a field"),
    (changed(("code",), ...), "missing_field", "'code' is required"),
    (changed(("per_km_rials",), ...), "missing_field", "'per_km_rials' is required"),
    (changed(("code",), "Standard fare"), "invalid_name", "'code' must be 2 to 40 lower-case"),
    (changed(("vehicle_class",), "bus"), "invalid_choice", "'vehicle_class' must be one of sedan, van, luxury"),
    (changed(("per_km_rials",), -1), "out_of_range", "'per_km_rials' must be a whole number of rials from 0"),
    (changed(("flag_fall_rials",), -250_000), "out_of_range", "'flag_fall_rials' must be a whole number of rials"),
    (changed(("minimum_fare_rials",), 10**13), "out_of_range", "to 1,000,000,000,000"),
    (changed(("per_km_rials",), 120_000.5), "wrong_type", "'per_km_rials' must be a whole number of rials."),
    (changed(("per_km_rials",), "120000"), "wrong_type", "'per_km_rials' must be a whole number"),
    (changed(("flag_fall_rials",), True), "wrong_type", "'flag_fall_rials' must be a whole number"),
    (changed(("rounding_unit_rials",), 0), "out_of_range", "'rounding_unit_rials' must be a whole number of rials "
                                                           "from 1"),
    (changed(("included_metres",), -5), "out_of_range", "'included_metres' must be a whole number of metres"),
    (changed(("slow_speed_kmh",), 0), "out_of_range", "'slow_speed_kmh' must be above 0"),
    (changed(("slow_speed_kmh",), float("nan")), "wrong_type", "'slow_speed_kmh' must be a number"),
    (changed(("time_or_distance_higher",), "yes"), "wrong_type", "must be true or false"),
    (changed(("effective_until",), "2026-03-20"), "tariff_dates_reversed", "'effective_until' must come after"),
    (changed(("effective_until",), "2026-03-21"), "tariff_dates_reversed", "'effective_until' must come after"),
    (changed(("effective_from",), "2026-02-28"), "effective_from_in_past", "is in the past"),
    (changed(("effective_from",), "21/03/2026"), "invalid_time", "'effective_from' must be an ISO 8601"),
    (changed(("effective_until",), 2027), "invalid_time", "'effective_until' must be an ISO 8601"),
    (changed(("schedules",), {"night": {}}), "wrong_type", "'schedules' must be a list"),
    (changed(("schedules", 0), "night"), "wrong_type", "schedules[0] must be an object"),
    (changed(("schedules", 0, "name"), "Night!"), "invalid_name", "schedules[0]: 'name' must be lower-case"),
    (changed(("schedules", 0, "name"), "rounding"), "invalid_name", "'rounding' is the name of a meter line"),
    (changed(("schedules", 1, "name"), "night"), "duplicate_schedule", "Two schedules are named 'night'"),
    (changed(("schedules", 0, "kind"), "discount"), "invalid_choice", "schedule 'night': 'kind' must be one of"),
    (changed(("schedules", 0, "kind"), "multiplier"), "out_of_range", "'value' must be a factor above 0 and at "
                                                                       "most 10"),
    (multiplier(0), "out_of_range", "schedule 'night': 'value' must be a factor above 0"),
    (multiplier(-1.5), "out_of_range", "schedule 'night': 'value' must be a factor above 0"),
    (multiplier(float("inf")), "wrong_type", "schedule 'night': 'value' must be a number"),
    (changed(("schedules", 0, "value"), 0), "out_of_range", "schedule 'night': 'value' must be a percent above 0"),
    (changed(("schedules", 0, "value"), -20), "out_of_range", "'value' must be a percent above 0"),
    (changed(("schedules", 0, "value"), None), "missing_field", "schedule 'night': 'value' is required"),
    (changed(("schedules", 0, "start"), "7:00"), "invalid_time", "'start' must be a time of day as HH:MM"),
    (changed(("schedules", 0, "start"), "24:00"), "invalid_time", "'start' must be a time of day as HH:MM"),
    (changed(("schedules", 0, "end"), "05:60"), "invalid_time", "'end' must be a time of day as HH:MM"),
    (changed(("schedules", 0, "end"), 500), "invalid_time", "'end' must be a time of day as HH:MM"),
    (changed(("schedules", 0, "end"), ...), "missing_field", "give both 'start' and 'end', or neither"),
    (changed(("schedules", 0, "days"), ["fri"]), "invalid_day", "'fri' is not a day; use saturday, sunday"),
    (changed(("schedules", 0, "days"), ["Friday"]), "invalid_day", "'Friday' is not a day"),
    (changed(("schedules", 0, "days"), ["friday", "friday"]), "invalid_day", "'friday' is listed twice"),
    (changed(("schedules", 0, "days"), []), "wrong_type", "'days' must be a non-empty list"),
    (changed(("schedules", 0, "days"), "friday"), "wrong_type", "'days' must be a non-empty list"),
    (changed(("schedules", 0, "label_fa"), "   "), "missing_field", "'label_fa' must not be blank"),
    (changed(("schedules", 0, "label_en"), "x" * 101), "too_long", "'label_en' is longer than 100 characters"),
    (changed(("zone_prices", 0, "price_rials"), -1), "out_of_range", "zone_prices[0]: 'price_rials' must be"),
    (changed(("zone_prices", 0, "to_zone"), "west side"), "invalid_name", "'to_zone' must be a zone code"),
    (changed(("zone_prices", 0, "both_directions"), 1), "wrong_type", "must be true or false"),
])
def test_a_bad_document_is_refused_with_a_clear_message(change: Callable[[Doc], None], code: str, says: str) -> None:
    document = copy.deepcopy(tehran_document())
    change(document)
    with pytest.raises(InvalidTariff) as refused:
        parse(document)
    assert (refused.value.code, refused.value.status) == (code, 400)
    assert says in refused.value.message


def test_a_fixed_surcharge_is_whole_rials() -> None:
    late = schedule("late", EVERY_WEEKDAY, "23:00", "05:00", kind="fixed_surcharge", value=50_000.5)
    with pytest.raises(InvalidTariff, match="whole rials") as refused:
        parse(with_schedules(late))
    assert refused.value.code == "wrong_type"
    assert parse(with_schedules({**late, "value": 50_000})).tariff.schedules[0].value == 50_000


@pytest.mark.parametrize("prices", [
    [{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 1}, {"from_zone": "WEST", "to_zone": "IKA",
                                                                 "price_rials": 2}],
    [{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 1, "both_directions": False},
     {"from_zone": "ika", "to_zone": "west", "price_rials": 2, "both_directions": False}],
])
def test_two_prices_for_the_same_trip_between_zones_are_refused(prices: list[Doc]) -> None:
    with pytest.raises(InvalidTariff) as refused:
        parse({**tehran_document(), "zone_prices": prices})
    assert refused.value.code == "duplicate_zone_price"
    assert "zone_prices[0] and zone_prices[1] both price trips from" in refused.value.message


def test_one_way_prices_in_each_direction_may_differ() -> None:
    prices = [{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7_500_000, "both_directions": False},
              {"from_zone": "WEST", "to_zone": "IKA", "price_rials": 6_500_000, "both_directions": False}]
    assert len(parse({**tehran_document(), "zone_prices": prices}).tariff.zone_prices) == 2


def test_a_version_is_scheduled_then_in_force_then_ended() -> None:
    version = parse({**tehran_document(), "effective_until": "2027-03-21"})
    start = version.tariff.effective_from
    assert version_status(version, start - timedelta(seconds=1)) is VersionStatus.SCHEDULED
    assert version_status(version, start) is VersionStatus.IN_FORCE
    assert version_status(version, datetime(2027, 3, 21, tzinfo=TEHRAN)) is VersionStatus.ENDED


def test_the_holiday_calendar_is_read_by_day() -> None:
    days = parse_holidays({"holidays": [{"day": "2026-04-02", "name": " Sizdah  Be-dar "},
                                        {"day": "2026-03-21", "name": "Nowruz"}]})
    assert days == [Holiday(date(2026, 3, 21), "Nowruz"), Holiday(date(2026, 4, 2), "Sizdah Be-dar")]
    assert parse_holidays({"holidays": []}) == []


@pytest.mark.parametrize(("body", "code", "says"), [
    ({"holidays": [{"day": "2026-03-21", "name": "Nowruz"}, {"day": "2026-03-21", "name": "again"}]},
     "duplicate_holiday", "2026-03-21 is listed twice"),
    ({"holidays": [{"day": "1405-01-01", "name": "Nowruz"}]}, "invalid_date",
     "holidays[0].day must be a Gregorian date like 2026-03-21"),
    ({"holidays": [{"day": "2026-02-30", "name": "No such day"}]}, "invalid_date", "must be a Gregorian date"),
    ({"holidays": [{"day": 20260321, "name": "Nowruz"}]}, "invalid_date", "must be a Gregorian date"),
    ({"holidays": [{"day": "2026-03-21"}]}, "invalid_holiday", "holidays[0] must be an object with just"),
    ({"holidays": [{"day": "2026-03-21", "name": ""}]}, "invalid_holiday", "holidays[0].name must be text"),
    ({"holidays": [{"day": "2026-03-21", "name": "Nowruz", "paid": True}]}, "invalid_holiday", "with just"),
    ({"holidays": "2026-03-21"}, "invalid_holiday", "'holidays' must be a list"),
    ({"days": []}, "invalid_holiday", "Send {\"holidays\""),
])
def test_a_bad_holiday_list_is_refused(body: Doc, code: str, says: str) -> None:
    with pytest.raises(InvalidHoliday) as refused:
        parse_holidays(body)
    assert refused.value.code == code and says in refused.value.message
