"""Stripe's webhook: only signed, fresh events are believed; each is applied once; and events arriving out
of order do no harm. Events are relayed from the local Stripe, signed here as Stripe signs them."""

from __future__ import annotations

import json
import time

import httpx

from tests.conftest import product
from tests.market.orders.conftest import cart_with, event_body, payable_seller, signed, stripe_events

WEBHOOK = "/v1/stripe/webhook"


async def _hosted_order_paid_at_stripe(shop, stripe) -> tuple[dict, str]:
    """A pending hosted-checkout order the shopper has paid at Stripe (the shop has not heard yet)."""
    seller = await payable_seller(shop, "Trailhead", [product("shoe")])
    cart_id = await cart_with(shop, {seller.products["shoe"]: 2})
    order = (await shop.post(f"/v1/carts/{cart_id}/checkout", json={"flow": "checkout_session"})).json()
    async with httpx.AsyncClient(timeout=30) as browser:
        paid = await browser.post(order["checkout_url"], data={"card_number": "4242424242424242"})
    assert paid.status_code == 303, paid.text
    session_id = order["payment"]["checkout_session_id"]
    intent_id = (await stripe.get(f"/v1/checkout/sessions/{session_id}")).json()["payment_intent"]
    return order, intent_id


async def _charges(db, order_id: str) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE order_id = $1 AND kind = 'charge'", order_id
    )


async def _status(shop, order_id: str) -> str:
    return (await shop.get(f"/v1/orders/{order_id}")).json()["status"]


async def test_unsigned_forged_stale_or_future_dated_events_are_refused_and_change_nothing(
    shop, stripe, stripe_server, db
):
    since = int(time.time())
    order, intent_id = await _hosted_order_paid_at_stripe(shop, stripe)
    events = await stripe_events(stripe, intent_id, ["payment_intent.succeeded"], since)
    body = event_body(events["payment_intent.succeeded"])
    secret = stripe_server.webhook_secret

    missing = await shop.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    wrong_secret = await shop.post(WEBHOOK, content=body, headers=signed(body, "whsec_someone_else"))
    tampered = await shop.post(
        WEBHOOK, content=body.replace(b'"succeeded"', b'"succeeded" '), headers=signed(body, secret)
    )
    stale = await shop.post(
        WEBHOOK, content=body, headers=signed(body, secret, timestamp=int(time.time()) - 3600)
    )
    ahead = await shop.post(
        WEBHOOK, content=body, headers=signed(body, secret, timestamp=int(time.time()) + 3600)
    )

    for answer in (missing, wrong_secret, tampered, stale, ahead):
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["where"]) == ("invalid_signature", "header.Stripe-Signature")
    assert "stale_signature" in stale.json()["error"]["message"]
    assert "future_signature" in ahead.json()["error"]["message"]
    assert "missing_signature" in missing.json()["error"]["message"]
    assert await _status(shop, order["order_id"]) == "pending"
    assert await db.fetchval("SELECT count(*) FROM stripe_events") == 0
    assert await _charges(db, order["order_id"]) == 0


async def test_an_event_delivered_twice_is_applied_once(shop, stripe, stripe_server, db):
    since = int(time.time())
    order, _ = await _hosted_order_paid_at_stripe(shop, stripe)
    session_id = order["payment"]["checkout_session_id"]
    event = (await stripe_events(stripe, session_id, ["checkout.session.completed"], since))[
        "checkout.session.completed"
    ]
    body = event_body(event)

    first = await shop.post(WEBHOOK, content=body, headers=signed(body, stripe_server.webhook_secret))
    again = await shop.post(WEBHOOK, content=body, headers=signed(body, stripe_server.webhook_secret))

    assert (first.status_code, first.json()) == (200, {"received": True})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert await _status(shop, order["order_id"]) == "paid"
    assert await _charges(db, order["order_id"]) == 1
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'purchase'") == 1


async def test_events_out_of_order_do_no_harm(shop, stripe, stripe_server, db):
    since = int(time.time())
    order, intent_id = await _hosted_order_paid_at_stripe(shop, stripe)
    session_id = order["payment"]["checkout_session_id"]
    succeeded = (await stripe_events(stripe, intent_id, ["payment_intent.succeeded"], since))[
        "payment_intent.succeeded"
    ]
    completed = (await stripe_events(stripe, session_id, ["checkout.session.completed"], since))[
        "checkout.session.completed"
    ]
    # An expiry that comes after the payment (as a delayed delivery could): signed, but too late to matter.
    expired = json.loads(json.dumps(completed))
    expired["id"], expired["type"] = "evt_late_expiry_" + session_id[-8:], "checkout.session.expired"
    expired["data"]["object"]["status"] = "expired"

    secret = stripe_server.webhook_secret
    for event in (succeeded, completed, expired):
        body = event_body(event)
        answer = await shop.post(WEBHOOK, content=body, headers=signed(body, secret))
        assert answer.status_code == 200, answer.text

    view = (await shop.get(f"/v1/orders/{order['order_id']}")).json()
    assert view["status"] == "paid"
    assert await _charges(db, order["order_id"]) == 1
    kinds = await db.fetch(
        "SELECT kind FROM ledger_entries WHERE order_id = $1 ORDER BY kind", order["order_id"]
    )
    assert [row["kind"] for row in kinds] == ["charge", "platform_fee", "transfer"]
    assert await db.fetchval("SELECT count(*) FROM stripe_events") == 3


async def test_unknown_events_and_orders_are_acknowledged_and_ignored(shop, stripe_server, db):
    unknown = event_body(
        {
            "id": "evt_unknown_1",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {}},
        }
    )
    stranger = event_body(
        {
            "id": "evt_unknown_2",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": {"id": "pi_nobody", "metadata": {"order_id": "not-a-uuid"}, "amount": 100}},
        }
    )
    for body in (unknown, stranger):
        answer = await shop.post(WEBHOOK, content=body, headers=signed(body, stripe_server.webhook_secret))
        assert (answer.status_code, answer.json()) == (200, {"received": True})
    assert await db.fetchval("SELECT count(*) FROM stripe_events") == 2
