"""The operator's exchange-rate table: none until set, replaced whole, and the demo's dated one installed
only where the operator has set none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from market.core.money import ExchangeRates
from market.taxonomy.rates import demo_exchange_rates
from payments import exchange_rates

OPERATORS = ExchangeRates.parse("2027-01-04", "EUR", {"EUR": "1", "USD": "1.0875", "JPY": "162.5"})


async def test_there_is_no_table_until_one_is_set(pool: asyncpg.Pool) -> None:
    assert await exchange_rates.current(pool) is None

    stored = await exchange_rates.replace(pool, OPERATORS)

    assert stored == OPERATORS == await exchange_rates.current(pool)


async def test_a_new_table_replaces_the_old_one_whole(pool: asyncpg.Pool) -> None:
    await exchange_rates.replace(pool, demo_exchange_rates())
    await exchange_rates.replace(pool, OPERATORS)

    current = await exchange_rates.current(pool)
    assert (current.as_of, current.base) == (date(2027, 1, 4), "EUR")
    assert dict(current.rates) == {"EUR": 1, "USD": Decimal("1.0875"), "JPY": Decimal("162.5")}  # no GBP left


async def test_the_demo_table_is_installed_only_where_none_is_set(pool: asyncpg.Pool) -> None:
    demo = demo_exchange_rates()
    assert (demo.as_of, demo.base, demo.rates["EUR"], demo.rates["JPY"]) == (
        date(2026, 11, 30),
        "USD",
        Decimal("0.92"),
        Decimal(150),
    )

    assert await exchange_rates.install_if_unset(pool, demo) == demo
    await exchange_rates.replace(pool, OPERATORS)
    assert await exchange_rates.install_if_unset(pool, demo) == OPERATORS  # the operator's table stays
    assert await exchange_rates.current(pool) == OPERATORS
