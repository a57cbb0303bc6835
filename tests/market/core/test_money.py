"""Exchange rates: a dated table that is valid once made, and conversions that are exact integer arithmetic
in each currency's own minor unit (JPY has none), rounded half up."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date
from decimal import Decimal

import pytest

from market.core.errors import InvalidInput
from market.core.money import ExchangeRates

AS_OF = date(2026, 11, 30)


def table(**rates: str) -> ExchangeRates:
    return ExchangeRates.parse("2026-11-30", "USD", {"USD": "1", **rates})


# -- converting -----------------------------------------------------------------------------------------


def test_an_amount_converts_through_the_base_in_each_currencys_minor_units():
    rates = table(EUR="0.92", JPY="150")
    assert rates.convert(10_000, "USD", "EUR") == 9_200  # $100.00 -> €92.00
    assert rates.convert(9_200, "EUR", "USD") == 10_000
    assert rates.convert(100, "USD", "JPY") == 150  # $1.00 -> ¥150: the yen has no minor unit
    assert rates.convert(15_000, "JPY", "USD") == 10_000  # ¥15000 -> $100.00
    assert rates.convert(100, "EUR", "JPY") == 163  # €1.00 = $1.0869... = ¥163.04
    assert rates.convert(0, "EUR", "JPY") == 0


def test_a_conversion_rounds_to_the_nearer_minor_unit_and_a_half_up():
    halves = table(EUR="0.5")
    assert [halves.convert(cents, "USD", "EUR") for cents in (1, 3, 5, 7)] == [1, 2, 3, 4]  # not to even
    assert table(EUR="0.49").convert(1, "USD", "EUR") == 0  # 0.49 of a cent
    assert table(EUR="0.51").convert(1, "USD", "EUR") == 1
    yen = table(JPY="150")
    assert yen.convert(1, "JPY", "USD") == 1  # 0.666 cent
    assert yen.convert(3, "JPY", "USD") == 2  # 2 cents exactly
    assert [yen.convert(cents, "USD", "JPY") for cents in (1, 3)] == [2, 5]  # ¥1.5 -> 2, ¥4.5 -> 5


def test_digits_beyond_a_float_s_precision_are_kept():
    rates = table(EUR="0.923456789012345")
    # 10^12 cents at a float's precision would be off by whole cents.
    assert rates.convert(10**12, "USD", "EUR") == 923_456_789_012
    assert rates.convert(10**15, "USD", "EUR") == 923_456_789_012_345


def test_the_same_currency_converts_to_itself_and_a_missing_rate_to_nothing():
    rates = table(EUR="0.92")
    assert rates.convert(12_345, "GBP", "GBP") == 12_345  # no rate needed
    assert rates.convert(12_345, "GBP", "USD") is None
    assert rates.convert(12_345, "USD", "GBP") is None
    assert rates.source_range(0, 100, "GBP", "USD") is None


def test_the_prices_converting_into_a_range_are_exactly_those_convert_puts_there():
    rates = table(EUR="0.92", JPY="150", BHD="0.376")  # BHD has three decimals
    bounds = [None, 0, 1, 99, 100, 101, 2_500]
    for (source, target), low, high in itertools.product(
        itertools.permutations(["USD", "EUR", "JPY", "BHD"], 2), bounds, bounds
    ):
        first, last = rates.source_range(low, high, source, target)
        for amount in range(4_000):
            converted = rates.convert(amount, source, target)
            inside = (low is None or converted >= low) and (high is None or converted <= high)
            assert inside == (first <= amount and (last is None or amount <= last)), (source, target, amount)


# -- a valid table --------------------------------------------------------------------------------------


def test_a_table_is_immutable():
    rates = table(EUR="0.92")
    with pytest.raises(TypeError):
        rates.rates["EUR"] = Decimal(1)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rates.base = "EUR"  # type: ignore[misc]
    assert rates.as_of == AS_OF and rates.rates == {"USD": Decimal(1), "EUR": Decimal("0.92")}


@pytest.mark.parametrize(
    ("as_of", "base", "rates", "where"),
    [
        pytest.param("30/11/2026", "USD", {"USD": "1"}, "body.as_of", id="not a date"),
        pytest.param("2026-11-30", "usd", {"USD": "1"}, "body.base", id="lower-case base"),
        pytest.param("2026-11-30", "ABC", {"ABC": "1"}, "body.base", id="unknown base"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUX": "0.9"}, "body.rates.EUX", id="unknown code"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "eur": "0.9"}, "body.rates.eur", id="lower-case code"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUR": "0"}, "body.rates.EUR", id="zero"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUR": "-0.9"}, "body.rates.EUR", id="negative"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUR": "9e-1"}, "body.rates.EUR", id="exponent"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUR": "NaN"}, "body.rates.EUR", id="not a number"),
        pytest.param("2026-11-30", "USD", {"USD": "1", "EUR": 0.92}, "body.rates.EUR", id="a float"),
        pytest.param("2026-11-30", "USD", {"USD": "1.01"}, "body.rates.USD", id="base rate not 1"),
        pytest.param("2026-11-30", "USD", {"EUR": "0.92"}, "body.rates", id="no base rate"),
    ],
)
def test_a_malformed_table_is_refused_naming_the_field(as_of, base, rates, where):
    with pytest.raises(InvalidInput) as refused:
        ExchangeRates.parse(as_of, base, rates, where="body")
    assert refused.value.where == where


def test_a_table_made_directly_is_checked_too():
    with pytest.raises(InvalidInput) as refused:
        ExchangeRates(as_of=AS_OF, base="USD", rates={"USD": Decimal(1), "EUR": Decimal(-1)})
    assert refused.value.where == "rates.EUR"
    assert ExchangeRates(AS_OF, "USD", {"USD": Decimal("1.000")}).convert(5, "USD", "USD") == 5
