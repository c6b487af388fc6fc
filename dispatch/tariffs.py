"""Tariff documents: check what an admin posts and turn it into a `fares.Tariff`, and render a tariff back.

A document is a JSON object (the field tables below list every field, its range and its default):

    {"code": "standard", "vehicle_class": "sedan", "effective_from": "2026-03-21",
     "flag_fall_rials": 300000, "included_metres": 1000, "per_km_rials": 150000,
     "per_minute_waiting_rials": 50000, "minimum_fare_rials": 400000, "rounding_unit_rials": 10000,
     "schedules": [{"name": "night", "days": ["saturday", ..., "friday"], "start": "23:00", "end": "05:00",
                    "kind": "surcharge_percent", "value": 20, "label_en": "Night", "label_fa": "شبانه"}],
     "zone_prices": [{"from_zone": "IKA", "to_zone": "WEST", "price_rials": 7500000}]}

Times without an offset (and bare dates) are the center's wall clock; an absent `effective_from` means now, and a
version never starts in the past, so publishing one never changes a fare already quoted or charged. Days are
"saturday" to "friday", plus "holiday" for the days in the holiday calendar.

Overlapping schedules are refused. Schedules of the same shape must not cover the same moment:

* two time-of-day windows (start != end) overlap when some moment falls in both: a window past midnight runs
  into the next day (23:00-05:00 on Friday covers Saturday 02:00), and since a holiday can fall on any weekday
  and holidays come in runs (Nowruz), a "holiday" window is checked against every weekday and every holiday;
* two whole-day schedules (start == end) overlap when they share a day, holidays counted the same way;
* a whole-day schedule (Friday, holidays) MAY stack on a time window (night): that is how "night 20 % plus
  Friday 10 %" is configured, and `fares` documents how the two add up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from enum import StrEnum
from itertools import combinations
from typing import Any

from dispatch.errors import InvalidHoliday, InvalidTariff, OverlappingSchedules
from dispatch.fares import DayType, LineCode, Schedule, ScheduleKind, Tariff, Weekday, ZonePrice
from dispatch.model import VehicleClass

MAX_RIALS = 1_000_000_000_000
MAX_SCHEDULES = 50
MAX_ZONE_PRICES = 500
MAX_LABEL = 100
MAX_HOLIDAYS = 2_000
MAX_HOLIDAY_NAME = 200

# The Iranian week starts on Saturday: documents list days, and messages name them, in that order.
DAY_NAMES: dict[str, Weekday | DayType] = {
    "saturday": Weekday.SATURDAY,
    "sunday": Weekday.SUNDAY,
    "monday": Weekday.MONDAY,
    "tuesday": Weekday.TUESDAY,
    "wednesday": Weekday.WEDNESDAY,
    "thursday": Weekday.THURSDAY,
    "friday": Weekday.FRIDAY,
    "holiday": DayType.HOLIDAY,
}
_DAY_ORDER = {day: index for index, day in enumerate(DAY_NAMES.values())}
_NAME_OF_DAY = {day: name for name, day in DAY_NAMES.items()}

TARIFF_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SCHEDULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# The same rule as zones' codes (migrations/0009_zones.sql), which zone prices name.
ZONE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class _Whole:
    """A whole-number field of a tariff: its range, unit, and default (None: required)."""

    low: int
    high: int
    unit: str
    default: int | None = None


_WHOLE_FIELDS: dict[str, _Whole] = {
    "flag_fall_rials": _Whole(0, MAX_RIALS, "rials"),
    "included_metres": _Whole(0, 100_000, "metres", default=0),
    "per_km_rials": _Whole(0, MAX_RIALS, "rials"),
    "per_minute_waiting_rials": _Whole(0, MAX_RIALS, "rials"),
    "minimum_fare_rials": _Whole(0, MAX_RIALS, "rials", default=0),
    "rounding_unit_rials": _Whole(1, 10_000_000, "rials"),
}
# Below this speed the meter counts waiting time; 10 km/h is the usual taximeter threshold.
DEFAULT_SLOW_SPEED_KMH = 10.0
TARIFF_FIELDS = frozenset({"code", "vehicle_class", "effective_from", "effective_until", "slow_speed_kmh",
                           "time_or_distance_higher", "schedules", "zone_prices", *_WHOLE_FIELDS})
# What a rendered version carries besides its document: sending it back is a mistake worth explaining.
SERVER_FIELDS = frozenset({"version", "status", "created_by", "created_at", "withdrawn_at"})
SCHEDULE_FIELDS = frozenset({"name", "days", "start", "end", "kind", "value", "label_en", "label_fa"})
ZONE_PRICE_FIELDS = frozenset({"from_zone", "to_zone", "price_rials", "both_directions", "schedules_apply"})
# A schedule's value by kind: the lowest value (excluded), the highest (included), and how it reads.
_SCHEDULE_VALUES: dict[ScheduleKind, tuple[Decimal, Decimal, str]] = {
    ScheduleKind.SURCHARGE_PERCENT: (Decimal(0), Decimal(1000), "a percent above 0 and at most 1000"),
    ScheduleKind.MULTIPLIER: (Decimal(0), Decimal(10), "a factor above 0 and at most 10"),
    ScheduleKind.FIXED_SURCHARGE: (Decimal(0), Decimal(MAX_RIALS), f"whole rials from 1 to {MAX_RIALS:,}"),
}
# Fare lines are keyed by code: a schedule named like a meter line would make a breakdown ambiguous.
_RESERVED_NAMES = frozenset(code.value for code in LineCode)


@dataclass(frozen=True)
class TariffVersion:
    """A version of a tariff as stored: its pricing rules, the vehicle class it prices, and its history."""

    tariff: Tariff
    vehicle_class: VehicleClass
    created_by: int | None = None
    created_at: datetime | None = None
    withdrawn_at: datetime | None = None

    @property
    def code(self) -> str:
        """The tariff's code, its id across versions."""
        return self.tariff.id


class VersionStatus(StrEnum):
    """Where a version stands at a given moment."""

    SCHEDULED = "scheduled"
    IN_FORCE = "in_force"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Holiday:
    """A day of the holiday calendar: schedules naming "holiday" apply on it."""

    day: date
    name: str


def version_status(version: TariffVersion, now: datetime) -> VersionStatus:
    """Tell whether a version is scheduled, in force, ended or withdrawn at `now`."""
    if version.withdrawn_at is not None:
        return VersionStatus.WITHDRAWN
    if now < version.tariff.effective_from:
        return VersionStatus.SCHEDULED
    return VersionStatus.IN_FORCE if version.tariff.is_in_force(now) else VersionStatus.ENDED


def parse_tariff(document: Mapping[str, Any], *, local_tz: tzinfo, now: datetime) -> TariffVersion:
    """Check a tariff document and return it as an unnumbered version (0), or raise InvalidTariff on the first fault."""
    _refuse_unknown(document, TARIFF_FIELDS, "")
    code = _text(document, "code", "", max_length=40)
    if not TARIFF_CODE.match(code):
        raise InvalidTariff("'code' must be 2 to 40 lower-case letters, digits or underscores, starting with a "
                            "letter (e.g. standard).", code="invalid_name")
    vehicle_class = _choice(document, "vehicle_class", "", {c.value: c for c in VehicleClass})
    effective_from = _instant(document, "effective_from", local_tz) or now
    effective_until = _instant(document, "effective_until", local_tz)
    if effective_from < now:
        raise InvalidTariff(f"'effective_from' ({effective_from.isoformat()}) is in the past: a new version would "
                            "change fares already quoted. Leave it out to start now.", code="effective_from_in_past")
    if effective_until is not None and effective_until <= effective_from:
        raise InvalidTariff("'effective_until' must come after 'effective_from'.", code="tariff_dates_reversed")
    whole = {name: _whole(document, name, rule) for name, rule in _WHOLE_FIELDS.items()}
    slow_speed = _decimal(document, "slow_speed_kmh", "", default=Decimal(str(DEFAULT_SLOW_SPEED_KMH)))
    if not 0 < slow_speed <= 100:
        raise InvalidTariff("'slow_speed_kmh' must be above 0 and at most 100.", code="out_of_range")
    tariff = Tariff(
        id=code, version=0, effective_from=effective_from, effective_until=effective_until,
        slow_speed_kmh=float(slow_speed),
        time_or_distance_higher=_flag(document, "time_or_distance_higher", "", default=False),
        schedules=schedules_from_json(_absent_is_empty(document, "schedules")),
        zone_prices=zone_prices_from_json(_absent_is_empty(document, "zone_prices")),
        **whole,
    )
    return TariffVersion(tariff=tariff, vehicle_class=vehicle_class)


def schedules_from_json(raw: Any) -> tuple[Schedule, ...]:
    """Read a document's `schedules` list, refusing bad fields, duplicate names and overlapping schedules."""
    items = _list(raw, "schedules", MAX_SCHEDULES)
    schedules = tuple(_schedule(item, f"schedules[{index}]") for index, item in enumerate(items))
    names = [schedule.name for schedule in schedules]
    for name in names:
        if names.count(name) > 1:
            raise InvalidTariff(f"Two schedules are named '{name}'; each line of a fare needs its own name.",
                                code="duplicate_schedule")
    check_overlaps(schedules)
    return schedules


def zone_prices_from_json(raw: Any) -> tuple[ZonePrice, ...]:
    """Read a document's `zone_prices` list, refusing bad fields and two prices for the same trip."""
    items = _list(raw, "zone_prices", MAX_ZONE_PRICES)
    prices = tuple(_zone_price(item, f"zone_prices[{index}]") for index, item in enumerate(items))
    priced: dict[tuple[str, str], int] = {}
    for index, price in enumerate(prices):
        for pair in _pairs(price):
            if pair in priced:
                raise InvalidTariff(f"zone_prices[{priced[pair]}] and zone_prices[{index}] both price trips from "
                                    f"{pair[0]} to {pair[1]}; keep one.", code="duplicate_zone_price")
            priced[pair] = index
    return prices


def check_overlaps(schedules: Iterable[Schedule]) -> None:
    """Raise OverlappingSchedules for the first two schedules of the same shape that cover one moment."""
    for first, second in combinations(schedules, 2):
        if _is_whole_day(first) != _is_whole_day(second):
            continue  # A whole-day schedule may stack on a time window: see the module's docstring.
        shared = min(_shared_moments(first, second), default=None)
        if shared is not None:
            raise OverlappingSchedules(first.name, second.name, _describe(shared, whole_day=_is_whole_day(first)))


def tariff_document(version: TariffVersion) -> dict[str, Any]:
    """Render a version as the document that would publish it (times in UTC)."""
    tariff = version.tariff
    return {
        "code": tariff.id,
        "vehicle_class": version.vehicle_class.value,
        "effective_from": tariff.effective_from.astimezone(UTC).isoformat(),
        "effective_until": tariff.effective_until.astimezone(UTC).isoformat() if tariff.effective_until else None,
        **{name: getattr(tariff, name) for name in _WHOLE_FIELDS},
        "slow_speed_kmh": tariff.slow_speed_kmh,
        "time_or_distance_higher": tariff.time_or_distance_higher,
        "schedules": schedules_json(tariff.schedules),
        "zone_prices": zone_prices_json(tariff.zone_prices),
    }


def version_json(version: TariffVersion, now: datetime) -> dict[str, Any]:
    """Render a stored version: its document, number, status at `now` and history."""
    return {
        **tariff_document(version),
        "version": version.tariff.version,
        "status": version_status(version, now).value,
        "created_by": version.created_by,
        "created_at": version.created_at.isoformat() if version.created_at else None,
        "withdrawn_at": version.withdrawn_at.isoformat() if version.withdrawn_at else None,
    }


def schedules_json(schedules: Iterable[Schedule]) -> list[dict[str, Any]]:
    """Render schedules as a document lists them (and as the database keeps them)."""
    return [
        {
            "name": s.name,
            "days": [_NAME_OF_DAY[day] for day in sorted(s.days, key=_DAY_ORDER.__getitem__)],
            "start": s.start.strftime("%H:%M"),
            "end": s.end.strftime("%H:%M"),
            "kind": s.kind.value,
            "value": _number_json(s.value),
            "label_en": s.label_en,
            "label_fa": s.label_fa,
        }
        for s in schedules
    ]


def zone_prices_json(prices: Iterable[ZonePrice]) -> list[dict[str, Any]]:
    """Render zone prices as a document lists them (and as the database keeps them)."""
    return [
        {"from_zone": p.from_zone, "to_zone": p.to_zone, "price_rials": p.price_rials,
         "both_directions": p.both_directions, "schedules_apply": p.schedules_apply}
        for p in prices
    ]


def parse_holidays(body: Mapping[str, Any]) -> list[Holiday]:
    """Check a holiday list ({"holidays": [{"day", "name"}]}) and return it by day, or raise InvalidHoliday."""
    if set(body) != {"holidays"}:
        raise InvalidHoliday("Send {\"holidays\": [{\"day\": \"2026-03-21\", \"name\": \"Nowruz\"}, ...]}.",
                             code="invalid_holiday")
    items = body["holidays"]
    if not isinstance(items, list) or len(items) > MAX_HOLIDAYS:
        raise InvalidHoliday(f"'holidays' must be a list of at most {MAX_HOLIDAYS} days.")
    holidays: dict[date, Holiday] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"day", "name"}:
            raise InvalidHoliday(f"holidays[{index}] must be an object with just a 'day' and a 'name'.")
        holiday = _holiday(item, index)
        if holiday.day in holidays:
            raise InvalidHoliday(f"{holiday.day.isoformat()} is listed twice.", code="duplicate_holiday")
        holidays[holiday.day] = holiday
    return sorted(holidays.values(), key=lambda h: h.day)


def holiday_json(holiday: Holiday) -> dict[str, str]:
    """Render a holiday."""
    return {"day": holiday.day.isoformat(), "name": holiday.name}


def _holiday(item: Mapping[str, Any], index: int) -> Holiday:
    day, name = item["day"], item["name"]
    try:
        parsed = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
    except ValueError:
        parsed = None
    # A Solar Hijri date typed by mistake (1405-01-01) is a valid Gregorian one, centuries ago.
    if parsed is None or not 2000 <= parsed.year <= 2200:
        raise InvalidHoliday(f"holidays[{index}].day must be a Gregorian date like 2026-03-21.", code="invalid_date")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_HOLIDAY_NAME:
        raise InvalidHoliday(f"holidays[{index}].name must be text of 1 to {MAX_HOLIDAY_NAME} characters.")
    return Holiday(day=parsed, name=" ".join(name.split()))


def _schedule(raw: Any, where: str) -> Schedule:
    item = _object(raw, where)
    name = _text(item, "name", where, max_length=40)
    if not SCHEDULE_NAME.match(name):
        raise InvalidTariff(f"{where}: 'name' must be lower-case letters, digits or underscores, starting with a "
                            "letter (e.g. night).", code="invalid_name")
    where = f"schedule '{name}'"
    if name in _RESERVED_NAMES:
        raise InvalidTariff(f"{where}: '{name}' is the name of a meter line; choose another name.",
                            code="invalid_name")
    _refuse_unknown(item, SCHEDULE_FIELDS, where)
    if ("start" in item) != ("end" in item):
        raise InvalidTariff(f"{where}: give both 'start' and 'end', or neither for the whole day.",
                            code="missing_field")
    kind = _choice(item, "kind", where, {k.value: k for k in ScheduleKind})
    return Schedule(
        name=name, days=_days(item, where), start=_clock(item, "start", where), end=_clock(item, "end", where),
        kind=kind, value=_schedule_value(item, kind, where),
        label_en=_label(item, "label_en", where), label_fa=_label(item, "label_fa", where),
    )


def _zone_price(raw: Any, where: str) -> ZonePrice:
    item = _object(raw, where)
    _refuse_unknown(item, ZONE_PRICE_FIELDS, where)
    zones = [_text(item, name, where, max_length=20).strip().upper() for name in ("from_zone", "to_zone")]
    for name, zone in zip(("from_zone", "to_zone"), zones, strict=True):
        if not ZONE_CODE.match(zone):
            raise InvalidTariff(f"{where}: '{name}' must be a zone code like IKA (letters, digits, - and _).",
                                code="invalid_name")
    return ZonePrice(
        from_zone=zones[0], to_zone=zones[1],
        price_rials=_whole(item, "price_rials", _Whole(0, MAX_RIALS, "rials"), where),
        both_directions=_flag(item, "both_directions", where, default=True),
        schedules_apply=_flag(item, "schedules_apply", where, default=True),
    )


def _pairs(price: ZonePrice) -> list[tuple[str, str]]:
    pairs = [(price.from_zone, price.to_zone)]
    return [*pairs, (price.to_zone, price.from_zone)] if price.both_directions else pairs


# Overlap is checked on the week as minutes from Saturday 00:00; a span may run past Friday midnight.
_DAY = 24 * 60
_WEEK = 7 * _DAY
_WEEK_DAYS = sorted(Weekday, key=_DAY_ORDER.__getitem__)


@dataclass(frozen=True, order=True)
class _Moment:
    """A minute of the week both schedules cover; `via_holiday` is whether it takes a holiday to get there."""

    via_holiday: bool
    minute: int
    only_holidays: bool


def _is_whole_day(schedule: Schedule) -> bool:
    return schedule.start == schedule.end


def _spans(schedule: Schedule) -> Iterator[tuple[int, int, bool]]:
    """Yield the schedule's (start, end, via_holiday) minutes of the week; "holiday" may be any weekday."""
    start = schedule.start.hour * 60 + schedule.start.minute
    length = _DAY if _is_whole_day(schedule) else (schedule.end.hour * 60 + schedule.end.minute - start) % _DAY
    for day in _WEEK_DAYS:
        offset = _DAY_ORDER[day] * _DAY + start
        if day in schedule.days:
            yield offset, offset + length, False
        if DayType.HOLIDAY in schedule.days:
            yield offset, offset + length, True


def _shared_moments(first: Schedule, second: Schedule) -> Iterator[_Moment]:
    only_holidays = first.days == second.days == {DayType.HOLIDAY}
    for start_a, end_a, holiday_a in _spans(first):
        for start_b, end_b, holiday_b in _spans(second):
            for shift in (-_WEEK, 0, _WEEK):  # Spans past Friday midnight meet Saturday's.
                low, high = max(start_a, start_b + shift), min(end_a, end_b + shift)
                if low < high:
                    yield _Moment(holiday_a or holiday_b, low % _WEEK, only_holidays)


def _describe(moment: _Moment, *, whole_day: bool) -> str:
    clock = "all day" if whole_day else f"at {moment.minute % _DAY // 60:02d}:{moment.minute % 60:02d}"
    if moment.only_holidays:
        return f"on a holiday {clock}"
    day = _NAME_OF_DAY[_WEEK_DAYS[moment.minute // _DAY]].title()
    return f"on {day} {clock}" + (" when it is a holiday" if moment.via_holiday else "")


def _refuse_unknown(item: Mapping[str, Any], fields: frozenset[str], where: str) -> None:
    unknown = sorted(set(item) - fields)
    if not unknown:
        return
    if not where and unknown[0] in SERVER_FIELDS:
        raise InvalidTariff(f"'{unknown[0]}' is set by the server; leave it out of the document.",
                            code="unknown_field")
    raise InvalidTariff(f"{_at(where, unknown[0])} is not a field here; the fields are {', '.join(sorted(fields))}.",
                        code="unknown_field")


def _at(where: str, name: str) -> str:
    return f"{where}: '{name}'" if where else f"'{name}'"


def _present(item: Mapping[str, Any], name: str, where: str) -> Any:
    value = item.get(name)
    if value is None:
        raise InvalidTariff(f"{_at(where, name)} is required.", code="missing_field")
    return value


def _absent_is_empty(item: Mapping[str, Any], name: str) -> Any:
    value = item.get(name)
    return [] if value is None else value


def _object(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidTariff(f"{where} must be an object.", code="wrong_type")
    return raw


def _list(raw: Any, name: str, most: int) -> list[Any]:
    if not isinstance(raw, list):
        raise InvalidTariff(f"'{name}' must be a list.", code="wrong_type")
    if len(raw) > most:
        raise InvalidTariff(f"'{name}' may hold at most {most} entries.", code="out_of_range")
    return raw


def _text(item: Mapping[str, Any], name: str, where: str, *, max_length: int) -> str:
    value = _present(item, name, where)
    if not isinstance(value, str):
        raise InvalidTariff(f"{_at(where, name)} must be text.", code="wrong_type")
    if len(value) > max_length:
        raise InvalidTariff(f"{_at(where, name)} is longer than {max_length} characters.", code="too_long")
    return value


def _label(item: Mapping[str, Any], name: str, where: str) -> str:
    label = " ".join(_text(item, name, where, max_length=MAX_LABEL).split())
    if not label:
        raise InvalidTariff(f"{_at(where, name)} must not be blank: the fare shows it.", code="missing_field")
    return label


def _choice(item: Mapping[str, Any], name: str, where: str, choices: Mapping[str, Any]) -> Any:
    value = _present(item, name, where)
    # A list or an object is no choice either (and is unhashable, so test its type before looking it up).
    if not isinstance(value, str) or value not in choices:
        raise InvalidTariff(f"{_at(where, name)} must be one of {', '.join(choices)}.", code="invalid_choice")
    return choices[value]


def _flag(item: Mapping[str, Any], name: str, where: str, *, default: bool) -> bool:
    value = item.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidTariff(f"{_at(where, name)} must be true or false.", code="wrong_type")
    return value


def _whole(item: Mapping[str, Any], name: str, rule: _Whole, where: str = "") -> int:
    value = item.get(name)
    if value is None and rule.default is not None:
        return rule.default
    value = _present(item, name, where)
    # bool is an int in Python, and 1.0 is not a whole number of rials in JSON: both are refused.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTariff(f"{_at(where, name)} must be a whole number of {rule.unit}.", code="wrong_type")
    if not rule.low <= value <= rule.high:
        raise InvalidTariff(f"{_at(where, name)} must be a whole number of {rule.unit} from {rule.low:,} to "
                            f"{rule.high:,}.", code="out_of_range")
    return value


def _decimal(item: Mapping[str, Any], name: str, where: str, *, default: Decimal | None = None) -> Decimal:
    value = item.get(name)
    if value is None and default is not None:
        return default
    value = _present(item, name, where)
    # Python's JSON reader lets NaN and Infinity through; no tariff figure is either.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidTariff(f"{_at(where, name)} must be a number.", code="wrong_type")
    return Decimal(str(value))


def _schedule_value(item: Mapping[str, Any], kind: ScheduleKind, where: str) -> Decimal | int:
    value = _decimal(item, "value", where)
    low, high, reads = _SCHEDULE_VALUES[kind]
    if kind is ScheduleKind.FIXED_SURCHARGE and (isinstance(item["value"], float) or value != int(value)):
        raise InvalidTariff(f"{where}: 'value' of a fixed surcharge must be {reads}.", code="wrong_type")
    if not low < value <= high:
        raise InvalidTariff(f"{where}: 'value' must be {reads}.", code="out_of_range")
    return int(value) if value == value.to_integral_value() else value


def _days(item: Mapping[str, Any], where: str) -> frozenset[Weekday | DayType]:
    raw = _present(item, "days", where)
    if not isinstance(raw, list) or not raw:
        raise InvalidTariff(f"{where}: 'days' must be a non-empty list of {', '.join(DAY_NAMES)}.",
                            code="wrong_type")
    for name in raw:
        if not isinstance(name, str) or name not in DAY_NAMES:
            raise InvalidTariff(f"{where}: {name!r} is not a day; use {', '.join(DAY_NAMES)}.", code="invalid_day")
        if raw.count(name) > 1:
            raise InvalidTariff(f"{where}: '{name}' is listed twice in 'days'.", code="invalid_day")
    return frozenset(DAY_NAMES[name] for name in raw)


def _clock(item: Mapping[str, Any], name: str, where: str) -> time:
    if name not in item:
        return time(0, 0)  # Neither start nor end: the whole day.
    value = item[name]
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidTariff(f"{_at(where, name)} must be a time of day as HH:MM, 00:00 to 23:59.",
                            code="invalid_time")
    return time(int(match[1]), int(match[2]))


def _instant(item: Mapping[str, Any], name: str, local_tz: tzinfo) -> datetime | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidTariff(f"'{name}' must be an ISO 8601 time or date, like 2026-03-21T00:00+03:30.",
                            code="invalid_time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTariff(f"'{name}' must be an ISO 8601 time or date, like 2026-03-21T00:00+03:30.",
                            code="invalid_time") from None
    # A time without an offset is the center's wall clock: tariffs change at local midnight.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=local_tz)).astimezone(UTC)


def _number_json(value: Decimal | int) -> int | float:
    return int(value) if Decimal(value) == Decimal(value).to_integral_value() else float(value)
