"""`agora demo` installs the demo's dated exchange-rate table where the operator has set none, and leaves an
operator's table alone."""

from __future__ import annotations

import dataclasses

import pytest

from market.app import demo
from market.core.money import ExchangeRates
from market.taxonomy.demo_catalog import DEMO_SELLERS
from market.taxonomy.rates import demo_exchange_rates
from payments import exchange_rates


@pytest.fixture(autouse=True)
def small_catalogs(monkeypatch):
    """The demo sellers with one product each: the exchange-rate table is what is under test."""
    monkeypatch.setattr(
        demo, "DEMO_SELLERS", tuple(dataclasses.replace(seller, product_count=1) for seller in DEMO_SELLERS)
    )


async def test_the_demo_installs_its_dated_table_where_none_is_set(pool, tmp_path):
    await demo.seed_demo(pool, tmp_path)
    assert await exchange_rates.current(pool) == demo_exchange_rates()


async def test_the_demo_keeps_the_operators_table(pool, tmp_path):
    operators = ExchangeRates.parse("2027-01-04", "EUR", {"EUR": "1", "USD": "1.0875"})
    await exchange_rates.replace(pool, operators)

    await demo.seed_demo(pool, tmp_path)

    assert await exchange_rates.current(pool) == operators
