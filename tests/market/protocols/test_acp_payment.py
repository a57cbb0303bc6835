"""Completing an ACP session with a Stripe shared payment token: paid at once into a multi-seller order,
declined (the session stays open to pay again), or held for 3-D Secure until the cardholder answers."""

from __future__ import annotations

from tests.conftest import product
from tests.market.orders.conftest import eventually, payable_seller
from tests.market.protocols.conftest import acp_headers, granted_token, ready_session, spt_payment


async def _basket(client) -> list[dict]:
    boots = await payable_seller(
        client, "Trailhead", [product("boot", price={"amount": 5000, "currency": "USD"})]
    )
    await client.patch(
        "/v1/sellers/me", json={"shipping_price": {"amount": 700, "currency": "USD"}}, headers=boots.headers
    )
    tents = await payable_seller(
        client, "Camp Co", [product("tent", price={"amount": 20000, "currency": "USD"})]
    )
    return [{"id": str(boots.products["boot"]), "quantity": 2}, {"id": str(tents.products["tent"])}]


async def _complete(client, agent, session, token, **extra):
    return await client.post(
        f"/checkout_sessions/{session['id']}/complete",
        json={**spt_payment(token), **extra},
        headers=acp_headers(agent["token"]),
    )


async def test_a_granted_token_pays_a_two_seller_basket_into_one_order_with_a_part_per_seller(
    shop, agent, stripe, db
):
    session = await ready_session(shop, agent["token"], await _basket(shop))

    answer = await _complete(shop, agent, session, await granted_token(stripe))

    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["status"] == "completed"
    order = (await shop.get(f"/v1/orders/{done['order']['id']}")).json()
    assert (order["status"], order["total"]["amount"]) == ("paid", 10000 + 20000 + 700)
    assert done["order"]["checkout_session_id"] == session["id"]
    parts = await db.fetch(
        "SELECT amount, shipping_amount, transfer_id FROM seller_orders WHERE order_id = $1 ORDER BY amount",
        order["order_id"],
    )
    assert [(p["amount"], p["shipping_amount"]) for p in parts] == [(10700, 700), (20000, 0)]
    assert all(p["transfer_id"] for p in parts)  # each seller paid its part less the take rate
    intent = await stripe.get(f"/v1/payment_intents/{order['payment']['payment_intent_id']}")
    assert intent.json()["amount"] == 30700


async def test_completing_twice_does_not_pay_twice(shop, agent, stripe, db):
    session = await ready_session(shop, agent["token"], await _basket(shop))
    token = await granted_token(stripe)

    first = await _complete(shop, agent, session, token)
    second = await _complete(shop, agent, session, token)

    assert first.json()["order"]["id"] == second.json()["order"]["id"]
    assert await db.fetchval("SELECT count(*) FROM orders") == 1


async def test_a_declined_token_leaves_the_session_open_with_payment_declined_and_the_stock_free(
    shop, agent, stripe, db
):
    session = await ready_session(shop, agent["token"], await _basket(shop))

    declined = await _complete(shop, agent, session, await granted_token(stripe, "pm_card_chargeDeclined"))

    assert declined.status_code == 200, declined.text
    body = declined.json()
    assert body["status"] == "ready_for_payment" and "order" not in body
    assert [(m["code"], m["param"]) for m in body["messages"]] == [("payment_declined", "$.payment_data")]
    assert await db.fetchval("SELECT count(*) FROM stock_reservations WHERE state = 'active'") == 0
    paid = await _complete(shop, agent, session, await granted_token(stripe))
    assert paid.json()["status"] == "completed"


async def test_a_token_over_its_limit_is_refused_and_nothing_is_ordered(shop, agent, stripe, db):
    session = await ready_session(shop, agent["token"], await _basket(shop))

    answer = await _complete(shop, agent, session, await granted_token(stripe, max_amount=1000))

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "payment_method_refused"
    assert await db.fetchval("SELECT status FROM orders") == "canceled"
    again = await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"]))
    assert again.json()["status"] == "ready_for_payment"


async def test_a_token_limited_to_another_currency_is_a_refusal_at_the_token_not_an_outage(
    shop, agent, stripe, db
):
    session = await ready_session(shop, agent["token"], await _basket(shop))

    answer = await _complete(shop, agent, session, await granted_token(stripe, currency="eur"))

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "payment_method_refused"
    assert error["where"] == "body.payment_data.instrument.credential.token"
    assert "eur" in error["message"]
    assert "pay_with_payment_method" not in error["message"]
    assert await db.fetchval("SELECT status FROM orders") == "canceled"
    again = await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"]))
    assert again.json()["status"] == "ready_for_payment"


async def test_an_unknown_payment_handler_is_refused_before_stripe_is_asked(shop, agent, stripe, db):
    session = await ready_session(shop, agent["token"], await _basket(shop))
    body = spt_payment(await granted_token(stripe))
    body["payment_data"]["handler_id"] = "paypal"

    answer = await shop.post(
        f"/checkout_sessions/{session['id']}/complete", json=body, headers=acp_headers(agent["token"])
    )

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["where"] == "body.payment_data.handler_id"
    assert "stripe_spt" in error["message"]
    assert await db.fetchval("SELECT count(*) FROM orders") == 0


async def test_a_card_that_asks_for_3ds_waits_for_the_cardholder_then_completes(live_shop, stripe):
    from tests.market.protocols.conftest import new_agent

    agent = await new_agent(live_shop)
    session = await ready_session(live_shop, agent["token"], await _basket(live_shop))

    waiting = await _complete(
        live_shop, agent, session, await granted_token(stripe, "pm_card_threeDSecure2Required")
    )
    without_result = await _complete(live_shop, agent, session, "spt_anything")

    assert waiting.status_code == 200, waiting.text
    held = waiting.json()
    assert held["status"] == "authentication_required"
    assert [m["code"] for m in held["messages"]] == ["requires_3ds"]
    intent_id = held["authentication_metadata"]["payment_intent_id"]
    assert without_result.status_code == 400
    assert without_result.json()["error"]["code"] == "requires_3ds"

    await stripe.post(f"/_test/payment_intents/{intent_id}/authenticate", data={"outcome": "succeed"})

    async def completed():
        answer = await live_shop.get(
            f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"])
        )
        return answer.json() if answer.json()["status"] == "completed" else None

    done = await eventually(completed, what="the session completed after 3-D Secure")
    assert done["order"]["status"] == "confirmed"


async def test_a_payment_cut_short_by_a_dead_process_does_not_hold_the_session_forever(
    shop, agent, stripe, db
):
    session = await ready_session(shop, agent["token"], await _basket(shop))
    # As a process that died between taking the session for payment and placing its order leaves it.
    await db.execute("UPDATE checkout_sessions SET state = 'in_progress' WHERE id = $1", session["id"])
    right_after = await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"]))
    await db.execute(
        "UPDATE checkout_sessions SET updated_at = now() - interval '3 minutes' WHERE id = $1", session["id"]
    )

    paid = await _complete(shop, agent, session, await granted_token(stripe))

    assert right_after.json()["status"] == "in_progress"
    assert paid.json()["status"] == "completed", paid.text
