from datetime import UTC, datetime

from dispatch.model import Channel, FareBasis, Place, Ride, RideId, RideStatus, VehicleClass
from dispatch.traces import LatLng
from dispatch.trips import choose_fare

NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
BOOKED_TO = Place("Sharif University", lat=35.7036, lng=51.3515)
QUOTE = {"total_rials": 900_000, "lines": []}
METERED = {"total_rials": 1_150_000, "lines": []}


def ride(*, locked: bool = True, destination: Place | None = BOOKED_TO, quoted: bool = True) -> Ride:
    return Ride(
        id=RideId(1), status=RideStatus.ON_BOARD, subscriber_id=None, walk_in_name="W", walk_in_phone="+989121234567",
        call_id=None, pickup=Place("Azadi Square", lat=35.6997, lng=51.3380), destination=destination, passengers=1,
        vehicle_class=VehicleClass.SEDAN, notes_for_driver=None, pickup_at=None, due_at=NOW, driver_id=None,
        offered_to=None, offer_count=1, cancelled_by=None, cancel_reason=None, booked_by=1,
        booked_via=Channel.CONSOLE, request_hash="h", assigned_at=NOW, arrived_at=None, picked_up_at=NOW,
        finished_at=None, quote=QUOTE if quoted else None, quote_total_rials=900_000 if quoted else None,
        quote_locked=locked, fare=None, fare_total_rials=None, driver_share_rials=None, center_share_rials=None,
        fare_basis=None, version=3, created_at=NOW, updated_at=NOW,
    )


def test_a_locked_quote_stands_when_the_trip_ends_at_the_booked_destination():
    near = LatLng(35.7036 + 0.002, 51.3515)  # About 220 m away.
    assert choose_fare(ride(), METERED, 1_150_000, near, 500) == (QUOTE, 900_000, FareBasis.LOCKED_QUOTE)


def test_the_meter_applies_when_the_trip_ends_elsewhere():
    far = LatLng(35.7036 + 0.01, 51.3515)  # About 1.1 km away.
    assert choose_fare(ride(), METERED, 1_150_000, far, 500) == (METERED, 1_150_000, FareBasis.METER)


def test_an_unknown_end_gives_the_customer_the_price_they_were_told():
    assert choose_fare(ride(), METERED, 1_150_000, None, 500)[2] is FareBasis.LOCKED_QUOTE


def test_the_meter_applies_without_a_locked_quote_or_a_mapped_destination():
    end = LatLng(35.7036, 51.3515)
    assert choose_fare(ride(locked=False), METERED, 1_150_000, end, 500)[2] is FareBasis.METER
    assert choose_fare(ride(quoted=False), METERED, 1_150_000, end, 500)[2] is FareBasis.METER
    assert choose_fare(ride(destination=Place("Somewhere")), METERED, 1_150_000, end, 500)[2] is FareBasis.METER
