"""A shopper buys from two sellers on Stripe's hosted page; Stripe's webhook, delivered for real, marks the
order paid and the money is split: a fee for the platform per seller, a transfer to each seller."""

from __future__ import annotations

import json
import re

import httpx

from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, eventually, payable_seller


async def test_two_seller_cart_paid_on_the_hosted_page_is_split_to_the_cent(live_shop, stripe, db):
    shop = live_shop
    shoes = await payable_seller(
        shop, "Trailhead", [product("shoe", price={"amount": 3333, "currency": "USD"}, inventory_quantity=5)]
    )
    socks = await payable_seller(
        shop,
        "Sockwell",
        [
            product(
                "sock",
                category="Apparel > Socks",
                price={"amount": 999, "currency": "USD"},
                inventory_quantity=9,
            )
        ],
    )
    # Socks carry a category rate of 12.5%; shoes the default 10%.
    rate = await shop.put(
        "/v1/operator/take-rates", json={"scope": "category", "key": "apparel", "bps": 1250}, headers=OPERATOR
    )
    assert rate.status_code == 200, rate.text
    shoe_id, sock_id = shoes.products["shoe"], socks.products["sock"]
    cart_id = await cart_with(shop, {shoe_id: 3, sock_id: 2})

    feed_before = await db.fetchval("SELECT max(seq) FROM catalog_changes")
    checkout = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})
    assert checkout.status_code == 201, checkout.text
    order = checkout.json()
    order_id = order["order_id"]
    assert order["status"] == "pending"
    assert order["total"] == {"amount": 3 * 3333 + 2 * 999, "currency": "USD"}
    assert {part["seller_name"] for part in order["sellers"]} == {"Trailhead", "Sockwell"}

    # The shopper's browser: the payment page, then the card form posted.
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(order["checkout_url"])
        assert page.status_code == 200 and "Pay" in page.text
        paid = await browser.post(order["checkout_url"], data={"card_number": "4242424242424242"})
        assert paid.status_code == 303, paid.text
        success_url = paid.headers["location"]
        assert success_url.startswith(f"{shop.base_url}/checkout/success?order_id={order_id}&session_id=cs_")

        async def order_paid():
            answer = (await shop.get(f"/v1/orders/{order_id}")).json()
            return answer if answer["status"] == "paid" else None

        order = await eventually(order_paid, what="the webhook to mark the order paid")
        success = await browser.get(success_url)
    assert success.status_code == 200
    assert "is <strong>paid</strong>" in success.text
    assert all(part["status"] == "paid" for part in order["sellers"])
    assert order["payment"]["status"] == "succeeded"

    # The money, to the cent: one charge, a fee per seller, two transfers; transfers + fees = charge.
    async def ledger_complete():
        answer = (await shop.get(f"/v1/operator/orders/{order_id}/ledger", headers=OPERATOR)).json()
        kinds = [entry["kind"] for entry in answer["entries"]]
        return answer if kinds.count("transfer") == 2 else None

    ledger = await eventually(ledger_complete, what="both transfers in the ledger")
    entries = ledger["entries"]
    charge = [entry for entry in entries if entry["kind"] == "charge"]
    fees = {
        entry["seller_id"]: entry["amount"]["amount"] for entry in entries if entry["kind"] == "platform_fee"
    }
    transfers = {
        entry["seller_id"]: entry["amount"]["amount"] for entry in entries if entry["kind"] == "transfer"
    }
    assert len(charge) == 1 and charge[0]["amount"] == {"amount": 11997, "currency": "USD"}
    assert fees == {shoes.seller_id: 1000, socks.seller_id: 250}  # 9999 at 10% = 999.9 -> 1000; 1998 at 12.5%
    assert transfers == {shoes.seller_id: 8999, socks.seller_id: 1748}
    assert sum(transfers.values()) + sum(fees.values()) == 11997
    assert ledger["balance"]["balanced"] is True

    # Stripe holds the same: the transfers of the order's group went to each seller's account.
    group = await db.fetchval("SELECT transfer_group FROM orders WHERE id = $1", order_id)
    at_stripe = (await stripe.get("/v1/transfers", params={"transfer_group": group})).json()["data"]
    assert sorted(transfer["amount"] for transfer in at_stripe) == [1748, 8999]
    reconciled = await shop.post("/v1/operator/reconcile", json={"order_ids": [order_id]}, headers=OPERATOR)
    assert reconciled.json() == {"checked": 1, "differences": []}

    # Stock left the inventory (and the search feed heard of it); purchases were logged; the cart is empty.
    stock = dict(
        await db.fetch("SELECT id, inventory_quantity FROM products WHERE id = ANY($1)", [shoe_id, sock_id])
    )
    assert stock == {shoe_id: 2, sock_id: 7}
    held = await db.fetchval(
        "SELECT count(*) FROM stock_reservations WHERE order_id = $1 AND state = 'consumed'", order_id
    )
    assert held == 2
    changed = await db.fetch("SELECT DISTINCT product_id FROM catalog_changes WHERE seq > $1", feed_before)
    assert {row["product_id"] for row in changed} == {shoe_id, sock_id}
    purchases = await db.fetch(
        "SELECT product_id, payload FROM events WHERE type = 'purchase' ORDER BY product_id"
    )
    assert [(row["product_id"], json.loads(row["payload"])["quantity"]) for row in purchases] == sorted(
        [(shoe_id, 3), (sock_id, 2)]
    )
    cart = (await shop.get(f"/v1/carts/{cart_id}")).json()
    assert cart["item_count"] == 0
    seller_view = (await shop.get("/v1/seller/orders", headers=socks.headers)).json()["orders"]
    assert [(sale["status"], sale["payout"]["amount"]) for sale in seller_view] == [("paid", 1748)]
    assert re.fullmatch(r"tr_\w+", seller_view[0]["transfer_id"])
