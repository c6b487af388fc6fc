"""Who is calling, as far as the caller id tells: a number, a withheld id, or something unusable."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from subscribers.errors import InvalidPhone
from subscribers.phones import Phone, PhonePlan, is_withheld, parse_phone


class CallerStatus(StrEnum):
    """What the caller id held."""

    NUMBER = "number"
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True)
class CallerId:
    """A caller id as received, and the number in it if there is a usable one."""

    status: CallerStatus
    raw: str | None
    phone: Phone | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, str | None]:
        """Shape it for the screen-pop card."""
        return {
            "status": self.status, "raw": self.raw,
            "e164": self.phone.e164 if self.phone else None,
            "kind": self.phone.kind if self.phone else None,
            "area": self.phone.area if self.phone else None,
            "problem": self.problem,
        }


def identify_caller(raw: str | None, plan: PhonePlan) -> CallerId:
    """Classify a caller id; a withheld or garbled one is recorded as such, never as a made-up number."""
    if is_withheld(raw):
        return CallerId(CallerStatus.WITHHELD, raw)
    assert raw is not None  # is_withheld() is true for None.
    try:
        return CallerId(CallerStatus.NUMBER, raw, parse_phone(raw, plan))
    except InvalidPhone as err:
        return CallerId(CallerStatus.INVALID, raw[:80], problem=err.reason)
