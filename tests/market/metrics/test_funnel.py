"""The funnel and search quality on the known history (conftest.py), counted by hand from its events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market.metrics import figures, funnel
from market.metrics.schemas import Funnel, Period, SearchQuality
from tests.market.metrics.conftest import PERIOD

pytestmark = pytest.mark.usefixtures("known_history")


def day(d: int) -> datetime:
    return datetime(2024, 5, d, tzinfo=UTC)


async def test_funnel_over_the_period(pool):
    # sessions: s1, s2, s3, S4 (searched without a session: its own), s4, s5, conversation X, and
    #           conversation Y (opened, nothing searched) = 8; s9 is after the period.
    # searched: all but Y = 7
    # clicked: s1, s2, S4 (its click names S4), s4, X = 5
    # added to cart: s1, s2, s4, s5 (without a click), X = 5
    # checkout started: s1, s2, s4, X = 4; paid: s1, s2, s4, X = 4
    assert await funnel.funnel(pool, PERIOD) == Funnel(
        sessions=8, searched=7, clicked=5, added_to_cart=5, checkout_started=4, paid=4
    )


async def test_search_quality_over_the_period(pool):
    # First pages S1..S7 = 7 (S1's second page is not another search).
    # Zero results: S3 -> 1/7. With a click: S1, S2, S4, S5, S7 -> 5/7.
    # First click positions: S1 1, S2 2 (A2@2 before B1@1), S4 1, S5 1, S7 2; S3, S6 none
    # MRR = (1 + 1/2 + 0 + 1 + 1 + 0 + 1/2) / 7 = 4/7.
    quality = await funnel.search_quality(pool, PERIOD)
    assert quality.searches == 7
    assert quality.zero_result_rate == pytest.approx(1 / 7)
    assert quality.click_through_rate == pytest.approx(5 / 7)
    assert quality.mean_reciprocal_rank == pytest.approx(4 / 7)


async def test_per_day(pool):
    funnels = await funnel.funnel_by_bucket(pool, PERIOD, "day")
    # 6 May: s1, s2, s3, S4; clicked s1, s2, S4; carts s1, s2; checkouts s1, s2; paid s1, s2.
    assert funnels[day(6)] == Funnel(4, 4, 3, 2, 2, 2)
    # 7 May: s4, s5; s4 clicked; both carted; s4 checked out and paid.
    assert funnels[day(7)] == Funnel(2, 2, 1, 2, 1, 1)
    # 13 May: X (the whole way) and Y (opened only).
    assert funnels[day(13)] == Funnel(2, 1, 1, 1, 1, 1)
    quality = await funnel.search_quality_by_bucket(pool, PERIOD, "day")
    # 6 May: S1..S4; zero S3; clicks S1, S2, S4; RR 1 + 1/2 + 1 = 2.5 over 4.
    assert quality[day(6)] == SearchQuality(4, 0.25, 0.75, 0.625)
    # 7 May: S5 (click at 1), S6 (none): RR 1 over 2.
    assert quality[day(7)] == SearchQuality(2, 0.0, 0.5, 0.5)


async def test_time_series_has_every_bucket(pool):
    series = await figures.time_series(pool, PERIOD, "week")
    # 6-12 May and 13 May (to the period's end at 14 May).
    assert [b.start for b in series.buckets] == [day(6), day(13)]
    first, second = (b.figures for b in series.buckets)
    assert first.funnel == Funnel(6, 6, 4, 4, 3, 3)  # 6 May's 4 sessions + 7 May's 2
    assert second.funnel == Funnel(2, 1, 1, 1, 1, 1)
    assert [m.currency for m in first.money] == ["EUR", "USD"]
    daily = await figures.time_series(pool, PERIOD, "day")
    assert len(daily.buckets) == 8
    quiet = daily.buckets[3].figures  # 9 May: nothing happened
    assert quiet.money == [] and quiet.funnel == funnel.NO_FUNNEL and quiet.search.searches == 0


async def test_an_empty_period_is_zeros_and_nones(pool):
    empty = Period(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 8, tzinfo=UTC))
    assert await funnel.funnel(pool, empty) == Funnel(0, 0, 0, 0, 0, 0)
    assert await funnel.search_quality(pool, empty) == SearchQuality(0, None, None, None)
