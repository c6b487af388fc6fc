"""What the simulated city has done so far, counted for the status line and the end-of-run summary."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Tally:
    """Counts since the simulation started; `drivers_online` is a level, the rest only grow."""

    calls: int = 0
    abandoned: int = 0
    answered: int = 0
    booked: int = 0
    booking_refused: int = 0
    offers: int = 0
    accepted: int = 0
    declined: int = 0
    completed: int = 0
    cancelled: int = 0
    breaks: int = 0
    went_offline: int = 0
    drivers_online: int = 0
    errors: int = 0

    def snapshot(self) -> Tally:
        """Return a copy, to compare with later."""
        return Tally(**{f.name: getattr(self, f.name) for f in fields(self)})


def status_line(now: Tally, before: Tally, minutes: float) -> str:
    """One line: the level of drivers online, and per-minute rates since `before`."""
    def rate(name: str) -> str:
        return f"{(getattr(now, name) - getattr(before, name)) / max(minutes, 1e-9):.1f}"

    return (f"drivers online {now.drivers_online} | per minute: calls {rate('calls')} (abandoned "
            f"{rate('abandoned')}), rides booked {rate('booked')}, offers {rate('offers')} (declined "
            f"{rate('declined')}), completed {rate('completed')} | totals: {now.calls} calls, {now.booked} rides, "
            f"{now.completed} completed" + (f", {now.errors} errors (see the log)" if now.errors else ""))
