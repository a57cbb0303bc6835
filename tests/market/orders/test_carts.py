"""Carts show today's prices and stock per seller; a cart in several currencies is paid once per currency;
checkout refuses, with a structured error, what no payment could fix: a seller that cannot be paid, a
product gone from the catalog."""

from __future__ import annotations

import json

import msgspec
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from tests.conftest import product
from tests.market.orders.conftest import cart_with, payable_seller


async def test_a_cart_shows_current_prices_stock_and_totals_per_seller(shop, db):
    shoes = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=2)])
    socks = await payable_seller(
        shop, "Sockwell", [product("sock", price={"amount": 500, "currency": "USD"})]
    )
    cart = await shop.post("/v1/carts", json={"session_id": "s-42"})
    cart_id = cart.json()["cart_id"]
    search_id = "0193a1b2-0000-7000-8000-000000000001"

    added = await shop.put(
        f"/v1/carts/{cart_id}/items/{shoes.products['shoe']}", json={"quantity": 3, "search_id": search_id}
    )
    await shop.put(f"/v1/carts/{cart_id}/items/{socks.products['sock']}", json={"quantity": 2})
    # The seller changes the price after it was added: the cart shows the new one.
    await shop.patch("/v1/catalog/products/sock", json={"price": {"amount": 450}}, headers=socks.headers)
    view = (await shop.get(f"/v1/carts/{cart_id}")).json()

    assert added.status_code == 200
    groups = {group["seller_name"]: group for group in view["sellers"]}
    shoe_line = groups["Trailhead"]["lines"][0]
    assert (shoe_line["quantity"], shoe_line["available"], shoe_line["purchasable"]) == (3, 2, False)
    assert shoe_line["problem"] == "only 2 available"
    assert shoe_line["line_total"] == {"amount": 3 * 12999, "currency": "USD"}
    assert groups["Sockwell"]["subtotal"] == {"amount": 900, "currency": "USD"}
    assert groups["Sockwell"]["lines"][0]["unit_price"] == {"amount": 450, "currency": "USD"}
    assert view["totals"] == [{"amount": 3 * 12999 + 900, "currency": "USD"}]
    assert (view["item_count"], view["purchasable"]) == (5, False)
    event = await db.fetchrow(
        "SELECT session_id, search_id, payload FROM events WHERE type = 'add_to_cart' LIMIT 1"
    )
    assert event["session_id"] == "s-42" and str(event["search_id"]) == search_id
    assert json.loads(event["payload"]) == {"cart_id": cart_id, "quantity": 3}

    removed = await shop.put(f"/v1/carts/{cart_id}/items/{shoes.products['shoe']}", json={"quantity": 0})
    deleted = await shop.delete(f"/v1/carts/{cart_id}/items/{socks.products['sock']}")
    assert [group["seller_name"] for group in removed.json()["sellers"]] == ["Sockwell"]
    assert deleted.status_code == 200 and deleted.json()["sellers"] == []


async def test_cart_inputs_are_validated_with_where_and_why(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    cart_id = (await shop.post("/v1/carts")).json()["cart_id"]
    product_id = seller.products["shoe"]

    unknown_product = await shop.put(f"/v1/carts/{cart_id}/items/999999", json={"quantity": 1})
    unknown_cart = await shop.get("/v1/carts/0193a1b2-0000-7000-8000-00000000dead")
    too_many = await shop.put(f"/v1/carts/{cart_id}/items/{product_id}", json={"quantity": 1001})
    unknown_field = await shop.put(
        f"/v1/carts/{cart_id}/items/{product_id}", json={"quantity": 1, "price": 1}
    )
    empty = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})
    no_method = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "payment_intent"})
    bad_flow = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "cash"})

    def error(answer):
        body = answer.json()["error"]
        return answer.status_code, body["code"], body.get("where")

    assert error(unknown_product) == (404, "product_not_found", "path.product_id")
    assert error(unknown_cart) == (404, "cart_not_found", "path.cart_id")
    assert error(too_many) == (400, "invalid_request", "body.quantity")
    assert error(unknown_field) == (400, "invalid_request", "body.price")
    assert error(empty) == (400, "cart_empty", "items")
    assert error(no_method) == (400, "invalid_value", "body.payment_method")
    assert error(bad_flow) == (400, "invalid_request", "body.flow")


async def test_a_cart_in_two_currencies_must_name_the_currency_it_checks_out(shop, db):
    usd = await payable_seller(shop, "Trailhead", [product("shoe")])
    eur = await payable_seller(
        shop, "Laufwerk", [product("schuh", price={"amount": 9900, "currency": "EUR"})]
    )
    cart_id = await cart_with(shop, {usd.products["shoe"]: 1, eur.products["schuh"]: 1})

    answer = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["where"]) == ("mixed_currencies", "items")
    assert {detail["where"] for detail in error["details"]} == {
        f"items.{usd.products['shoe']}",
        f"items.{eur.products['schuh']}",
    }
    assert "currency" in error["message"]
    assert await db.fetchval("SELECT count(*) FROM orders") == 0


async def test_a_cart_in_two_currencies_is_paid_as_one_order_per_currency(shop, db):
    usd = await payable_seller(shop, "Trailhead", [product("shoe")])
    eur = await payable_seller(
        shop, "Laufwerk", [product("schuh", price={"amount": 9900, "currency": "EUR"})]
    )
    shoe, schuh = usd.products["shoe"], eur.products["schuh"]
    cart_id = await cart_with(shop, {shoe: 1, schuh: 2})
    pay = {"flow": "payment_intent", "payment_method": "pm_card_visa"}

    assert (await shop.get(f"/v1/carts/{cart_id}")).json()["purchasable"]
    in_euros = await shop.post(f"/v1/carts/{cart_id}/checkout", json=pay | {"currency": "EUR"})
    left = (await shop.get(f"/v1/carts/{cart_id}")).json()
    in_pounds = await shop.post(f"/v1/carts/{cart_id}/checkout", json=pay | {"currency": "GBP"})
    in_dollars = await shop.post(f"/v1/carts/{cart_id}/checkout", json=pay | {"currency": "USD"})

    assert in_euros.status_code == 201, in_euros.text
    euro_order = in_euros.json()
    assert (euro_order["status"], euro_order["total"]) == ("paid", {"amount": 2 * 9900, "currency": "EUR"})
    assert [line["product_id"] for part in euro_order["sellers"] for line in part["lines"]] == [schuh]
    assert left["totals"] == [{"amount": 12999, "currency": "USD"}]  # the dollar item waits in the cart
    assert in_pounds.status_code == 400
    error = in_pounds.json()["error"]
    assert (error["code"], error["where"]) == ("invalid_value", "body.currency")
    assert "GBP" in error["message"] and "USD" in error["message"]
    assert in_dollars.status_code == 201, in_dollars.text
    assert in_dollars.json()["total"] == {"amount": 12999, "currency": "USD"}
    assert (await shop.get(f"/v1/carts/{cart_id}")).json()["item_count"] == 0
    assert await db.fetchval("SELECT count(*) FROM orders WHERE status = 'paid'") == 2


async def test_checkout_refuses_a_seller_without_a_payout_account(shop, db):
    payable = await payable_seller(shop, "Trailhead", [product("shoe")])
    unpayable = await payable_seller(shop, "Newcomer", [product("boot")], payable=False)
    cart_id = await cart_with(shop, {payable.products["shoe"]: 1, unpayable.products["boot"]: 1})

    view = (await shop.get(f"/v1/carts/{cart_id}")).json()
    answer = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})

    lines = {group["seller_name"]: group["lines"][0] for group in view["sellers"]}
    assert lines["Newcomer"]["problem"] == "the seller cannot take payments yet"
    assert lines["Trailhead"]["purchasable"] and not view["purchasable"]
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "seller_not_payable"
    assert [detail["where"] for detail in error["details"]] == [f"sellers.{unpayable.seller_id}"]
    assert await db.fetchval("SELECT count(*) FROM stock_reservations") == 0


async def test_checkout_refuses_a_product_deleted_since_it_was_added(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe"), product("boot")])
    cart_id = await cart_with(shop, {seller.products["shoe"]: 1, seller.products["boot"]: 1})
    await shop.delete("/v1/catalog/products/boot", headers=seller.headers)

    answer = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})

    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["where"]) == ("product_not_found", f"items.{seller.products['boot']}")


async def test_checkout_names_every_product_short_of_stock_and_holds_nothing(shop, db):
    seller = await payable_seller(
        shop, "Trailhead", [product("shoe", inventory_quantity=1), product("boot", inventory_quantity=5)]
    )
    paused = await payable_seller(shop, "Sockwell", [product("sock")])
    await shop.patch("/v1/catalog/products/sock", json={"status": "paused"}, headers=paused.headers)
    cart_id = await cart_with(
        shop, {seller.products["shoe"]: 2, seller.products["boot"]: 1, paused.products["sock"]: 1}
    )

    answer = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "out_of_stock"
    assert {detail["where"] for detail in error["details"]} == {
        f"items.{seller.products['shoe']}",
        f"items.{paused.products['sock']}",
    }
    assert await db.fetchval("SELECT count(*) FROM stock_reservations") == 0


async def test_without_stripe_configured_checkout_says_payments_are_disabled(settings, database_url):
    no_payments = msgspec.structs.replace(settings, search_enabled=False)  # and no Stripe key
    async with AsyncTestClient(create_app(no_payments, database_url)) as shop:
        seller = await payable_seller(shop, "Trailhead", [product("shoe")], payable=False)
        cart_id = await cart_with(shop, {seller.products["shoe"]: 1})
        answer = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})
        webhook = await shop.post("/v1/stripe/webhook", content=b"{}")

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "payments_disabled"
    assert webhook.status_code == 503
