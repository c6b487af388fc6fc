import pytest

from dispatch.errors import InvalidPlate
from dispatch.model import PlateKind
from dispatch.plates import parse_plate


@pytest.mark.parametrize("raw", [
    "12 ب 345 - 67",
    "12ب34567",
    "۱۲ ب ۳۴۵ - ۶۷",
    "١٢ب٣٤٥٦٧",
    "12 ب 345 ایران 67",
    "12-ب-345-IRAN-67",
    "  12 ب\u200c345 | 67 ",
])
def test_iranian_plates_are_read_however_they_are_typed(raw):
    plate = parse_plate(PlateKind.IRANIAN, raw)
    assert (plate.kind, plate.canonical, plate.display) == (PlateKind.IRANIAN, "12ب34567", "12 ب 345 - 67")


def test_arabic_lookalike_letters_mean_the_persian_letter():
    assert parse_plate(PlateKind.IRANIAN, "55 ي 123 - 44").canonical == "55ی12344"
    assert parse_plate(PlateKind.IRANIAN, "55 ك 123 - 44").canonical == "55ک12344"


def test_the_alef_plate_keeps_its_letter_as_a_word():
    assert parse_plate(PlateKind.IRANIAN, "22 الف 555 - 11").display == "22 الف 555 - 11"


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "it is empty"),
    ("ایران", "it is empty"),
    ("12 X 345 67", "'X' is not a letter used on Iranian plates"),
    ("12 ح 345 67", "'ح' is not a letter used on Iranian plates"),
    ("1 ب 345 67", "an Iranian plate is two digits, a letter, three digits"),
    ("12 ب 3456 67", "an Iranian plate is two digits, a letter, three digits"),
    ("12 ب 345", "an Iranian plate is two digits, a letter, three digits"),
    ("1234567", "an Iranian plate is two digits, a letter, three digits"),
    ("00 ب 345 67", "its number cannot be all zeros"),
    ("12 ب 000 67", "its number cannot be all zeros"),
    ("12 ب 345 07", "the province code is between 10 and 99"),
    ("1" * 41, "it is too long to be a plate"),
])
def test_unreadable_iranian_plates_say_why(raw, reason):
    with pytest.raises(InvalidPlate) as caught:
        parse_plate(PlateKind.IRANIAN, raw)
    assert caught.value.reason.startswith(reason)
    assert caught.value.code == "invalid_plate"


def test_other_plates_are_trimmed_free_text_matched_without_case_or_spaces():
    plate = parse_plate(PlateKind.OTHER, "  AB  12 cd ")
    assert (plate.kind, plate.canonical, plate.display) == (PlateKind.OTHER, "AB12CD", "AB 12 cd")


@pytest.mark.parametrize(("raw", "reason"), [
    ("   ", "it is empty"),
    ("X" * 21, "it is longer than 20 characters"),
    ("AB\x0012", "it has control characters"),
])
def test_bad_other_plates_say_why(raw, reason):
    with pytest.raises(InvalidPlate) as caught:
        parse_plate(PlateKind.OTHER, raw)
    assert caught.value.reason == reason
