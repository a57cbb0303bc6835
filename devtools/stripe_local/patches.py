"""Patches that make localstripe answer the way api.stripe.com does for the stripe SDK v16.

Applied on import: in-memory state, webhook delay, "No such X" errors, Stripe's test payment methods and
decline cards, charge outcomes and charge.* events. PaymentIntents and refunds are in intents.py.
"""

from __future__ import annotations

import asyncio
import re

import localstripe.webhooks as ls_webhooks
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Event,
    PaymentMethod,
    StripeObject,
    schedule_webhook,
    store,
)

from .errors import invalid, not_found

# --- State: memory only, never /tmp/localstripe.pickle ------------------------------------------------------

store.dump_to_disk = lambda: None
store.clear()


# --- Webhook delay ------------------------------------------------------------------------------------------


class _WebhookClock:
    """Stands in for ``asyncio`` inside localstripe.webhooks, whose delivery waits a fixed 1 s."""

    delay = 0.2

    async def sleep(self, _seconds):
        await asyncio.sleep(self.delay)

    def __getattr__(self, name):
        return getattr(asyncio, name)


webhook_clock = _WebhookClock()
ls_webhooks.asyncio = webhook_clock


def emit(event_type: str, obj: StripeObject) -> None:
    schedule_webhook(Event(event_type, obj))


# --- "No such X" instead of a bare 404 ----------------------------------------------------------------------

_orig_retrieve = StripeObject._api_retrieve.__func__
_orig_delete = StripeObject._api_delete.__func__


def _retrieve(cls, id):
    try:
        return _orig_retrieve(cls, id)
    except UserError as e:
        if e.code == 404:
            raise not_found(cls.object, id) from None
        raise


def _delete(cls, id):
    try:
        return _orig_delete(cls, id)
    except UserError as e:
        if e.code == 404:
            raise not_found(cls.object, id) from None
        raise


StripeObject._api_retrieve = classmethod(_retrieve)
StripeObject._api_delete = classmethod(_delete)


# --- PaymentMethods: Stripe's test ids and decline cards ----------------------------------------------------

TEST_PAYMENT_METHODS = {
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecure2Required": "4000000000003220",
}

# card number -> (error code, decline_code, message), as api.stripe.com answers for its test cards
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4242424242424241": ("incorrect_number", "incorrect_number", "Your card number is incorrect."),
}

_orig_canonical = PaymentMethod._try_get_canonical_test_article.__func__
_orig_charging_declined = PaymentMethod._charging_is_declined
_orig_pm_create = PaymentMethod._api_create.__func__


def _canonical(cls, id):
    found = _orig_canonical(cls, id)
    if found is None and id in TEST_PAYMENT_METHODS:
        card = {"number": TEST_PAYMENT_METHODS[id], "exp_month": "12", "exp_year": "2034", "cvc": "123"}
        found = PaymentMethod(type="card", card=card)
    return found


def _charging_is_declined(self):
    # localstripe only declines 4000000000000002 & co. when attaching; Stripe declines the charge too.
    return _orig_charging_declined(self) or self._attaching_is_declined()


def _pm_create(cls, **data):
    card = data.get("card")
    if data.get("type") == "card" and isinstance(card, dict) and "number" in card:
        card = dict(card)
        card["number"] = re.sub(r"[\s-]", "", str(card["number"]))
        card.setdefault("cvc", "123")  # optional at Stripe, required by localstripe
        data["card"] = card
    data.pop("allow_redisplay", None)
    return _orig_pm_create(cls, **data)


PaymentMethod._try_get_canonical_test_article = classmethod(_canonical)
PaymentMethod._charging_is_declined = _charging_is_declined
PaymentMethod._api_create = classmethod(_pm_create)


def resolve_payment_method(id, param: str = "payment_method") -> str:
    """Turn a test alias (pm_card_visa) into a stored PaymentMethod id, as Stripe does on use."""
    if not isinstance(id, str) or not id:
        raise invalid(param, f"Invalid payment_method: {id!r}")
    try:
        return PaymentMethod._api_retrieve(id).id
    except UserError as e:
        if e.code == 404:
            raise not_found("PaymentMethod", id, param=param, status=400) from None
        raise


# --- Charges: decline details, outcome, charge.* events -----------------------------------------------------

Charge.transfer_group = None
Charge.outcome = None

_orig_set_auth_failure = Charge._set_auth_failure
_orig_trigger_payment = Charge._trigger_payment
_orig_initialize_charge = Charge._initialize_charge


def _card_number(payment_method_id) -> str | None:
    method = store.get("payment_method:" + str(payment_method_id))
    return getattr(method, "_card_number", None)


def _set_auth_failure(self):
    _orig_set_auth_failure(self)
    code, decline_code, message = DECLINES.get(
        _card_number(self.payment_method), DECLINES["4000000000000002"]
    )
    self.failure_code = code
    self.failure_message = message
    self.outcome = {
        "type": "issuer_declined",
        "network_status": "declined_by_network",
        "reason": decline_code,
        "risk_level": "normal",
        "seller_message": "The bank did not return any further details with this decline.",
    }
    emit("charge.failed", self)


def _trigger_payment(self, on_success=None):
    def succeeded():
        if not getattr(self, "_success_reported", False):
            self._success_reported = True
            self.outcome = {
                "type": "authorized",
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "seller_message": "Payment complete.",
            }
            emit("charge.succeeded", self)
        if on_success:
            on_success()

    _orig_trigger_payment(self, on_success=succeeded)


def _initialize_charge(self, *args, **kwargs):
    # Stripe copies these from the PaymentIntent; it must happen before the charge events are built.
    intent = store.get("payment_intent:" + str(self.payment_intent))
    if intent is not None:
        self.description = self.description or intent.description
        self.transfer_group = intent.transfer_group
    return _orig_initialize_charge(self, *args, **kwargs)


Charge._set_auth_failure = _set_auth_failure
Charge._trigger_payment = _trigger_payment
Charge._initialize_charge = _initialize_charge
