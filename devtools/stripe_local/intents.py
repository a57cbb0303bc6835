"""PaymentIntents and refunds as the stripe SDK v16 sees them on api.stripe.com.

Applied on import, after patches.py. Must be imported before ``localstripe.server``: that module captures
the handlers of the extra routes (confirm, cancel) when it builds its router, so those are swapped in
``extra_apis`` here beforehand.
"""

from __future__ import annotations

import sys
import time

from localstripe.errors import UserError
from localstripe.resources import Charge, PaymentIntent, Refund, extra_apis

from . import params
from .errors import invalid, stripe_error, unknown
from .money import format_amount
from .patches import emit, resolve_payment_method

if "localstripe.server" in sys.modules:
    raise RuntimeError("devtools.stripe_local.intents must be imported before localstripe.server")


# --- PaymentIntents -----------------------------------------------------------------------------------------

# Create/confirm parameters localstripe does not know. Class attributes are exported by its _export
# and allowed by its _update, so a default here is all a field needs.
_PI_PARAMS = (
    "description",
    "transfer_group",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "on_behalf_of",
    "application_fee_amount",
    "transfer_data",
    "setup_future_usage",
    "automatic_payment_methods",
)
for _field in (*_PI_PARAMS, "canceled_at", "cancellation_reason"):
    setattr(PaymentIntent, _field, None)
PaymentIntent.payment_method_types = ["card"]
PaymentIntent.confirmation_method = "automatic"
PaymentIntent.amount_received = property(lambda self: self.amount if self.status == "succeeded" else 0)
PaymentIntent.amount_capturable = property(
    lambda self: self.amount if self.status == "requires_capture" else 0
)

# Accepted on create/confirm and deliberately without effect here (redirects, SDK hints, mandates).
_PI_IGNORED = {"return_url", "error_on_requires_action", "use_stripe_sdk", "mandate_data", "radar_options"}
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action")

_orig_pi_create = PaymentIntent._api_create.__func__
_orig_pi_confirm = PaymentIntent._api_confirm
_orig_pi_cancel = PaymentIntent._api_cancel
_orig_pi_authenticate = PaymentIntent._api_authenticate
_orig_pi_export = PaymentIntent._export


def _pi_extras(data: dict) -> dict:
    extras = {key: data.pop(key) for key in list(data) if key in _PI_PARAMS}
    for key in _PI_IGNORED:
        data.pop(key, None)
    if isinstance(extras.get("automatic_payment_methods"), dict):
        apm = dict(extras["automatic_payment_methods"])
        apm["enabled"] = params.boolean(apm.get("enabled"), "automatic_payment_methods[enabled]")
        extras["automatic_payment_methods"] = apm
    if "application_fee_amount" in extras:
        extras["application_fee_amount"] = params.to_int(
            extras["application_fee_amount"], "application_fee_amount", minimum=0
        )
    if extras.get("description") is not None:
        params.string(extras["description"], "description", max_length=1000)
    return extras


def _after_confirm(intent) -> None:
    if intent.status == "requires_action":
        emit("payment_intent.requires_action", intent)


def _pi_create(cls, confirm=None, off_session=None, **data):
    confirm = params.boolean(confirm, "confirm")
    off_session = params.boolean(off_session, "off_session")
    extras = _pi_extras(data)
    if data.get("payment_method") is not None:
        data["payment_method"] = resolve_payment_method(data["payment_method"])
    if data.get("metadata") is not None:
        data["metadata"] = params.metadata(data["metadata"])
    intent = _orig_pi_create(cls, **data)
    for key, value in extras.items():
        setattr(intent, key, value)
    emit("payment_intent.created", intent)
    if confirm:
        if not intent.payment_method:
            raise stripe_error(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        intent._confirm(on_failure_now=intent._report_failure)
        _after_confirm(intent)
    return intent


def _unexpected_state(intent, action: str, done: str, allowed) -> UserError:
    return stripe_error(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent.status}."
        f" Only a PaymentIntent with one of the following statuses may be {done}: {', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
    )


def _pi_confirm(id, payment_method=None, **kwargs):
    for key in ("off_session", "payment_method_options", "capture_method"):
        kwargs.pop(key, None)
    extras = _pi_extras(kwargs)
    if kwargs:
        raise unknown(next(iter(kwargs)))
    intent = PaymentIntent._api_retrieve(id)
    if payment_method is not None:
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise _unexpected_state(
                intent, "confirm", "confirmed", ("requires_payment_method", "requires_confirmation")
            )
        # A new payment method starts a new attempt; the failed charge stays in the store.
        intent.payment_method = resolve_payment_method(payment_method)
        intent.latest_charge = None
        intent._authentication_failed = False
    if intent.status != "requires_confirmation":
        raise _unexpected_state(intent, "confirm", "confirmed", ("requires_confirmation",))
    for key, value in extras.items():
        setattr(intent, key, value)
    _orig_pi_confirm(id)
    _after_confirm(intent)
    return intent


def _pi_cancel(id, cancellation_reason=None, **kwargs):
    if kwargs:
        raise unknown(next(iter(kwargs)))
    intent = PaymentIntent._api_retrieve(id)
    if intent.status not in _CANCELABLE:
        raise _unexpected_state(intent, "cancel", "canceled", _CANCELABLE)
    _orig_pi_cancel(id)
    intent.cancellation_reason = cancellation_reason
    intent.canceled_at = int(time.time())
    emit("payment_intent.canceled", intent)
    return intent


def authenticate_payment_intent(id: str, success: bool):
    """Finish or fail a pending 3-D Secure challenge, as the cardholder would on the bank's page."""
    intent = PaymentIntent._api_retrieve(id)
    if intent.status != "requires_action":
        raise _unexpected_state(intent, "authenticate", "authenticated", ("requires_action",))
    _orig_pi_authenticate(id, client_secret=intent.client_secret, success=success)
    if not success:
        emit("payment_intent.payment_failed", intent)
    return intent


def _pi_export(self, expand=None):
    obj = _orig_pi_export(self, expand=expand)
    obj.pop("charges", None)  # gone from the API since 2022-11-15
    expanded = any(path.split(".")[0] == "latest_charge" for path in expand or [])
    if isinstance(obj.get("latest_charge"), dict) and not expanded:
        obj["latest_charge"] = obj["latest_charge"]["id"]
    error = obj.get("last_payment_error")
    if error:
        error = dict(error)
        error["type"] = "card_error" if error.get("charge") else "invalid_request_error"
        if error.get("code") == "card_declined" and self.latest_charge is not None:
            error["decline_code"] = (self.latest_charge.outcome or {}).get("reason") or "generic_decline"
        obj["last_payment_error"] = error
    return obj


PaymentIntent._api_create = classmethod(_pi_create)
PaymentIntent._export = _pi_export


# --- Refunds: remaining-amount check, reason, events --------------------------------------------------------

Refund.reason = None
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_orig_refund_create = Refund._api_create.__func__


def _refunded_charge(data: dict) -> Charge:
    if data.get("payment_intent") is not None:
        intent = PaymentIntent._api_retrieve(str(data["payment_intent"]))
        if intent.status != "succeeded" or intent.latest_charge is None:
            raise stripe_error(
                400,
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        return intent.latest_charge
    if data.get("charge") is not None:
        return Charge._api_retrieve(str(data["charge"]))
    raise stripe_error(400, "One of `charge` or `payment_intent` is required.", code="parameter_missing")


def _refund_create(cls, reason=None, reverse_transfer=None, refund_application_fee=None, **data):
    if reason is not None and reason not in _REFUND_REASONS:
        raise invalid("reason", f"Invalid reason: must be one of {', '.join(_REFUND_REASONS)}")
    if data.get("metadata") is not None:
        data["metadata"] = params.metadata(data["metadata"])
    charge = _refunded_charge(data)
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise stripe_error(
            400, f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
        )
    amount = remaining  # localstripe would refund the whole charge again
    if data.get("amount") is not None:
        amount = params.to_int(data["amount"], "amount", minimum=1)
        if amount > remaining:
            raise invalid(
                "amount",
                f"Refund amount ({format_amount(amount, charge.currency)}) is greater than unrefunded"
                f" amount on charge ({format_amount(remaining, charge.currency)})",
            )
    data["amount"] = amount
    refund = _orig_refund_create(cls, **data)
    refund.reason = reason
    refund.payment_intent = refund.payment_intent or charge.payment_intent
    emit("refund.created", refund)
    emit("charge.refunded", charge)
    return refund


Refund._api_create = classmethod(_refund_create)


# --- Routes that localstripe.server binds at import time ----------------------------------------------------

_ROUTE_OVERRIDES = {
    ("POST", "/v1/payment_intents/{id}/confirm"): _pi_confirm,
    ("POST", "/v1/payment_intents/{id}/cancel"): _pi_cancel,
}
for _index, (_method, _url, _func) in enumerate(extra_apis):
    if (_method, _url) in _ROUTE_OVERRIDES:
        extra_apis[_index] = (_method, _url, _ROUTE_OVERRIDES[(_method, _url)])
PaymentIntent._api_confirm = staticmethod(_pi_confirm)
PaymentIntent._api_cancel = staticmethod(_pi_cancel)
