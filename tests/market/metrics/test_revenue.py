"""The market's money on the known history (conftest.py), every figure worked out by hand from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market.metrics import revenue
from market.metrics.schemas import MoneyFigures, Period
from tests.conftest import OPERATOR_TOKEN
from tests.market.metrics.conftest import PERIOD


def usd(gmv, refunded, revenue, orders, aov, take_rate, refund_rate) -> MoneyFigures:
    return MoneyFigures("USD", gmv, refunded, revenue, orders, aov, take_rate, refund_rate)


def eur(gmv, refunded, revenue, orders, aov, take_rate, refund_rate) -> MoneyFigures:
    return MoneyFigures("EUR", gmv, refunded, revenue, orders, aov, take_rate, refund_rate)


def test_average_is_rounded_half_up_in_integers():
    assert revenue.average_half_up(23_001, 2) == 11_501  # 11_500.5 -> 11_501
    assert revenue.average_half_up(28_001, 3) == 9_334  # 9_333.67
    assert revenue.average_half_up(10, 4) == 3  # 2.5 -> 3
    assert revenue.average_half_up(-10, 4) == -3
    assert revenue.average_half_up(5, 0) is None


async def test_market_money_over_the_period(pool, known_history):
    assert await revenue.market_money(pool, PERIOD) == [
        # EUR: O3 only. take rate 2_000 / 20_000; no refund.
        eur(20_000, 0, 2_000, 1, 20_000, 0.1, 0.0),
        # USD: charges 10_000 (O1) + 13_001 (O2) + 5_000 (O4) = 28_001; R1 refunded 5_000;
        # fees 1_000 + (1_000 + 450) + 500 = 2_950, less the 500 given back = 2_450; 3 orders;
        # AOV 28_001 / 3 = 9_333.67 -> 9_334; take rate 2_450 / (28_001 - 5_000); refund rate 5_000 / 28_001.
        usd(28_001, 5_000, 2_450, 3, 9_334, 2_450 / 23_001, 5_000 / 28_001),
    ]


async def test_the_first_day_alone(pool, known_history):
    day = Period(datetime(2024, 5, 6, tzinfo=UTC), datetime(2024, 5, 7, tzinfo=UTC))
    # O1 + O2: 23_001 over 2 orders = 11_500.5 -> 11_501; the refund came the day after.
    assert await revenue.market_money(pool, day) == [usd(23_001, 0, 2_450, 2, 11_501, 2_450 / 23_001, 0.0)]


async def test_money_per_day(pool, known_history):
    days = await revenue.money_by_bucket(pool, PERIOD, "day")
    assert sorted(days) == [datetime(2024, 5, d, tzinfo=UTC) for d in (6, 7, 13)]  # empty days are absent
    assert days[datetime(2024, 5, 7, tzinfo=UTC)] == [
        eur(20_000, 0, 2_000, 1, 20_000, 0.1, 0.0),
        # Only R1 on 7 May: revenue -500 (the fee given back); take rate -500 / (0 - 5_000) = 0.1; no charge,
        # so no AOV and no refund rate.
        usd(0, 5_000, -500, 0, None, 0.1, None),
    ]
    assert days[datetime(2024, 5, 13, tzinfo=UTC)] == [usd(5_000, 0, 500, 1, 5_000, 0.1, 0.0)]


async def test_money_per_week_is_clipped_to_the_period(pool, known_history):
    period = Period(datetime(2024, 5, 7, tzinfo=UTC), datetime(2024, 5, 14, tzinfo=UTC))
    weeks = await revenue.money_by_bucket(pool, period, "week")
    # The week of Monday 6 May starts, clipped, on the 7th: R1 and O3. The week of the 13th: O4.
    assert sorted(weeks) == [datetime(2024, 5, 7, tzinfo=UTC), datetime(2024, 5, 13, tzinfo=UTC)]


async def test_per_seller(pool, known_history):
    rows = await revenue.seller_breakdown(pool, PERIOD)
    assert [(row.seller_name, row.seller_id) for row in rows] == [
        ("Trailhead Outfitters", known_history.sellers["A"]),  # largest GMV 25_000
        ("Nordlicht Audio", known_history.sellers["B"]),  # 20_000
        ("Harbor Goods", known_history.sellers["C"]),  # 3_001
    ]
    a, b, c = (row.money for row in rows)
    # A: O1 10_000 + O2's A2 line 10_000 + O4 5_000 = 25_000; refunded 5_000 (R1 names A's line);
    # revenue 1_000 + 1_000 + 500 - 500 = 2_000; AOV 25_000 / 3 = 8_333.33 -> 8_333; take 2_000 / 20_000.
    assert a == [usd(25_000, 5_000, 2_000, 3, 8_333, 0.1, 0.2)]
    assert b == [eur(20_000, 0, 2_000, 1, 20_000, 0.1, 0.0)]
    # C: its C1 line of O2, 3_001, fee 450.
    assert c == [usd(3_001, 0, 450, 1, 3_001, 450 / 3_001, 0.0)]


async def test_per_category(pool, known_history):
    rows = {row.category: row.money for row in await revenue.category_breakdown(pool, PERIOD)}
    assert list(rows) == ["Electronics", "Shoes", "Home"]  # largest GMV first: 20_000 EUR, 10_000, 3_001
    assert rows["Electronics"] == [
        eur(20_000, 0, 2_000, 1, 20_000, 0.1, 0.0),  # B1 (Electronics > Audio > Headphones)
        # A2 (Electronics > Audio): O2 10_000 + O4 5_000; R1 5_000; fees 1_000 + 500 - 500; orders O2, O4.
        usd(15_000, 5_000, 1_000, 2, 7_500, 0.1, 5_000 / 15_000),
    ]
    assert rows["Shoes"] == [usd(10_000, 0, 1_000, 1, 10_000, 0.1, 0.0)]  # A1 in O1
    assert rows["Home"] == [usd(3_001, 0, 450, 1, 3_001, 450 / 3_001, 0.0)]  # C1 in O2


async def test_breakdowns_add_up_to_the_ledger(pool, known_history):
    (eur_total, usd_total) = await revenue.market_money(pool, PERIOD)
    for rows in (
        await revenue.seller_breakdown(pool, PERIOD),
        await revenue.category_breakdown(pool, PERIOD),
    ):
        for total in (eur_total, usd_total):
            parts = [f for row in rows for f in row.money if f.currency == total.currency]
            assert sum(f.gmv for f in parts) == total.gmv
            assert sum(f.refunded for f in parts) == total.refunded
            assert sum(f.revenue for f in parts) == total.revenue


async def test_shares_of_an_odd_charge_still_add_up(pool, known_history, db):
    # A charge one unit more than its lines (3 lines, weights 10_000 / 5_000...) still splits to the unit.
    await db.execute(
        "UPDATE ledger_entries SET amount = amount + 1 WHERE kind = 'charge' AND order_id = $1",
        known_history.orders["O2"],
    )
    (_, usd_total) = await revenue.market_money(pool, PERIOD)
    categories = await revenue.category_breakdown(pool, PERIOD)
    assert usd_total.gmv == 28_002
    assert sum(f.gmv for row in categories for f in row.money if f.currency == "USD") == 28_002


async def test_an_empty_period_has_no_money(pool, known_history):
    empty = Period(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 2, 1, tzinfo=UTC))
    assert await revenue.market_money(pool, empty) == []
    assert await revenue.seller_breakdown(pool, empty) == []
    assert await revenue.category_breakdown(pool, empty) == []


OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
QUERY = {"since": "2024-05-06", "until": "2024-05-14"}


async def test_operator_routes_need_the_operator_token(client, known_history):
    for route in ("summary", "timeseries", "sellers", "categories", "models"):
        answer = await client.get(f"/v1/operator/metrics/{route}", params=QUERY)
        assert answer.status_code == 401, route
        assert answer.json()["error"]["code"] == "invalid_operator_token"
        seller = await client.get(
            f"/v1/operator/metrics/{route}", params=QUERY, headers=known_history.headers("A")
        )
        assert seller.status_code == 401, route


async def test_operator_routes_over_http(client, known_history):
    summary = (await client.get("/v1/operator/metrics/summary", params=QUERY, headers=OPERATOR)).json()
    assert summary["period"] == {"since": "2024-05-06T00:00:00Z", "until": "2024-05-14T00:00:00Z"}
    usd_row = summary["figures"]["money"][1]
    assert (usd_row["currency"], usd_row["gmv"], usd_row["revenue"], usd_row["average_order_value"]) == (
        "USD",
        28_001,
        2_450,
        9_334,
    )
    assert summary["figures"]["funnel"]["sessions"] == 8
    sellers = (await client.get("/v1/operator/metrics/sellers", params=QUERY, headers=OPERATOR)).json()
    assert [row["seller_name"] for row in sellers["sellers"]] == [
        "Trailhead Outfitters",
        "Nordlicht Audio",
        "Harbor Goods",
    ]
    assert sellers["categories"] is None
    categories = (await client.get("/v1/operator/metrics/categories", params=QUERY, headers=OPERATOR)).json()
    assert [row["category"] for row in categories["categories"]] == ["Electronics", "Shoes", "Home"]
    weeks = await client.get(
        "/v1/operator/metrics/timeseries", params=QUERY | {"bucket": "week"}, headers=OPERATOR
    )
    assert [b["start"] for b in weeks.json()["buckets"]] == ["2024-05-06T00:00:00Z", "2024-05-13T00:00:00Z"]
    models = (await client.get("/v1/operator/metrics/models", params=QUERY, headers=OPERATOR)).json()
    assert [m["version"] for m in models["models"]] == ["e2", "r2", "r1", "e1"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"since": "last tuesday"}, "query.since"),
        ({"until": "2024-02-30"}, "query.until"),
        ({"since": "2024-05-14", "until": "2024-05-06"}, "query.since"),
        ({"since": "2022-01-01", "until": "2024-01-01"}, "query.since"),
        (QUERY | {"bucket": "month"}, "query.bucket"),
    ],
)
async def test_bad_periods_are_400s(client, params, where):
    answer = await client.get("/v1/operator/metrics/timeseries", params=params, headers=OPERATOR)
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == where


async def test_an_empty_market_answers_zeros(client):
    # No known_history here: a brand new market.
    summary = (await client.get("/v1/operator/metrics/summary", headers=OPERATOR)).json()["figures"]
    assert summary["money"] == []
    assert summary["funnel"] == dict.fromkeys(
        ("sessions", "searched", "clicked", "added_to_cart", "checkout_started", "paid"), 0
    )
    assert summary["search"] == {
        "searches": 0,
        "zero_result_rate": None,
        "click_through_rate": None,
        "mean_reciprocal_rank": None,
    }
