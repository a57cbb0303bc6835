"""Every call Agora makes to Stripe, through the official SDK, behind one small class.

Why a wrapper at all: the rest of Agora speaks in plain values (upper-case ISO currencies, integer minor
units, our own ids) and in three errors of its own. Stripe's lower-case currencies, its objects and its
exception classes stop here, so the orders code can be read, and tested, without knowing the SDK.

Money moves only through POSTs, and every POST carries an idempotency key derived from Agora's ids
(`transfer:<seller order id>` and the like): a retry, by the SDK after a network error or by us after a
crash, is answered with the first result instead of moving the money twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import stripe

from payments.errors import GatewayError, LiveKeyRefused, PaymentError, stripe_errors
from payments.gateway_types import (
    ChargeSummary,
    CheckoutLine,
    CheckoutSession,
    PaymentIntentState,
    PaymentOutcome,
    TransferSummary,
)

__all__ = [
    "ChargeSummary",
    "CheckoutLine",
    "CheckoutSession",
    "GatewayError",
    "LiveKeyRefused",
    "PaymentError",
    "PaymentIntentState",
    "PaymentOutcome",
    "StripeGateway",
    "TransferSummary",
]

if TYPE_CHECKING:
    from market.core.settings import Settings

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
# Stripe accepts a checkout session's expiry from 30 minutes to 24 hours ahead, measured when the request
# arrives; a minute of margin on each side keeps a slow request inside the window.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=30)
CHECKOUT_MAX_LIFETIME = timedelta(hours=24)
CHECKOUT_MARGIN = timedelta(minutes=1)
# The SDK retries network errors and 5xx answers itself, reusing the idempotency key.
NETWORK_RETRIES = 2
LIST_PAGE_SIZE = 100


class StripeGateway:
    """Stripe for one secret key. Create one per process and `await close()` it on shutdown."""

    def __init__(self, secret_key: str, *, api_base: str | None = None, allow_live: bool = False) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        if secret_key.startswith(LIVE_KEY_PREFIXES) and not allow_live:
            raise LiveKeyRefused("refusing a live Stripe key: Agora runs Stripe in test mode unless allowed")
        self.api_base = api_base or stripe.DEFAULT_API_BASE
        self._http = stripe.HTTPXClient()
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=NETWORK_RETRIES,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway | None:
        """The gateway the settings describe, or None when no secret key is set (payments are off)."""
        if not settings.stripe_secret_key:
            return None
        return cls(
            settings.stripe_secret_key,
            api_base=settings.stripe_api_base,
            allow_live=settings.stripe_allow_live_keys,
        )

    async def close(self) -> None:
        await self._http.close_async()

    # Checkout: Stripe's hosted payment page.

    async def create_checkout_session(
        self,
        *,
        order_id: str,
        currency: str,
        lines: Sequence[CheckoutLine],
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        transfer_group: str,
        metadata: Mapping[str, str],
    ) -> CheckoutSession:
        if not lines:
            raise ValueError("a checkout session needs at least one line")
        stripe_currency = _stripe_currency(currency)
        expiry = _checkout_expiry(expires_at, datetime.now(UTC))
        # The order id travels on both the session and its payment intent, so that either's webhook
        # leads back to the order.
        tagged = {**metadata, "order_id": order_id}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": stripe_currency,
                        "unit_amount": _non_negative("unit_amount", line.unit_amount),
                        "product_data": {"name": line.name},
                    },
                    "quantity": _positive("quantity", line.quantity),
                }
                for line in lines
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": order_id,
            "expires_at": int(expiry.timestamp()),
            "metadata": tagged,
            "payment_intent_data": {"transfer_group": transfer_group, "metadata": tagged},
        }
        # One session per order: asking again with the same parameters returns the first session.
        with stripe_errors("create_checkout_session", self.api_base):
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": f"checkout_session:{order_id}"}
            )
        return CheckoutSession(id=session.id, url=session.url, expires_at=expiry)

    async def expire_checkout_session(self, session_id: str) -> None:
        """Close an open session so it can no longer be paid; a completed or expired one is left as it is."""
        sessions = self._client.v1.checkout.sessions
        try:
            with stripe_errors("expire_checkout_session", self.api_base):
                await sessions.expire_async(session_id, options={"idempotency_key": f"expire:{session_id}"})
        except GatewayError as refused:
            if refused.retryable:
                raise
            # Stripe refuses to expire a session that is no longer open; find out whether that is why.
            with stripe_errors("expire_checkout_session", self.api_base):
                session = await sessions.retrieve_async(session_id)
            if session.status not in ("complete", "expired"):
                raise

    # Payment intents: paying with a payment method the caller already holds (an agent's card).

    async def pay_with_payment_method(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str | None,
        transfer_group: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        return_url: str | None = None,
        shared_payment_token: str | None = None,
    ) -> PaymentOutcome:
        """Create and confirm a payment in one call, with a payment method or with a shared payment token
        (`spt_...`, granted by a shopper's agent: Stripe charges the payment method behind it, within the
        token's limits). A decline raises PaymentError; a payment that needs the cardholder (3-D Secure)
        comes back as 'requires_action' with its client secret and next action."""
        if (payment_method is None) == (shared_payment_token is None):
            raise ValueError("pay with a payment method or a shared payment token, one of the two")
        params: dict[str, Any] = {
            "amount": _positive("amount", amount),
            "currency": _stripe_currency(currency),
            "confirm": True,
            # Without a page to come back to, redirect-based methods are off (an agent cannot follow a
            # redirect to a bank's page); with one, Stripe may send the shopper there and back.
            "automatic_payment_methods": {"enabled": True}
            if return_url is not None
            else {"enabled": True, "allow_redirects": "never"},
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }
        if payment_method is not None:
            params["payment_method"] = payment_method
        else:
            params["payment_method_data"] = {"shared_payment_granted_token": shared_payment_token}
        if return_url is not None:
            params["return_url"] = return_url
        with stripe_errors("pay_with_payment_method", self.api_base):
            intent = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        fields = intent.to_dict()
        if fields["status"] not in ("succeeded", "requires_action", "processing"):
            failure = fields.get("last_payment_error") or {}
            raise PaymentError(
                failure.get("code") or "payment_failed",
                failure.get("message") or f"The payment did not go through (status {fields['status']}).",
                failure.get("decline_code"),
                payment_intent_id=fields["id"],
            )
        return PaymentOutcome(
            status=fields["status"],
            payment_intent_id=fields["id"],
            charge_id=fields.get("latest_charge"),
            client_secret=fields.get("client_secret"),
            next_action=fields.get("next_action"),
        )

    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentState:
        with stripe_errors("retrieve_payment_intent", self.api_base):
            intent = await self._client.v1.payment_intents.retrieve_async(payment_intent_id)
        fields = intent.to_dict()
        return PaymentIntentState(
            id=fields["id"],
            status=fields["status"],
            amount=fields["amount"],
            amount_received=fields.get("amount_received") or 0,
            currency=_agora_currency(fields["currency"]),
            charge_id=fields.get("latest_charge"),
            metadata=dict(fields.get("metadata") or {}),
        )

    async def cancel_payment_intent(self, payment_intent_id: str) -> None:
        """Cancel an unfinished payment; one already canceled or succeeded is left as it is."""
        intents = self._client.v1.payment_intents
        try:
            with stripe_errors("cancel_payment_intent", self.api_base):
                await intents.cancel_async(
                    payment_intent_id, options={"idempotency_key": f"cancel:{payment_intent_id}"}
                )
        except GatewayError as refused:
            # Stripe refuses to cancel an intent that is already settled; find out whether that is why.
            if refused.code != "payment_intent_unexpected_state":
                raise
            state = await self.retrieve_payment_intent(payment_intent_id)
            if state.status not in ("canceled", "succeeded"):
                raise

    # Connect: sellers' accounts and the money moved to them.

    async def create_connected_account(self, *, email: str, country: str, seller_id: str) -> str:
        params = {
            "type": "express",
            "country": country.upper(),
            "email": email,
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "metadata": {"seller_id": seller_id},
        }
        with stripe_errors("create_connected_account", self.api_base):
            account = await self._client.v1.accounts.create_async(
                params, {"idempotency_key": f"connected_account:{seller_id}"}
            )
        return account.id

    async def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        source_transaction: str | None,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> str:
        """Move `amount` to a connected account. With `source_transaction` (a charge id) the transfer waits
        for that charge's funds instead of drawing on the platform's balance."""
        params: dict[str, Any] = {
            "amount": _positive("amount", amount),
            "currency": _stripe_currency(currency),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }
        if source_transaction is not None:
            params["source_transaction"] = source_transaction
        with stripe_errors("create_transfer", self.api_base):
            transfer = await self._client.v1.transfers.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return transfer.id

    async def refund(
        self, *, payment_intent_id: str, amount: int, metadata: Mapping[str, str], idempotency_key: str
    ) -> str:
        params = {
            "payment_intent": payment_intent_id,
            "amount": _positive("amount", amount),
            "metadata": dict(metadata),
        }
        with stripe_errors("refund", self.api_base):
            refund = await self._client.v1.refunds.create_async(params, {"idempotency_key": idempotency_key})
        return refund.id

    async def reverse_transfer(
        self, *, transfer_id: str, amount: int, metadata: Mapping[str, str], idempotency_key: str
    ) -> str:
        params = {"amount": _positive("amount", amount), "metadata": dict(metadata)}
        with stripe_errors("reverse_transfer", self.api_base):
            reversal = await self._client.v1.transfers.reversals.create_async(
                transfer_id, params, {"idempotency_key": idempotency_key}
            )
        return reversal.id

    # What Stripe holds, for reconciliation.

    async def charge_summary(self, charge_id: str) -> ChargeSummary | None:
        """The charge as Stripe holds it; None when Stripe has no such charge."""
        try:
            with stripe_errors("charge_summary", self.api_base):
                charge = await self._client.v1.charges.retrieve_async(charge_id)
        except GatewayError as refused:
            if refused.code == "resource_missing":
                return None
            raise
        fields = charge.to_dict()
        captured = fields.get("amount_captured")
        if captured is None:  # older API shapes (and localstripe) only say whether it was captured
            captured = fields["amount"] if fields.get("captured") else 0
        return ChargeSummary(
            id=fields["id"],
            amount=fields["amount"],
            amount_captured=captured,
            amount_refunded=fields.get("amount_refunded") or 0,
            currency=_agora_currency(fields["currency"]),
        )

    async def transfers_in_group(self, transfer_group: str) -> list[TransferSummary]:
        summaries: list[TransferSummary] = []
        params: dict[str, Any] = {"transfer_group": transfer_group, "limit": LIST_PAGE_SIZE}
        while True:
            with stripe_errors("transfers_in_group", self.api_base):
                page = await self._client.v1.transfers.list_async(params)
            for transfer in page.data:
                fields = transfer.to_dict()
                summaries.append(
                    TransferSummary(
                        id=fields["id"],
                        amount=fields["amount"],
                        amount_reversed=fields.get("amount_reversed") or 0,
                        destination=fields["destination"],
                        currency=_agora_currency(fields["currency"]),
                    )
                )
            if not page.has_more or not page.data:
                return summaries
            params["starting_after"] = page.data[-1].id


def _checkout_expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must carry a time zone")
    earliest = now + CHECKOUT_MIN_LIFETIME + CHECKOUT_MARGIN
    latest = now + CHECKOUT_MAX_LIFETIME - CHECKOUT_MARGIN
    return min(max(expires_at, earliest), latest).replace(microsecond=0)


def _stripe_currency(currency: str) -> str:
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return currency.lower()


def _agora_currency(currency: str) -> str:
    return currency.upper()


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def _non_negative(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value
