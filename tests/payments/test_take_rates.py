"""Take rates an operator sets per seller or category, and how they reach the fee rule."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from payments import take_rates
from payments.fees import take_rate_for


async def test_rates_set_per_seller_and_category_decide_the_take_rate(db: asyncpg.Connection) -> None:
    seller_id = uuid.uuid4()
    await take_rates.set_rate(db, "seller", str(seller_id).upper(), 300)
    await take_rates.set_rate(db, "category", "Shoes>Running", 800)

    seller_rates, category_rates = await take_rates.rates(db)
    assert seller_rates == {str(seller_id): 300}
    assert category_rates == {"Shoes > Running": 800}

    def rate_for(seller: uuid.UUID) -> int:
        return take_rate_for(
            seller_id=seller,
            category="shoes > running > trail",
            default_bps=1000,
            seller_rates=seller_rates,
            category_rates=category_rates,
        )

    assert rate_for(seller_id) == 300
    assert rate_for(uuid.uuid4()) == 800


async def test_setting_a_rate_again_changes_it_whatever_the_spelling(db: asyncpg.Connection) -> None:
    await take_rates.set_rate(db, "category", "Shoes > Running", 800)
    changed = await take_rates.set_rate(db, "category", "shoes > running", 700)
    assert changed.bps == 700
    assert [(rate.key, rate.bps) for rate in await take_rates.list_rates(db)] == [("shoes > running", 700)]


async def test_deleting_a_rate_brings_back_the_default(db: asyncpg.Connection) -> None:
    await take_rates.set_rate(db, "category", "Books", 300)
    assert await take_rates.delete_rate(db, "category", "BOOKS") is True
    assert await take_rates.delete_rate(db, "category", "Books") is False
    assert await take_rates.rates(db) == ({}, {})


async def test_malformed_rates_are_refused(db: asyncpg.Connection) -> None:
    for scope, key, bps in [
        ("seller", "not-a-uuid", 100),
        ("category", "Shoes > > Running", 100),
        ("category", " ", 100),
        ("brand", "Stridewell", 100),
        ("category", "Shoes", 10001),
        ("category", "Shoes", -1),
    ]:
        with pytest.raises(ValueError):
            await take_rates.set_rate(db, scope, key, bps)
    assert await take_rates.list_rates(db) == []
