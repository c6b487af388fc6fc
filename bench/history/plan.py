"""The history's calendar: how much of it, its local hours and holidays, and what each hour is like."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

SEED = 1404


@dataclass(frozen=True)
class Volumes:
    """How much history to make."""

    rides: int
    calls: int
    subscribers: int
    drivers: int
    days: int
    operators: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Volumes:
        """Read RIDES, CALLS, SUBSCRIBERS, DRIVERS, DAYS and OPERATORS, with the issue's volumes as defaults."""
        env = dict(os.environ) if env is None else env
        rides = int(env.get("RIDES", "20000000"))
        calls = int(env.get("CALLS", str(rides * 3 // 2)))
        days = int(env.get("DAYS", "365"))
        # Enough operators for the evening peak's Erlangs at about 85 s a call, at 55 % of them on shift then.
        peak_erlangs = calls / days / 24 * 1.9 * 85 / 3600
        operators = int(env.get("OPERATORS", str(max(8, math.ceil(peak_erlangs * 1.3 / 0.55)))))
        # Unset, subscribers and drivers scale with the rides (300,000 and 2,000 for 20 million), so a small run
        # has the same shape: as many rides per subscriber and per driver.
        volumes = cls(rides=rides, calls=calls,
                      subscribers=int(env.get("SUBSCRIBERS", str(max(100, rides * 3 // 200)))),
                      drivers=int(env.get("DRIVERS", str(max(30, rides // 10000)))), days=days, operators=operators)
        volumes.check()
        return volumes

    def check(self) -> None:
        """Refuse volumes the shape cannot hold."""
        if not 1.25 <= self.calls / max(1, self.rides) <= 4:
            raise SystemExit("CALLS must be between 1.25 and 4 times RIDES (booking calls, retries, follow-ups)")
        if self.drivers < 30 or self.subscribers < 100 or not 28 <= self.days <= 400:
            raise SystemExit("need DRIVERS >= 30, SUBSCRIBERS >= 100 and DAYS between 28 and 400")




# The calendar: local hours, holidays, demand.

# Relative demand by local hour on a working day (Saturday to Wednesday).
HOURLY = (0.55, 0.35, 0.22, 0.15, 0.14, 0.25, 0.60, 1.35, 1.75, 1.45, 1.10, 1.05,
          1.10, 1.15, 1.05, 1.05, 1.30, 1.70, 1.90, 1.80, 1.50, 1.25, 1.00, 0.80)
# Saturday-first weekday (0 = Saturday) by date.weekday() (0 = Monday).
WEEKDAY = {0: 2, 1: 3, 2: 4, 3: 5, 4: 6, 5: 0, 6: 1}


def jalali_to_gregorian(jy: int, jm: int, jd: int) -> date:
    """Convert a Solar Hijri date to the Gregorian calendar (the arithmetic of jalaali-js)."""
    jy += 1595
    days = -355668 + 365 * jy + (jy // 33) * 8 + ((jy % 33) + 3) // 4 + jd
    days += (jm - 1) * 31 if jm < 7 else (jm - 7) * 30 + 186
    gy = 400 * (days // 146097)
    days %= 146097
    if days > 36524:
        days -= 1
        gy += 100 * (days // 36524)
        days %= 36524
        if days >= 365:
            days += 1
    gy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        gy += (days - 1) // 365
        days = (days - 1) % 365
    return date(gy, 1, 1) + timedelta(days=days)


# Official holidays fixed in the Solar Hijri calendar, and (approximately) the lunar ones of 2025-2027.
SOLAR_HOLIDAYS = {(1, 1): "نوروز", (1, 2): "نوروز", (1, 3): "نوروز", (1, 4): "نوروز", (1, 12): "روز جمهوری اسلامی",
                  (1, 13): "روز طبیعت", (3, 14): "رحلت امام خمینی", (3, 15): "قیام ۱۵ خرداد",
                  (11, 22): "پیروزی انقلاب اسلامی", (12, 29): "ملی شدن صنعت نفت"}
LUNAR_HOLIDAYS = {date(2025, 6, 6): "عید قربان", date(2025, 6, 14): "عید غدیر", date(2025, 7, 5): "تاسوعا",
                  date(2025, 7, 6): "عاشورا", date(2025, 8, 14): "اربعین", date(2025, 8, 22): "رحلت پیامبر",
                  date(2025, 9, 8): "میلاد پیامبر", date(2025, 11, 24): "شهادت حضرت فاطمه",
                  date(2026, 1, 3): "ولادت امام علی", date(2026, 1, 17): "مبعث", date(2026, 2, 3): "نیمه شعبان",
                  date(2026, 3, 11): "شهادت امام علی", date(2026, 3, 20): "عید فطر", date(2026, 5, 27): "عید قربان",
                  date(2026, 6, 4): "عید غدیر", date(2026, 6, 25): "تاسوعا", date(2026, 6, 26): "عاشورا",
                  date(2026, 8, 4): "اربعین", date(2026, 8, 12): "رحلت پیامبر", date(2026, 8, 30): "میلاد پیامبر",
                  date(2026, 11, 13): "شهادت حضرت فاطمه", date(2027, 1, 23): "ولادت امام علی"}


def holidays_between(first: date, last: date) -> dict[date, str]:
    """Return the official holidays in [first, last]."""
    found = {d: name for d, name in LUNAR_HOLIDAYS.items() if first <= d <= last}
    for jy in range(first.year - 622, last.year - 620):
        for (jm, jd), name in SOLAR_HOLIDAYS.items():
            day = jalali_to_gregorian(jy, jm, jd)
            if first <= day <= last:
                found.setdefault(day, name)
    return found


@dataclass
class Slot:
    """One local hour of the history and what it is like."""

    slot: int
    month: int
    day: date
    local_hour: int
    weekday: int
    is_holiday: bool
    starts_at: datetime
    weight: float
    load: float = 0.0
    n_rides: int = 0
    ride_base: int = 0
    cw_lo: float = 0.0
    cw_hi: float = 0.0
    p_nd: float = 0.0
    p_cancel: float = 0.0
    p_noshow: float = 0.0
    p_fail: float = 0.0
    wait_med: float = 0.0
    p_pre_ab: float = 0.0
    p_ab: float = 0.0
    travel_factor: float = 0.0
    speed_kmh: float = 0.0


@dataclass
class Month:
    """A calendar month of the history: one transaction of the load."""

    month: int
    first_day: date
    last_day: date
    rides: int = 0
    ride_base: int = 0
    calls: int = 0


@dataclass
class Plan:
    """The history's calendar: its hours, months and holidays."""

    first_day: date
    end_day: date  # exclusive: the history stops at this local midnight
    tz: ZoneInfo
    holidays: dict[date, str]
    slots: list[Slot] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end_day, clock(), self.tz)


def day_shape(day: date, weekday: int, holiday: str | None, hour: int) -> float:
    """Relative demand in one local hour of a day, before noise and trend."""
    base = HOURLY[hour]
    jalali_new_year = holiday == "نوروز" or (holiday is None and _in_nowruz(day))
    if weekday == 6 or holiday is not None:  # Friday, or a holiday: a late, quiet morning.
        factor = 0.35 if 6 <= hour <= 11 else 0.7 if 12 <= hour <= 15 else 0.85 if 16 <= hour <= 22 else 0.9
        if holiday == "روز طبیعت":  # Everyone goes out to the parks: a midday crowd.
            factor = 1.2 if 9 <= hour <= 18 else factor
        base *= factor * (0.7 if jalali_new_year else 1.0)
    elif weekday == 5:  # Thursday: a short working morning, a busy evening.
        base *= 0.8 if 6 <= hour <= 11 else 1.15 if hour >= 15 else 1.0
    elif _in_nowruz(day):  # Between the Nowruz holidays the city is half empty.
        base *= 0.65
    return base


def _in_nowruz(day: date) -> bool:
    return jalali_to_gregorian(day.year - 621, 1, 1) <= day <= jalali_to_gregorian(day.year - 621, 1, 13)


def plan_calendar(volumes: Volumes, end_day: date, tz: ZoneInfo) -> Plan:
    """Lay out the history's hours with their demand and per-hour conditions, scaled to the volumes."""
    first = end_day - timedelta(days=volumes.days)
    plan = Plan(first, end_day, tz, holidays_between(first, end_day))
    rng = random.Random(SEED)
    months: dict[tuple[int, int], Month] = {}
    for n in range(volumes.days):
        day = first + timedelta(days=n)
        key = (day.year, day.month)
        if key not in months:
            months[key] = Month(len(months), day, day)
        months[key].last_day = day
        weekday, holiday = WEEKDAY[day.weekday()], plan.holidays.get(day)
        trend = 1 + 0.12 * n / volumes.days + 0.05 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
        day_noise = math.exp(rng.gauss(0, 0.06))
        for hour in range(24):
            starts = datetime.combine(day, clock(hour), tz).astimezone(UTC)
            weight = day_shape(day, weekday, holiday, hour) * trend * day_noise * math.exp(rng.gauss(0, 0.08))
            plan.slots.append(Slot(len(plan.slots), months[key].month, day, hour, weekday, holiday is not None,
                                   starts, weight))
    plan.months = list(months.values())
    _scale(plan, volumes)
    return plan


def _scale(plan: Plan, volumes: Volumes) -> None:
    """Turn weights into counts (exact totals) and loads into the probabilities of each hour."""
    total = sum(s.weight for s in plan.slots)
    mean = total / len(plan.slots)
    running = 0.0
    for s in plan.slots:
        s.load = s.weight / mean
        lo = math.floor(volumes.rides * running / total)
        running += s.weight
        s.n_rides = math.floor(volumes.rides * running / total) - lo
        s.ride_base = lo
    # Calls weigh a little more towards the peaks than rides: retries and "where is my car" calls.
    call_weights = [s.weight ** 1.15 for s in plan.slots]
    call_total, running = sum(call_weights), 0.0
    for m in plan.months:
        mine = [(s, w) for s, w in zip(plan.slots, call_weights, strict=True) if s.month == m.month]
        lo = math.floor(volumes.calls * running / call_total)
        month_weight = sum(w for _, w in mine)
        running += month_weight
        m.calls = math.floor(volumes.calls * running / call_total) - lo
        m.rides = sum(s.n_rides for s, _ in mine)
        m.ride_base = mine[0][0].ride_base
        inside = 0.0
        for s, w in mine:
            s.cw_lo = inside / month_weight
            inside += w
            s.cw_hi = inside / month_weight
    night = {0, 1, 2, 3, 4, 5}

    def calibrated(raw: Callable[[Slot], float], target: float, cap: float) -> list[float]:
        values = [raw(s) for s in plan.slots]
        scale = target * total / sum(v * s.weight for v, s in zip(values, plan.slots, strict=True))
        return [min(cap, v * scale) for v in values]

    over = [max(0.0, s.load - 1.1) for s in plan.slots]
    nd = calibrated(lambda s: 0.35 + 6 * max(0.0, s.load - 1.2) ** 2 + (0.6 if s.local_hour in night else 0), 0.05, 0.4)
    cancel = calibrated(lambda s: 0.7 + 0.3 * s.load, 0.08, 0.3)
    noshow = calibrated(lambda s: 1.6 if s.local_hour in night else 1.0, 0.02, 0.08)
    pre = calibrated(lambda s: 0.15 + 2.0 * max(0.0, s.load - 1.0) ** 1.5, 0.06, 0.45)
    for s, extra, p_nd, p_cancel, p_noshow, p_pre in zip(plan.slots, over, nd, cancel, noshow, pre, strict=True):
        s.p_nd, s.p_cancel, s.p_noshow, s.p_pre_ab = p_nd, p_cancel, p_noshow, p_pre
        s.p_fail = min(0.6, 0.18 + 0.15 * min(1.0, extra * 1.5) + (0.1 if s.local_hour in night else 0))
        s.wait_med = min(90.0, 5 + 30 * extra ** 1.5)
        s.p_ab = min(0.55, 0.12 + 0.45 * extra)
        s.travel_factor = 1 + 0.7 * max(0.0, s.load - 1.0)
        base_speed = 34 if s.local_hour in night else 15 if s.local_hour in (7, 8, 17, 18, 19) else 21
        s.speed_kmh = base_speed * (1.3 if s.weekday == 6 or s.is_holiday else 1.0)
