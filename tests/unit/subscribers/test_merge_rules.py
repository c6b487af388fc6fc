from datetime import UTC, datetime

from subscribers.merging import merge_flags
from subscribers.model import LoyaltyTier, Subscriber, SubscriberId

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def subscriber(id_: int, name: str = "Ali", *, vip: bool = False, tier: str = "none",
               blocked: str | None = None, by: int | None = None) -> Subscriber:
    return Subscriber(id=SubscriberId(id_), name=name, is_vip=vip, loyalty_tier=LoyaltyTier(tier),
                      blocked_at=T0 if blocked else None, blocked_reason=blocked, blocked_by=by,
                      blocked_by_name=None, merged_into=None, created_at=T0, updated_at=T0)


def test_the_merged_record_is_vip_if_either_was_and_keeps_the_higher_tier():
    flags = merge_flags(subscriber(1, tier="silver"), subscriber(2, vip=True, tier="gold"))
    assert flags.is_vip and flags.loyalty_tier is LoyaltyTier.GOLD
    flags = merge_flags(subscriber(1, tier="silver"), subscriber(2, tier="bronze"))
    assert not flags.is_vip and flags.loyalty_tier is LoyaltyTier.SILVER


def test_a_block_on_either_side_survives_and_the_kept_block_wins():
    assert merge_flags(subscriber(1), subscriber(2, blocked="no-shows", by=4)).blocked_reason == "no-shows"
    both = merge_flags(subscriber(1, blocked="abusive", by=3), subscriber(2, blocked="no-shows", by=4))
    assert (both.blocked_reason, both.blocked_by) == ("abusive", 3)
    assert merge_flags(subscriber(1), subscriber(2)).blocked_at is None


def test_the_kept_name_stays_unless_it_is_empty():
    assert merge_flags(subscriber(1, "Ali"), subscriber(2, "Ali R")).name == "Ali"
    assert merge_flags(subscriber(1, ""), subscriber(2, "Ali R")).name == "Ali R"


def test_loyalty_tiers_rank_in_order():
    assert [t.rank for t in LoyaltyTier] == [0, 1, 2, 3]
