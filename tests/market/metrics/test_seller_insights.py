"""A seller's insights on the known history (conftest.py), counted by hand, and never another seller's."""

from __future__ import annotations

from datetime import UTC, datetime

from market.metrics.schemas import Period, QueryRow, SellerFunnel, SellerMoney
from market.metrics.seller_insights import NO_FUNNEL, seller_insights
from tests.market.metrics.conftest import PERIOD


def day(d: int) -> datetime:
    return datetime(2024, 5, d, tzinfo=UTC)


async def test_seller_a(pool, known_history):
    insights = await seller_insights(pool, known_history.sellers["A"], PERIOD)
    # Impressions of A1/A2 on first pages: S1 2, S2 1 (A2), S6 2, S7 2 = 7 (S1's second page not counted).
    # Clicks: A1 in S1, A2 in S2, A2 in S7 = 3. Carts: s1 A1, s2 A2, s5 A1, X A2 = 4.
    # Checkouts: s1 A1, s2 A2, X A2 = 3. Purchases: O1 A1, O2 A2, O4 A2 = 3; conversion 3/7.
    assert insights.funnel == SellerFunnel(7, 3, 4, 3, 3, 3 / 7)
    # Gross 10_000 + 10_000 + 5_000; fees 1_000 + 1_000 + 500; refunded 5_000 (R1);
    # net 25_000 - 2_500 - 5_000 + 500 = 18_000 = transfers 9_000 + 9_000 + 4_500 less the 4_500 reversed.
    assert insights.money == [SellerMoney("USD", 25_000, 2_500, 5_000, 18_000, 3)]
    assert insights.top_queries == [
        QueryRow("trail shoes", 2, 1, 1),  # S1 (A1 clicked and bought) and S6 (nothing)
        QueryRow("headphones", 1, 1, 1),  # S2: A2 clicked and bought; the B1 click is B's, not counted
        QueryRow("running shoes", 1, 1, 1),  # S7
    ]
    assert [d.start for d in insights.daily] == [day(d) for d in range(6, 14)]
    daily = {d.start: d for d in insights.daily}
    # 6 May: impressions S1 2 + S2 1; clicks A1, A2; carts 2; checkouts 2; purchases 2 (O1, O2).
    assert daily[day(6)].funnel == SellerFunnel(3, 2, 2, 2, 2, 2 / 3)
    assert daily[day(6)].money == [SellerMoney("USD", 20_000, 2_000, 0, 18_000, 2)]
    # 7 May: only R1 moved A's money: net -5_000 + 500 = -4_500.
    assert daily[day(7)].money == [SellerMoney("USD", 0, 0, 5_000, -4_500, 0)]
    assert daily[day(7)].funnel == SellerFunnel(2, 0, 1, 0, 0, 0.0)  # S6 showed A1, A2; s5 carted A1
    assert daily[day(9)].funnel == NO_FUNNEL and daily[day(9)].money == []


async def test_seller_b_sees_only_its_own(pool, known_history):
    insights = await seller_insights(pool, known_history.sellers["B"], PERIOD)
    # B1 shown in S2 and S5, clicked in both, carted and checked out in s4, bought once (O3).
    assert insights.funnel == SellerFunnel(2, 2, 1, 1, 1, 0.5)
    assert insights.money == [SellerMoney("EUR", 20_000, 2_000, 0, 18_000, 1)]
    assert insights.top_queries == [QueryRow("headphones", 2, 2, 1)]
    seen = {row.query for row in insights.top_queries}
    assert not seen & {"trail shoes", "running shoes", "kitchen"}
    assert all(m.currency == "EUR" for d in insights.daily for m in d.money)


async def test_a_seller_in_a_shared_order_gets_its_part_only(pool, known_history):
    insights = await seller_insights(pool, known_history.sellers["C"], PERIOD)
    # C1 in O2 (3_001, fee 450), untouched by R1 (which named A's line only).
    assert insights.money == [SellerMoney("USD", 3_001, 450, 0, 2_551, 1)]
    assert insights.top_queries == [QueryRow("kitchen", 1, 1, 0)]  # C1 was bought outside a search


async def test_an_empty_period(pool, known_history):
    empty = Period(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 3, tzinfo=UTC))
    insights = await seller_insights(pool, known_history.sellers["A"], empty)
    assert insights.funnel == NO_FUNNEL and insights.money == [] and insights.top_queries == []
    assert len(insights.daily) == 2


async def test_over_http_with_the_sellers_own_key(client, known_history):
    query = {"since": "2024-05-06", "until": "2024-05-14"}
    answer = await client.get("/v1/seller/insights", params=query, headers=known_history.headers("B"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["seller_id"] == str(known_history.sellers["B"])
    assert [q["query"] for q in body["top_queries"]] == ["headphones"]
    assert body["money"] == [
        {"currency": "EUR", "gross": 20_000, "fees": 2_000, "refunded": 0, "net": 18_000, "orders": 1}
    ]
    assert (await client.get("/v1/seller/insights", params=query)).status_code == 401
    wrong = await client.get(
        "/v1/seller/insights", params=query, headers={"Authorization": "Bearer agora_sk_nope"}
    )
    assert wrong.status_code == 401
    bad = await client.get(
        "/v1/seller/insights", params={"since": "soon"}, headers=known_history.headers("A")
    )
    assert bad.status_code == 400 and bad.json()["error"]["where"] == "query.since"
