"""The demo's exchange-rate table (`market/taxonomy/data/exchange_rates.json`), for comparing prices in
different currencies in `agora eval assistant`: Decimal throughout, minor units as babel knows them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from importlib.resources import files

from babel.numbers import get_currency_precision

CONVERSION_TOLERANCE = Decimal("0.05")  # an approximate amount may be this far (share) from the table's


class Unresolved(Exception):
    """A check names something the dialogue cannot point at (no list shown, no such position, no rate)."""


@dataclass(frozen=True)
class ExchangeRates:
    """How much of each currency one unit of the base currency buys (the demo's table), as Decimals."""

    rates: Mapping[str, Decimal]

    @classmethod
    def demo(cls) -> ExchangeRates:
        table = json.loads(files("market.taxonomy").joinpath("data/exchange_rates.json").read_text())
        return cls({code: Decimal(rate) for code, rate in table["rates"].items()})

    def convert(self, value: Decimal, currency: str, to: str) -> Decimal:
        """`value` major units of `currency` in major units of `to`, unrounded."""
        if currency == to:
            return value
        if currency not in self.rates or to not in self.rates:
            raise Unresolved(f"no exchange rate between {currency} and {to}")
        return value / self.rates[currency] * self.rates[to]

    def minor(self, amount: int, currency: str, to: str) -> int:
        """`amount` minor units of `currency` in minor units of `to`, rounded half to even."""
        value = self.convert(major(amount, currency), currency, to)
        return int(value.scaleb(get_currency_precision(to)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def major(amount: int, currency: str) -> Decimal:
    """`amount` minor units of `currency` as major units: 12999 USD -> 129.99, 500 JPY -> 500."""
    return Decimal(amount).scaleb(-get_currency_precision(currency))


def is_conversion(value: Decimal, wanted: Decimal) -> bool:
    """Whether an approximate `value` is a fair conversion of what the table gives (`wanted`): within 5%."""
    return abs(value - wanted) <= max(wanted * CONVERSION_TOLERANCE, Decimal("0.01"))
