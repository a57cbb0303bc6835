"""The operator's exchange-rate table: which one is current, replacing it, and its shape over HTTP.

One table at a time, dated, in one base currency (`market.core.money.ExchangeRates`, which also converts).
Search reads it to apply a price range in one currency to products priced in others; nothing here moves
money, and charges are always in the product's own currency.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import asyncpg
import msgspec

from market.core.money import CurrencyCode, ExchangeRates
from payments import store

# Generous: ISO 4217 has fewer than 200 currencies in use.
MAX_CURRENCIES = 300


class ExchangeRateTable(msgspec.Struct, forbid_unknown_fields=True):
    """An exchange-rate table as the API carries it: one unit of `base` buys `rates[c]` of currency `c`."""

    as_of: Annotated[date, msgspec.Meta(description="the day the rates are of, YYYY-MM-DD")]
    base: CurrencyCode
    rates: Annotated[
        dict[str, str],
        msgspec.Meta(
            min_length=1,
            max_length=MAX_CURRENCIES,
            description='ISO 4217 code -> a positive decimal string, e.g. {"USD": "1", "EUR": "0.92"}; '
            "the base's own rate is 1",
        ),
    ]

    @classmethod
    def of(cls, rates: ExchangeRates) -> ExchangeRateTable:
        return cls(
            as_of=rates.as_of,
            base=rates.base,
            rates={code: format(rate, "f") for code, rate in sorted(rates.rates.items())},
        )

    def parsed(self, where: str = "body") -> ExchangeRates:
        """The table, checked: InvalidInput names the field at fault below `where` (`body.rates.EUR`)."""
        return ExchangeRates.parse(self.as_of, self.base, self.rates, where=where)


async def current(pool: asyncpg.Pool) -> ExchangeRates | None:
    """The table in force, or None when the operator has set none."""
    async with pool.acquire() as conn:
        rows = await store.exchange_rates(conn)
    if not rows:
        return None
    return ExchangeRates(
        as_of=rows[0]["as_of"], base=rows[0]["base"], rates={row["currency"]: row["rate"] for row in rows}
    )


async def replace(pool: asyncpg.Pool, table: ExchangeRates) -> ExchangeRates:
    """Make `table` the one in force, replacing any earlier one whole; returns it as stored."""
    async with pool.acquire() as conn:
        await store.replace_exchange_rates(conn, as_of=table.as_of, base=table.base, rates=table.rates)
    return await current(pool) or table


async def install_if_unset(pool: asyncpg.Pool, table: ExchangeRates) -> ExchangeRates:
    """Make `table` the one in force unless the operator has set one already; returns the one in force."""
    async with pool.acquire() as conn:
        await store.replace_exchange_rates(
            conn, as_of=table.as_of, base=table.base, rates=table.rates, only_if_unset=True
        )
    return await current(pool) or table
