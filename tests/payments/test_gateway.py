"""The Stripe gateway against the local Stripe server: what reaches Stripe, what comes back, and every
failure arriving as Agora's own error."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stripe

from payments.gateway import (
    CheckoutLine,
    GatewayError,
    LiveKeyRefused,
    PaymentError,
    StripeGateway,
)
from tests.conftest import LocalStripe
from tests.payments.conftest import stripe_get, unique


async def pay(gateway: StripeGateway, *, amount: int = 1000, card: str = "pm_card_visa", group: str = ""):
    return await gateway.pay_with_payment_method(
        amount=amount,
        currency="USD",
        payment_method=card,
        transfer_group=group or unique("group"),
        metadata={"order_id": unique("order")},
        idempotency_key=unique("pay"),
    )


async def seller_account(gateway: StripeGateway) -> str:
    return await gateway.create_connected_account(
        email="shop@example.com", country="us", seller_id=unique("s")
    )


async def transfer(
    gateway: StripeGateway, *, amount: int, destination: str, group: str, charge_id: str | None
):
    return await gateway.create_transfer(
        amount=amount,
        currency="USD",
        destination=destination,
        transfer_group=group,
        source_transaction=charge_id,
        metadata={"seller_order_id": unique("so")},
        idempotency_key=unique("transfer"),
    )


@pytest.mark.parametrize("key", ["sk_live_abc", "rk_live_abc"])
def test_live_keys_are_refused_unless_allowed(key: str) -> None:
    with pytest.raises(LiveKeyRefused):
        StripeGateway(key)
    assert StripeGateway(key, allow_live=True).api_base == stripe.DEFAULT_API_BASE


def test_no_secret_key_means_payments_are_off(settings, payment_settings) -> None:
    assert StripeGateway.from_settings(settings) is None
    gateway = StripeGateway.from_settings(payment_settings)
    assert gateway is not None and gateway.api_base == payment_settings.stripe_api_base


async def test_a_checkout_session_carries_the_order_to_the_payment(
    gateway: StripeGateway, stripe_server: LocalStripe
) -> None:
    group = unique("group")
    session = await gateway.create_checkout_session(
        order_id="order-1",
        currency="USD",
        lines=[CheckoutLine("Trail Runner", 12999, 2), CheckoutLine("Socks", 500, 1)],
        success_url="https://agora.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://agora.example/checkout/cancel",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        transfer_group=group,
        metadata={"cart_id": "cart-1"},
    )
    assert session.id.startswith("cs_") and session.url.endswith(session.id)

    held = await stripe_get(
        stripe_server, f"/v1/checkout/sessions/{session.id}", **{"expand[]": "line_items"}
    )
    assert held["currency"] == "usd" and held["amount_total"] == 2 * 12999 + 500
    assert [(item["description"], item["quantity"]) for item in held["line_items"]["data"]] == [
        ("Trail Runner", 2),
        ("Socks", 1),
    ]
    assert held["metadata"] == {"cart_id": "cart-1", "order_id": "order-1"}
    assert held["client_reference_id"] == "order-1"

    # The shopper pays on the hosted page; the payment carries the order and the transfer group.
    async with httpx.AsyncClient() as browser:
        paid = await browser.post(session.url, data={"card_number": "4242424242424242"})
    assert paid.status_code == 303 and session.id in paid.headers["location"]
    intent_id = (await stripe_get(stripe_server, f"/v1/checkout/sessions/{session.id}"))["payment_intent"]
    intent = await gateway.retrieve_payment_intent(intent_id)
    assert (intent.status, intent.amount_received, intent.currency) == ("succeeded", 26498, "USD")
    assert intent.metadata["order_id"] == "order-1" and intent.charge_id.startswith("ch_")
    assert (await stripe_get(stripe_server, f"/v1/payment_intents/{intent_id}"))["transfer_group"] == group

    # A paid session cannot be expired, and asking is harmless.
    await gateway.expire_checkout_session(session.id)


async def test_a_checkout_session_expiry_is_kept_inside_the_window_stripe_allows(
    gateway: StripeGateway, stripe_server: LocalStripe
) -> None:
    async def session_expiring(at: datetime):
        return await gateway.create_checkout_session(
            order_id=unique("order"),
            currency="EUR",
            lines=[CheckoutLine("Mug", 900, 1)],
            success_url="https://agora.example/s",
            cancel_url="https://agora.example/c",
            expires_at=at,
            transfer_group=unique("group"),
            metadata={},
        )

    now = datetime.now(UTC)
    soon = await session_expiring(now + timedelta(minutes=5))  # the hold is shorter than Stripe allows
    assert now + timedelta(minutes=30) < soon.expires_at < now + timedelta(minutes=35)
    held = await stripe_get(stripe_server, f"/v1/checkout/sessions/{soon.id}")
    assert held["expires_at"] == int(soon.expires_at.timestamp()) and held["currency"] == "eur"
    late = await session_expiring(now + timedelta(days=3))
    assert now + timedelta(hours=23) < late.expires_at < now + timedelta(hours=24)


async def test_an_expired_checkout_session_can_no_longer_be_paid(
    gateway: StripeGateway, stripe_server: LocalStripe
) -> None:
    session = await gateway.create_checkout_session(
        order_id=unique("order"),
        currency="USD",
        lines=[CheckoutLine("Mug", 900, 1)],
        success_url="https://agora.example/s",
        cancel_url="https://agora.example/c",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        transfer_group=unique("group"),
        metadata={},
    )
    await gateway.expire_checkout_session(session.id)
    await gateway.expire_checkout_session(session.id)  # again: no error
    assert (await stripe_get(stripe_server, f"/v1/checkout/sessions/{session.id}"))["status"] == "expired"
    async with httpx.AsyncClient() as browser:
        assert (await browser.post(session.url, data={"card_number": "4242424242424242"})).status_code == 410

    with pytest.raises(GatewayError, match="expire_checkout_session"):
        await gateway.expire_checkout_session("cs_test_no_such_session")


async def test_paying_with_a_card_that_works_gives_a_charge(gateway: StripeGateway) -> None:
    outcome = await pay(gateway, amount=4200)
    assert outcome.status == "succeeded"
    assert outcome.payment_intent_id.startswith("pi_") and outcome.charge_id.startswith("ch_")
    assert outcome.next_action is None


async def test_a_declined_card_raises_payment_error_with_the_decline_code(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentError) as declined:
        await pay(gateway, card="pm_card_chargeDeclinedInsufficientFunds")
    assert declined.value.code == "card_declined"
    assert declined.value.decline_code == "insufficient_funds"
    assert declined.value.payment_intent_id.startswith("pi_")
    assert declined.value.message and not isinstance(declined.value, stripe.StripeError)

    with pytest.raises(PaymentError) as generic:
        await pay(gateway, card="pm_card_chargeDeclined")
    assert generic.value.decline_code == "generic_decline"


async def test_a_card_that_needs_3d_secure_waits_for_the_cardholder(
    gateway: StripeGateway, stripe_server: LocalStripe
) -> None:
    outcome = await pay(gateway, card="pm_card_threeDSecure2Required")
    assert outcome.status == "requires_action" and outcome.charge_id is None
    assert outcome.client_secret.startswith(outcome.payment_intent_id)
    assert outcome.next_action["type"] == "use_stripe_sdk"

    async with httpx.AsyncClient() as cardholder:
        answer = await cardholder.post(
            f"{stripe_server.url}/_test/payment_intents/{outcome.payment_intent_id}/authenticate",
            data={"outcome": "succeed"},
        )
    answer.raise_for_status()
    state = await gateway.retrieve_payment_intent(outcome.payment_intent_id)
    assert state.status == "succeeded" and state.amount_received == 1000 and state.charge_id.startswith("ch_")


async def test_canceling_a_payment_is_harmless_once_it_is_settled(gateway: StripeGateway) -> None:
    waiting = await pay(gateway, card="pm_card_threeDSecure2Required")
    await gateway.cancel_payment_intent(waiting.payment_intent_id)
    assert (await gateway.retrieve_payment_intent(waiting.payment_intent_id)).status == "canceled"
    await gateway.cancel_payment_intent(waiting.payment_intent_id)  # already canceled

    paid = await pay(gateway)
    await gateway.cancel_payment_intent(paid.payment_intent_id)  # already succeeded: left as it is
    assert (await gateway.retrieve_payment_intent(paid.payment_intent_id)).status == "succeeded"


async def test_money_moves_to_a_seller_and_partly_back(gateway: StripeGateway) -> None:
    group = unique("group")
    payment = await pay(gateway, amount=1000, group=group)
    account = await seller_account(gateway)
    assert account.startswith("acct_")

    transfer_id = await transfer(
        gateway, amount=900, destination=account, group=group, charge_id=payment.charge_id
    )
    refund_id = await gateway.refund(
        payment_intent_id=payment.payment_intent_id,
        amount=300,
        metadata={"refund_id": "r1"},
        idempotency_key=unique("refund"),
    )
    reversal_id = await gateway.reverse_transfer(
        transfer_id=transfer_id, amount=270, metadata={"refund_id": "r1"}, idempotency_key=unique("reversal")
    )
    assert (transfer_id[:3], refund_id[:3], reversal_id[:4]) == ("tr_", "re_", "trr_")

    charge = await gateway.charge_summary(payment.charge_id)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded, charge.currency) == (
        1000,
        1000,
        300,
        "USD",
    )
    [summary] = await gateway.transfers_in_group(group)
    assert (summary.id, summary.amount, summary.amount_reversed) == (transfer_id, 900, 270)
    assert (summary.destination, summary.currency) == (account, "USD")

    with pytest.raises(GatewayError, match="remains") as over:
        await gateway.reverse_transfer(
            transfer_id=transfer_id, amount=631, metadata={}, idempotency_key=unique("reversal")
        )
    assert not over.value.retryable


async def test_a_repeated_idempotency_key_moves_money_once(gateway: StripeGateway) -> None:
    group = unique("group")
    payment = await pay(gateway, amount=1000, group=group)
    account = await seller_account(gateway)
    request = {
        "amount": 900,
        "currency": "USD",
        "destination": account,
        "transfer_group": group,
        "source_transaction": payment.charge_id,
        "metadata": {},
        "idempotency_key": f"transfer:{unique('so')}",
    }
    first = await gateway.create_transfer(**request)
    again = await gateway.create_transfer(**request)
    assert first == again
    assert [t.id for t in await gateway.transfers_in_group(group)] == [first]


async def test_a_request_stripe_refuses_becomes_a_gateway_error(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayError) as refused:
        await transfer(gateway, amount=100, destination="acct_nobody", group=unique("group"), charge_id=None)
    assert refused.value.code == "resource_missing" and "acct_nobody" in str(refused.value)
    assert not isinstance(refused.value, stripe.StripeError)


async def test_a_key_stripe_does_not_know_becomes_a_gateway_error(stripe_server: LocalStripe) -> None:
    gateway = StripeGateway("pk_test_not_a_secret_key", api_base=stripe_server.url)
    with pytest.raises(GatewayError, match="API key"):
        await gateway.charge_summary("ch_anything")
    await gateway.close()


async def test_an_unreachable_stripe_becomes_a_retryable_gateway_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    gateway = StripeGateway("sk_test_x", api_base=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(
        GatewayError, match=f"could not reach Stripe at http://127.0.0.1:{closed_port}"
    ) as down:
        await gateway.retrieve_payment_intent("pi_anything")
    assert down.value.retryable and not isinstance(down.value, stripe.StripeError)
    await gateway.close()
