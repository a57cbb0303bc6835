"""After checkout: the order as the shopper sees it, the seller's list of its sales, fulfilment, payout
accounts, the operator's take rates, and the page Stripe sends the shopper back to."""

from __future__ import annotations

from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, payable_seller


async def _paid(shop, items: dict[int, int]) -> dict:
    cart_id = await cart_with(shop, items)
    answer = await shop.post(
        f"/v1/carts/{cart_id}/checkout", json={"flow": "payment_intent", "payment_method": "pm_card_visa"}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_seller_lists_its_sales_newest_first_a_page_at_a_time(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    other = await payable_seller(shop, "Sockwell", [product("sock")])
    orders = [await _paid(shop, {seller.products["shoe"]: 1}) for _ in range(3)]
    await _paid(shop, {other.products["sock"]: 1})

    first = (await shop.get("/v1/seller/orders", params={"limit": 2}, headers=seller.headers)).json()
    second = (
        await shop.get(
            "/v1/seller/orders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=seller.headers
        )
    ).json()

    listed = [sale["order_id"] for sale in first["orders"] + second["orders"]]
    assert listed == [order["order_id"] for order in reversed(orders)]
    assert second["next_cursor"] is None
    sale = first["orders"][0]
    assert sale["amount"] == {"amount": 12999, "currency": "USD"}
    assert sale["platform_fee"] == {"amount": 1300, "currency": "USD"}
    assert sale["payout"] == {"amount": 11699, "currency": "USD"}
    bad_cursor = await shop.get("/v1/seller/orders", params={"cursor": "nonsense"}, headers=seller.headers)
    assert (bad_cursor.status_code, bad_cursor.json()["error"]["where"]) == (400, "query.cursor")
    assert (await shop.get("/v1/seller/orders")).status_code == 401


async def test_the_order_is_fulfilled_when_every_seller_has_shipped(shop):
    shoes = await payable_seller(shop, "Trailhead", [product("shoe")])
    socks = await payable_seller(shop, "Sockwell", [product("sock")])
    order = await _paid(shop, {shoes.products["shoe"]: 1, socks.products["sock"]: 1})
    parts = {part["seller_name"]: part["seller_order_id"] for part in order["sellers"]}

    foreign = await shop.post(f"/v1/seller/orders/{parts['Trailhead']}/fulfill", headers=socks.headers)
    first = await shop.post(f"/v1/seller/orders/{parts['Trailhead']}/fulfill", headers=shoes.headers)
    halfway = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    await shop.post(f"/v1/seller/orders/{parts['Sockwell']}/fulfill", headers=socks.headers)
    again = await shop.post(f"/v1/seller/orders/{parts['Sockwell']}/fulfill", headers=socks.headers)
    done = (await shop.get(f"/v1/orders/{order['order_id']}")).json()

    assert foreign.status_code == 404
    assert (first.status_code, first.json()["status"]) == (200, "fulfilled")
    assert halfway["status"] == "paid"
    assert again.status_code == 200
    assert done["status"] == "fulfilled" and done["fulfilled_at"]


async def test_an_unpaid_order_cannot_be_fulfilled(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    cart_id = await cart_with(shop, {seller.products["shoe"]: 1})
    order = (await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})).json()

    answer = await shop.post(
        f"/v1/seller/orders/{order['sellers'][0]['seller_order_id']}/fulfill", headers=seller.headers
    )

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "seller_order_not_fulfillable"


async def test_a_payout_account_is_created_once(shop, db):
    seller = await payable_seller(shop, "Trailhead", [], payable=False)

    first = await shop.post("/v1/seller/payouts/account", headers=seller.headers)
    second = await shop.post("/v1/seller/payouts/account", headers=seller.headers)

    assert first.json()["created"] is True and first.json()["account_id"].startswith("acct_")
    assert second.json() == {"account_id": first.json()["account_id"], "created": False}
    stored = await db.fetchval("SELECT stripe_account_id FROM sellers WHERE id = $1", seller.seller_id)
    assert stored == first.json()["account_id"]


async def test_take_rates_apply_seller_first_then_the_longest_category(shop):
    seller = await payable_seller(
        shop, "Trailhead", [product("shoe", category="Shoes > Running > Trail", price={"amount": 10000})]
    )
    rates = [
        {"scope": "category", "key": "shoes", "bps": 500},
        {"scope": "category", "key": "Shoes > Running", "bps": 700},
    ]
    for rate in rates:
        assert (await shop.put("/v1/operator/take-rates", json=rate, headers=OPERATOR)).status_code == 200
    by_category = await _paid(shop, {seller.products["shoe"]: 1})
    await shop.put(
        "/v1/operator/take-rates",
        json={"scope": "seller", "key": seller.seller_id, "bps": 0},
        headers=OPERATOR,
    )
    by_seller = await _paid(shop, {seller.products["shoe"]: 1})
    listed = (await shop.get("/v1/operator/take-rates", headers=OPERATOR)).json()
    removed = await shop.delete(
        "/v1/operator/take-rates", params={"scope": "seller", "key": seller.seller_id}, headers=OPERATOR
    )
    missing = await shop.delete(
        "/v1/operator/take-rates", params={"scope": "seller", "key": seller.seller_id}, headers=OPERATOR
    )
    unknown_seller = await shop.put(
        "/v1/operator/take-rates",
        json={"scope": "seller", "key": "0193a1b2-0000-7000-8000-00000000dead", "bps": 5},
        headers=OPERATOR,
    )
    bad_key = await shop.put(
        "/v1/operator/take-rates",
        json={"scope": "category", "key": "Shoes > > x", "bps": 5},
        headers=OPERATOR,
    )

    sales = (await shop.get("/v1/seller/orders", headers=seller.headers)).json()["orders"]
    fees = {sale["order_id"]: sale["platform_fee"]["amount"] for sale in sales}
    assert fees == {by_category["order_id"]: 700, by_seller["order_id"]: 0}
    assert {(rate["scope"], rate["key"], rate["bps"]) for rate in listed} == {
        ("category", "Shoes > Running", 700),
        ("category", "shoes", 500),
        ("seller", seller.seller_id, 0),
    }
    assert removed.status_code == 204
    assert missing.status_code == 404
    assert (unknown_seller.status_code, unknown_seller.json()["error"]["where"]) == (404, "body.key")
    assert (bad_key.status_code, bad_key.json()["error"]["where"]) == (400, "body.key")


async def test_the_success_page_waits_for_the_payment_to_be_confirmed(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    cart_id = await cart_with(shop, {seller.products["shoe"]: 1})
    order = (await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})).json()

    pending = await shop.get(
        "/checkout/success", params={"order_id": order["order_id"], "session_id": "cs_x"}
    )
    unknown = await shop.get("/checkout/success", params={"order_id": "0193a1b2-0000-7000-8000-00000000dead"})
    missing = await shop.get("/v1/orders/0193a1b2-0000-7000-8000-00000000dead")

    assert pending.status_code == 200
    assert "confirming" in pending.text and 'http-equiv="refresh"' in pending.text
    assert "$129.99" in pending.text
    assert unknown.status_code == 404
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "order_not_found")
