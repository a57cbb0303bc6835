"""devtools.stripe_local driven through the real stripe SDK (v16, async, httpx), as the product will use it.

One server process serves the module; webhooks go to a small receiver in this process and are verified
with stripe.Webhook.construct_event. Asynchronous deliveries are polled for with a deadline.
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import stripe

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_stripe_local"
WEBHOOK_SECRET = "whsec_stripe_local_tests"
DEADLINE = 15.0


def _wait_for_banner(proc: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"stripe_local exited with {proc.returncode}:\n{log.read_text()}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline().decode()
            if match := re.match(r"stripe_local listening on (http://\S+)", line):
                return match.group(1)
    pytest.fail(f"stripe_local did not start in time:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("stripe_local") / "stderr.log"
    command = [sys.executable, "-m", "devtools.stripe_local", "--port", "0", "--webhook-delay", "0.05"]
    with log.open("wb") as stderr:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr)
    try:
        url = _wait_for_banner(proc, log)
        assert httpx.get(f"{url}/_health").status_code == 200
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class WebhookReceiver:
    """Collects webhook deliveries; events are verified the way a product endpoint would verify them."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, str]] = []
        self.changed = threading.Condition()

    def record(self, body: bytes, signature: str) -> None:
        with self.changed:
            self.deliveries.append((body, signature))
            self.changed.notify_all()

    def wait_for(self, event_type: str, object_id: str) -> stripe.Event:
        deadline = time.monotonic() + DEADLINE
        with self.changed:
            while True:
                for body, signature in self.deliveries:
                    event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
                    if event.type == event_type and event.data.object.id == object_id:
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [json.loads(body)["type"] for body, _ in self.deliveries]
                    pytest.fail(f"no {event_type} for {object_id} within {DEADLINE}s; received {seen}")
                self.changed.wait(remaining)


@pytest.fixture(scope="module")
def webhooks(server_url: str) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.record(body, self.headers["Stripe-Signature"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    endpoint = {"url": f"http://127.0.0.1:{http.server_port}/webhooks", "secret": WEBHOOK_SECRET}
    assert httpx.post(f"{server_url}/_config/webhooks/tests", json=endpoint).status_code == 200
    yield receiver
    http.shutdown()
    http.server_close()


@pytest.fixture
async def client(server_url: str) -> AsyncIterator[stripe.StripeClient]:
    http_client = stripe.HTTPXClient()
    yield stripe.StripeClient(API_KEY, base_addresses={"api": server_url}, http_client=http_client)
    await http_client.close_async()


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        yield http


def session_params(**overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "eur", "unit_amount": 1250, "product_data": {"name": "Desk lamp"}},
                "quantity": 2,
            },
            {
                "price_data": {"currency": "eur", "unit_amount": 499, "product_data": {"name": "Bulb"}},
                "quantity": 1,
            },
        ],
        "success_url": "https://shop.test/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.test/cart",
        "client_reference_id": "order_42",
        "metadata": {"order": "42"},
        "customer_email": "buyer@example.com",
        "payment_intent_data": {
            "transfer_group": "order_42",
            "metadata": {"order": "42"},
            "description": "Order 42",
        },
    }
    params.update(overrides)
    return params


async def raises(exc_type: type[Exception], call: Callable) -> Exception:
    with pytest.raises(exc_type) as info:
        await call()
    return info.value


# --- Checkout Sessions --------------------------------------------------------------------------------------


async def test_checkout_session_create_retrieve_and_line_items(client: stripe.StripeClient, server_url: str):
    created = await client.v1.checkout.sessions.create_async(session_params())
    assert created.object == "checkout.session" and created.id.startswith("cs_test_")
    assert created.url == f"{server_url}/pay/{created.id}"
    assert (created.status, created.payment_status, created.payment_intent) == ("open", "unpaid", None)
    assert (created.amount_total, created.currency) == (2999, "eur")
    assert created.client_reference_id == "order_42" and created.metadata["order"] == "42"
    assert created.expires_at > time.time() + 23 * 3600

    fetched = await client.v1.checkout.sessions.retrieve_async(created.id)
    assert fetched.id == created.id and fetched.amount_total == 2999
    items = await client.v1.checkout.sessions.line_items.list_async(created.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Desk lamp", 2, 2500),
        ("Bulb", 1, 499),
    ]
    expanded = await client.v1.checkout.sessions.retrieve_async(created.id, {"expand": ["line_items"]})
    assert len(expanded.line_items.data) == 2


async def test_checkout_session_validation_names_the_param(client: stripe.StripeClient):
    sessions = client.v1.checkout.sessions
    error = await raises(
        stripe.InvalidRequestError, lambda: sessions.create_async(session_params(line_items=None))
    )
    assert (error.http_status, error.param, error.code) == (400, "line_items", "parameter_missing")
    bad_quantity = session_params()
    bad_quantity["line_items"][1]["quantity"] = 0
    error = await raises(stripe.InvalidRequestError, lambda: sessions.create_async(bad_quantity))
    assert error.param == "line_items[1][quantity]"
    error = await raises(
        stripe.InvalidRequestError, lambda: sessions.create_async(session_params(success_url=None))
    )
    assert error.param == "success_url"
    error = await raises(
        stripe.InvalidRequestError, lambda: sessions.create_async(session_params(colour="red"))
    )
    assert (error.param, error.code) == ("colour", "parameter_unknown")
    error = await raises(
        stripe.InvalidRequestError,
        lambda: sessions.create_async(session_params(expires_at=int(time.time()) + 60)),
    )
    assert error.param == "expires_at"
    error = await raises(stripe.InvalidRequestError, lambda: sessions.retrieve_async("cs_test_missing"))
    assert (error.http_status, error.code) == (404, "resource_missing")


async def test_checkout_session_expire(client: stripe.StripeClient, browser, webhooks: WebhookReceiver):
    session = await client.v1.checkout.sessions.create_async(session_params())
    expired = await client.v1.checkout.sessions.expire_async(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    webhooks.wait_for("checkout.session.expired", session.id)
    error = await raises(
        stripe.InvalidRequestError, lambda: client.v1.checkout.sessions.expire_async(session.id)
    )
    assert error.http_status == 400
    assert (await browser.get(session.url)).status_code == 410
    expired_list = await client.v1.checkout.sessions.list_async({"status": "expired"})
    assert session.id in [s.id for s in expired_list.data]


# --- The payment page ---------------------------------------------------------------------------------------


async def test_payment_page_pays_and_sends_signed_webhook(client: stripe.StripeClient, browser, webhooks):
    session = await client.v1.checkout.sessions.create_async(session_params())
    page = await browser.get(session.url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in ("Desk lamp", "Bulb", "€29.99", "4242 4242 4242 4242", "4000 0000 0000 0002", "3-D Secure"):
        assert text in page.text

    declined = await browser.post(session.url, data={"card_number": "4000 0000 0000 0002"})
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    assert (await client.v1.checkout.sessions.retrieve_async(session.id)).status == "open"

    paid = await browser.post(session.url, data={"card_number": "4242 4242 4242 4242"})
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://shop.test/done?session={session.id}"

    done = await client.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    intent = done.payment_intent
    assert intent.status == "succeeded" and intent.amount == 2999 and intent.currency == "eur"
    assert (intent.transfer_group, intent.description, intent.metadata["order"]) == (
        "order_42",
        "Order 42",
        "42",
    )

    event = webhooks.wait_for("checkout.session.completed", session.id)
    assert event.data.object.payment_intent == intent.id
    assert event.data.object.client_reference_id == "order_42"
    webhooks.wait_for("payment_intent.succeeded", intent.id)

    by_intent = await client.v1.checkout.sessions.list_async({"payment_intent": intent.id})
    assert [s.id for s in by_intent.data] == [session.id]
    assert (await browser.get(session.url)).status_code == 409  # paid sessions cannot be paid again


async def test_payment_page_three_d_secure_and_cancel(client: stripe.StripeClient, browser):
    session = await client.v1.checkout.sessions.create_async(session_params())
    challenge = await browser.post(session.url, data={"card_number": "4000002760003184"})
    assert challenge.status_code == 200 and "Complete authentication" in challenge.text
    assert "Complete authentication" in (await browser.get(session.url)).text  # the step survives a reload

    failed = await browser.post(f"{session.url}/authenticate", data={"outcome": "fail"})
    assert failed.status_code == 402 and "failed authentication" in failed.text
    assert (await client.v1.checkout.sessions.retrieve_async(session.id)).status == "open"

    await browser.post(session.url, data={"card_number": "4000002760003184"})
    done = await browser.post(f"{session.url}/authenticate", data={"outcome": "succeed"})
    assert done.status_code == 303 and session.id in done.headers["location"]

    other = await client.v1.checkout.sessions.create_async(session_params())
    cancel = await browser.get(f"{other.url}/cancel")
    assert (cancel.status_code, cancel.headers["location"]) == (303, "https://shop.test/cart")


# --- Connect ------------------------------------------------------------------------------------------------


async def test_accounts(client: stripe.StripeClient):
    account = await client.v1.accounts.create_async(
        {
            "type": "express",
            "country": "FR",
            "email": "seller@example.com",
            "metadata": {"seller": "7"},
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    assert account.id.startswith("acct_") and account.object == "account"
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert (account.default_currency, account.capabilities.transfers) == ("eur", "active")
    assert (await client.v1.accounts.retrieve_async(account.id)).email == "seller@example.com"
    assert account.id in [a.id for a in (await client.v1.accounts.list_async()).data]
    deleted = await client.v1.accounts.delete_async(account.id)
    assert deleted.deleted is True
    error = await raises(stripe.InvalidRequestError, lambda: client.v1.accounts.retrieve_async(account.id))
    assert (error.http_status, error.code) == (404, "resource_missing")
    error = await raises(stripe.InvalidRequestError, lambda: client.v1.accounts.create_async({"type": "vip"}))
    assert error.param == "type"


async def paid_intent(client: stripe.StripeClient, amount: int = 2000, **extra) -> stripe.PaymentIntent:
    params = {"amount": amount, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True, **extra}
    return await client.v1.payment_intents.create_async(params)


async def test_transfers_and_reversals(client: stripe.StripeClient, webhooks: WebhookReceiver):
    account = await client.v1.accounts.create_async({"type": "express", "country": "US"})
    intent = await paid_intent(client, transfer_group="order_7")
    transfer = await client.v1.transfers.create_async(
        {
            "amount": 1500,
            "currency": "usd",
            "destination": account.id,
            "transfer_group": "order_7",
            "source_transaction": intent.latest_charge,
            "metadata": {"seller": "7"},
        }
    )
    assert transfer.id.startswith("tr_") and transfer.object == "transfer"
    assert (transfer.amount_reversed, transfer.reversed, transfer.reversals.object) == (0, False, "list")
    webhooks.wait_for("transfer.created", transfer.id)

    reversal = await client.v1.transfers.reversals.create_async(transfer.id, {"amount": 500})
    assert reversal.id.startswith("trr_") and reversal.amount == 500 and reversal.transfer == transfer.id
    error = await raises(
        stripe.InvalidRequestError,
        lambda: client.v1.transfers.reversals.create_async(transfer.id, {"amount": 1001}),
    )
    assert (error.http_status, error.param) == (400, "amount")
    rest = await client.v1.transfers.reversals.create_async(transfer.id)
    assert rest.amount == 1000
    after = await client.v1.transfers.retrieve_async(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1500, True)
    listed = await client.v1.transfers.reversals.list_async(transfer.id)
    assert {r.id for r in listed.data} == {reversal.id, rest.id}
    webhooks.wait_for("transfer.reversed", transfer.id)

    by_group = await client.v1.transfers.list_async({"transfer_group": "order_7", "destination": account.id})
    assert [t.id for t in by_group.data] == [transfer.id]
    error = await raises(
        stripe.InvalidRequestError,
        lambda: client.v1.transfers.create_async(
            {"amount": 100, "currency": "usd", "destination": "acct_nope"}
        ),
    )
    assert (error.param, error.code) == ("destination", "resource_missing")
    error = await raises(
        stripe.InvalidRequestError,
        lambda: client.v1.transfers.create_async(
            {"amount": 100, "currency": "usd", "destination": account.id, "source_transaction": "ch_nope"}
        ),
    )
    assert error.param == "source_transaction"


async def test_idempotency_key_replays_the_first_answer(client: stripe.StripeClient):
    account = await client.v1.accounts.create_async({"type": "express"})
    key = str(uuid.uuid4())
    params = {"amount": 300, "currency": "usd", "destination": account.id}
    first = await client.v1.transfers.create_async(params, {"idempotency_key": key})
    again = await client.v1.transfers.create_async(params, {"idempotency_key": key})
    assert first.id == again.id
    assert again.last_response.headers.get("idempotent-replayed") == "true"
    error = await raises(
        stripe.IdempotencyError,
        lambda: client.v1.transfers.create_async({**params, "amount": 301}, {"idempotency_key": key}),
    )
    assert error.http_status == 400

    # localstripe's own routes too, declines included
    key = str(uuid.uuid4())
    intent = await paid_intent(client, 700)
    assert (await paid_intent(client, 700)).id != intent.id
    one = await client.v1.payment_intents.create_async(
        {"amount": 700, "currency": "usd"}, {"idempotency_key": key}
    )
    two = await client.v1.payment_intents.create_async(
        {"amount": 700, "currency": "usd"}, {"idempotency_key": key}
    )
    assert one.id == two.id


# --- PaymentIntents and refunds -----------------------------------------------------------------------------


async def test_payment_intent_success_decline_and_three_d_secure(client, browser, server_url: str):
    intents = client.v1.payment_intents
    method = await client.v1.payment_methods.create_async(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    agent_style = {"automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    intent = await paid_intent(client, 1000, **agent_style, payment_method=method.id)
    assert intent.status == "succeeded" and intent.latest_charge.startswith("ch_")
    assert (await intents.retrieve_async(intent.id)).amount_received == 1000

    error = await raises(
        stripe.CardError, lambda: paid_intent(client, 1000, payment_method="pm_card_chargeDeclined")
    )
    assert (error.http_status, error.code, error.error.decline_code) == (
        402,
        "card_declined",
        "generic_decline",
    )
    declined = await intents.retrieve_async(error.error.payment_intent.id)
    assert declined.status == "requires_payment_method"
    assert declined.last_payment_error.code == "card_declined"

    pending = await paid_intent(client, 1000, payment_method="pm_card_threeDSecure2Required")
    assert pending.status == "requires_action" and pending.next_action is not None
    answer = await browser.post(
        f"{server_url}/_test/payment_intents/{pending.id}/authenticate", data={"outcome": "succeed"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded"
    assert (await intents.retrieve_async(pending.id)).status == "succeeded"

    refused = await paid_intent(client, 1000, payment_method="pm_card_threeDSecure2Required")
    await browser.post(
        f"{server_url}/_test/payment_intents/{refused.id}/authenticate", data={"outcome": "fail"}
    )
    refused = await intents.retrieve_async(refused.id)
    assert refused.status == "requires_payment_method"
    assert refused.last_payment_error.code == "payment_intent_authentication_failure"
    canceled = await intents.cancel_async(refused.id)
    assert canceled.status == "canceled"


async def test_partial_and_full_refunds(client: stripe.StripeClient, webhooks: WebhookReceiver):
    intent = await paid_intent(client, 2000)
    partial = await client.v1.refunds.create_async({"payment_intent": intent.id, "amount": 500})
    assert partial.id.startswith("re_") and (partial.amount, partial.status) == (500, "succeeded")
    event = webhooks.wait_for("charge.refunded", intent.latest_charge)
    assert event.data.object.amount_refunded == 500
    error = await raises(
        stripe.InvalidRequestError,
        lambda: client.v1.refunds.create_async({"payment_intent": intent.id, "amount": 1501}),
    )
    assert error.param == "amount"
    rest = await client.v1.refunds.create_async({"payment_intent": intent.id})
    assert rest.amount == 1500
    charge = await client.v1.charges.retrieve_async(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)


async def test_unknown_routes_and_missing_keys_answer_in_stripe_format(browser, server_url: str):
    missing_key = await browser.get(f"{server_url}/v1/transfers")
    assert missing_key.status_code == 401 and missing_key.json()["error"]["type"] == "invalid_request_error"
    unknown = await browser.get(f"{server_url}/v1/nothing_here", auth=(API_KEY, ""))
    assert unknown.status_code == 404 and "Unrecognized request URL" in unknown.json()["error"]["message"]
