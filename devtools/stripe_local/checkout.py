"""Checkout Sessions (mode=payment, inline price_data) on localstripe's store, PaymentIntents and events.

Paying happens on the local payment page (paypage.py); this module holds the session object, its API and
the state changes a payment attempt causes.
"""

from __future__ import annotations

import datetime

from localstripe.errors import UserError
from localstripe.resources import List, PaymentIntent, PaymentMethod, StripeObject, random_id, store

from . import params
from .config import settings
from .errors import invalid, missing, stripe_error, unknown
from .intents import authenticate_payment_intent
from .patches import emit

MIN_TTL = 30 * 60
MAX_TTL = 24 * 60 * 60

_PARAMS = {
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "metadata",
    "customer_email",
    "expires_at",
    "payment_intent_data",
}
# Presentation options of the hosted page: accepted, without effect on this local page.
_COSMETIC = {
    "locale",
    "submit_type",
    "billing_address_collection",
    "allow_promotion_codes",
    "customer_creation",
}
_PI_DATA = {"transfer_group", "metadata", "description"}


class CheckoutLineItem(StripeObject):
    object = "item"
    _id_prefix = "li_"

    def __init__(self, name: str, currency: str, unit_amount: int, quantity: int):
        super().__init__()
        self.description = name
        self.currency = currency
        self.quantity = quantity
        self.amount_discount = 0
        self.amount_tax = 0
        self.amount_subtotal = unit_amount * quantity
        self.amount_total = unit_amount * quantity
        self.price = {
            "id": "price_" + random_id(24),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": currency,
            "livemode": False,
            "metadata": {},
            "product": "prod_" + random_id(14),
            "recurring": None,
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }


def _line_items(value) -> list[tuple[str, str, int, int]]:
    items = params.list_of_dicts(value, "line_items")
    if not items:
        raise missing("line_items")
    if len(items) > 100:
        raise invalid("line_items", "A Checkout Session can have at most 100 line items.")
    parsed = []
    for i, item in enumerate(items):
        at = f"line_items[{i}]"
        if "price" in item:
            raise invalid(
                f"{at}[price]", "stripe_local supports only price_data line items, not saved prices."
            )
        params.reject_unknown(item, {"price_data", "quantity"}, at)
        data = params.required(item, "price_data", f"{at}[price_data]")
        if not isinstance(data, dict):
            raise invalid(f"{at}[price_data]", "Invalid object")
        params.reject_unknown(data, {"currency", "unit_amount", "product_data"}, f"{at}[price_data]")
        currency = params.currency(
            params.required(data, "currency", f"{at}[price_data][currency]"), f"{at}[price_data][currency]"
        )
        unit_amount = params.to_int(
            params.required(data, "unit_amount", f"{at}[price_data][unit_amount]"),
            f"{at}[price_data][unit_amount]",
            minimum=0,
            maximum=99_999_999,
        )
        product = params.required(data, "product_data", f"{at}[price_data][product_data]")
        if not isinstance(product, dict):
            raise invalid(f"{at}[price_data][product_data]", "Invalid object")
        params.reject_unknown(product, {"name", "description"}, f"{at}[price_data][product_data]")
        name = params.string(
            params.required(product, "name", f"{at}[price_data][product_data][name]"),
            f"{at}[price_data][product_data][name]",
            max_length=250,
        )
        quantity = params.to_int(
            params.required(item, "quantity", f"{at}[quantity]"),
            f"{at}[quantity]",
            minimum=1,
            maximum=999_999,
        )
        if parsed and currency != parsed[0][1]:
            raise invalid(f"{at}[price_data][currency]", "All line items must use the same currency.")
        parsed.append((name, currency, unit_amount, quantity))
    return parsed


def _payment_intent_data(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("payment_intent_data", "Invalid object")
    params.reject_unknown(value, _PI_DATA, "payment_intent_data")
    return {
        "transfer_group": params.string(value.get("transfer_group"), "payment_intent_data[transfer_group]"),
        "description": params.string(
            value.get("description"), "payment_intent_data[description]", max_length=1000
        ),
        "metadata": params.metadata(value.get("metadata"), "payment_intent_data[metadata]"),
    }


def _validate(data: dict) -> dict:
    data = dict(data)
    for key in _COSMETIC:
        data.pop(key, None)
    methods = data.pop("payment_method_types", None)
    if methods is not None and methods != ["card"]:
        raise invalid("payment_method_types", "stripe_local supports only payment_method_types=['card'].")
    ui_mode = data.pop("ui_mode", "hosted")
    if ui_mode != "hosted":
        raise invalid("ui_mode", "stripe_local supports only ui_mode=hosted.")
    params.reject_unknown(data, _PARAMS)
    mode = params.required(data, "mode")
    if mode not in ("payment", "setup", "subscription"):
        raise invalid("mode", f"Invalid mode: must be one of payment, setup, or subscription (got {mode!r})")
    if mode != "payment":
        raise invalid("mode", f"stripe_local supports only mode=payment, not {mode}.")
    items = _line_items(params.required(data, "line_items"))
    created = params.now()
    expires_at = created + MAX_TTL
    if data.get("expires_at") is not None:
        expires_at = params.to_int(data["expires_at"], "expires_at")
        if expires_at < created + MIN_TTL - 5:
            raise invalid("expires_at", "The `expires_at` timestamp must be at least 30 minutes from now.")
        if expires_at > created + MAX_TTL + 5:
            raise invalid("expires_at", "The `expires_at` timestamp must be less than 24 hours from now.")
    total = sum(unit * quantity for _, _, unit, quantity in items)
    if total <= 0:
        raise invalid("line_items", "The Checkout Session's total amount due must be greater than zero.")
    return {
        "items": items,
        "success_url": params.url(params.required(data, "success_url"), "success_url"),
        "cancel_url": params.url(data.get("cancel_url"), "cancel_url"),
        "client_reference_id": params.string(
            data.get("client_reference_id"), "client_reference_id", max_length=200
        ),
        "metadata": params.metadata(data.get("metadata")),
        "customer_email": params.email(data.get("customer_email"), "customer_email"),
        "expires_at": expires_at,
        "payment_intent_data": _payment_intent_data(data.get("payment_intent_data")),
        "total": total,
    }


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, **data):
        fields = _validate(data)
        # All exceptions must be raised before this point (the base class stores the object).
        super().__init__()
        self._line_items = [CheckoutLineItem(*item) for item in fields["items"]]
        self._payment_intent_data = fields["payment_intent_data"]
        self.mode = "payment"
        self.status = "open"
        self.payment_status = "unpaid"
        self.currency = fields["items"][0][1]
        self.amount_subtotal = fields["total"]
        self.amount_total = fields["total"]
        self.total_details = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        self.success_url = fields["success_url"]
        self.cancel_url = fields["cancel_url"]
        self.client_reference_id = fields["client_reference_id"]
        self.metadata = fields["metadata"]
        self.customer = None
        self.customer_email = fields["customer_email"]
        self.customer_details = None
        self.expires_at = fields["expires_at"]
        self.payment_intent = None
        self.payment_method_types = ["card"]
        self.ui_mode = "hosted"

    @property
    def url(self):
        # Stripe clears the url once the session is no longer open.
        return f"{settings.public_url}/pay/{self.id}" if self.status == "open" else None

    def _export(self, expand=None):
        expand = list(expand or [])
        with_items = "line_items" in expand
        obj = super()._export(expand=[path for path in expand if path != "line_items"])
        if with_items:
            obj["line_items"] = self._items_list()._export()
        return obj

    def _items_list(self, limit=None, starting_after=None) -> List:
        items = List(
            f"/v1/checkout/sessions/{self.id}/line_items", limit=limit, starting_after=starting_after
        )
        items._list = list(self._line_items)
        return items

    # --- state changes -------------------------------------------------------------------------------------

    def _intent(self):
        return store.get("payment_intent:" + self.payment_intent) if self.payment_intent else None

    def _refresh(self) -> None:
        """Catch up with time and with the PaymentIntent (which tests may authenticate directly)."""
        if self.status != "open":
            return
        intent = self._intent()
        if intent is not None and intent.status == "succeeded":
            self._complete()
        elif params.now() >= self.expires_at:
            self._expire()

    def _complete(self) -> None:
        self.status = "complete"
        self.payment_status = "paid"
        self.customer_details = {
            "email": self.customer_email,
            "name": None,
            "phone": None,
            "address": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        emit("checkout.session.completed", self)

    def _expire(self) -> None:
        self.status = "expired"
        intent = self._intent()
        if intent is not None and intent.status in ("requires_payment_method", "requires_action"):
            PaymentIntent._api_cancel(intent.id, cancellation_reason="abandoned")
        emit("checkout.session.expired", self)

    def _pay(self, card_number: str) -> str:
        """One payment attempt with a card number; returns the PaymentIntent status, raises 402 on decline."""
        card = {
            "number": card_number,
            "exp_month": "12",
            "exp_year": str(datetime.date.today().year + 5),
            "cvc": "123",
        }
        method = PaymentMethod(type="card", card=card)
        intent = self._intent()
        if intent is None:
            data = self._payment_intent_data
            intent = PaymentIntent._api_create(
                amount=self.amount_total,
                currency=self.currency,
                metadata=dict(data.get("metadata") or {}),
                description=data.get("description"),
                transfer_group=data.get("transfer_group"),
            )
            self.payment_intent = intent.id
        PaymentIntent._api_confirm(intent.id, payment_method=method.id)
        self._refresh()
        return intent.status

    def _authenticate(self, success: bool) -> str:
        intent = self._intent()
        if intent is None:
            raise stripe_error(400, "This session has no payment waiting for authentication.")
        authenticate_payment_intent(intent.id, success)
        self._refresh()
        return intent.status

    # --- API ------------------------------------------------------------------------------------------------

    @classmethod
    def _api_retrieve(cls, id):
        session = super()._api_retrieve(id)
        session._refresh()
        return session

    @classmethod
    def _api_update(cls, id, metadata=None, **data):
        if data:
            raise unknown(next(iter(data)))
        session = cls._api_retrieve(id)
        session.metadata.update(params.metadata(metadata))
        return session

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, payment_intent=None, status=None, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        if status is not None and status not in ("open", "complete", "expired"):
            raise invalid("status", "Invalid status: must be one of open, complete, or expired")
        listing = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        for session in listing._list:
            session._refresh()
        listing._list = newest_first(
            s
            for s in listing._list
            if (payment_intent is None or s.payment_intent == payment_intent)
            and (status is None or s.status == status)
        )
        return listing

    @classmethod
    def _api_expire(cls, id, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        session = cls._api_retrieve(id)
        if session.status != "open":
            raise stripe_error(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired.'
                f' This Checkout Session has a status of "{session.status}".',
            )
        session._expire()
        return session

    @classmethod
    def _api_list_line_items(cls, id, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        return cls._api_retrieve(id)._items_list(limit=limit, starting_after=starting_after)


def newest_first(objects) -> list:
    # Stripe lists newest first; created has one-second resolution, so ties go by store order.
    ranked = sorted(enumerate(objects), key=lambda pair: (pair[1].created, pair[0]), reverse=True)
    return [obj for _, obj in ranked]


def refresh_sessions_for(payment_intent_id: str) -> None:
    for key, obj in list(store.items()):
        if key.startswith("checkout.session:") and obj.payment_intent == payment_intent_id:
            obj._refresh()


def find_session(id: str) -> CheckoutSession | None:
    try:
        return CheckoutSession._api_retrieve(id)
    except UserError:
        return None
