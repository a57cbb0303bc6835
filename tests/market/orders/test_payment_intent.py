"""An agent pays with a payment method it already holds: paid at once, declined, or held for 3-D Secure
until the cardholder answers (and Stripe's webhook tells the shop how it went)."""

from __future__ import annotations

import pytest

from sellers import inventory
from tests.conftest import product
from tests.market.orders.conftest import cart_with, eventually, payable_seller


async def _one_product_cart(shop, quantity: int = 2) -> tuple[str, int]:
    seller = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=5)])
    product_id = seller.products["shoe"]
    return await cart_with(shop, {product_id: quantity}), product_id


async def _available(db, product_id: int) -> int:
    return (await inventory.available(db, [product_id]))[product_id]


async def _pay(shop, cart_id: str, payment_method: str):
    return await shop.post(
        f"/v1/carts/{cart_id}/checkout", json={"flow": "payment_intent", "payment_method": payment_method}
    )


async def test_a_card_that_pays_makes_the_order_paid_at_once(shop, db):
    cart_id, product_id = await _one_product_cart(shop)

    answer = await _pay(shop, cart_id, "pm_card_visa")

    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert (order["status"], order["payment"]["status"]) == ("paid", "succeeded")
    assert order["payment"]["payment_intent_id"].startswith("pi_")
    assert await db.fetchval("SELECT inventory_quantity FROM products WHERE id = $1", product_id) == 3
    transfers = await db.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE order_id = $1 AND kind = 'transfer'", order["order_id"]
    )
    assert transfers == 1


async def test_a_declined_card_answers_402_cancels_the_order_and_frees_the_stock(shop, db):
    cart_id, product_id = await _one_product_cart(shop)

    answer = await _pay(shop, cart_id, "pm_card_chargeDeclined")

    assert answer.status_code == 402, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["where"]) == ("payment_declined", "body.payment_method")
    decline, canceled = error["details"]
    assert decline == {"code": "generic_decline", "message": decline["message"], "where": "decline_code"}
    order = (await shop.get(f"/v1/orders/{canceled['message']}")).json()
    assert (order["status"], order["cancel_reason"]) == ("canceled", "payment_declined")
    assert await _available(db, product_id) == 5
    assert await db.fetchval("SELECT count(*) FROM ledger_entries") == 0


@pytest.mark.parametrize(("outcome", "status"), [("succeed", "paid"), ("fail", "canceled")])
async def test_3d_secure_waits_for_the_cardholder_then_the_webhook_settles_the_order(
    live_shop, stripe, db, outcome, status
):
    shop = live_shop
    cart_id, product_id = await _one_product_cart(shop)

    answer = await _pay(shop, cart_id, "pm_card_threeDSecure2Required")

    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert (order["status"], order["payment"]["status"]) == ("pending", "requires_action")
    assert order["payment"]["client_secret"] and order["payment"]["next_action"]
    assert await _available(db, product_id) == 3  # held while the cardholder decides

    intent_id = order["payment"]["payment_intent_id"]
    challenge = await stripe.post(
        f"/_test/payment_intents/{intent_id}/authenticate", data={"outcome": outcome}
    )
    assert challenge.status_code == 200, challenge.text

    async def settled():
        answer = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
        return answer if answer["status"] == status else None

    order = await eventually(settled, what=f"the webhook to make the order {status}")
    if status == "paid":
        assert order["payment"]["status"] == "succeeded"
        assert await _available(db, product_id) == 3  # sold
    else:
        assert order["cancel_reason"] == "payment_failed"
        assert await _available(db, product_id) == 5  # back on sale
