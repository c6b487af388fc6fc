"""RFM: scores from fixed thresholds, segments that cover every pair of scores, and the value estimate."""

import pytest

from reports import rfm
from reports.model import Segment


@pytest.mark.parametrize(("days", "score"), [(0, 5), (7, 5), (8, 4), (30, 4), (31, 3), (60, 3), (61, 2),
                                             (120, 2), (121, 1), (900, 1)])
def test_recency_scores_the_days_since_the_last_ride(days, score):
    assert rfm.recency_score(days) == score


@pytest.mark.parametrize(("rides", "score"), [(1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (19, 4), (20, 5),
                                              (500, 5)])
def test_frequency_scores_the_completed_rides(rides, score):
    assert rfm.frequency_score(rides) == score


def test_every_pair_of_scores_has_exactly_the_segment_its_first_rule_names():
    for recency in range(1, 6):
        for frequency in range(1, 6):
            assert isinstance(rfm.segment_of(recency, frequency), Segment)


@pytest.mark.parametrize(("days", "rides", "segment"), [
    (2, 30, Segment.CHAMPIONS), (20, 12, Segment.CHAMPIONS), (45, 12, Segment.LOYAL), (3, 6, Segment.LOYAL),
    (3, 1, Segment.NEW), (45, 1, Segment.POTENTIAL), (10, 3, Segment.POTENTIAL), (90, 8, Segment.AT_RISK),
    (90, 2, Segment.HIBERNATING), (200, 40, Segment.LOST), (200, 1, Segment.LOST)])
def test_customers_fall_in_the_segment_their_recency_and_frequency_describe(days, rides, segment):
    assert rfm.segment_of(rfm.recency_score(days), rfm.frequency_score(rides)) is segment


def test_the_bands_of_days_and_rides_a_score_stands_for_agree_with_the_scores():
    for score in range(1, 6):
        more_than, at_most = rfm.recency_days(score)
        assert rfm.recency_score(more_than + 1) == score
        if at_most is not None:
            assert rfm.recency_score(at_most) == score and rfm.recency_score(at_most + 1) == score - 1
        assert rfm.frequency_score(rfm.least_rides(score)) == score
    assert rfm.FREQUENCY_RIDES[-1] <= rfm.RIDES_CAP


def test_a_segments_value_is_a_year_of_its_monthly_revenue_at_its_retention():
    assert rfm.yearly_value(1_000_000, Segment.CHAMPIONS) == 10_800_000
    assert rfm.yearly_value(1_000_000, Segment.LOST) < rfm.yearly_value(1_000_000, Segment.AT_RISK)
