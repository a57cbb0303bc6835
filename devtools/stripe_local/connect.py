"""Stripe Connect: connected accounts, transfers to them, and transfer reversals.

Accounts come back fully onboarded (charges and payouts enabled); there is no onboarding flow to mimic.
"""

from __future__ import annotations

import re

from localstripe.resources import Charge, List, StripeObject, random_id, store

from . import params
from .checkout import newest_first
from .errors import invalid, missing, not_found, stripe_error, unknown
from .money import format_amount
from .patches import emit

_EURO = ("AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV", "MT", "NL")
DEFAULT_CURRENCY = {
    **dict.fromkeys((*_EURO, "PT", "SI", "SK"), "eur"),
    "US": "usd",
    "GB": "gbp",
    "CA": "cad",
    "AU": "aud",
    "NZ": "nzd",
    "JP": "jpy",
    "CH": "chf",
    "SE": "sek",
    "DK": "dkk",
    "NO": "nok",
    "PL": "pln",
    "SG": "sgd",
    "HK": "hkd",
    "MX": "mxn",
    "BR": "brl",
    "IN": "inr",
}
_ACCOUNT_TYPES = ("express", "custom", "standard")
# Onboarding data a platform may send; stored nowhere, as no verification happens here.
_ACCOUNT_IGNORED = {"tos_acceptance", "individual", "company", "settings", "external_account", "documents"}


def _capabilities(value) -> dict[str, str]:
    if value is None or value == "":
        return {"card_payments": "active", "transfers": "active"}
    if not isinstance(value, dict):
        raise invalid("capabilities", "Invalid object")
    result = {}
    for name, request in value.items():
        if not isinstance(request, dict):
            raise invalid(f"capabilities[{name}]", "Invalid object")
        requested = params.boolean(request.get("requested"), f"capabilities[{name}][requested]")
        if requested:
            result[name] = "active"
    return result


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type=None,
        country=None,
        email=None,
        metadata=None,
        capabilities=None,
        business_type=None,
        business_profile=None,
        controller=None,
        default_currency=None,
        **kwargs,
    ):
        for key in _ACCOUNT_IGNORED:
            kwargs.pop(key, None)
        if kwargs:
            raise unknown(next(iter(kwargs)))
        if type is None and controller is None:
            raise missing("type")
        if type is not None and type not in _ACCOUNT_TYPES:
            raise invalid("type", f"Invalid type: must be one of {', '.join(_ACCOUNT_TYPES)}")
        country = (country or "US").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise invalid("country", f"Invalid country: {country}")
        email = params.email(email, "email")
        metadata = params.metadata(metadata)
        capabilities = _capabilities(capabilities)
        if business_type not in (None, "individual", "company", "non_profit", "government_entity"):
            raise invalid("business_type", f"Invalid business_type: {business_type}")
        if business_profile is not None and not isinstance(business_profile, dict):
            raise invalid("business_profile", "Invalid object")
        if default_currency is not None:
            default_currency = params.currency(default_currency, "default_currency")
        # All exceptions must be raised before this point (the base class stores the object).
        super().__init__()
        self.type = type or "custom"
        self.controller = controller if isinstance(controller, dict) else {"type": "application"}
        self.country = country
        self.email = email
        self.metadata = metadata
        self.capabilities = capabilities
        self.business_type = business_type
        self.business_profile = business_profile or {}
        self.default_currency = default_currency or DEFAULT_CURRENCY.get(country, "usd")
        self.charges_enabled = True
        self.payouts_enabled = True
        self.details_submitted = True
        self.requirements = {
            "currently_due": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
            "disabled_reason": None,
            "current_deadline": None,
        }

    @classmethod
    def _api_update(cls, id, metadata=None, email=None, business_profile=None, **kwargs):
        for key in _ACCOUNT_IGNORED | {"capabilities"}:
            kwargs.pop(key, None)
        if kwargs:
            raise unknown(next(iter(kwargs)))
        account = cls._api_retrieve(id)
        if metadata is not None:
            account.metadata.update(params.metadata(metadata))
        if email is not None:
            account.email = params.email(email, "email")
        if isinstance(business_profile, dict):
            account.business_profile.update(business_profile)
        emit("account.updated", account)
        return account

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        listing = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        listing._list = newest_first(listing._list)
        return listing


def _charge_available(charge: Charge, currency: str) -> int:
    """What a transfer may still take from its source charge: the amount less refunds and transfers."""
    transferred = sum(
        transfer.amount - transfer.amount_reversed
        for key, transfer in store.items()
        if key.startswith("transfer:") and transfer.source_transaction == charge.id
    )
    return charge.amount - charge.amount_refunded - transferred


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount=None,
        currency=None,
        destination=None,
        transfer_group=None,
        source_transaction=None,
        metadata=None,
        description=None,
        source_type=None,
        **kwargs,
    ):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        amount = params.to_int(params.required({"amount": amount}, "amount"), "amount", minimum=1)
        currency = params.currency(params.required({"currency": currency}, "currency"), "currency")
        destination = params.required({"destination": destination}, "destination")
        if store.get("account:" + str(destination)) is None:
            raise not_found("destination", destination, param="destination", status=400)
        transfer_group = params.string(transfer_group, "transfer_group")
        description = params.string(description, "description", max_length=1000)
        metadata = params.metadata(metadata)
        if source_type not in (None, "card", "bank_account", "fpx"):
            raise invalid("source_type", f"Invalid source_type: {source_type}")
        if source_transaction is not None:
            charge = store.get("charge:" + str(source_transaction))
            if charge is None:
                raise not_found("charge", source_transaction, param="source_transaction", status=400)
            if charge.status != "succeeded":
                raise invalid("source_transaction", f"The charge {charge.id} has not succeeded.")
            if charge.currency != currency:
                raise invalid(
                    "currency",
                    f"The currency of source_transaction's balance transaction ({charge.currency}) must be"
                    f" the same as the transfer currency ({currency}).",
                )
            available = _charge_available(charge, currency)
            if amount > available:
                raise invalid(
                    "amount",
                    f"The transfer amount ({format_amount(amount, currency)}) exceeds what remains of"
                    f" source_transaction {charge.id} ({format_amount(available, currency)}).",
                )
        # All exceptions must be raised before this point (the base class stores the object).
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.destination = destination
        self.destination_payment = "py_" + random_id(24)
        self.transfer_group = transfer_group
        self.source_transaction = source_transaction
        self.source_type = source_type or "card"
        self.description = description
        self.metadata = metadata
        self.balance_transaction = None

    def _reversal_objects(self) -> list:
        return [
            obj
            for key, obj in store.items()
            if key.startswith("transfer_reversal:") and obj.transfer == self.id
        ]

    @property
    def amount_reversed(self):
        return sum(reversal.amount for reversal in self._reversal_objects())

    @property
    def reversed(self):
        return self.amount_reversed >= self.amount

    @property
    def reversals(self):
        return self._reversals_list()

    def _reversals_list(self, limit=None, starting_after=None) -> List:
        listing = List(f"/v1/transfers/{self.id}/reversals", limit=limit, starting_after=starting_after)
        listing._list = newest_first(self._reversal_objects())
        return listing

    @classmethod
    def _api_create(cls, **data):
        transfer = super()._api_create(**data)
        emit("transfer.created", transfer)
        return transfer

    @classmethod
    def _api_update(cls, id, metadata=None, description=None, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        transfer = cls._api_retrieve(id)
        if metadata is not None:
            transfer.metadata.update(params.metadata(metadata))
        if description is not None:
            transfer.description = params.string(description, "description", max_length=1000)
        emit("transfer.updated", transfer)
        return transfer

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, destination=None, transfer_group=None, **kw):
        if kw:
            raise unknown(next(iter(kw)))
        listing = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        listing._list = newest_first(
            t
            for t in listing._list
            if (destination is None or t.destination == destination)
            and (transfer_group is None or t.transfer_group == transfer_group)
        )
        return listing

    @classmethod
    def _api_create_reversal(cls, id, amount=None, metadata=None, description=None, **kwargs):
        kwargs.pop("refund_application_fee", None)
        if kwargs:
            raise unknown(next(iter(kwargs)))
        transfer = cls._api_retrieve(id)
        remaining = transfer.amount - transfer.amount_reversed
        if remaining <= 0:
            raise stripe_error(
                400, f"Transfer {transfer.id} has already been fully reversed.", param="amount"
            )
        amount = remaining if amount is None else params.to_int(amount, "amount", minimum=1)
        if amount > remaining:
            raise invalid(
                "amount",
                f"You have requested a reversal of {format_amount(amount, transfer.currency)}, but only"
                f" {format_amount(remaining, transfer.currency)} remains on transfer {transfer.id}.",
            )
        reversal = TransferReversal(transfer, amount, params.metadata(metadata))
        emit("transfer.reversed", transfer)
        return reversal

    @classmethod
    def _api_list_reversals(cls, id, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise unknown(next(iter(kwargs)))
        return cls._api_retrieve(id)._reversals_list(limit=limit, starting_after=starting_after)

    @classmethod
    def _api_retrieve_reversal(cls, id, reversal_id, **kwargs):
        transfer = cls._api_retrieve(id)
        reversal = store.get("transfer_reversal:" + reversal_id)
        if reversal is None or reversal.transfer != transfer.id:
            raise not_found("transfer_reversal", reversal_id)
        return reversal


class TransferReversal(StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer: Transfer, amount: int, metadata: dict):
        super().__init__()
        self.transfer = transfer.id
        self.amount = amount
        self.currency = transfer.currency
        self.metadata = metadata
        self.balance_transaction = None
        self.destination_payment_refund = "pyr_" + random_id(24)
        self.source_refund = None
