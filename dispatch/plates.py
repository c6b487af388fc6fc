"""Vehicle plates: reading Iranian civilian plates however they are typed, and free-text foreign ones."""

from __future__ import annotations

import re
import unicodedata

from dispatch.errors import InvalidPlate
from dispatch.model import Plate, PlateKind
from subscribers.text import to_ascii_digits

MAX_RAW_LENGTH = 40
MAX_OTHER_LENGTH = 20

# The letters civilian, public and government plates carry. "الف" is written as a word on the plate.
PLATE_LETTERS = frozenset({
    "الف", "ب", "پ", "ت", "ث", "ج", "د", "ز", "ژ", "س", "ش", "ص", "ط", "ع", "ف", "ق", "ک", "گ", "ل", "م",
    "ن", "و", "ه", "ی",
})
# Arabic keyboards type these look-alikes; the plate means the Persian letter.
_ARABIC_LOOKALIKES = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا"})
# The word "Iran" printed beside the province code, in either script, is decoration, not data.
_COUNTRY_WORD = re.compile(r"ایران|iran", re.IGNORECASE)
# Spaces, dashes, bars, dots and the invisible joiners and direction marks right-to-left editors insert.
_SEPARATORS = re.compile(r"[\s\-_|.·/\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_IRANIAN = re.compile(r"(\d{2})(\D+)(\d{3})(\d{2})")
_SHAPE = "two digits, a letter, three digits and a two-digit province code (12 ب 345 - 67)"


def parse_plate(kind: PlateKind, raw: str) -> Plate:
    """Normalize a plate as typed; raise InvalidPlate with a reason if it cannot be one of its kind."""
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidPlate(raw[:MAX_RAW_LENGTH] + "…", "it is too long to be a plate")
    if kind is PlateKind.IRANIAN:
        return _iranian(raw)
    return _other(raw)


def _iranian(raw: str) -> Plate:
    text = unicodedata.normalize("NFKC", raw).translate(_ARABIC_LOOKALIKES)
    compact = _SEPARATORS.sub("", _COUNTRY_WORD.sub("", to_ascii_digits(text)))
    if not compact:
        raise InvalidPlate(raw, "it is empty")
    match = _IRANIAN.fullmatch(compact)
    if match is None:
        letters = re.sub(r"\d", "", compact)
        if letters and letters not in PLATE_LETTERS:
            raise InvalidPlate(raw, f"'{letters}' is not a letter used on Iranian plates")
        raise InvalidPlate(raw, f"an Iranian plate is {_SHAPE}")
    first, letter, serial, province = match.groups()
    if letter not in PLATE_LETTERS:
        raise InvalidPlate(raw, f"'{letter}' is not a letter used on Iranian plates")
    if first == "00" or serial == "000":
        raise InvalidPlate(raw, "its number cannot be all zeros")
    if province.startswith("0"):
        raise InvalidPlate(raw, "the province code is between 10 and 99")
    return Plate(PlateKind.IRANIAN, f"{first}{letter}{serial}{province}", f"{first} {letter} {serial} - {province}")


def _other(raw: str) -> Plate:
    display = " ".join(to_ascii_digits(unicodedata.normalize("NFKC", raw)).split())
    if not display:
        raise InvalidPlate(raw, "it is empty")
    if len(display) > MAX_OTHER_LENGTH:
        raise InvalidPlate(raw, f"it is longer than {MAX_OTHER_LENGTH} characters")
    if not display.isprintable():
        raise InvalidPlate(raw, "it has control characters")
    # Foreign plates are matched without case or spacing: "ab 123" and "AB123" are one car.
    return Plate(PlateKind.OTHER, display.upper().replace(" ", ""), display)
