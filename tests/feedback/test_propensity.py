"""Position bias: the power law assumed until measured, and measured from randomised adjacent swaps, where
the click rates of the same ranked items one position apart recover the examination curve that a plain
click rate by position (relevance and position mixed) gets wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from feedback.datasets import LabelledImpression, ShownProduct
from feedback.propensity import MAX_WEIGHT, Propensity

# A curve no power law draws: a steep first step, then a slow decline.
TRUE_CURVE = np.array([1.0, 0.62, 0.5, 0.44, 0.36, 0.33, 0.3, 0.27, 0.25, 0.24])
RELEVANCE = np.linspace(0.8, 0.35, 10)  # what the ranker put at 1..10: better items first


def simulated_log(searches: int, *, swap_share: float, swap_at: range, seed: int = 3):
    """Shoppers who examine position k with TRUE_CURVE[k-1] and click an examined item with its relevance;
    a share of searches has the ranked pair (k, k+1) shown swapped."""
    rng = np.random.default_rng(seed)
    impressions = []
    swapped_at = np.where(rng.random(searches) < swap_share, rng.choice(list(swap_at), searches), 0)
    looks = rng.random((searches, 10))
    for number in range(searches):
        ranked = list(range(10))  # ranked[position - 1] = the rank of the item shown there
        k = int(swapped_at[number])
        if k:
            ranked[k - 1], ranked[k] = ranked[k], ranked[k - 1]
        clicks = looks[number] < TRUE_CURVE * RELEVANCE[ranked]
        impressions.append(
            LabelledImpression(
                search_id=uuid.uuid4(),
                session_id=None,
                occurred_at=datetime(2025, 3, 3, tzinfo=UTC),
                query="q",
                filters={},
                shown=tuple(ShownProduct(100 + ranked[i], i + 1, int(clicks[i])) for i in range(10)),
                swapped=k or None,
            )
        )
    return impressions


def test_the_power_law_is_the_default_and_weights_only_positive_rows_up_to_the_clip():
    propensity = Propensity.power_law(1.0)
    assert propensity(1) == 1.0 and propensity(4) == 0.25
    assert propensity(250) == pytest.approx(1 / 250)  # beyond the curve the law goes on
    assert Propensity.power_law(0.5)(9) == pytest.approx(1 / 3)

    weights = propensity.weights(np.array([1, 3, 3, 50]), np.array([1, 2, 0, 3]))
    assert weights.tolist() == [1.0, 3.0, 1.0, MAX_WEIGHT]
    assert propensity.describe()["measured_pairs"] == []


def test_swaps_recover_a_known_examination_curve_that_click_rates_by_position_get_wrong():
    log = simulated_log(40_000, swap_share=0.8, swap_at=range(1, 6))

    measured = Propensity.estimate_from_swaps(log, fallback_eta=1.0)

    assert measured.measured == (1, 2, 3, 4, 5)
    assert np.array(measured.curve[:6]) == pytest.approx(TRUE_CURVE[:6], rel=0.1)  # ~3% noise each
    # No swaps at (6, 7) and below: the power law's steps continue from the measured p(6).
    for k in (7, 8, 20):
        assert measured(k) / measured(6) == pytest.approx(6 / k)
    # Click rates by position fall with relevance too: they would make p(6) about half what it is.
    unswapped = [i for i in log if i.swapped is None]
    rates = np.mean([[s.grade for s in i.shown] for i in unswapped], axis=0)
    assert rates[5] / rates[0] < 0.7 * TRUE_CURVE[5]


def test_too_few_swaps_leave_the_power_law_in_place():
    log = simulated_log(2_000, swap_share=0.1, swap_at=range(1, 10))

    estimated = Propensity.estimate_from_swaps(log, min_swaps=300, fallback_eta=0.8)

    assert estimated.measured == ()
    assert estimated.curve == pytest.approx(Propensity.power_law(0.8).curve)
    assert sum(estimated.swaps) > 0  # they were seen, just not enough to trust
    assert Propensity.estimate_from_swaps([], fallback_eta=1.0).curve == pytest.approx(
        Propensity.power_law().curve
    )


def test_a_curve_must_start_at_one():
    with pytest.raises(ValueError, match="p\\(1\\) = 1"):
        Propensity((0.5, 0.25))
