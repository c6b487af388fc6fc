"""Zones over Tehran: borders as an admin draws them, which zone a point is in, and the strategy in force."""

import math
from datetime import UTC, datetime, time

import pytest

from dispatch.errors import InvalidPolygon, InvalidStrategyWindow, OverlappingWindows
from dispatch.model import StrategyWindow, Zone, ZoneId, ZoneStrategy
from dispatch.zones import (
    MAX_VERTICES,
    ZoneFields,
    ZoneIndex,
    contains,
    parse_polygon,
    parse_windows,
    parse_zone,
    service_bounds,
    strategy_at,
    zone_at,
)
from taxicrm.errors import InvalidInput

# The default service area (Tehran) and margin of taxicrm/settings.py.
ALLOWED = service_bounds((35.55, 51.10, 35.85, 51.65), 50)
SQUARE = ((35.60, 51.30), (35.60, 51.40), (35.70, 51.40), (35.70, 51.30))
# A U open to the north: the notch between longitudes 51.33 and 51.37, from latitude 35.63 up, is outside.
U_SHAPE = ((35.60, 51.30), (35.60, 51.40), (35.70, 51.40), (35.70, 51.37), (35.63, 51.37), (35.63, 51.33),
           (35.70, 51.33), (35.70, 51.30))
UPDATED = datetime(2026, 3, 1, tzinfo=UTC)
QUEUE_FIRST, NEAREST = ZoneStrategy.QUEUE_FIRST, ZoneStrategy.NEAREST
SATURDAY, FRIDAY, SUNDAY, MONDAY = 5, 4, 6, 0


def zone(zone_id, polygon, *, code=None, windows=(), default=QUEUE_FIRST, is_active=True):
    return Zone(id=ZoneId(zone_id), code=code or f"Z{zone_id}", name=f"Zone {zone_id}", polygon=polygon,
                default_strategy=default, windows=windows, is_active=is_active, updated_at=UPDATED)


def pairs(polygon):
    return [list(vertex) for vertex in polygon]


def circle(lat, lng, radius, count):
    return [[lat + radius * math.sin(2 * math.pi * i / count), lng + radius * math.cos(2 * math.pi * i / count)]
            for i in range(count)]


# ---- point in polygon --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lat", "lng", "inside"), [
    (35.61, 51.35, True),  # the bottom of the U
    (35.65, 51.31, True),  # its left arm
    (35.65, 51.39, True),  # its right arm
    (35.65, 51.35, False),  # in the notch
    (35.69, 51.35, False),  # in the notch, near its mouth
    (35.70, 51.35, False),  # across the mouth of the notch, where no edge runs
    (35.63, 51.31, True),  # level with the notch's floor (a horizontal edge) but in the arm
    (35.63, 51.39, True),
    (35.5999, 51.35, False),  # just south of the bottom edge
    (35.65, 51.4001, False),  # just east of the right edge
    (35.75, 51.35, False),  # north of everything
])
def test_a_point_is_inside_a_concave_zone_only_where_the_zone_is(lat, lng, inside):
    assert contains(U_SHAPE, lat, lng) is inside


@pytest.mark.parametrize(("lat", "lng"), [
    (35.60, 51.35),  # on the bottom edge
    (35.65, 51.30),  # on the left edge
    (35.65, 51.33),  # on the notch's left wall
    (35.63, 51.35),  # on the notch's floor
    (35.60, 51.30),  # a convex vertex
    (35.63, 51.33),  # a concave (reflex) vertex
    (35.70, 51.37),  # a vertex at the notch's mouth
])
def test_a_point_on_the_border_or_a_vertex_is_inside(lat, lng):
    assert contains(U_SHAPE, lat, lng)


def test_a_point_on_a_slanted_edge_is_inside():
    triangle = ((35.60, 51.30), (35.70, 51.40), (35.60, 51.40))
    assert contains(triangle, 35.65, 51.35)
    assert not contains(triangle, 35.651, 51.349)


def test_many_vertices_and_every_latitude_band_give_the_same_answer_as_the_shape():
    ring = tuple((lat, lng) for lat, lng in circle(35.70, 51.40, 0.05, 400))
    for step in range(-60, 61):
        lat = 35.70 + step / 1_000
        assert contains(ring, lat, 51.40) is (abs(step) <= 50)  # 50: on the southern and northern vertices
        assert not contains(ring, lat, 51.46)


def test_the_smallest_zone_holding_a_point_wins_so_the_airport_wins_inside_its_district():
    district = zone(1, SQUARE, code="D1")
    airport = zone(2, ((35.64, 51.34), (35.64, 51.36), (35.66, 51.36), (35.66, 51.34)), code="IKA")
    for zones in ([district, airport], [airport, district]):
        assert zone_at(zones, 35.65, 51.35) == airport
        assert zone_at(zones, 35.61, 51.31) == district
        assert zone_at(zones, 35.80, 51.50) is None


def test_two_zones_sharing_a_border_give_a_point_on_it_to_the_smaller_then_the_lower_id():
    west = zone(5, ((35.60, 51.30), (35.60, 51.35), (35.70, 51.35), (35.70, 51.30)))
    east = zone(3, ((35.60, 51.35), (35.60, 51.40), (35.70, 51.40), (35.70, 51.35)))
    smaller_east = zone(3, ((35.60, 51.35), (35.60, 51.39), (35.70, 51.39), (35.70, 51.35)))
    assert zone_at([west, east], 35.65, 51.35) == east
    assert zone_at([west, smaller_east], 35.65, 51.35) == smaller_east
    assert zone_at([west, smaller_east], 35.65, 51.32) == west


def test_deactivated_zones_hold_no_point():
    index = ZoneIndex([zone(1, SQUARE, is_active=False)])
    assert len(index) == 0 and index.zone_at(35.65, 51.35) is None


# ---- strategies by weekday and time ----------------------------------------------------------------------

MORNING = StrategyWindow(days=frozenset({SATURDAY}), start=time(7), end=time(10), strategy=NEAREST)
FRIDAY_NIGHT = StrategyWindow(days=frozenset({FRIDAY}), start=time(22), end=time(2), strategy=NEAREST)
ALL_SUNDAY = StrategyWindow(days=frozenset({SUNDAY}), start=time(0), end=time(0), strategy=NEAREST)
SCHEDULED = zone(1, SQUARE, windows=(MORNING, FRIDAY_NIGHT, ALL_SUNDAY), default=QUEUE_FIRST)


def local(day, hour, minute=0):
    # 2026-03-20 is a Friday; the zone's windows are read in local time, so no time zone is needed here.
    return datetime(2026, 3, day, hour, minute)


@pytest.mark.parametrize(("when", "expected"), [
    (local(21, 7, 0), NEAREST),  # Saturday at the window's start
    (local(21, 9, 59), NEAREST),
    (local(21, 10, 0), QUEUE_FIRST),  # the end is not part of the window
    (local(21, 6, 59), QUEUE_FIRST),
    (local(23, 8, 0), QUEUE_FIRST),  # Monday: not a window day
    (local(20, 22, 0), NEAREST),  # Friday night
    (local(20, 23, 59), NEAREST),
    (local(21, 1, 0), NEAREST),  # 01:00 on Saturday is still Friday's night
    (local(21, 2, 0), QUEUE_FIRST),
    (local(20, 1, 0), QUEUE_FIRST),  # 01:00 on Friday belongs to Thursday night, which has no window
    (local(20, 21, 59), QUEUE_FIRST),
    (local(22, 0, 0), NEAREST),  # start == end: all of Sunday
    (local(22, 23, 59), NEAREST),
    (local(23, 0, 0), QUEUE_FIRST),
])
def test_the_strategy_follows_the_window_in_force_and_the_default_outside_them(when, expected):
    assert strategy_at(SCHEDULED, when) is expected


def test_an_aware_local_time_is_read_on_its_own_wall_clock():
    from zoneinfo import ZoneInfo

    # 03:30 UTC on Saturday is 07:00 in Tehran.
    assert strategy_at(SCHEDULED, datetime(2026, 3, 21, 3, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tehran"))) \
        is NEAREST


def test_a_zone_without_windows_always_has_its_default():
    assert strategy_at(zone(1, SQUARE, default=NEAREST), local(21, 8)) is NEAREST


# ---- checking a polygon ----------------------------------------------------------------------------------

def polygon_error(raw):
    with pytest.raises(InvalidInput) as caught:
        parse_polygon(raw, ALLOWED)
    return caught.value


def test_a_good_polygon_is_returned_as_its_ring():
    assert parse_polygon(pairs(U_SHAPE), ALLOWED) == U_SHAPE


def test_a_closing_vertex_and_double_clicked_vertices_are_dropped():
    raw = [[35.60, 51.30], [35.60, 51.30], [35.60, 51.40], [35.70, 51.40], [35.70, 51.30], [35.60, 51.30]]
    assert parse_polygon(raw, ALLOWED) == SQUARE


def test_integers_are_coordinates_too():
    assert parse_polygon([[35, 51], [36, 51], [36, 52]], service_bounds((34, 50, 37, 53), 10)) == (
        (35.0, 51.0), (36.0, 51.0), (36.0, 52.0))


def test_a_border_of_the_most_vertices_allowed_is_accepted_even_closed():
    ring = circle(35.70, 51.40, 0.05, MAX_VERTICES)
    assert len(parse_polygon([*ring, ring[0]], ALLOWED)) == MAX_VERTICES


def test_a_vertex_within_the_margin_is_accepted_and_one_beyond_it_refused():
    # The margin is 50 km: about 0.449 degrees of latitude south of 35.55.
    near = [[35.11, 51.30], [35.60, 51.40], [35.60, 51.30]]
    assert parse_polygon(near, ALLOWED)[0] == (35.11, 51.30)
    assert polygon_error([[35.09, 51.30], [35.60, 51.40], [35.60, 51.30]]).code == "polygon_outside_service_area"


@pytest.mark.parametrize(("raw", "code"), [
    ("35.6,51.3", "wrong_type"),
    ({"lat": 35.6}, "wrong_type"),
    ([[35.60, 51.30], [35.60, 51.40]], "polygon_too_few_vertices"),
    ([[35.60, 51.30], [35.60, 51.40], [35.60, 51.30]], "polygon_too_few_vertices"),
    ([[35.60, 51.30], [35.60, 51.30], [35.60, 51.30], [35.60, 51.30]], "polygon_too_few_vertices"),
    ([[35.60, 51.30], [35.60, 51.40], [35.70]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [35.70, 51.40, 0]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], ["35.70", 51.40]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [True, 51.40]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [float("nan"), 51.40]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [35.70, float("inf")]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [95.0, 51.40]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], [10 ** 400, 51.40]], "invalid_vertex"),
    ([[35.60, 51.30], [35.60, 51.40], None], "invalid_vertex"),
    ([[36.90, 51.30], [36.90, 51.40], [37.00, 51.40]], "polygon_outside_service_area"),
    ([[35.60, 51.30], [35.65, 51.35], [35.70, 51.40]], "polygon_degenerate"),
    # A bow tie: the second and fourth edges cross.
    ([[35.60, 51.30], [35.60, 51.40], [35.70, 51.30], [35.70, 51.40]], "polygon_self_intersecting"),
    # A figure eight touching itself at one vertex.
    ([[35.60, 51.30], [35.60, 51.40], [35.65, 51.35], [35.70, 51.40], [35.70, 51.30], [35.65, 51.35]],
     "polygon_self_intersecting"),
    # A vertex lying on a non-adjacent edge.
    ([[35.60, 51.30], [35.60, 51.40], [35.70, 51.40], [35.60, 51.35], [35.70, 51.30]], "polygon_self_intersecting"),
    # A spike: out along a line and back along it.
    ([[35.60, 51.30], [35.60, 51.40], [35.60, 51.45], [35.60, 51.42], [35.70, 51.40]], "polygon_self_intersecting"),
    # The first and last edges folding back on each other.
    ([[35.60, 51.30], [35.60, 51.40], [35.70, 51.40], [35.60, 51.35]], "polygon_self_intersecting"),
])
def test_a_polygon_that_breaks_a_rule_is_refused_with_a_code_naming_the_rule(raw, code):
    assert polygon_error(raw).code == code


def test_too_many_vertices_are_refused():
    assert polygon_error(circle(35.70, 51.40, 0.05, MAX_VERTICES + 1)).code == "polygon_too_many_vertices"
    assert polygon_error(circle(35.70, 51.40, 0.05, 10_000)).code == "polygon_too_many_vertices"


def test_messages_say_which_vertex_as_sent_and_which_edges():
    assert "Vertex 3" in polygon_error([[35.60, 51.30], [35.60, 51.40], [35.70]]).message
    # Numbered as sent, even after a doubled vertex before it.
    assert "Vertex 3 (40.0, 51.4)" in polygon_error([[35.60, 51.30], [35.60, 51.30], [40.0, 51.40]]).message
    crossing = polygon_error([[35.60, 51.30], [35.60, 51.40], [35.70, 51.30], [35.70, 51.40]]).message
    assert "(35.6, 51.4)–(35.7, 51.3)" in crossing and "(35.7, 51.4)–(35.6, 51.3)" in crossing


def test_vertices_sent_in_geojson_order_are_refused_with_a_hint():
    error = polygon_error([[51.30, 35.60], [51.40, 35.60], [51.40, 35.70]])
    assert error.code == "polygon_outside_service_area" and "[lng, lat]" in error.message


def test_polygon_errors_are_invalid_input_with_the_polygon_class():
    assert isinstance(polygon_error([[35.6, 51.3]]), InvalidPolygon)
    assert polygon_error([[35.6, 51.3]]).status == 400


# ---- checking strategy windows ---------------------------------------------------------------------------

def window(days=("saturday",), start="07:00", end="10:00", strategy="nearest", **extra):
    return {"days": list(days), "start": start, "end": end, "strategy": strategy, **extra}


def test_windows_are_read_with_weekday_numbers_and_times():
    assert parse_windows([window(days=["Saturday", " friday "], start="7:30", end="09:05")]) == (
        StrategyWindow(days=frozenset({SATURDAY, FRIDAY}), start=time(7, 30), end=time(9, 5), strategy=NEAREST),)


def test_windows_that_only_touch_do_not_overlap():
    assert len(parse_windows([window(start="07:00", end="10:00"), window(start="10:00", end="12:00"),
                              window(days=["friday"], start="22:00", end="07:00")])) == 3


def test_windows_that_are_not_a_list_are_refused():
    with pytest.raises(InvalidInput) as caught:
        parse_windows("07:00-10:00")
    assert caught.value.code == "wrong_type"


@pytest.mark.parametrize(("raw", "says"), [
    (["saturday"], "Window 1 must be an object"),
    ([window(), window(colour="red")], "Window 2: 'colour' is not a window field"),
    ([window(days=[])], "'days' must be a non-empty list"),
    ([{**window(), "days": "saturday"}], "'days' must be a non-empty list"),
    ([window(days=[5])], "'days' must be a non-empty list"),
    ([window(days=["saturday", "shanbe"])], "'shanbe' is not a weekday"),
    ([window(start="7")], "'start' must be a time of day"),
    ([window(start="24:00")], "'start' must be a time of day"),
    ([window(end="10:60")], "'end' must be a time of day"),
    ([window(end=None)], "'end' must be a time of day"),
    ([window(strategy="fastest")], "'strategy' must be one of queue_first, nearest"),
    ([window(strategy=None)], "'strategy' must be one of"),
    ([window()] * 51, "at most 50 strategy windows"),
])
def test_a_window_that_cannot_be_read_is_refused_saying_why(raw, says):
    with pytest.raises(InvalidStrategyWindow) as caught:
        parse_windows(raw)
    assert caught.value.code == "invalid_window" and says in caught.value.message


@pytest.mark.parametrize(("first", "second", "where"), [
    (window(start="07:00", end="10:00"), window(start="09:00", end="12:00"), "saturday at 09:00"),
    (window(start="07:00", end="10:00"), window(start="08:00", end="09:00"), "saturday at 08:00"),
    # Friday night runs into Saturday morning.
    (window(days=["friday"], start="22:00", end="02:00"), window(start="01:00", end="03:00"), "saturday at 01:00"),
    # Sunday night runs into Monday morning, across the end of the week.
    (window(days=["sunday"], start="23:00", end="01:00"), window(days=["monday"], start="00:30", end="06:00"),
     "monday at 00:30"),
    # start == end is the whole day.
    (window(start="00:00", end="00:00"), window(start="18:00", end="19:00", strategy="queue_first"),
     "saturday at 18:00"),
])
def test_overlapping_windows_are_refused_naming_both(first, second, where):
    with pytest.raises(OverlappingWindows) as caught:
        parse_windows([window(days=["tuesday"]), first, second])
    message = caught.value.message
    assert caught.value.code == "overlapping_windows"
    assert "Window 2 (" in message and "window 3 (" in message and message.endswith(f"on {where}.")


def test_the_overlap_message_describes_both_windows():
    with pytest.raises(OverlappingWindows) as caught:
        parse_windows([window(days=["saturday", "sunday"]), window(days=["sunday"], start="09:00", end="11:00",
                                                                       strategy="queue_first")])
    assert caught.value.message == ("Window 1 (saturday, sunday 07:00-10:00 nearest) overlaps window 2 "
                                    "(sunday 09:00-11:00 queue_first) on sunday at 09:00.")


# ---- checking the zone document --------------------------------------------------------------------------

AIRPORT = {"code": "ika", "name": "  Imam   Khomeini Airport ", "polygon": pairs(SQUARE)}


def test_a_new_zone_gets_upper_case_code_tidy_name_and_defaults():
    assert parse_zone(AIRPORT, ALLOWED, creating=True) == ZoneFields(
        code="IKA", name="Imam Khomeini Airport", polygon=SQUARE, default_strategy=QUEUE_FIRST, windows=(),
        is_active=True)


def test_a_change_carries_only_the_fields_sent():
    fields = parse_zone({"default_strategy": "nearest", "windows": None}, ALLOWED, creating=False)
    assert fields == ZoneFields(default_strategy=NEAREST, windows=())
    assert fields.sent() == {"default_strategy": NEAREST, "windows": ()}
    assert parse_zone({}, ALLOWED, creating=False).sent() == {}


@pytest.mark.parametrize(("body", "creating", "code"), [
    ({**AIRPORT, "colour": "red"}, True, "unknown_field"),
    ({**AIRPORT, "id": 3}, True, "unknown_field"),
    ({"name": "Airport", "polygon": pairs(SQUARE)}, True, "missing_field"),
    ({"code": "IKA", "polygon": pairs(SQUARE)}, True, "missing_field"),
    ({"code": "IKA", "name": "Airport"}, True, "missing_field"),
    ({**AIRPORT, "code": "I K A"}, True, "invalid_zone_code"),
    ({**AIRPORT, "code": "   "}, True, "invalid_zone_code"),
    ({**AIRPORT, "code": "-IKA"}, True, "invalid_zone_code"),
    ({**AIRPORT, "code": "X" * 21}, True, "invalid_zone_code"),
    ({**AIRPORT, "code": "فرودگاه"}, True, "invalid_zone_code"),
    ({**AIRPORT, "code": 12}, True, "wrong_type"),
    ({**AIRPORT, "name": "   "}, True, "empty_field"),
    ({**AIRPORT, "name": "x" * 201}, True, "too_long"),
    ({**AIRPORT, "name": ["Airport"]}, True, "wrong_type"),
    ({**AIRPORT, "default_strategy": "fastest"}, True, "invalid_choice"),
    ({**AIRPORT, "windows": {"days": ["saturday"]}}, True, "wrong_type"),
    ({**AIRPORT, "is_active": "yes"}, True, "wrong_type"),
    ({**AIRPORT, "polygon": pairs(SQUARE)[:2]}, True, "polygon_too_few_vertices"),
    ({"polygon": None}, False, "missing_field"),
    ({"name": None}, False, "missing_field"),
    ({"default_strategy": None}, False, "missing_field"),
    ({"is_active": None}, False, "missing_field"),
])
def test_a_zone_document_that_breaks_a_rule_is_refused(body, creating, code):
    with pytest.raises(InvalidInput) as caught:
        parse_zone(body, ALLOWED, creating=creating)
    assert caught.value.code == code
