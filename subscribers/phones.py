"""Phone numbers: the one place every number (typed, imported or from the PBX) is normalized to E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from subscribers.errors import InvalidPhone
from subscribers.text import to_ascii_digits

# What PBXs and carriers put in the caller id when there is no number to show.
WITHHELD_MARKERS = frozenset({
    "", "anonymous", "unknown", "<unknown>", "withheld", "private", "restricted", "unavailable",
    "blocked", "hidden", "asterisk", "0", "-", "ناشناس", "نامشخص",
})
_FORMATTING = re.compile(r"[\s\-().\u200c\u200e\u200f/]")
MAX_RAW_LENGTH = 40


class PhoneKind(StrEnum):
    """What sort of line a number is, as far as its numbering plan tells."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    VOIP = "voip"
    OTHER = "other"


_KINDS = {
    PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneKind.LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneKind.LANDLINE,
    PhoneNumberType.VOIP: PhoneKind.VOIP,
}


@dataclass(frozen=True)
class PhonePlan:
    """The center's numbering context: its country and the area code of local 8-digit landlines."""

    region: str = "IR"
    area_code: str = "21"


@dataclass(frozen=True)
class Phone:
    """A valid number: E.164 for storage and matching, the raw form as received, and what it is."""

    e164: str
    raw: str
    kind: PhoneKind
    area: str  # Where the number is registered ("Tehran", "Iran"), in English; empty if unknown.

    @property
    def national_digits(self) -> str:
        """The national significant number, e.g. 9121234567: what partial searches match against."""
        return str(phonenumbers.parse(self.e164).national_number)


def is_withheld(raw: str | None) -> bool:
    """Tell whether a caller id says there is no number (anonymous, withheld, empty)."""
    return raw is None or _FORMATTING.sub("", raw).strip().casefold() in WITHHELD_MARKERS


def parse_phone(raw: str, plan: PhonePlan) -> Phone:
    """Normalize a number as typed or received; raise InvalidPhone with a reason if it is not one.

    Accepts +98, 0098, 98, a leading trunk 0 or none, spaces, dashes, parentheses and Persian or
    Arabic-Indic digits. A bare 8-digit number is a local landline: the plan's area code is added.
    """
    if len(raw) > MAX_RAW_LENGTH:
        raise InvalidPhone(raw[:MAX_RAW_LENGTH] + "…", "it is too long to be a phone number")
    if is_withheld(raw):
        raise InvalidPhone(raw, "there is no number (withheld or empty)")
    digits = _FORMATTING.sub("", to_ascii_digits(raw))
    if not re.fullmatch(r"\+?\d+", digits):
        raise InvalidPhone(raw, "it has characters other than digits")
    if not 3 <= len(digits.lstrip("+")) <= 20:
        raise InvalidPhone(raw, "it has too few or too many digits")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if plan.region == "IR" and len(digits) == 8 and not digits.startswith("0"):
        digits = "0" + plan.area_code + digits  # A local Tehran landline as the PBX delivers it.
    try:
        number = phonenumbers.parse(digits, plan.region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(raw, "it is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(raw, "no such number exists in its country's numbering plan")
    return Phone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        raw=raw,
        kind=_KINDS.get(phonenumbers.number_type(number), PhoneKind.OTHER),
        area=geocoder.description_for_number(number, "en"),
    )


def search_digits(typed: str) -> str:
    """Reduce a partial number typed in any digit set to the digits a search matches.

    A leading trunk 0 or country code is dropped, since stored national digits have neither.
    """
    digits = re.sub(r"\D", "", to_ascii_digits(typed))
    for prefix in ("0098", "98", "0"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 2:
            return digits[len(prefix):]
    return digits
