"""How two subscribers' names and flags combine when a duplicate is merged into the kept record."""

from __future__ import annotations

from subscribers.model import MergedFlags, Subscriber


def merge_flags(kept: Subscriber, other: Subscriber) -> MergedFlags:
    """Fold `other` into `kept`, erring on the side of what the center already promised or decided.

    VIP if either was, the higher loyalty tier, and blocked if either was (the kept block wins, since it
    says who blocked and why); the kept name stays unless it is empty.
    """
    block = kept if kept.is_blocked else other
    return MergedFlags(
        name=kept.name or other.name,
        is_vip=kept.is_vip or other.is_vip,
        loyalty_tier=max(kept.loyalty_tier, other.loyalty_tier, key=lambda tier: tier.rank),
        blocked_at=block.blocked_at,
        blocked_reason=block.blocked_reason,
        blocked_by=block.blocked_by,
    )
