"""Histograms as the rollups keep them: counts per bucket of equal width, the last bucket open-ended."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest

# report_hourly.answer_waits holds running totals instead: element k counts calls answered in under k seconds.
ANSWER_SECONDS = 120
ASSIGN_BUCKET_SECONDS = 15  # report_hourly.assign_waits: by 15 s up to 15 minutes, then more
ASSIGN_BUCKETS = 61
RESOLVE_BUCKET_HOURS = 0.25  # the complaints report's resolution times, up to 90 days
RESOLVE_BUCKETS = 4 * 24 * 90 + 1


def quantile(counts: Sequence[int], width: float, share: float) -> float | None:
    """Return the value below which `share` of the counted values fall, interpolated inside its bucket."""
    total = sum(counts)
    if total <= 0:
        return None
    wanted = share * total
    seen = 0
    for index, count in enumerate(counts):
        if count > 0 and seen + count >= wanted:
            if index == len(counts) - 1:
                return index * width  # The open-ended bucket: only its lower edge is known.
            return index * width + width * (wanted - seen) / count
        seen += count
    return (len(counts) - 1) * width


def add_counts(histograms: Iterable[Sequence[int]]) -> list[int]:
    """Add histograms bucket by bucket (a shorter one has nothing in its missing buckets)."""
    return [sum(bucket) for bucket in zip_longest(*histograms, fillvalue=0)]
