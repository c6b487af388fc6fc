"""The center's set-up for the demo city, as the admin API takes it: zones, the tariff, the drivers' records."""

from __future__ import annotations

import math
from typing import Any

from taxicrm.demo.places import ZONES
from taxicrm.demo.population import Cabbie

Json = dict[str, Any]
EVERY_DAY = ["saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"]
WORKDAYS = ["saturday", "sunday", "monday", "tuesday", "wednesday"]
# Fixed prices from the city's zones to Imam Khomeini Airport, both ways (rials).
AIRPORT_PRICES = {"NORTH": 16_000_000, "VANAK": 14_000_000, "CENTER": 12_500_000, "BAZAAR": 12_000_000,
                  "WEST": 12_000_000, "EAST": 15_000_000, "SOUTH": 9_000_000}


def hexagon(south: float, west: float, north: float, east: float) -> list[list[float]]:
    """Return a hexagon inscribed in a box, as [lat, lng] corners."""
    lat, lng = (south + north) / 2, (west + east) / 2
    half_lat, half_lng = (north - south) / 2, (east - west) / 2
    return [[round(lat + half_lat * math.sin(math.radians(a)), 6), round(lng + half_lng * math.cos(math.radians(a)), 6)]
            for a in range(0, 360, 60)]


def zone_bodies() -> list[Json]:
    """Return the zones to draw: terminals and airports whose ranks dispatch queue first, and the city's districts."""
    bodies = []
    for code, name, south, west, north, east, strategy in ZONES:
        body: Json = {"code": code, "name": name, "polygon": hexagon(south, west, north, east),
                      "default_strategy": strategy}
        if strategy == "queue_first":
            # In the morning rush a waiting rank would starve the streets: the nearest car goes instead.
            body["windows"] = [{"days": WORKDAYS, "start": "07:00", "end": "09:30", "strategy": "nearest"}]
        bodies.append(body)
    return bodies


def tariff_document() -> Json:
    """Return the sedan tariff in force from now: the meter, night and rush-hour surcharges, fixed airport prices."""
    return {
        "code": "standard", "vehicle_class": "sedan",
        "flag_fall_rials": 350_000, "included_metres": 1_000, "per_km_rials": 180_000,
        "per_minute_waiting_rials": 60_000, "minimum_fare_rials": 500_000, "rounding_unit_rials": 10_000,
        "schedules": [
            {"name": "night", "days": EVERY_DAY, "start": "23:00", "end": "05:00", "kind": "surcharge_percent",
             "value": 20, "label_en": "Night (23:00-05:00)", "label_fa": "شبانه"},
            {"name": "evening_rush", "days": WORKDAYS, "start": "17:00", "end": "20:00", "kind": "surcharge_percent",
             "value": 10, "label_en": "Evening rush", "label_fa": "ساعت شلوغی عصر"},
        ],
        "zone_prices": [{"from_zone": zone, "to_zone": "IKA", "price_rials": price, "both_directions": True}
                        for zone, price in AIRPORT_PRICES.items()],
    }


def driver_body(driver: Cabbie) -> Json:
    """Return a driver's record as an admin enters it."""
    return {"name": driver.name, "phone": driver.phone, "plate": driver.plate, "vehicle_class": driver.vehicle_class,
            "vehicle_make": driver.make, "vehicle_model": driver.model, "vehicle_colour": driver.colour,
            "licence_number": f"{4_000_000_000 + driver.number * 7_919:010d}", "commission_bp": 1_500}
