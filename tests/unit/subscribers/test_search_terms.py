from datetime import UTC, datetime

import pytest

from subscribers.model import Address, AddressEdit, AddressId, Position, SubscriberId
from subscribers.service import apply_address_edit, escape_like, search_terms
from taxicrm.errors import InvalidInput


@pytest.mark.parametrize(("query", "digits"), [
    ("0912 123", "912123"),
    ("۰۹۱۲۱۲۳", "912123"),          # Persian digits.
    ("+98 912-123-4567", "9121234567"),
    ("4567", "4567"),
    ("Valiasr 12", None),          # Words with a number are an address, not a phone.
    ("12", None),                  # Too few digits to mean a number.
])
def test_a_query_searches_phones_only_when_it_is_a_number(query, digits):
    assert search_terms(query).digits == digits


def test_a_query_is_normalized_like_stored_names():
    assert search_terms("علي رضا").key == search_terms("علی‌رضا").key == "علیرضا"


@pytest.mark.parametrize("query", ["", " ", "a", "‌"])
def test_a_query_too_short_to_mean_anything_is_refused(query):
    with pytest.raises(InvalidInput) as caught:
        search_terms(query)
    assert caught.value.code == "query_too_short"


def test_like_wildcards_in_a_query_match_themselves():
    assert escape_like(r"50%_off\x") == r"50\%\_off\\x"


T0 = datetime(2024, 5, 1, tzinfo=UTC)
HOME = Address(id=AddressId(1), subscriber_id=SubscriberId(1), label="home", full_text="Valiasr 12",
               landmark="near the bakery", position=Position(35.7, 51.4), pickup_count=3, dropoff_count=1,
               pickups_by_hour=(0,) * 24, last_used_at=None, created_at=T0, updated_at=T0)


def test_an_address_edit_changes_only_what_it_names():
    assert apply_address_edit(HOME, AddressEdit(label="  work ")) == HOME.__class__(
        **{**HOME.__dict__, "label": "work"})
    moved = apply_address_edit(HOME, AddressEdit(position=Position(35.0, 51.0), landmark=""))
    assert moved.position == Position(35.0, 51.0) and moved.landmark is None and moved.label == "home"
    assert apply_address_edit(HOME, AddressEdit(clear_position=True)).position is None


def test_an_address_edit_refuses_empty_text():
    with pytest.raises(InvalidInput):
        apply_address_edit(HOME, AddressEdit(full_text="   "))


def test_an_empty_edit_is_recognised():
    assert AddressEdit().is_empty and not AddressEdit(landmark="").is_empty
