"""Spotting subscribers that are likely one person; a person decides, nothing here merges."""

from __future__ import annotations

from collections.abc import Iterable

from subscribers.model import (
    DuplicateKind,
    DuplicatePair,
    DuplicateReason,
    PhoneReuse,
    SharedAddress,
    SubscriberName,
)

# A name key shorter than this says too little ("ali" is in half the city's names) to count as contained.
MIN_CONTAINED_LENGTH = 3
# Stronger signals first: a reused number outweighs a shared address.
_KIND_ORDER = {kind: position for position, kind in enumerate(DuplicateKind)}


def edit_distance(first: str, second: str) -> int:
    """Return the Levenshtein distance: how many insertions, deletions or substitutions turn one into the other."""
    if len(first) < len(second):
        first, second = second, first
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i]
        for j, b in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def allowed_typos(name_key: str) -> int:
    """Return how many typos still make two names one: none for very short names, more for long ones."""
    if len(name_key) < 5:
        return 0
    return 1 if len(name_key) < 9 else 2


def are_similar_names(first_key: str, second_key: str) -> bool:
    """Tell whether two name keys likely name one person: one contains the other, or a typo or two apart."""
    if not first_key or not second_key:
        return False
    shorter, longer = sorted((first_key, second_key), key=len)
    if len(shorter) >= MIN_CONTAINED_LENGTH and shorter in longer:
        return True
    return edit_distance(first_key, second_key) <= allowed_typos(shorter)


def find_duplicates(reuses: Iterable[PhoneReuse], shared: Iterable[SharedAddress]) -> list[DuplicatePair]:
    """Group the evidence into pairs (lower id first), each with all its reasons; strongest pairs first."""
    found: dict[tuple[int, int], tuple[SubscriberName, SubscriberName, list[DuplicateReason]]] = {}

    def add(one: SubscriberName, other: SubscriberName, reason: DuplicateReason) -> None:
        if one.id == other.id:
            return
        first, second = sorted((one, other), key=lambda s: s.id)
        reasons = found.setdefault((first.id, second.id), (first, second, []))[2]
        if reason not in reasons:
            reasons.append(reason)

    for reuse in reuses:
        add(reuse.earlier, reuse.current, DuplicateReason(DuplicateKind.PHONE_IN_HISTORY, reuse.e164))
    for pair in shared:
        if pair.first.name_key and pair.first.name_key == pair.second.name_key:
            kind = DuplicateKind.SAME_NAME_SAME_ADDRESS
        elif are_similar_names(pair.first.name_key, pair.second.name_key):
            kind = DuplicateKind.SIMILAR_NAME_SAME_ADDRESS
        else:
            continue  # Family members and flatmates share addresses; a shared address alone proves nothing.
        add(pair.first, pair.second, DuplicateReason(kind, pair.address_text))

    pairs = [
        DuplicatePair(first, second, tuple(sorted(reasons, key=lambda r: (_KIND_ORDER[r.kind], r.detail))))
        for first, second, reasons in found.values()
    ]
    return sorted(pairs, key=lambda p: (min(_KIND_ORDER[r.kind] for r in p.reasons), -len(p.reasons),
                                        p.first.id, p.second.id))
