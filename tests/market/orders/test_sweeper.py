"""The sweeper finishes money moves that a crash (or Stripe) interrupted: here, a paid order whose process
stopped between committing the payment and paying the sellers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from market.core.settings import Settings
from market.orders import checkout, lifecycle, sweeper
from payments.gateway import StripeGateway
from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, payable_seller


@pytest.fixture
async def gateway(shop_settings: Settings) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway.from_settings(shop_settings)
    yield gateway
    await gateway.close()


async def test_transfers_owed_to_sellers_are_made_by_the_next_sweep(shop, pool, gateway, shop_settings):
    shoes = await payable_seller(
        shop, "Trailhead", [product("shoe", price={"amount": 2500, "currency": "USD"})]
    )
    socks = await payable_seller(
        shop, "Sockwell", [product("sock", price={"amount": 700, "currency": "USD"})]
    )
    cart_id = await cart_with(shop, {shoes.products["shoe"]: 2, socks.products["sock"]: 1})
    order_id = await checkout.place_order(pool, shop_settings, cart_id, "payment_intent")
    async with pool.acquire() as conn:
        group = await conn.fetchval("SELECT transfer_group FROM orders WHERE id = $1", order_id)
    payment = await gateway.pay_with_payment_method(
        amount=5700,
        currency="USD",
        payment_method="pm_card_visa",
        transfer_group=group,
        metadata={"order_id": str(order_id)},
        idempotency_key=f"test-payment:{order_id}",
    )
    # The payment is committed, and then the process stops: the transfers it owed were never made.
    async with pool.acquire() as conn, conn.transaction():
        await lifecycle.mark_paid(
            conn, order_id, payment_intent_id=payment.payment_intent_id, charge_id=payment.charge_id
        )
    before = (await shop.get(f"/v1/operator/orders/{order_id}/ledger", headers=OPERATOR)).json()

    report = await sweeper.sweep(pool, gateway)
    again = await sweeper.sweep(pool, gateway)

    assert before["balance"]["balanced"] is False and before["balance"]["transferred"] == 0
    assert (report.transfers_retried, again.transfers_retried) == (1, 0)
    after = (await shop.get(f"/v1/operator/orders/{order_id}/ledger", headers=OPERATOR)).json()
    assert after["balance"]["transferred"] == 5700 - 500 - 70
    assert after["balance"]["balanced"] is True
    reconciled = await shop.post(
        "/v1/operator/reconcile", json={"order_ids": [str(order_id)]}, headers=OPERATOR
    )
    assert reconciled.json() == {"checked": 1, "differences": []}
