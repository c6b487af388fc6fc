"""Price a trip from a versioned tariff: quotes at booking, final fares at completion, and the driver's share.

A fare is built in this order, and its lines always sum to its total:

1. The base. A zone fixed price between the trip's zones overrides the meter. Otherwise the meter charges the
   flag fall (which includes the first `included_metres`), distance beyond those metres, and waiting time;
   with `time_or_distance_higher`, it charges whichever of distance and the whole trip's time costs more
   instead. A metered base below the minimum fare is topped up to it.
2. Schedules in force at the trip's local start time, in the tariff's order: multipliers compound on the base
   (x1.5 then x1.2 is x1.8); percent surcharges are then each taken on that multiplied amount and add up
   (night 20 % and Friday 10 % is 30 %, not 32 %); fixed surcharges are added last.
3. The total is rounded to the tariff's unit, half up (a total exactly between two units goes up), shown as a
   rounding line that may be negative.

Money is integer rials throughout; each line is rounded half up to the rial before it is added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum, StrEnum

from dispatch.errors import NoTariffInForce
from dispatch.traces import LatLng, haversine_m


class Weekday(IntEnum):
    """Days of the week, numbered as `date.weekday()` numbers them."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class DayType(StrEnum):
    """Days chosen by the calendar rather than the weekday."""

    HOLIDAY = "holiday"


EVERY_DAY: frozenset[Weekday | DayType] = frozenset(Weekday)


class ScheduleKind(StrEnum):
    """How a schedule changes the fare: `value` is a percent, a factor, or rials."""

    SURCHARGE_PERCENT = "surcharge_percent"
    MULTIPLIER = "multiplier"
    FIXED_SURCHARGE = "fixed_surcharge"


class PricingRule(StrEnum):
    """Which rule set the base of a fare."""

    METER = "meter"
    ZONE_FIXED = "zone_fixed"
    MINIMUM = "minimum"


class LineCode(StrEnum):
    """Codes of the fare lines that do not come from a schedule (schedule lines use the schedule's name)."""

    FLAG_FALL = "flag_fall"
    DISTANCE = "distance"
    WAITING = "waiting"
    TIME = "time"
    ZONE_FIXED = "zone_fixed"
    MINIMUM = "minimum"
    ROUNDING = "rounding"


LINE_LABELS: dict[LineCode, tuple[str, str]] = {
    LineCode.FLAG_FALL: ("Flag fall", "ورودی"),
    LineCode.DISTANCE: ("Distance", "مسافت"),
    LineCode.WAITING: ("Waiting", "زمان توقف"),
    LineCode.TIME: ("Time", "زمان سفر"),
    LineCode.ZONE_FIXED: ("Fixed zone price", "نرخ مقطوع"),
    LineCode.MINIMUM: ("Minimum fare top-up", "تکمیل حداقل کرایه"),
    LineCode.ROUNDING: ("Rounding", "گرد کردن"),
}


@dataclass(frozen=True)
class Schedule:
    """A surcharge or multiplier on some days between two local times.

    `start` == `end` covers the whole day. A window that wraps past midnight (23:00-05:00) belongs to the day
    it starts on: a Friday-night schedule applies at 02:00 on Saturday, not at 02:00 on Friday.
    """

    name: str
    days: frozenset[Weekday | DayType]
    start: time
    end: time
    kind: ScheduleKind
    value: Decimal | int
    label_en: str
    label_fa: str

    def __post_init__(self) -> None:
        if self.kind is ScheduleKind.FIXED_SURCHARGE and Decimal(self.value) != int(self.value):
            raise ValueError(f"Schedule {self.name}: a fixed surcharge is a whole number of rials.")
        if self.kind is ScheduleKind.MULTIPLIER and Decimal(self.value) <= 0:
            raise ValueError(f"Schedule {self.name}: a multiplier must be positive.")


@dataclass(frozen=True)
class ZonePrice:
    """A fixed price between two zones that replaces the meter (airport runs, for example)."""

    from_zone: str
    to_zone: str
    price_rials: int
    both_directions: bool = True
    # Some centers quote airport runs as all-inclusive; others still add the night surcharge.
    schedules_apply: bool = True

    def covers(self, from_zone: str | None, to_zone: str | None) -> bool:
        """Tell whether this price applies to a trip between these zones."""
        pair = (from_zone, to_zone)
        return pair == (self.from_zone, self.to_zone) or (
            self.both_directions and pair == (self.to_zone, self.from_zone)
        )


@dataclass(frozen=True)
class Tariff:
    """One version of a tariff, in force from `effective_from` (inclusive) to `effective_until` (exclusive)."""

    id: str
    version: int
    effective_from: datetime
    effective_until: datetime | None
    flag_fall_rials: int
    included_metres: int
    per_km_rials: int
    per_minute_waiting_rials: int
    # Passed to measure_trace by whoever measures the trip: below this speed, time is charged as waiting.
    slow_speed_kmh: float
    time_or_distance_higher: bool
    minimum_fare_rials: int
    rounding_unit_rials: int
    schedules: tuple[Schedule, ...] = ()
    zone_prices: tuple[ZonePrice, ...] = ()

    def __post_init__(self) -> None:
        # Dates alone would be ambiguous across time zones, so versions switch at an explicit instant.
        bounds = [self.effective_from] + ([self.effective_until] if self.effective_until else [])
        if any(bound.utcoffset() is None for bound in bounds):
            raise ValueError(f"Tariff {self.id} v{self.version}: effective dates must be tz-aware.")
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError(f"Tariff {self.id} v{self.version}: effective_until must follow effective_from.")
        if self.rounding_unit_rials < 1:
            raise ValueError(f"Tariff {self.id} v{self.version}: the rounding unit is at least one rial.")

    def is_in_force(self, at: datetime) -> bool:
        """Tell whether this version covers the instant `at`."""
        return self.effective_from <= at and (self.effective_until is None or at < self.effective_until)


@dataclass(frozen=True)
class Trip:
    """The measurements a fare is computed from, estimated at booking or reported at completion."""

    distance_m: int
    duration_s: int
    waiting_s: int
    started_at: datetime
    pickup_zone: str | None = None
    dropoff_zone: str | None = None

    def __post_init__(self) -> None:
        if self.started_at.utcoffset() is None:
            raise ValueError("A trip's start time must be tz-aware.")
        if min(self.distance_m, self.duration_s, self.waiting_s) < 0 or self.waiting_s > self.duration_s:
            raise ValueError("A trip's measurements are non-negative and waiting fits within the duration.")


@dataclass(frozen=True)
class FareLine:
    """One item of a fare's breakdown."""

    code: str
    label_en: str
    label_fa: str
    amount_rials: int


@dataclass(frozen=True)
class Fare:
    """A priced trip: the lines sum to the total."""

    tariff_id: str
    tariff_version: int
    rule: PricingRule
    lines: tuple[FareLine, ...]
    total_rials: int


@dataclass(frozen=True)
class Split:
    """A fare divided between the driver and the center."""

    driver_rials: int
    center_rials: int


def tariff_in_force(tariffs: Iterable[Tariff], at: datetime) -> Tariff:
    """Return the version of one tariff in force at `at`; where versions overlap, the latest to start wins."""
    if at.utcoffset() is None:
        raise ValueError("The pricing instant must be tz-aware.")
    candidates = [tariff for tariff in tariffs if tariff.is_in_force(at)]
    if not candidates:
        raise NoTariffInForce(at)
    return max(candidates, key=lambda tariff: (tariff.effective_from, tariff.version))


def quote(tariff: Tariff, trip: Trip, *, local_tz: tzinfo, holidays: frozenset[date]) -> Fare:
    """Price a trip under a tariff, with schedules chosen by the local time the trip starts in the center's zone."""
    zone_price = next(
        (price for price in tariff.zone_prices if price.covers(trip.pickup_zone, trip.dropoff_zone)), None
    )
    if zone_price is not None:
        lines = [_line(LineCode.ZONE_FIXED, zone_price.price_rials)]
        rule, schedules_apply = PricingRule.ZONE_FIXED, zone_price.schedules_apply
    else:
        lines, rule = _meter_lines(tariff, trip)
        schedules_apply = True
    if schedules_apply:
        local_start = trip.started_at.astimezone(local_tz)
        in_force = [s for s in tariff.schedules if _is_scheduled(s, local_start, holidays)]
        lines += _schedule_lines(in_force, sum(line.amount_rials for line in lines))
    subtotal = sum(line.amount_rials for line in lines)
    total = _round_half_up(subtotal, tariff.rounding_unit_rials)
    if total != subtotal:
        lines.append(_line(LineCode.ROUNDING, total - subtotal))
    return Fare(tariff_id=tariff.id, tariff_version=tariff.version, rule=rule, lines=tuple(lines), total_rials=total)


def estimate_trip(
    pickup: LatLng,
    dropoff: LatLng,
    *,
    started_at: datetime,
    road_factor: float = 1.3,
    average_speed_kmh: float = 25,
    pickup_zone: str | None = None,
    dropoff_zone: str | None = None,
) -> Trip:
    """Estimate a trip from its ends: the straight line times the road factor, driven at the average speed.

    Traffic is folded into the average speed, so the estimate has no separate waiting time.
    """
    distance_m = haversine_m(pickup, dropoff) * road_factor
    return Trip(
        distance_m=round(distance_m),
        duration_s=round(distance_m / (average_speed_kmh / 3.6)),
        waiting_s=0,
        started_at=started_at,
        pickup_zone=pickup_zone,
        dropoff_zone=dropoff_zone,
    )


def split(fare_total_rials: int, commission_bp: int) -> Split:
    """Divide a fare by the center's commission in basis points (1,500 is 15 %); the driver keeps any odd rial."""
    if fare_total_rials < 0 or not 0 <= commission_bp <= 10_000:
        raise ValueError("A fare is non-negative and a commission lies between 0 and 10,000 basis points.")
    center = fare_total_rials * commission_bp // 10_000
    return Split(driver_rials=fare_total_rials - center, center_rials=center)


def _line(code: LineCode, amount_rials: int) -> FareLine:
    label_en, label_fa = LINE_LABELS[code]
    return FareLine(code=code, label_en=label_en, label_fa=label_fa, amount_rials=amount_rials)


def _per_unit(quantity: int, rate_rials: int, unit: int) -> int:
    """Charge `quantity` at `rate_rials` per `unit` of it, rounded half up to the rial."""
    return _round_half_up(quantity * rate_rials, unit) // unit


def _round_half_up(amount: int, unit: int) -> int:
    """Round a non-negative amount to a multiple of `unit`, halves going up."""
    return (2 * amount + unit) // (2 * unit) * unit


def _meter_lines(tariff: Tariff, trip: Trip) -> tuple[list[FareLine], PricingRule]:
    distance = _per_unit(max(0, trip.distance_m - tariff.included_metres), tariff.per_km_rials, 1000)
    lines = [_line(LineCode.FLAG_FALL, tariff.flag_fall_rials)]
    if tariff.time_or_distance_higher:
        whole_time = _per_unit(trip.duration_s, tariff.per_minute_waiting_rials, 60)
        lines.append(_line(LineCode.TIME, whole_time) if whole_time > distance else _line(LineCode.DISTANCE, distance))
    else:
        lines.append(_line(LineCode.DISTANCE, distance))
        lines.append(_line(LineCode.WAITING, _per_unit(trip.waiting_s, tariff.per_minute_waiting_rials, 60)))
    metered = sum(line.amount_rials for line in lines)
    if metered < tariff.minimum_fare_rials:
        lines.append(_line(LineCode.MINIMUM, tariff.minimum_fare_rials - metered))
        return lines, PricingRule.MINIMUM
    return lines, PricingRule.METER


def _is_scheduled(schedule: Schedule, local: datetime, holidays: frozenset[date]) -> bool:
    """Tell whether a schedule covers a local instant, giving a window past midnight to the day it started."""
    day, at = local.date(), local.time()
    if schedule.start == schedule.end:
        return _is_schedule_day(schedule, day, holidays)
    if schedule.start < schedule.end:
        return schedule.start <= at < schedule.end and _is_schedule_day(schedule, day, holidays)
    if at >= schedule.start:
        return _is_schedule_day(schedule, day, holidays)
    return at < schedule.end and _is_schedule_day(schedule, day - timedelta(days=1), holidays)


def _is_schedule_day(schedule: Schedule, day: date, holidays: frozenset[date]) -> bool:
    return Weekday(day.weekday()) in schedule.days or (DayType.HOLIDAY in schedule.days and day in holidays)


def _schedule_lines(schedules: list[Schedule], base_rials: int) -> list[FareLine]:
    """Apply schedules to a base: multipliers compound, then percents add on the multiplied amount, then fixed."""
    lines: list[FareLine] = []
    multiplied = Decimal(base_rials)
    for schedule in (s for s in schedules if s.kind is ScheduleKind.MULTIPLIER):
        amount = _whole_rials(multiplied * (Decimal(schedule.value) - 1))
        lines.append(_schedule_line(schedule, amount))
        multiplied += amount
    for schedule in (s for s in schedules if s.kind is ScheduleKind.SURCHARGE_PERCENT):
        lines.append(_schedule_line(schedule, _whole_rials(multiplied * Decimal(schedule.value) / 100)))
    for schedule in (s for s in schedules if s.kind is ScheduleKind.FIXED_SURCHARGE):
        lines.append(_schedule_line(schedule, int(schedule.value)))
    return lines


def _schedule_line(schedule: Schedule, amount_rials: int) -> FareLine:
    return FareLine(
        code=schedule.name, label_en=schedule.label_en, label_fa=schedule.label_fa, amount_rials=amount_rials
    )


def _whole_rials(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
