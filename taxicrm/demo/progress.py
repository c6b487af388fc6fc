"""Progress while the city is seeded: a bar per step on a terminal, a line now and then otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Draws how far each seeding step has got, and how long it took."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.is_terminal = self.out.isatty()
        self._step = ""
        self._started = self._drawn = time.monotonic()

    def start(self, step: str) -> None:
        """Begin a step."""
        self._step = step
        self._started = self._drawn = time.monotonic()

    def advance(self, done: int, total: int) -> None:
        """Show `done` of `total` for the current step (throttled)."""
        now = time.monotonic()
        if now - self._drawn < (0.2 if self.is_terminal else 5.0):
            return
        self._drawn = now
        share = done / total if total else 1.0
        rate = done / max(now - self._started, 1e-6)
        text = f"{self._step}: {done:,}/{total:,} ({share:.0%}), {rate:,.0f}/s"
        if self.is_terminal:
            self.out.write(f"\r  [{'#' * int(share * 24):<24}] {text}\x1b[K")
        else:
            self.out.write(f"  {text}\n")
        self.out.flush()

    def finish(self, summary: str) -> float:
        """End the step with a line saying what it did; return its seconds."""
        took = time.monotonic() - self._started
        prefix = "\r" if self.is_terminal else ""
        self.out.write(f"{prefix}  {self._step}: {summary} in {took:.1f}s\x1b[K\n" if self.is_terminal
                       else f"  {self._step}: {summary} in {took:.1f}s\n")
        self.out.flush()
        return took
