"""The demo city's people: the same from the same seed, unique where the database needs it, importable as made."""

import random

from subscribers.importer import ImportFile, Rejection
from subscribers.phones import PhonePlan, parse_phone
from taxicrm.demo.places import NEIGHBOURHOODS
from taxicrm.demo.population import (
    cabbie,
    destination,
    fleet,
    newcomer,
    regular_caller,
    resident,
    residents,
    scramble,
)
from taxicrm.demo.seeding import subscriber_csv

PLAN = PhonePlan("IR", "21")
PERSIAN_LETTERS = range(0x0600, 0x06FF + 1)


def test_the_same_seed_makes_the_same_city_and_another_seed_another():
    assert resident(3, 41) == resident(3, 41)
    assert cabbie(3, 5) == cabbie(3, 5)
    assert resident(3, 41) != resident(4, 41)


def test_scramble_gives_every_number_below_the_modulus_once():
    assert sorted(scramble(n, 3, seed=9) for n in range(1000)) == list(range(1000))


def test_subscribers_have_persian_names_valid_distinct_phones_and_a_home_in_tehran():
    people = list(residents(1, 5000))
    phones = [p.mobile for p in people] + [p.landline for p in people if p.landline]
    assert len(set(phones)) == len(phones)
    assert 1000 < sum(1 for p in people if p.landline) < 2000  # About three in ten have a landline.
    for person in people[:300]:
        assert all(ord(ch) in PERSIAN_LETTERS or ch == " " or ch == "\u200c" for ch in person.name), person.name
        assert parse_phone(person.mobile, PLAN).kind == "mobile"
        assert person.places[0].label == "خانه"
        assert all(35.5 < p.lat < 35.9 and 51.2 < p.lng < 51.6 for p in person.places)
        assert len({p.label for p in person.places}) == len(person.places)
        assert any(area in person.places[0].text for area, *_ in NEIGHBOURHOODS)


def test_newcomers_call_from_numbers_no_subscriber_has():
    known = {p.mobile for p in residents(1, 20_000)}
    strangers = [newcomer(1, n) for n in range(2000)]
    assert not known & {s.mobile for s in strangers}
    assert len({s.mobile for s in strangers}) == 2000
    assert all(s.number < 0 and len(s.places) == 1 for s in strangers)


def test_drivers_have_distinct_phones_and_plates_and_mostly_drive_sedans():
    drivers = fleet(1, 800)
    assert len({d.phone for d in drivers}) == 800 and len({d.plate for d in drivers}) == 800
    assert sum(d.vehicle_class == "sedan" for d in drivers) > 600
    assert all(d.phone.startswith("+98933") and " ت " in d.plate for d in drivers)


def test_a_destination_is_another_saved_address_or_a_known_spot_never_the_pickup():
    rng = random.Random(5)
    for n in range(200):
        rider = resident(2, n)
        going = destination(rng, rider, rider.places[0])
        assert going != rider.places[0]


def test_regular_callers_call_more_than_the_rest():
    rng = random.Random(1)
    callers = [regular_caller(rng, 10_000) for _ in range(10_000)]
    assert all(0 <= c < 10_000 for c in callers)
    assert sum(c < 1000 for c in callers) > sum(c >= 9000 for c in callers) * 5


def test_the_generated_subscribers_pass_the_import_checks_untouched():
    rows = list(ImportFile(subscriber_csv(4, 500), PLAN))
    rejections = [r for r in rows if isinstance(r, Rejection)]
    assert rejections == [] and len(rows) == 500
    assert rows[0].name == resident(4, 0).name
