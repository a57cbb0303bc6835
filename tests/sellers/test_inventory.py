"""Stock held for unpaid orders: all or nothing, counted only until it lapses, consumed on payment (the
inventory and the search feed follow), released on cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from sellers import inventory
from sellers.inventory import Shortage
from tests.conftest import product, register


@pytest.fixture
async def catalog(tmp_path, database_url) -> AsyncIterator[dict[str, int]]:
    """Products of one seller (external id -> product id): shoe 5, boot 2, a paused one, a sold-out one."""
    settings = load_settings(
        {"AGORA_DATA_DIR": str(tmp_path), "AGORA_SEARCH_ENABLED": "false"}, env_file=None
    )
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        _, headers = await register(client)
        items = [
            product("shoe", inventory_quantity=5),
            product("boot", inventory_quantity=2),
            product("paused", inventory_quantity=9),
            product("gone", inventory_quantity=9, availability="out_of_stock"),
            product("no-checkout", inventory_quantity=9, enable_checkout=False),
        ]
        answer = await client.post("/v1/catalog/products", json=items, headers=headers)
        await client.patch("/v1/catalog/products/paused", json={"status": "paused"}, headers=headers)
        yield {item["item_id"]: item["product_id"] for item in answer.json()["accepted"]}


async def _order(db: asyncpg.Connection) -> UUID:
    """A bare pending order for reservations to belong to."""
    return await db.fetchval(
        """
        INSERT INTO orders (payment_flow, currency, total_amount, platform_fee_amount, transfer_group,
                            reserved_until)
        VALUES ('payment_intent', 'USD', 100, 0, 'test', now() + interval '1 hour') RETURNING id
        """
    )


def _later(minutes: float = 30) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


async def test_only_stock_that_can_be_bought_now_is_available(db, catalog):
    available = await inventory.available(db, catalog.values())

    assert available == {
        catalog["shoe"]: 5,
        catalog["boot"]: 2,
        catalog["paused"]: 0,
        catalog["gone"]: 0,
        catalog["no-checkout"]: 0,
    }
    assert await inventory.available(db, [987654]) == {987654: 0}


async def test_a_reservation_holds_everything_or_nothing_and_names_every_shortage(db, catalog):
    first, second = await _order(db), await _order(db)
    shoe, boot, paused = catalog["shoe"], catalog["boot"], catalog["paused"]

    held = await inventory.reserve(db, order_id=first, items=[(shoe, 2), (shoe, 1)], expires_at=_later())
    short = await inventory.reserve(
        db, order_id=second, items=[(shoe, 2), (boot, 3), (paused, 1)], expires_at=_later()
    )

    assert held == []
    assert short == [
        Shortage(product_id=boot, requested=3, available=2),
        Shortage(product_id=paused, requested=1, available=0),
    ]
    assert await db.fetchval("SELECT count(*) FROM stock_reservations WHERE order_id = $1", second) == 0
    assert (await inventory.available(db, [shoe]))[shoe] == 2  # 5 less the 3 held, in two items merged
    with pytest.raises(ValueError):
        await inventory.reserve(db, order_id=second, items=[(shoe, 0)], expires_at=_later())


async def test_a_lapsed_hold_stops_counting_at_once(db, catalog):
    order = await _order(db)
    shoe = catalog["shoe"]

    await inventory.reserve(db, order_id=order, items=[(shoe, 4)], expires_at=_later(-0.01))

    assert (await inventory.available(db, [shoe]))[shoe] == 5
    assert await db.fetchval("SELECT state FROM stock_reservations WHERE order_id = $1", order) == "active"


async def test_consuming_sells_the_stock_and_tells_the_search_feed(db, catalog):
    order = await _order(db)
    shoe, boot = catalog["shoe"], catalog["boot"]
    await inventory.reserve(db, order_id=order, items=[(shoe, 3), (boot, 2)], expires_at=_later())
    # The seller lowered the boots by hand meanwhile: stock never goes below zero.
    await db.execute("UPDATE products SET inventory_quantity = 1 WHERE id = $1", boot)
    feed_before = await db.fetchval("SELECT max(seq) FROM catalog_changes")

    sold = await inventory.consume(db, order)

    assert sold == {shoe: 3, boot: 2}
    stock = dict(
        await db.fetch("SELECT id, inventory_quantity FROM products WHERE id = ANY($1)", [shoe, boot])
    )
    assert stock == {shoe: 2, boot: 0}
    assert await inventory.available(db, [shoe, boot]) == {shoe: 2, boot: 0}
    changed = await db.fetch(
        "SELECT product_id FROM catalog_changes WHERE seq > $1 ORDER BY product_id", feed_before
    )
    assert [row["product_id"] for row in changed] == sorted([shoe, boot])
    assert await inventory.consume(db, order) == {}  # consumed once


async def test_releasing_gives_the_stock_back_and_reserving_again_renews_the_hold(db, catalog):
    order = await _order(db)
    shoe = catalog["shoe"]
    await inventory.reserve(db, order_id=order, items=[(shoe, 5)], expires_at=_later())

    released = await inventory.release(db, order)
    after_release = (await inventory.available(db, [shoe]))[shoe]
    again = await inventory.reserve(db, order_id=order, items=[(shoe, 4)], expires_at=_later())

    assert (released, after_release, again) == (1, 5, [])
    assert (await inventory.available(db, [shoe]))[shoe] == 1
    held = await db.fetchval("SELECT sum(quantity) FROM stock_reservations WHERE state = 'active'")
    assert held == 4
