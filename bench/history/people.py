"""The history's people and places: staff on shifts, drivers with their habits, subscribers with a long tail."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any

import asyncpg

from bench.history.plan import SEED, Plan, Volumes
from bench.history.sql_base import WORK_TABLES
from callcenter.passwords import hash_password
from dispatch.model import PlateKind
from dispatch.plates import parse_plate
from dispatch.zones import parse_polygon, service_bounds
from subscribers.text import search_key
from taxicrm.demo.places import (
    CARS,
    COLOURS,
    FIRST_NAMES,
    LANDLINE_PREFIXES,
    LAST_NAMES,
    MOBILE_PREFIXES,
    NEIGHBOURHOODS,
    SPOTS,
    STREETS,
    ZONES,
)
from taxicrm.settings import load_settings

PASSWORD = "bench reports pw"  # Every generated staff account's password.
SUPERVISOR = "bench-supervisor"


def _bijection(n: int, modulus: int) -> int:
    """A number below `modulus` that differs for every n below it (7919 is prime to every power of ten)."""
    return (n * 7919 + 12345) % modulus


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, ...]], weight_at: int = 3) -> tuple[Any, ...]:
    return rng.choices(weighted, weights=[w[weight_at] for w in weighted])[0]


def _near(rng: random.Random, lat: float, lng: float, km: float) -> tuple[float, float]:
    return (round(lat + rng.gauss(0, km / 111.0), 6), round(lng + rng.gauss(0, km / 90.2), 6))


def _address_text(rng: random.Random, area: str) -> str:
    street = rng.choice(STREETS)
    alley = f"کوچه {rng.randint(1, 40)}، " if rng.random() < 0.6 else ""
    return f"{area}، خیابان {street}، {alley}پلاک {rng.randint(1, 250)}"


@dataclass
class People:
    """Rows made in Python (a few hundred thousand), copied in before the set-based months."""

    staff: list[tuple[Any, ...]] = field(default_factory=list)
    op_pool: list[tuple[int, int, int, str, float]] = field(default_factory=list)
    drivers: list[tuple[Any, ...]] = field(default_factory=list)
    driver_traits: list[tuple[Any, ...]] = field(default_factory=list)
    subscribers: list[tuple[Any, ...]] = field(default_factory=list)
    phones: list[tuple[Any, ...]] = field(default_factory=list)
    addresses: list[tuple[Any, ...]] = field(default_factory=list)
    traits: list[tuple[Any, ...]] = field(default_factory=list)
    supervisors: list[int] = field(default_factory=list)
    admin: int = 1


# Shifts: (share of operators, local hours covered).
SHIFTS = ((0.35, range(6, 14)), (0.40, range(14, 22)), (0.10, (22, 23, 0, 1, 2, 3, 4, 5)),
          (0.15, (7, 8, 9, 10, 16, 17, 18, 19, 20)))


def make_people(volumes: Volumes, plan: Plan, password_hash: str) -> People:
    """Make staff, drivers and subscribers with their phones and addresses, and the traits the months use."""
    rng = random.Random(SEED + 1)
    people = People()
    start = plan.slots[0].starts_at
    hired = start - timedelta(days=400)
    staff_id = 0

    def add_staff(username: str, name: str, role: str, extension: str | None) -> int:
        nonlocal staff_id
        staff_id += 1
        people.staff.append((staff_id, username, name, role, password_hash, extension, True, hired, None))
        return staff_id

    people.admin = add_staff("bench-admin", "مدیر سامانه", "admin", None)
    people.supervisors = [add_staff(SUPERVISOR, "سرپرست بنچ", "supervisor", None)]
    people.supervisors += [add_staff(f"supervisor{n}", f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                                     "supervisor", None) for n in range(1, 6)]
    shift_of: list[int] = []
    for n in range(volumes.operators):
        shift = rng.choices(range(len(SHIFTS)), weights=[s[0] for s in SHIFTS])[0]
        operator = add_staff(f"operator{n + 1}", f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "operator",
                             str(2000 + n))
        shift_of.append(shift)
        people.op_pool.append((-1, shift, operator, str(2000 + n), round(math.exp(rng.gauss(0, 0.15)), 3)))
    pools: list[tuple[int, int, int, str, float]] = []
    for hour in range(24):
        on = [p for p in people.op_pool if hour in SHIFTS[p[1]][1]] or people.op_pool[:1]
        pools += [(hour, idx, p[2], p[3], p[4]) for idx, p in enumerate(on)]
    people.op_pool = pools

    classes = ["luxury"] * max(3, volumes.drivers // 50) + ["van"] * max(3, volumes.drivers * 6 // 100)
    classes += ["sedan"] * (volumes.drivers - len(classes))
    rng.shuffle(classes)
    for n, vehicle_class in enumerate(classes, start=1):
        make, model = rng.choice(CARS[vehicle_class])
        plate = parse_plate(PlateKind.IRANIAN, f"{rng.randint(10, 99)} ت {rng.randint(100, 999)} - "
                                               f"{rng.choice((11, 22, 33, 44, 55, 66, 77, 88, 99))}")
        joins_late = rng.random() < 0.15
        contract_start = plan.first_day + timedelta(days=rng.randint(0, volumes.days - 20)) if joins_late \
            else plan.first_day - timedelta(days=rng.randint(30, 2500))
        suspended_on = plan.first_day + timedelta(days=rng.randint(volumes.days // 2, volumes.days - 1)) \
            if rng.random() < 0.015 else None
        suspended_at = None if suspended_on is None else datetime.combine(suspended_on, clock(11), plan.tz)
        commission = 2000 if vehicle_class == "luxury" else rng.choices((1500, 1200, 1800), (80, 15, 5))[0]
        people.drivers.append((
            n, f"{rng.choice(FIRST_NAMES[:15] + FIRST_NAMES[30:])} {rng.choice(LAST_NAMES)}",
            "active" if suspended_at is None else "suspended",
            None if suspended_at is None else "شکایات مکرر مسافران از رفتار راننده",
            datetime.combine(contract_start, clock(9), plan.tz),
            f"+98933{_bijection(n, 10_000_000):07d}", f"{rng.randint(10**9, 10**10 - 1)}", plate.kind.value,
            plate.canonical, plate.display, make, model, rng.choice(COLOURS), vehicle_class, contract_start,
            contract_start + timedelta(days=rng.randint(700, 1500)), commission, suspended_at,
            None if suspended_at is None else people.admin))
        badness = math.exp(rng.gauss(0, 0.55))
        people.driver_traits.append((
            n, vehicle_class, round(min(0.97, max(0.3, rng.betavariate(8, 2))), 3), round(badness, 3),
            round(rng.random(), 3), round(min(4.95, max(3.2, 4.8 - 0.35 * (badness - 1) + rng.gauss(0, 0.1))), 2),
            commission, contract_start, suspended_on or plan.end_day))

    months = len(plan.months)
    month_days = [(m.last_day - m.first_day).days + 1 for m in plan.months]
    address_id = 0
    for n in range(1, volumes.subscribers + 1):
        kind = rng.choices(("regular", "occasional", "one_off"), (18, 32, 50))[0]
        if kind == "regular":
            weight, existing, churn, work_share = max(6, min(80, int(math.exp(rng.gauss(math.log(22), 0.4))))), \
                0.55, 0.03, 0.7
        elif kind == "occasional":
            weight, existing, churn, work_share = rng.randint(2, 8), 0.45, 0.08, 0.5
        else:
            weight, existing, churn, work_share = 1, 0.10, 1.0, 0.15
        was_there = rng.random() < existing  # a subscriber already before the history starts
        join = 0 if was_there else rng.choices(range(months), weights=month_days)[0]
        # One-off callers come in one month; the others leave after a lifetime of months (churn per month).
        leave = join if kind == "one_off" else join + int(math.log(1 - rng.random()) / math.log(1 - churn))
        if was_there:
            created = start - timedelta(days=rng.randint(20, 1500), minutes=rng.randint(0, 1439))
        else:
            month = plan.months[join]
            created = datetime.combine(month.first_day, clock(), plan.tz) + timedelta(
                minutes=rng.randint(0, ((month.last_day - month.first_day).days + 1) * 1440 - 1))
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        tier = ("gold" if weight >= 40 else "silver") if kind == "regular" else \
            "bronze" if kind == "occasional" and weight >= 5 else "none"
        blocked = rng.random() < 0.001
        people.subscribers.append((
            n, name, search_key(name), rng.random() < (0.05 if kind == "regular" else 0.005), tier,
            created if blocked else None, "بدقولی مکرر" if blocked else None,
            people.supervisors[1] if blocked and len(people.supervisors) > 1 else None, created, created))
        prefix, number = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)], _bijection(n // len(MOBILE_PREFIXES), 10**7)
        mobile = f"+98{prefix}{number:07d}"
        people.phones.append((n, mobile, f"0{prefix}{number:07d}", f"{prefix}{number:07d}", "mobile", None, created))
        if rng.random() < 0.25:
            area, line = LANDLINE_PREFIXES[n % len(LANDLINE_PREFIXES)], _bijection(n // len(LANDLINE_PREFIXES), 10**6)
            people.phones.append((n, f"+9821{area}{line:06d}", f"{area}{line:06d}", f"21{area}{line:06d}",
                                  "landline", "منزل", created))
        home_area = _pick(rng, NEIGHBOURHOODS)
        places: list[tuple[str, str, float, float]] = []
        places.append(("خانه", _address_text(rng, home_area[0]), *_near(rng, home_area[1], home_area[2], 1.0)))
        if rng.random() < work_share:
            spot = _pick(rng, SPOTS[7:])
            places.append(("محل کار", _address_text(rng, spot[0]), *_near(rng, spot[1], spot[2], 0.8)))
        if rng.random() < 0.1:
            other = _pick(rng, NEIGHBOURHOODS)
            places.append(("منزل پدری", _address_text(rng, other[0]), *_near(rng, other[1], other[2], 1.0)))
        ids = []
        for label, text, lat, lng in places:
            address_id += 1
            ids.append(address_id)
            people.addresses.append((address_id, n, label, text, search_key(text), lat, lng, created, created))
        home, work = places[0], places[1] if len(places) > 1 and places[1][0] == "محل کار" else None
        people.traits.append((
            n, weight, join, min(leave, months + 1), ids[0], home[2], home[3], home[1],
            ids[1] if work else None, work[2] if work else None, work[3] if work else None, work[1] if work else None,
            mobile, f"0{mobile[3:]}"))
    return people




async def load_people(conn: asyncpg.Connection, volumes: Volumes, plan: Plan) -> People:
    """Copy in staff, drivers, subscribers, zones and holidays, and the traits and calendar the months use."""
    people = make_people(volumes, plan, await hash_password(PASSWORD))
    await conn.execute(WORK_TABLES)
    copy = conn.copy_records_to_table
    await copy("staff_users", records=people.staff, columns=(
        "id", "username", "display_name", "role", "password_hash", "extension", "is_active", "created_at",
        "last_login_at"))
    await copy("drivers", records=people.drivers, columns=(
        "id", "name", "status", "suspended_reason", "created_at", "phone", "licence_number", "plate_kind", "plate",
        "plate_display", "vehicle_make", "vehicle_model", "vehicle_colour", "vehicle_class", "contract_start",
        "contract_end", "commission_bp", "suspended_at", "suspended_by"))
    await copy("subscribers", records=people.subscribers, columns=(
        "id", "name", "name_key", "is_vip", "loyalty_tier", "blocked_at", "blocked_reason", "blocked_by",
        "created_at", "updated_at"))
    await copy("subscriber_phones", records=people.phones, columns=(
        "subscriber_id", "e164", "raw", "national", "kind", "label", "created_at"))
    await copy("subscriber_addresses", records=people.addresses, columns=(
        "id", "subscriber_id", "label", "full_text", "text_key", "lat", "lng", "created_at", "updated_at"))
    await copy("subscriber", schema_name="bench_gen", records=people.traits)
    await copy("driver", schema_name="bench_gen", records=people.driver_traits)
    await copy("op_pool", schema_name="bench_gen", records=people.op_pool)
    await copy("spot", schema_name="bench_gen", records=[
        (i, name, lat, lng, km, landmark) for i, (name, lat, lng, _, km, landmark) in enumerate(SPOTS, start=1)])
    await copy("slot", schema_name="bench_gen", records=[
        (s.slot, s.month, s.day, s.local_hour, s.weekday, s.is_holiday, s.starts_at, s.load, s.n_rides, s.ride_base,
         s.cw_lo, s.cw_hi, s.p_nd, s.p_cancel, s.p_noshow, s.p_fail, s.wait_med, s.p_pre_ab, s.p_ab,
         s.travel_factor, s.speed_kmh) for s in plan.slots])
    await conn.executemany("INSERT INTO holidays (day, name) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
                           sorted(plan.holidays.items()))
    settings = load_settings({})
    allowed = service_bounds(settings.service_area, settings.service_area_margin_km)
    for code, name, south, west, north, east, strategy in ZONES:
        mid_lat, mid_lng = (south + north) / 2, (west + east) / 2
        hexagon = [(south, mid_lng - (east - west) / 4), (mid_lat, west), (north, mid_lng - (east - west) / 4),
                   (north, mid_lng + (east - west) / 4), (mid_lat, east), (south, mid_lng + (east - west) / 4)]
        polygon = parse_polygon([list(v) for v in hexagon], allowed)
        lats, lngs = [v[0] for v in polygon], [v[1] for v in polygon]
        await conn.execute("""
            INSERT INTO zones (code, name, polygon, min_lat, max_lat, min_lng, max_lng, default_strategy,
                               created_at, updated_at)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $9)""",
            code, name, json.dumps([list(v) for v in polygon]), min(lats), max(lats), min(lngs), max(lngs), strategy,
            plan.slots[0].starts_at - timedelta(days=30))
    await conn.execute("ANALYZE")
    return people
