"""Ratings and rating links as pure rules: stars, comments, whose ride, and links that cannot be forged."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from feedback.errors import (
    LinksDisagree,
    NotYourRide,
    RatingLinkExpired,
    RatingLinkInvalid,
    RatingOutOfRange,
    RideNotCompleted,
)
from feedback.links import is_link_token, read_link, sign_link
from feedback.model import RatedRide, RatingChannel, RatingRequest
from feedback.ratings import check_same_ride, check_value, new_rating
from taxicrm.errors import InvalidInput

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
KEY = b"k" * 32
DONE = RatedRide(ride_id=7, status="completed", driver_id=3, subscriber_id=11)


@pytest.mark.parametrize("value", [1, 5])
def test_one_to_five_stars_are_a_rating(value):
    assert check_value(value) == value


@pytest.mark.parametrize("value", [0, 6, -1, 4.5, "5", True, None])
def test_anything_else_is_out_of_range(value):
    with pytest.raises(RatingOutOfRange) as raised:
        check_value(value)
    assert raised.value.code == "rating_out_of_range" and raised.value.status == 400


def test_a_rating_takes_the_ride_s_driver_and_a_tidy_comment():
    made = new_rating(DONE, RatingRequest(value=4, comment="  خیلی   خوب بود ", channel=RatingChannel.LINK), NOW)
    assert (made.driver_id, made.value, made.comment, made.channel, made.at) == (3, 4, "خیلی خوب بود",
                                                                                  RatingChannel.LINK, NOW)
    assert new_rating(DONE, RatingRequest(value=4, comment="   "), NOW).comment is None
    with pytest.raises(InvalidInput) as raised:
        new_rating(DONE, RatingRequest(value=4, comment="x" * 1001), NOW)
    assert raised.value.code == "too_long"


@pytest.mark.parametrize("status", ["assigned", "on_board", "cancelled", "no_show"])
def test_only_a_completed_ride_is_rated(status):
    with pytest.raises(RideNotCompleted) as raised:
        new_rating(RatedRide(7, status, 3, 11), RatingRequest(value=5), NOW)
    assert raised.value.status == 409 and raised.value.code == "ride_not_completed"


def test_the_caller_on_a_follow_up_call_must_be_the_ride_s_subscriber():
    new_rating(DONE, RatingRequest(value=2, subscriber_id=11), NOW)
    for other in (RatedRide(7, "completed", 3, 12), RatedRide(7, "completed", 3, None)):
        with pytest.raises(LinksDisagree):
            new_rating(other, RatingRequest(value=2, subscriber_id=11), NOW)


def test_a_page_asking_about_another_ride_than_its_token_s_is_refused():
    check_same_ride(7, None)
    check_same_ride(7, 7)
    with pytest.raises(NotYourRide) as raised:
        check_same_ride(7, 8)
    assert raised.value.status == 403


def test_a_link_names_its_ride_until_it_expires():
    token = sign_link(KEY, 123_456, NOW + timedelta(days=7))
    assert is_link_token(token) and len(token) <= 40 and token.isascii()
    assert read_link(KEY, token, NOW) == (123_456, NOW + timedelta(days=7))
    with pytest.raises(RatingLinkExpired) as raised:
        read_link(KEY, token, NOW + timedelta(days=7))
    assert raised.value.status == 410


def test_a_link_for_another_ride_cannot_be_made_without_the_key():
    token = sign_link(KEY, 7, NOW + timedelta(days=1))
    raw = bytearray(base64.urlsafe_b64decode(token[2:] + "=="))
    raw[7] ^= 1  # ride 6 instead of 7, same signature
    forged = "f_" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (forged, sign_link(b"x" * 32, 7, NOW + timedelta(days=1)), token[:-1], token + "A", "f_" + "!" * 38,
                "r_whatever", ""):
        with pytest.raises(RatingLinkInvalid):
            read_link(KEY, bad, NOW)
