"""When calls come: a Tehran day's shape (morning and evening peaks, a quiet night) and what callers do."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Share of the peak call rate at each local hour, 0 to 23 (a radio-taxi center's usual day).
HOURLY_SHAPE = (0.30, 0.18, 0.10, 0.06, 0.05, 0.09, 0.30, 0.70, 0.95, 1.00, 0.75, 0.62,
                0.62, 0.60, 0.58, 0.62, 0.72, 0.88, 1.00, 0.96, 0.82, 0.66, 0.52, 0.40)


def demand_share(local_hour: float) -> float:
    """Return the share of the peak call rate at a local hour of day (0.0 to 24.0), interpolated between hours."""
    hour = local_hour % 24
    low = int(hour)
    high = (low + 1) % 24
    fraction = hour - low
    return HOURLY_SHAPE[low] * (1 - fraction) + HOURLY_SHAPE[high] * fraction


def local_hour(at: datetime) -> float:
    """Return the hour of day of an aware datetime, as a fraction (14:30 is 14.5), in its own zone."""
    return at.hour + at.minute / 60 + at.second / 3600


def next_call_in(rng: random.Random, peak_per_hour: float, share: float) -> float:
    """Seconds until the next call, calls arriving at random (Poisson) at `share` of the peak rate."""
    rate = peak_per_hour * share / 3600
    return rng.expovariate(rate) if rate > 0 else 60.0


class CallerKind(StrEnum):
    """Who is on the line."""

    SUBSCRIBER = "subscriber"  # The center knows the number.
    NEWCOMER = "newcomer"  # A number the center has never seen.
    WITHHELD = "withheld"  # No caller id.


@dataclass(frozen=True)
class CallPlan:
    """What one simulated call will do, decided when it starts; times are real seconds."""

    caller: CallerKind
    rings_s: float  # Until answered, or until the caller hangs up.
    hangs_up: bool  # Before anyone answers.
    talk_s: float
    wants_ride: bool  # If the operator on the line books one.


# (kind, weight): most calls come from numbers the center knows.
CALLER_MIX = ((CallerKind.SUBSCRIBER, 74), (CallerKind.NEWCOMER, 22), (CallerKind.WITHHELD, 4))
HANG_UP_SHARE = 0.12
RIDE_SHARE = {CallerKind.SUBSCRIBER: 0.85, CallerKind.NEWCOMER: 0.7, CallerKind.WITHHELD: 0.0}


def plan_call(rng: random.Random, pace: float, *, all_busy: bool, hang_up_share: float = HANG_UP_SHARE) -> CallPlan:
    """Decide a call: who, how long it rings, whether they hang up first, how long they talk, if they book.

    With every operator busy the caller waits longer and gives up more often, as real callers do.
    """
    caller = rng.choices([kind for kind, _ in CALLER_MIX], [weight for _, weight in CALLER_MIX])[0]
    hangs_up = rng.random() < min(1.0, hang_up_share * 3 if all_busy else hang_up_share)
    rings = rng.uniform(4, 20) if hangs_up else rng.uniform(2, 7) + (rng.uniform(5, 25) if all_busy else 0)
    talk = rng.lognormvariate(3.9, 0.35)  # About 50 s, mostly 25 to 100 s.
    return CallPlan(caller, rings / pace, hangs_up, talk / pace, rng.random() < RIDE_SHARE[caller])
