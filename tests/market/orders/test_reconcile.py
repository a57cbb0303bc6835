"""Reconciliation over HTTP: the operator asks for several orders at once and hears of every difference;
one order whose charge Stripe does not have is a difference of that order, not a failure of the batch."""

from __future__ import annotations

from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, payable_seller


async def _paid_order(shop, seller) -> str:
    cart_id = await cart_with(shop, {seller.products["tent"]: 1})
    answer = await shop.post(
        f"/v1/carts/{cart_id}/checkout", json={"flow": "payment_intent", "payment_method": "pm_card_visa"}
    )
    assert answer.status_code == 201 and answer.json()["status"] == "paid", answer.text
    return answer.json()["order_id"]


async def test_a_charge_missing_at_stripe_is_a_difference_and_the_other_orders_are_still_checked(shop, db):
    seller = await payable_seller(shop, "Trailhead", [product("tent", inventory_quantity=5)])
    first, lost, last = [await _paid_order(shop, seller) for _ in range(3)]
    await db.execute("UPDATE orders SET charge_id = 'ch_gone_from_stripe' WHERE id = $1", lost)
    charged = await db.fetchval("SELECT total_amount FROM orders WHERE id = $1", lost)

    answer = await shop.post(
        "/v1/operator/reconcile", json={"order_ids": [first, lost, last]}, headers=OPERATOR
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["checked"] == 3
    assert report["differences"] == [
        {
            "order_id": lost,
            "what": "charge ch_gone_from_stripe missing at Stripe",
            "ledger": charged,
            "stripe": 0,
        }
    ]
