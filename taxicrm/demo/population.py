"""The demo city's people, made from a seed: subscribers with phones and addresses, drivers with their cars.

Everyone is a pure function of (seed, number), so the simulation can tell who subscriber 1234 is, and what
number they call from, without asking the database; and a second run makes the very same city.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from taxicrm.demo.places import (
    CARS,
    COLOURS,
    FIRST_NAMES,
    HOME_LABEL,
    LANDLINE_PREFIXES,
    LANDMARKS,
    LAST_NAMES,
    MOBILE_PREFIXES,
    NEIGHBOURHOODS,
    OTHER_LABELS,
    SPOTS,
    STREETS,
)

Point = tuple[float, float]  # (lat, lng) in degrees.
# Mobile prefixes of callers the center does not know yet: never a subscriber's, so they never collide.
NEWCOMER_PREFIXES = ("901", "990")
KM_PER_DEGREE_LAT = 111.0
KM_PER_DEGREE_LNG = 90.2  # At Tehran's latitude.
_SCRAMBLE = 3_967_163  # Prime to 10: n -> (n * _SCRAMBLE + c) mod 10^k is a bijection below 10^k.


@dataclass(frozen=True)
class Place:
    """A saved address: the label the subscriber gives it, the street address, a landmark and its position."""

    label: str
    text: str
    landmark: str | None
    lat: float
    lng: float


@dataclass(frozen=True)
class Resident:
    """A subscriber of the demo city."""

    number: int
    name: str
    mobile: str  # National format, as a PBX delivers the caller id: 09121234567.
    landline: str | None
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Cabbie:
    """A driver of the demo fleet, with the car and where the shift starts."""

    number: int
    name: str
    phone: str  # E.164.
    plate: str
    vehicle_class: str
    make: str
    model: str
    colour: str
    home: Point


def scramble(n: int, digits: int, seed: int) -> int:
    """Return a number of `digits` digits that differs for every n below 10**digits (for one seed)."""
    modulus: int = 10**digits
    return (n * _SCRAMBLE + seed * 7_919 + 12_345) % modulus


def _rng(seed: int, kind: str, n: int) -> random.Random:
    return random.Random(f"{seed}:{kind}:{n}")


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, ...]], weight_at: int = 3) -> tuple[Any, ...]:
    return rng.choices(weighted, weights=[w[weight_at] for w in weighted])[0]


def near(rng: random.Random, lat: float, lng: float, km: float) -> Point:
    """Return a point scattered around (lat, lng), `km` being one standard deviation."""
    return (round(lat + rng.gauss(0, km / KM_PER_DEGREE_LAT), 6), round(lng + rng.gauss(0, km / KM_PER_DEGREE_LNG), 6))


def full_name(rng: random.Random) -> str:
    """Return a Persian first and last name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def street_address(rng: random.Random, area: str) -> str:
    """Return a Tehran street address in the usual order: area, street, alley, number."""
    alley = f"کوچه {rng.randint(1, 40)}، " if rng.random() < 0.6 else ""
    unit = f"، واحد {rng.randint(1, 24)}" if rng.random() < 0.3 else ""
    return f"{area}، خیابان {rng.choice(STREETS)}، {alley}پلاک {rng.randint(1, 250)}{unit}"


def place(rng: random.Random, label: str) -> Place:
    """Return a saved address in a neighbourhood chosen by how many people live there."""
    area, lat, lng, _ = _pick(rng, NEIGHBOURHOODS)
    point = near(rng, lat, lng, 0.7)
    landmark = rng.choice(LANDMARKS) if rng.random() < 0.45 else None
    return Place(label, street_address(rng, area), landmark, *point)


def resident(seed: int, n: int) -> Resident:
    """Return subscriber number n (from 0) of the city made from `seed`."""
    rng = _rng(seed, "resident", n)
    mobile = f"0{MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]}{scramble(n, 7, seed):07d}"
    landline = None
    if rng.random() < 0.3:
        landline = f"021{LANDLINE_PREFIXES[n % len(LANDLINE_PREFIXES)]}{scramble(n, 6, seed):06d}"
    places = [place(rng, HOME_LABEL)]
    labels = [label for label, _ in OTHER_LABELS]
    for _ in range(rng.choices((0, 1, 2), (45, 40, 15))[0]):
        label = rng.choices(labels, [weight for _, weight in OTHER_LABELS])[0]
        if label not in {p.label for p in places}:
            places.append(place(rng, label))
    return Resident(n, full_name(rng), mobile, landline, tuple(places))


def residents(seed: int, count: int) -> Iterator[Resident]:
    """Return the city's subscribers, in order."""
    return (resident(seed, n) for n in range(count))


def newcomer_phone(seed: int, n: int) -> str:
    """Return the mobile number of the n-th caller the center has never heard of."""
    return f"0{NEWCOMER_PREFIXES[n % len(NEWCOMER_PREFIXES)]}{scramble(n, 7, seed + 1):07d}"


def newcomer(seed: int, n: int) -> Resident:
    """Return a caller the center does not know yet, with the address they give on the phone."""
    rng = _rng(seed, "newcomer", n)
    return Resident(-1 - n, full_name(rng), newcomer_phone(seed, n), None, (place(rng, HOME_LABEL),))


def cabbie(seed: int, n: int) -> Cabbie:
    """Driver number n (from 0) of the fleet: mostly yellow sedans, some vans, a few luxury cars."""
    rng = _rng(seed, "cabbie", n)
    vehicle_class = rng.choices(("sedan", "van", "luxury"), (88, 8, 4))[0]
    make, model = rng.choice(CARS[vehicle_class])
    # Taxi plates carry the letter ت; the digits follow n, so no two cars share a plate.
    plate = f"{10 + n % 90} ت {100 + (n // 90) % 900} - {rng.choice((10, 20, 30, 40, 50, 60, 70, 80, 90))}"
    area_lat, area_lng = _pick(rng, NEIGHBOURHOODS)[1:3]
    colour = "زرد" if vehicle_class == "sedan" else rng.choice(COLOURS)
    return Cabbie(n, full_name(rng), f"+98933{scramble(n, 7, seed):07d}", plate, vehicle_class, make, model, colour,
                  near(rng, area_lat, area_lng, 1.0))


def fleet(seed: int, count: int) -> list[Cabbie]:
    """Return the city's drivers, in order."""
    return [cabbie(seed, n) for n in range(count)]


def destination(rng: random.Random, rider: Resident, pickup: Place) -> Place:
    """Where a caller is going: another of their saved addresses, or one of the city's well-known spots."""
    others = [p for p in rider.places if p != pickup]
    if others and rng.random() < 0.45:
        return rng.choice(others)
    name, lat, lng, _, spread, landmark = _pick(rng, SPOTS)
    return Place("", name, landmark, *near(rng, lat, lng, spread))


def regular_caller(rng: random.Random, subscribers: int) -> int:
    """Which subscriber calls: a few regulars call often, most people rarely."""
    return min(subscribers - 1, int(subscribers * rng.random() ** 2.5))


def csv_row(person: Resident) -> tuple[str, list[tuple[str, str | None]],
                                        list[tuple[str, str, str | None, float | None, float | None]]]:
    """Return a subscriber as the import reads them: name, (number, label) phones, (label, text, landmark, lat, lng)."""
    phones: list[tuple[str, str | None]] = [(person.mobile, "همراه")]
    if person.landline is not None:
        phones.append((person.landline, "منزل"))
    return person.name, phones, [(p.label, p.text, p.landmark, p.lat, p.lng) for p in person.places]
