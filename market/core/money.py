"""The one Money type: integer minor units of an ISO 4217 currency, never a float; and the exchange-rate
table (`ExchangeRates`) that converts an amount from one currency into another.

{"amount": 12999, "currency": "USD"} is $129.99; {"amount": 500, "currency": "JPY"} is ¥500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated

from babel.numbers import get_currency_precision, list_currencies
from msgspec import Meta, Struct

from market.core.errors import InvalidInput

CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]
MinorUnits = Annotated[int, Meta(ge=0, le=10**12, description="integer minor units, e.g. cents")]


class Money(Struct, forbid_unknown_fields=True):
    amount: MinorUnits
    currency: CurrencyCode


# ISO 4217 codes that are not money anything is priced in (no currency, testing, precious metals).
_NOT_MONEY = frozenset({"XXX", "XTS", "XAU", "XAG", "XPD", "XPT"})
CURRENCIES = frozenset(list_currencies()) - _NOT_MONEY
# A rate as JSON carries it: a plain positive decimal string, "0.92" or "150" (no exponent, no sign).
_DECIMAL_TEXT = re.compile(r"^\d{1,15}(\.\d{1,15})?$")


def minor_exponent(currency: str) -> int:
    """The decimals of the currency's minor unit: 2 for USD (cents), 0 for JPY, 3 for BHD."""
    return get_currency_precision(currency)


@dataclass(frozen=True, slots=True)
class ExchangeRates:
    """A dated exchange-rate table: one unit of `base` buys `rates[c]` units of currency `c`.

    Immutable (`rates` is a read-only mapping of `Decimal`s) and valid once made: every code is an ISO 4217
    currency, every rate positive and finite, and the base's own rate is 1; otherwise `InvalidInput`
    names the field at fault (`rates.EUR`). Conversions are exact integer arithmetic on the rates' decimal
    digits, never floats.
    """

    as_of: date
    base: str
    rates: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        _check(self.as_of, self.base, self.rates, None)
        object.__setattr__(self, "rates", MappingProxyType(dict(self.rates)))

    @classmethod
    def parse(
        cls, as_of: str | date, base: str, rates: Mapping[str, object], *, where: str | None = None
    ) -> ExchangeRates:
        """A table as JSON writes it (a YYYY-MM-DD date, decimal strings such as "0.92"). `InvalidInput`
        names the field at fault below `where`, e.g. `body.rates.EUR` for where="body"."""
        if isinstance(as_of, str):
            try:
                as_of = date.fromisoformat(as_of)
            except ValueError:
                raise InvalidInput.invalid(
                    _at(where, "as_of"), f"{as_of!r} is not a YYYY-MM-DD date"
                ) from None
        decimals: dict[str, Decimal] = {}
        for code, text in rates.items():
            if not isinstance(text, str) or not _DECIMAL_TEXT.match(text):
                raise InvalidInput.invalid(
                    _at(where, f"rates.{code}"), f'a rate is a decimal string such as "0.92", not {text!r}'
                )
            decimals[code] = Decimal(text)
        _check(as_of, base, decimals, where)
        return cls(as_of=as_of, base=base, rates=decimals)

    def convert(self, amount_minor: int, from_currency: str, to_currency: str) -> int | None:
        """`amount_minor` minor units of `from_currency` in minor units of `to_currency`, through the base.

        Rounded half up (to the nearer minor unit, a half away from zero), as the euro's conversion rules
        round; each currency's minor unit is its own (`minor_exponent`: JPY has none). The amount itself
        when the two currencies are the same; None when either has no rate in the table.
        """
        factor = self._factor(from_currency, to_currency)
        if factor is None:
            return None
        numerator, denominator = factor
        magnitude = (2 * abs(amount_minor) * numerator + denominator) // (2 * denominator)
        return magnitude if amount_minor >= 0 else -magnitude

    def source_range(
        self, low: int | None, high: int | None, from_currency: str, to_currency: str
    ) -> tuple[int, int | None] | None:
        """The amounts of `from_currency` (minor units, from 0) whose `convert` to `to_currency` lies within
        [low, high] (None: no bound on that side), as (first, last), last None when unbounded; the range is
        empty when last < first. None when either currency has no rate. It lets a price range in one
        currency be compared with prices kept in another, giving exactly what `convert` would decide."""
        factor = self._factor(from_currency, to_currency)
        if factor is None:
            return None
        numerator, denominator = factor
        # convert(p) = floor((2pN + D) / 2D) for p >= 0, so convert(p) >= low  <=>  2pN >= (2 low - 1) D
        # and convert(p) <= high  <=>  2pN < (2 high + 1) D.
        first = 0 if low is None else max(0, _ceil_div((2 * low - 1) * denominator, 2 * numerator))
        last = None if high is None else _ceil_div((2 * high + 1) * denominator, 2 * numerator) - 1
        return first, last

    def _factor(self, from_currency: str, to_currency: str) -> tuple[int, int] | None:
        """minor units of `to_currency` per minor unit of `from_currency`, as an exact fraction N/D."""
        if from_currency == to_currency:
            return 1, 1
        from_rate, to_rate = self.rates.get(from_currency), self.rates.get(to_currency)
        if from_rate is None or to_rate is None:
            return None
        from_n, from_d = from_rate.as_integer_ratio()
        to_n, to_d = to_rate.as_integer_ratio()
        numerator = to_n * from_d * 10 ** minor_exponent(to_currency)
        denominator = to_d * from_n * 10 ** minor_exponent(from_currency)
        common = math.gcd(numerator, denominator)
        return numerator // common, denominator // common


def _check(as_of: object, base: str, rates: Mapping[str, Decimal], where: str | None) -> None:
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise InvalidInput.invalid(_at(where, "as_of"), "the table's date is a YYYY-MM-DD date")
    if base not in CURRENCIES:
        raise InvalidInput.invalid(_at(where, "base"), f"{base!r} is not an ISO 4217 currency code")
    for code, rate in rates.items():
        if code not in CURRENCIES:
            raise InvalidInput.invalid(
                _at(where, f"rates.{code}"), f"{code!r} is not an ISO 4217 currency code"
            )
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
            raise InvalidInput.invalid(
                _at(where, f"rates.{code}"), f"a rate is a positive decimal, not {rate}"
            )
    if base not in rates:
        raise InvalidInput.invalid(
            _at(where, "rates"), f"the table has no rate for its base {base} (it is 1)"
        )
    if rates[base] != 1:
        raise InvalidInput.invalid(
            _at(where, f"rates.{base}"), f"the base's own rate is 1, not {rates[base]}"
        )


def _at(where: str | None, field: str) -> str:
    return f"{where}.{field}" if where else field


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
