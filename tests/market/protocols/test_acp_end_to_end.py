"""An outside agent buys a two-seller basket over ACP, end to end: a session, an address and a shipping
option, payment with a shared payment token at the local Stripe, the signed `order_create` at the agent's
webhook, a seller marking its part shipped with tracking, and the `order_update` that follows."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import product
from tests.market.orders.conftest import eventually, payable_seller
from tests.market.protocols.conftest import acp_headers, granted_token, ready_session, spt_payment


class Receiver:
    """The agent's webhook endpoint: a real HTTP server that keeps what it is sent."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"received": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/acp/order_events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list[dict]:
        """What arrived, each checked against its Merchant-Signature first."""
        verified = []
        for headers, body in list(self.received):
            timestamp, digest = (part.split("=", 1)[1] for part in headers["Merchant-Signature"].split(","))
            expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(digest, expected), "the signature does not match the body"
            verified.append({"request_id": headers["Request-Id"], **json.loads(body)})
        return verified


@pytest.fixture
def receiver():
    receiving = Receiver()
    yield receiving
    receiving.server.shutdown()


async def test_an_agent_buys_from_two_sellers_and_hears_of_the_order_and_its_shipment(
    shop, agent, stripe, receiver
):
    boots = await payable_seller(
        shop, "Trailhead", [product("boot", price={"amount": 5000, "currency": "USD"})]
    )
    tents = await payable_seller(
        shop, "Camp Co", [product("tent", price={"amount": 20000, "currency": "USD"})]
    )
    hook = await shop.put(
        "/v1/agent/webhook", json={"url": receiver.url}, headers={"Authorization": f"Bearer {agent['token']}"}
    )
    secret = hook.json()["webhook_secret"]
    items = [{"id": str(boots.products["boot"]), "quantity": 2}, {"id": str(tents.products["tent"])}]

    session = await ready_session(shop, agent["token"], items)
    done = await shop.post(
        f"/checkout_sessions/{session['id']}/complete",
        json=spt_payment(await granted_token(stripe)),
        headers=acp_headers(agent["token"]),
    )

    assert done.json()["status"] == "completed", done.text
    order_id = done.json()["order"]["id"]
    # The completed session still shows what was bought, at what it cost, once the basket became the order.
    again = (await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"]))).json()
    assert sorted(line["quantity"] for line in again["line_items"]) == [1, 2]
    assert {t["type"]: t["amount"] for t in again["totals"]}["total"] == {
        t["type"]: t["amount"] for t in session["totals"]
    }["total"]

    async def created_and_paid():
        events = receiver.events(secret)
        return events if len(events) >= 2 else None

    first, paid = await eventually(created_and_paid, what="order_create and the paid order_update")
    assert (first["type"], paid["type"]) == ("order_create", "order_update")
    assert first["data"]["id"] == order_id and first["data"]["checkout_session_id"] == session["id"]
    assert paid["data"]["status"] == "confirmed"
    totals = {total["type"]: total["amount"] for total in paid["data"]["totals"]}
    assert totals["total"] == 30000
    assert sorted(line["quantity"]["ordered"] for line in paid["data"]["line_items"]) == [1, 2]

    sale = (await shop.get("/v1/seller/orders", headers=tents.headers)).json()["orders"][0]
    shipped = await shop.post(
        f"/v1/seller/orders/{sale['seller_order_id']}/fulfill",
        json={"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        headers=tents.headers,
    )
    assert shipped.json()["shipment"] == {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}

    async def shipment_told():
        events = receiver.events(secret)
        return events[2] if len(events) >= 3 else None

    update = await eventually(shipment_told, what="the order_update for the shipment")
    assert update["type"] == "order_update"
    assert update["data"]["status"] == "processing"  # one of two sellers has shipped
    tracked = [f for f in update["data"]["fulfillments"] if f["status"] == "shipped"]
    assert [(f["carrier"], f["tracking_number"]) for f in tracked] == [("UPS", "1Z999AA10123456784")]
    request_ids = [event["request_id"] for event in receiver.events(secret)]
    assert len(request_ids) == len(set(request_ids)) == 3  # each change told once


async def test_an_event_the_webhook_refuses_is_kept_and_sent_again(shop, agent, stripe, db):
    boots = await payable_seller(shop, "Trailhead", [product("boot")])
    await shop.put(
        "/v1/agent/webhook",
        json={"url": "http://127.0.0.1:9/nothing-listens-here"},
        headers={"Authorization": f"Bearer {agent['token']}"},
    )
    session = await ready_session(shop, agent["token"], [{"id": str(boots.products["boot"])}])
    await shop.post(
        f"/checkout_sessions/{session['id']}/complete",
        json=spt_payment(await granted_token(stripe)),
        headers=acp_headers(agent["token"]),
    )

    async def tried():
        return await db.fetchval("SELECT max(attempts) FROM agent_order_events") or None

    await eventually(tried, what="a delivery attempt")
    pending = await db.fetch("SELECT change, delivered_at, last_error FROM agent_order_events ORDER BY id")
    assert [(row["change"], row["delivered_at"]) for row in pending] == [("created", None), ("paid", None)]
    assert pending[0]["last_error"]

    receiver = Receiver()
    try:
        # The agent's endpoint is up again (and its backoff over): the service delivers what it kept.
        await db.execute("UPDATE agents SET webhook_url = $1", receiver.url)
        await db.execute("UPDATE agent_order_events SET next_attempt_at = now()")

        async def all_delivered():
            return await db.fetchval("SELECT bool_and(delivered_at IS NOT NULL) FROM agent_order_events")

        await eventually(all_delivered, what="the kept events delivered")
    finally:
        receiver.server.shutdown()

    assert [json.loads(body)["type"] for _, body in receiver.received] == ["order_create", "order_update"]


async def test_a_refund_reaches_the_agent_as_an_order_update_with_the_adjustment(
    shop, agent, stripe, receiver
):
    from tests.market.protocols.conftest import OPERATOR

    boots = await payable_seller(
        shop, "Trailhead", [product("boot", price={"amount": 5000, "currency": "USD"})]
    )
    hook = await shop.put(
        "/v1/agent/webhook", json={"url": receiver.url}, headers={"Authorization": f"Bearer {agent['token']}"}
    )
    secret = hook.json()["webhook_secret"]
    session = await ready_session(shop, agent["token"], [{"id": str(boots.products["boot"]), "quantity": 2}])
    done = await shop.post(
        f"/checkout_sessions/{session['id']}/complete",
        json=spt_payment(await granted_token(stripe)),
        headers=acp_headers(agent["token"]),
    )
    order = (await shop.get(f"/v1/orders/{done.json()['order']['id']}")).json()
    line_id = order["sellers"][0]["lines"][0]["line_id"]

    refund = await shop.post(
        f"/v1/operator/orders/{order['order_id']}/refunds",
        json={"lines": [{"line_id": line_id, "quantity": 1}], "reason": "arrived damaged"},
        headers=OPERATOR,
    )
    assert refund.status_code == 201, refund.text

    async def refund_told():
        events = receiver.events(secret)
        return events[2] if len(events) >= 3 else None

    update = await eventually(refund_told, what="the order_update for the refund")
    assert update["type"] == "order_update"
    [adjustment] = update["data"]["adjustments"]
    assert (adjustment["type"], adjustment["amount"], adjustment["description"]) == (
        "refund",
        5000,
        "arrived damaged",
    )
    totals = {total["type"]: total["amount"] for total in update["data"]["totals"]}
    assert totals["amount_refunded"] == 5000


async def test_after_two_declined_attempts_the_agent_hears_only_of_the_paid_order_and_nothing_waits(
    shop, agent, stripe, receiver, db
):
    boots = await payable_seller(shop, "Trailhead", [product("boot")])
    hook = await shop.put(
        "/v1/agent/webhook", json={"url": receiver.url}, headers={"Authorization": f"Bearer {agent['token']}"}
    )
    secret = hook.json()["webhook_secret"]
    session = await ready_session(shop, agent["token"], [{"id": str(boots.products["boot"])}])

    async def complete(card: str):
        return await shop.post(
            f"/checkout_sessions/{session['id']}/complete",
            json=spt_payment(await granted_token(stripe, card)),
            headers=acp_headers(agent["token"]),
        )

    for _ in range(2):
        declined = await complete("pm_card_chargeDeclined")
        assert declined.json()["status"] == "ready_for_payment", declined.text
    paid = await complete("pm_card_visa")
    assert paid.json()["status"] == "completed", paid.text
    order_id = paid.json()["order"]["id"]

    async def all_delivered():
        rows = await db.fetch("SELECT delivered_at FROM agent_order_events")
        return rows if rows and all(row["delivered_at"] for row in rows) else None

    await eventually(all_delivered, what="every order event delivered")
    assert await db.fetchval("SELECT count(*) FROM orders WHERE status = 'canceled'") == 2
    told = [(event["type"], event["data"]["id"]) for event in receiver.events(secret)]
    assert told == [("order_create", order_id), ("order_update", order_id)]
