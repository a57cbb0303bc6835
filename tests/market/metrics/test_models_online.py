"""Online metrics around each model promotion, on the known history (conftest.py), counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market.metrics.models_online import NO_METRICS, models_report
from market.metrics.schemas import OnlineMetrics, Period

pytestmark = pytest.mark.usefixtures("known_history")

SINCE_APRIL = Period(datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 5, 14, tzinfo=UTC))


def metrics(searches, ctr, mrr, conversion) -> OnlineMetrics:
    return OnlineMetrics(searches, pytest.approx(ctr), pytest.approx(mrr), pytest.approx(conversion))


# The reranker r1 served S1..S4 (6 May): clicked S1 (first click at 1), S2 (at 2), S4 (at 1), S3 none;
# bought through S1 and S2. CTR 3/4, MRR (1 + 1/2 + 0 + 1) / 4 = 0.625, conversion 2/4.
R1_SEARCHES = metrics(4, 3 / 4, 0.625, 2 / 4)
# The embedding e1 served S1..S6 (6-7 May): clicked S1, S2, S4, S5 (at 1); bought through S1, S2, S5.
# CTR 4/6, MRR (1 + 1/2 + 1 + 1) / 6 = 3.5/6, conversion 3/6.
E1_SEARCHES = metrics(6, 4 / 6, 3.5 / 6, 3 / 6)


async def test_each_promotion_before_and_after(pool):
    report = await models_report(pool, SINCE_APRIL)
    # Newest promotion first; r3 was refused (never promoted) and is not listed.
    assert [(m.version, m.kind, m.replaced) for m in report.models] == [
        ("e2", "embedding", "e1"),  # S6 (7 May) was the last impression naming another embedding: e1
        ("r2", "reranker", "r1"),  # S4 (6 May) named r1
        ("r1", "reranker", None),  # nothing served before it, and no earlier reranker promotion
        ("e1", "embedding", None),
    ]
    e2, r2, r1, e1 = report.models
    assert e2.before == E1_SEARCHES
    # e2 served S7 (13 May) only (S8 is after the period): clicked at 2 and bought.
    assert e2.after == metrics(1, 1.0, 0.5, 1.0)
    assert r2.before == R1_SEARCHES
    # r2 served S5 (clicked at 1, bought), S6 (nothing), S7 (clicked at 2, bought):
    # CTR 2/3, MRR (1 + 0 + 1/2) / 3 = 0.5, conversion 2/3.
    assert r2.after == metrics(3, 2 / 3, 0.5, 2 / 3)
    assert r1.before == NO_METRICS
    assert r1.after == R1_SEARCHES
    assert e1.after == E1_SEARCHES


async def test_only_promotions_made_before_the_period_ends(pool):
    first_day = Period(datetime(2024, 5, 6, tzinfo=UTC), datetime(2024, 5, 7, tzinfo=UTC))
    report = await models_report(pool, first_day)
    assert [m.version for m in report.models] == ["r1", "e1"]  # r2 was promoted at 7 May 00:00


async def test_a_period_without_searches(pool):
    quiet = Period(datetime(2024, 5, 8, tzinfo=UTC), datetime(2024, 5, 9, tzinfo=UTC))
    report = await models_report(pool, quiet)
    assert all(m.before == NO_METRICS and m.after == NO_METRICS for m in report.models)
