"""Refunds: units of lines given back in steps, the platform's fee and the seller's transfer reversed in
proportion, so that Stripe and the ledger agree to the cent; and who may refund what, and when."""

from __future__ import annotations

from tests.conftest import product
from tests.market.orders.conftest import OPERATOR, cart_with, payable_seller


async def _paid_two_seller_order(shop):
    """Trailhead sells 3 shoes at 33.33 (fee 10.00 on 99.99), Sockwell 1 pack at 10.00 (fee 1.00)."""
    shoes = await payable_seller(
        shop, "Trailhead", [product("shoe", price={"amount": 3333, "currency": "USD"})]
    )
    socks = await payable_seller(
        shop, "Sockwell", [product("sock", price={"amount": 1000, "currency": "USD"})]
    )
    cart_id = await cart_with(shop, {shoes.products["shoe"]: 3, socks.products["sock"]: 1})
    answer = await shop.post(
        f"/v1/carts/{cart_id}/checkout", json={"flow": "payment_intent", "payment_method": "pm_card_visa"}
    )
    assert answer.status_code == 201 and answer.json()["status"] == "paid", answer.text
    order = answer.json()
    parts = {part["seller_name"]: part for part in order["sellers"]}
    return order, shoes, socks, parts["Trailhead"], parts["Sockwell"]


def _refund(lines: list[tuple[int, int]], reason: str = "damaged in transit") -> dict:
    return {
        "lines": [{"line_id": line_id, "quantity": quantity} for line_id, quantity in lines],
        "reason": reason,
    }


async def _stripe_side(stripe, db, order_id: str) -> tuple[int, dict[str, int]]:
    """What Stripe says was refunded of the charge, and reversed of each seller's transfer (by account)."""
    charge_id, group = await db.fetchrow(
        "SELECT charge_id, transfer_group FROM orders WHERE id = $1", order_id
    )
    charge = (await stripe.get(f"/v1/charges/{charge_id}")).json()
    transfers = (await stripe.get("/v1/transfers", params={"transfer_group": group})).json()["data"]
    return charge["amount_refunded"], {t["destination"]: t["amount_reversed"] for t in transfers}


async def test_refunding_a_line_in_steps_reverses_exactly_its_amount_and_fee(shop, stripe, db):
    order, shoes, socks, shoe_part, sock_part = await _paid_two_seller_order(shop)
    order_id = order["order_id"]
    shoe_line, sock_line = shoe_part["lines"][0]["line_id"], sock_part["lines"][0]["line_id"]

    # 1 of 3 shoes: a third of 99.99 and of its 10.00 fee, rounded down; the rest is taken from the seller.
    first = await shop.post(
        f"/v1/operator/orders/{order_id}/refunds", json=_refund([(shoe_line, 1)]), headers=OPERATOR
    )
    assert first.status_code == 201, first.text
    first = first.json()
    assert first["status"] == "succeeded" and first["stripe_refund_id"].startswith("re_")
    assert first["amount"] == {"amount": 3333, "currency": "USD"}
    assert first["lines"][0]["platform_fee"]["amount"] == 333
    assert first["lines"][0]["transfer_reversal"]["amount"] == 3000
    assert first["order_status"] == "partially_refunded"

    # More than remains is refused, naming the line; nothing changes.
    too_many = await shop.post(
        f"/v1/operator/orders/{order_id}/refunds", json=_refund([(shoe_line, 3)]), headers=OPERATOR
    )
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "refund_exceeds_remaining"
    assert too_many.json()["error"]["where"] == "body.lines[0].quantity"
    assert str(shoe_line) in too_many.json()["error"]["message"]

    # The seller refunds the other two itself: the remainder, so the line comes back whole.
    rest = await shop.post(
        f"/v1/seller/orders/{shoe_part['seller_order_id']}/refunds",
        json=_refund([(shoe_line, 2)]),
        headers=shoes.headers,
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"]["amount"] == 6666
    assert rest.json()["lines"][0]["platform_fee"]["amount"] == 667
    assert rest.json()["lines"][0]["transfer_reversal"]["amount"] == 5999
    assert rest.json()["order_status"] == "partially_refunded"
    view = (await shop.get(f"/v1/orders/{order_id}")).json()
    statuses = {part["seller_name"]: part["status"] for part in view["sellers"]}
    assert statuses == {"Trailhead": "refunded", "Sockwell": "paid"}

    refunded, reversed_by_account = await _stripe_side(stripe, db, order_id)
    shoes_account = await db.fetchval("SELECT stripe_account_id FROM sellers WHERE id = $1", shoes.seller_id)
    assert refunded == 9999
    assert reversed_by_account[shoes_account] == 8999  # its whole transfer: 99.99 less the 10.00 fee

    # Then the other seller's line: the whole order is refunded.
    last = await shop.post(
        f"/v1/seller/orders/{sock_part['seller_order_id']}/refunds",
        json=_refund([(sock_line, 1)]),
        headers=socks.headers,
    )
    assert last.status_code == 201, last.text
    assert last.json()["order_status"] == "refunded"

    ledger = (await shop.get(f"/v1/operator/orders/{order_id}/ledger", headers=OPERATOR)).json()
    balance = ledger["balance"]
    assert (balance["charged"], balance["refunded"]) == (10999, 10999)
    assert (balance["platform_fees"], balance["platform_fee_refunds"]) == (1100, 1100)
    assert balance["transferred"] == balance["reversed"] == 9899
    assert balance["balanced"] is True
    refunded, reversed_by_account = await _stripe_side(stripe, db, order_id)
    assert refunded == balance["refunded"]
    assert sum(reversed_by_account.values()) == balance["reversed"]
    reconciled = await shop.post("/v1/operator/reconcile", json={"order_ids": [order_id]}, headers=OPERATOR)
    assert reconciled.json() == {"checked": 1, "differences": []}
    refund_events = await db.fetchval("SELECT count(*) FROM events WHERE type = 'refund'")
    assert refund_events == 3


async def test_a_seller_cannot_refund_another_sellers_line(shop):
    order, _, socks, shoe_part, sock_part = await _paid_two_seller_order(shop)
    shoe_line = shoe_part["lines"][0]["line_id"]

    # Its own order, another seller's line: not there, as far as it is concerned.
    via_own = await shop.post(
        f"/v1/seller/orders/{sock_part['seller_order_id']}/refunds",
        json=_refund([(shoe_line, 1)]),
        headers=socks.headers,
    )
    # Another seller's order altogether.
    via_other = await shop.post(
        f"/v1/seller/orders/{shoe_part['seller_order_id']}/refunds",
        json=_refund([(shoe_line, 1)]),
        headers=socks.headers,
    )

    assert via_own.status_code == 404
    assert (via_own.json()["error"]["code"], via_own.json()["error"]["where"]) == (
        "line_not_found",
        "body.lines[0].line_id",
    )
    assert via_other.status_code == 404
    assert via_other.json()["error"]["code"] == "seller_order_not_found"
    view = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    assert view["status"] == "paid" and view["refunded"]["amount"] == 0


async def test_an_unpaid_order_cannot_be_refunded(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    cart_id = await cart_with(shop, {seller.products["shoe"]: 1})
    pending = await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})
    order = pending.json()

    answer = await shop.post(
        f"/v1/operator/orders/{order['order_id']}/refunds",
        json=_refund([(order["sellers"][0]["lines"][0]["line_id"], 1)]),
        headers=OPERATOR,
    )

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "order_not_refundable"


async def test_a_refund_request_is_validated_before_anything_moves(shop):
    order, *_ = await _paid_two_seller_order(shop)
    url = f"/v1/operator/orders/{order['order_id']}/refunds"
    line_id = order["sellers"][0]["lines"][0]["line_id"]

    blank = await shop.post(url, json=_refund([(line_id, 1)], reason="   "), headers=OPERATOR)
    twice = await shop.post(url, json=_refund([(line_id, 1), (line_id, 1)]), headers=OPERATOR)
    zero = await shop.post(url, json=_refund([(line_id, 0)]), headers=OPERATOR)
    unknown_field = await shop.post(url, json=_refund([(line_id, 1)]) | {"amount": 5}, headers=OPERATOR)
    no_token = await shop.post(url, json=_refund([(line_id, 1)]))

    assert (blank.status_code, blank.json()["error"]["where"]) == (400, "body.reason")
    assert (twice.status_code, twice.json()["error"]["where"]) == (400, "body.lines[1].line_id")
    assert (zero.status_code, zero.json()["error"]["where"]) == (400, "body.lines[0].quantity")
    assert (unknown_field.status_code, unknown_field.json()["error"]["where"]) == (400, "body.amount")
    assert no_token.status_code == 401
    view = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    assert view["refunded"]["amount"] == 0
