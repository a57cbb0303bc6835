"""The one Money type: integer minor units of an ISO 4217 currency, never a float.

{"amount": 12999, "currency": "USD"} is $129.99; {"amount": 500, "currency": "JPY"} is ¥500.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]
MinorUnits = Annotated[int, Meta(ge=0, le=10**12, description="integer minor units, e.g. cents")]


class Money(Struct, forbid_unknown_fields=True):
    amount: MinorUnits
    currency: CurrencyCode
