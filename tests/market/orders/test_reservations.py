"""Stock held for unpaid orders: never oversold under concurrent checkouts, back on sale the moment a hold
lapses, the lapsed order canceled by the sweeper; and a payment that arrives after its hold lapsed is
honoured if the stock is still there, refunded in full if it is not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.errors import DomainError
from market.core.settings import Settings
from market.orders import checkout, sweeper
from payments.gateway import StripeGateway
from sellers import inventory
from tests.conftest import product
from tests.market.orders.conftest import (
    OPERATOR,
    cart_with,
    event_body,
    eventually,
    payable_seller,
    signed,
    stripe_events,
)


@pytest.fixture
def brief_settings(shop_settings: Settings) -> Settings:
    """Holds of 0.6 seconds (AGORA_RESERVATION_MINUTES=0.01); no background sweeps: the test sweeps."""
    return msgspec.structs.replace(shop_settings, reservation_minutes=0.01, reservation_sweep_seconds=3600.0)


@pytest.fixture
async def brief_shop(brief_settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(brief_settings, database_url)) as client:
        yield client


@pytest.fixture
async def gateway(shop_settings: Settings) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway.from_settings(shop_settings)
    yield gateway
    await gateway.close()


async def test_fifty_concurrent_checkouts_of_ten_units_sell_exactly_ten(shop, pool, shop_settings, db):
    seller = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=10)])
    product_id = seller.products["shoe"]
    carts = [await cart_with(shop, {product_id: 1}) for _ in range(50)]

    outcomes = await asyncio.gather(
        *(checkout.place_order(pool, shop_settings, cart_id, "checkout_session") for cart_id in carts),
        return_exceptions=True,
    )

    placed = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(placed) == 10
    assert len(refused) == 40
    assert all(isinstance(error, DomainError) and error.code == "out_of_stock" for error in refused)
    assert refused[0].details[0].where == f"items.{product_id}"
    held = await db.fetchval(
        "SELECT sum(quantity) FROM stock_reservations WHERE product_id = $1 AND state = 'active'", product_id
    )
    assert held == 10
    assert await db.fetchval("SELECT count(*) FROM orders") == 10  # the refused left no order behind
    assert (await inventory.available(db, [product_id]))[product_id] == 0


async def test_a_lapsed_hold_frees_the_stock_and_the_sweeper_cancels_the_order(
    brief_shop, pool, gateway, stripe, db
):
    shop = brief_shop
    seller = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=4)])
    product_id = seller.products["shoe"]
    cart_id = await cart_with(shop, {product_id: 3})
    order = (await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})).json()
    session_id = order["payment"]["checkout_session_id"]
    assert (await inventory.available(db, [product_id]))[product_id] == 1

    async def stock_back():
        return (await inventory.available(db, [product_id]))[product_id] == 4

    await eventually(stock_back, what="the hold to lapse")
    assert (await shop.get(f"/v1/orders/{order['order_id']}")).json()["status"] == "pending"  # not swept yet

    report = await sweeper.sweep(pool, gateway)

    assert report.canceled == 1
    swept = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    assert (swept["status"], swept["cancel_reason"]) == ("canceled", "reservation_lapsed")
    assert (await stripe.get(f"/v1/checkout/sessions/{session_id}")).json()["status"] == "expired"
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(order["checkout_url"])).status_code == 410  # no longer payable
    page = await shop.get("/checkout/cancel", params={"order_id": order["order_id"]})
    assert "canceled" in page.text
    assert (await sweeper.sweep(pool, gateway)).canceled == 0


async def _pay_late(shop, stripe, stripe_server, order: dict, since: int) -> None:
    """Pay the order's session at Stripe and deliver the completion to the shop, as Stripe would."""
    async with httpx.AsyncClient(timeout=30) as browser:
        paid = await browser.post(order["checkout_url"], data={"card_number": "4242424242424242"})
    assert paid.status_code == 303, paid.text
    session_id = order["payment"]["checkout_session_id"]
    event = (await stripe_events(stripe, session_id, ["checkout.session.completed"], since))[
        "checkout.session.completed"
    ]
    body = event_body(event)
    answer = await shop.post(
        "/v1/stripe/webhook", content=body, headers=signed(body, stripe_server.webhook_secret)
    )
    assert answer.status_code == 200, answer.text


async def _order_whose_hold_lapsed(shop, db) -> tuple[dict, int]:
    """A pending order for 3 of a product's 4 units, once its hold has lapsed (all 4 available again)."""
    seller = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=4)])
    product_id = seller.products["shoe"]
    order = (
        await shop.post(
            f"/v1/carts/{await cart_with(shop, {product_id: 3})}/checkout", json={"flow": "checkout_session"}
        )
    ).json()

    async def lapsed():
        return (await inventory.available(db, [product_id]))[product_id] == 4

    await eventually(lapsed, what="the hold to lapse")
    return order, product_id


async def test_a_payment_after_the_hold_lapsed_is_honoured_while_the_stock_is_there(
    brief_shop, stripe, stripe_server, db
):
    since = int(time.time())
    shop = brief_shop
    order, product_id = await _order_whose_hold_lapsed(shop, db)
    await _pay_late(shop, stripe, stripe_server, order, since)

    view = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    assert view["status"] == "paid"
    assert await db.fetchval("SELECT inventory_quantity FROM products WHERE id = $1", product_id) == 1


async def test_a_payment_after_the_stock_went_to_someone_else_is_refunded_in_full(
    brief_shop, stripe, stripe_server, db
):
    since = int(time.time())
    shop = brief_shop
    late, product_id = await _order_whose_hold_lapsed(shop, db)
    # Someone else buys the stock in the meantime.
    other = await shop.post(
        f"/v1/carts/{await cart_with(shop, {product_id: 2})}/checkout",
        json={"flow": "payment_intent", "payment_method": "pm_card_visa"},
    )
    assert other.json()["status"] == "paid"

    await _pay_late(shop, stripe, stripe_server, late, since)

    view = (await shop.get(f"/v1/orders/{late['order_id']}")).json()
    assert view["status"] == "canceled"
    assert view["refunded"] == view["total"]
    assert view["payment"]["status"] == "refunded"
    charge_id = await db.fetchval("SELECT charge_id FROM orders WHERE id = $1", late["order_id"])
    charge = (await stripe.get(f"/v1/charges/{charge_id}")).json()
    assert charge["amount_refunded"] == charge["amount"] == view["total"]["amount"]
    ledger = (await shop.get(f"/v1/operator/orders/{late['order_id']}/ledger", headers=OPERATOR)).json()
    assert [entry["kind"] for entry in ledger["entries"]] == ["charge", "refund"]
    assert ledger["balance"]["balanced"] is True
    assert await db.fetchval("SELECT inventory_quantity FROM products WHERE id = $1", product_id) == 2
    page = await shop.get("/checkout/success", params={"order_id": late["order_id"]})
    assert "refunded in full" in page.text
