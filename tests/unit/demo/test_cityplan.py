"""The center's set-up for the demo: the zones and the tariff pass the dispatch domain's own checks."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dispatch.tariffs import parse_tariff
from dispatch.zones import parse_zone, service_bounds
from taxicrm.demo.cityplan import driver_body, hexagon, tariff_document, zone_bodies
from taxicrm.demo.population import cabbie
from taxicrm.settings import load_settings

SETTINGS = load_settings({})
ALLOWED = service_bounds(SETTINGS.service_area, SETTINGS.service_area_margin_km)


def test_every_zone_is_a_valid_hexagon_and_the_airports_dispatch_queue_first():
    bodies = zone_bodies()
    assert len(bodies) == len({b["code"] for b in bodies}) == 11
    for body in bodies:
        fields = parse_zone(body, ALLOWED, creating=True)
        assert len(fields.polygon) == 6, body["code"]
    assert {b["code"] for b in bodies if b["default_strategy"] == "queue_first"} == {"IKA", "THR", "RAIL", "TERM-S"}


def test_a_hexagon_stays_inside_its_box():
    corners = hexagon(35.0, 51.0, 36.0, 52.0)
    assert all(35.0 <= lat <= 36.0 and 51.0 <= lng <= 52.0 for lat, lng in corners)
    assert max(lng for _, lng in corners) == 52.0 and min(lng for _, lng in corners) == 51.0


def test_the_tariff_is_one_the_dispatch_domain_accepts():
    version = parse_tariff(tariff_document(), local_tz=ZoneInfo("Asia/Tehran"), now=datetime.now(UTC))
    assert version.tariff.id == "standard" and version.vehicle_class == "sedan"
    assert {s.name for s in version.tariff.schedules} == {"night", "evening_rush"}
    assert {p.to_zone for p in version.tariff.zone_prices} == {"IKA"}


def test_a_drivers_record_names_the_car_and_its_plate():
    body = driver_body(cabbie(1, 3))
    assert body["phone"].startswith("+98933") and " ت " in body["plate"] and body["vehicle_class"] in (
        "sedan", "van", "luxury")
