"""The demo's local Stripe keeps its state in the data dir: an order paid before it was started again is
still found at Stripe after, and reconciliation finds no difference."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.app.local_stripe import STATE_FILE, LocalStripe, start_local_stripe
from market.core.settings import Settings
from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, payable_seller


@asynccontextmanager
async def shop_paying_through(
    local: LocalStripe, settings: Settings, database_url: str
) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(local.settings_for(settings), database_url)) as client:
        yield client


async def test_an_order_paid_before_the_local_stripe_restarts_reconciles_after(
    settings: Settings, database_url: str, tmp_path: Path
):
    settings = msgspec.structs.replace(settings, search_enabled=False)
    state_file = tmp_path / STATE_FILE
    first = await asyncio.to_thread(start_local_stripe, state_file=state_file)
    try:
        assert not first.resumed
        async with shop_paying_through(first, settings, database_url) as shop:
            seller = await payable_seller(shop, "Trailhead", [product("tent", inventory_quantity=5)])
            cart_id = await cart_with(shop, {seller.products["tent"]: 1})
            paid = await shop.post(
                f"/v1/carts/{cart_id}/checkout",
                json={"flow": "payment_intent", "payment_method": "pm_card_visa"},
            )
            assert paid.status_code == 201 and paid.json()["status"] == "paid", paid.text
            order_id = paid.json()["order_id"]
    finally:
        await asyncio.to_thread(first.stop)

    second = await asyncio.to_thread(start_local_stripe, state_file=state_file)
    try:
        assert second.resumed and second.url != first.url
        async with shop_paying_through(second, settings, database_url) as shop:
            answer = await shop.post(
                "/v1/operator/reconcile", json={"order_ids": [order_id]}, headers=OPERATOR
            )
            account = await shop.post("/v1/seller/payouts/account", headers=seller.headers)
    finally:
        await asyncio.to_thread(second.stop)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"checked": 1, "differences": []}
    assert account.status_code == 200 and account.json()["created"] is False
