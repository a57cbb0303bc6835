"""Shared payment tokens (SPTs): a payment method a shopper's agent shares with a seller, within limits.

As Stripe's agentic-commerce test mode has them:

- `POST /v1/test_helpers/shared_payment/granted_tokens` (`payment_method`, `usage_limits[currency]`,
  `usage_limits[max_amount]`, `usage_limits[expires_at]`) grants this account a token (`spt_...`), as an
  agent's platform would (here also under a chosen `id`, which Stripe does not offer);
- `GET /v1/shared_payment/granted_tokens/{id}` shows it, with what has been charged on it;
- `POST /v1/test_helpers/shared_payment/granted_tokens/{id}/revoke` deactivates it;
- a PaymentIntent created with `payment_method_data[shared_payment_granted_token]` (or the older top-level
  `shared_payment_granted_token`) charges the payment method behind the token. A revoked or expired token,
  another currency or more than `max_amount` is refused as Stripe refuses it; the card itself then declines
  or asks for 3-D Secure as its test number says (pm_card_chargeDeclined, pm_card_threeDSecure2Required).

Applied on import, after intents.py (it wraps the PaymentIntent create that module installs).
"""

from __future__ import annotations

import time

from aiohttp import web
from localstripe.errors import json_response
from localstripe.resources import PaymentIntent, random_id, store

from . import intents, params
from .errors import invalid, missing, not_found, stripe_error
from .patches import resolve_payment_method

PREFIX = "shared_payment.granted_token:"
DEFAULT_LIFETIME = 3600


class GrantedToken:
    def __init__(
        self, payment_method: str, currency: str, max_amount: int, expires_at: int, token_id: str | None = None
    ) -> None:
        self.id = token_id or "spt_" + random_id(24)
        self.payment_method = payment_method
        self.currency = currency
        self.max_amount = max_amount
        self.expires_at = expires_at
        self.created = int(time.time())
        self.deactivated_at: int | None = None
        self.deactivated_reason: str | None = None
        self.amount_captured = 0
        store[PREFIX + self.id] = self

    def export(self) -> dict:
        return {
            "id": self.id,
            "object": "shared_payment.granted_token",
            "created": self.created,
            "livemode": False,
            "deactivated_at": self.deactivated_at,
            "deactivated_reason": self.deactivated_reason,
            "payment_method_details": {"type": "card"},
            "shared_metadata": {},
            "usage_details": {"amount_captured": {"value": self.amount_captured, "currency": self.currency}},
            "usage_limits": {
                "currency": self.currency,
                "max_amount": self.max_amount,
                "expires_at": self.expires_at,
            },
        }


def _token(token_id: str, param: str = "id") -> GrantedToken:
    token = store.get(PREFIX + str(token_id))
    if token is None:
        raise not_found(
            "SharedPaymentGrantedToken", str(token_id), param=param, status=400 if param != "id" else 404
        )
    return token


async def _form(request: web.Request) -> dict:
    from localstripe.server import get_post_data

    return dict(await get_post_data(request) or {})


async def grant(request: web.Request) -> web.Response:
    data = await _form(request)
    if not data.get("payment_method"):
        raise missing("payment_method")
    limits = data.get("usage_limits")
    if not isinstance(limits, dict):
        raise missing("usage_limits")
    params.reject_unknown(limits, ("currency", "max_amount", "expires_at"), "usage_limits")
    currency = str(params.required(limits, "currency", "usage_limits[currency]")).lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid("usage_limits[currency]", f"Invalid currency: {currency}")
    max_amount = params.to_int(
        params.required(limits, "max_amount", "usage_limits[max_amount]"),
        "usage_limits[max_amount]",
        minimum=1,
    )
    expires_at = int(time.time()) + DEFAULT_LIFETIME
    if limits.get("expires_at") is not None:
        expires_at = params.to_int(limits["expires_at"], "usage_limits[expires_at]", minimum=0)
    method = resolve_payment_method(data["payment_method"])
    # Local only: a token may be granted under a chosen id, for outside test suites whose payment
    # credentials are fixed strings (the UCP conformance suite pays with "success_token").
    token_id = data.get("id")
    if token_id is not None:
        token_id = str(token_id)
        if not (0 < len(token_id) <= 100 and token_id.isprintable()) or PREFIX + token_id in store:
            raise invalid("id", f"Invalid or taken token id: {token_id[:100]}")
    return json_response(GrantedToken(method, currency, max_amount, expires_at, token_id).export())


async def retrieve(request: web.Request) -> web.Response:
    return json_response(_token(request.match_info["id"]).export())


async def revoke(request: web.Request) -> web.Response:
    token = _token(request.match_info["id"])
    if token.deactivated_at is None:
        token.deactivated_at = int(time.time())
        token.deactivated_reason = "revoked"
    return json_response(token.export())


def add_routes(app: web.Application) -> None:
    add = app.router.add_route
    add("POST", "/v1/test_helpers/shared_payment/granted_tokens", grant)
    add("POST", "/v1/test_helpers/shared_payment/granted_tokens/{id}/revoke", revoke)
    add("GET", "/v1/shared_payment/granted_tokens/{id}", retrieve)


# --- PaymentIntents paid with a granted token -------------------------------------------------------------

assert PaymentIntent._api_create.__func__ is intents._pi_create, "wraps the create intents.py installs"
_create_before = PaymentIntent._api_create.__func__


def _usable(token_id: str, amount, currency, param: str) -> tuple[GrantedToken, int]:
    """The token and the amount, once the payment is checked against the token's limits."""
    token = _token(token_id, param=param)
    if token.deactivated_at is not None or token.expires_at < time.time():
        raise stripe_error(
            400,
            f"The SharedPaymentGrantedToken {token.id} is no longer active.",
            code="shared_payment_granted_token_inactive",
            param=param,
        )
    amount = params.to_int(amount, "amount", minimum=1)
    if str(currency).lower() != token.currency:
        raise invalid("currency", f"The SharedPaymentGrantedToken can only be used in {token.currency}.")
    if token.amount_captured + amount > token.max_amount:
        raise stripe_error(
            400,
            f"The amount exceeds the SharedPaymentGrantedToken's limit of {token.max_amount}.",
            code="amount_too_large",
            param="amount",
        )
    return token, amount


def _create(cls, payment_method_data=None, shared_payment_granted_token=None, **data):
    if isinstance(payment_method_data, dict) and "shared_payment_granted_token" in payment_method_data:
        extra = set(payment_method_data) - {"shared_payment_granted_token"}
        if extra:
            raise invalid(f"payment_method_data[{extra.pop()}]", "Not allowed with a shared payment token.")
        shared_payment_granted_token = payment_method_data["shared_payment_granted_token"]
        param = "payment_method_data[shared_payment_granted_token]"
    elif payment_method_data is not None:
        raise invalid("payment_method_data", "Only shared_payment_granted_token is supported here.")
    else:
        param = "shared_payment_granted_token"
    if shared_payment_granted_token is None:
        return _create_before(cls, **data)
    if data.get("payment_method") is not None:
        raise invalid(param, "Give a payment_method or a shared payment token, not both.")
    token, amount = _usable(shared_payment_granted_token, data.get("amount"), data.get("currency"), param)
    data["payment_method"] = token.payment_method
    intent = _create_before(cls, **data)  # a decline raises here, and nothing is spent
    if intent.status in ("succeeded", "requires_action", "processing"):
        token.amount_captured += amount  # held against the limit from the moment it is asked for
    return intent


PaymentIntent._api_create = classmethod(_create)
