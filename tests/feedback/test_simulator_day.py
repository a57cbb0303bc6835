"""A simulated day against the real app (search engine, event API, carts, checkout through the local
Stripe): the shoppers' traffic lands in the log like anyone's, paid orders appear, and the day's figures
agree with what the database holds; overnight, the sellers restock what sold."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from feedback.simulator import draw_shoppers, format_stats, load_catalog, run_day
from feedback.simulator.restock import restock, shelf_stock
from sellers import accounts
from sellers import catalog as seller_catalog
from sellers.schemas import ProductPatch
from tests.feedback.conftest import DEADLINE_SECONDS, KEEN, PHONES, RUNNING


async def test_a_simulated_day_sells_and_its_figures_match_the_database(shop, pool):
    catalog = await load_catalog(pool)
    assert {item.category for item in catalog} == {RUNNING, PHONES}
    shoppers = draw_shoppers(catalog, 30, seed=3, behaviour=KEEN)

    stats = await run_day(shop, shoppers, behaviour=KEEN, seed=3, concurrency=2)
    # The app runs on the test client's own event loop: flush its impression log there.
    shop.blocking_portal.call(shop.app.state.impressions.flush)

    assert stats.errors == 0, format_stats(stats)
    assert stats.shoppers == 30 and stats.searches >= 30
    assert stats.paid_orders > 0 and stats.clicks > 0
    paid = await pool.fetch("SELECT currency, total_amount FROM orders WHERE status = 'paid'")
    assert len(paid) == stats.paid_orders
    assert stats.gmv == _sums(paid)
    assert stats.conversion == stats.paid_orders / 30
    assert await pool.fetchval("SELECT count(*) FROM orders") == stats.orders

    events = Counter(
        {
            row["type"]: row["n"]
            for row in await pool.fetch("SELECT type, count(*) AS n FROM events GROUP BY type")
        }
    )
    assert events["impression"] == stats.searches
    assert events["click"] == stats.clicks
    assert events["add_to_cart"] == stats.carts
    assert events["purchase"] == stats.paid_orders  # one line per order
    # Like anyone's traffic: every search in a session, each purchase traced back to the search it came from.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'impression' AND session_id LIKE 'sim-%'"
        )
        == stats.searches
    )
    untraced = await pool.fetchval(
        """SELECT count(*) FROM events AS p WHERE p.type = 'purchase' AND NOT EXISTS (
               SELECT 1 FROM events AS i WHERE i.type = 'impression' AND i.search_id = p.search_id
               AND i.session_id = p.session_id)"""
    )
    assert untraced == 0


def _sums(rows) -> dict[str, int]:
    sums: dict[str, int] = {}
    for row in rows:
        sums[row["currency"]] = sums.get(row["currency"], 0) + row["total_amount"]
    return sums


async def test_overnight_the_sellers_put_back_what_sold_and_search_sees_the_stock(shop, pool):
    shelves = await shelf_stock(pool)
    assert {shelf.quantity for shelf in shelves.values()} == {50}
    catalog = await load_catalog(pool)
    stats = await run_day(shop, draw_shoppers(catalog, 30, seed=3, behaviour=KEEN), behaviour=KEEN, seed=3)
    assert stats.paid_orders > 0
    sold = {pid for pid, quantity in (await _stock(pool)).items() if quantity < 50}
    assert sold
    # One seller restocked a product by hand, above the level: that is kept.
    raised = min(sold)
    seller = await accounts.get_seller(pool, shelves[raised].seller_id)
    await seller_catalog.patch_product(
        pool, seller, shelves[raised].external_id, ProductPatch(inventory_quantity=80)
    )
    before = await pool.fetchval("SELECT max(seq) FROM catalog_changes")

    assert await restock(pool, shelves) == len(sold) - 1
    stock = await _stock(pool)
    assert stock[raised] == 80
    assert all(stock[pid] == 50 for pid in sold - {raised})
    assert await restock(pool, shelves) == 0  # nothing below its level any more
    # Through the change feed, like any seller's edit: the search engine sees the shelves refilled.
    changed = await pool.fetch("SELECT product_id FROM catalog_changes WHERE seq > $1", before)
    assert {row["product_id"] for row in changed} == sold - {raised}
    engine = shop.app.state.engine
    deadline = time.monotonic() + DEADLINE_SECONDS
    while any(engine.catalog.get(pid).inventory_quantity != 50 for pid in sold - {raised}):
        assert time.monotonic() < deadline, "search did not see the restocked products"
        await asyncio.sleep(0.05)


async def _stock(pool) -> dict[int, int]:
    return {
        row["id"]: row["inventory_quantity"]
        for row in await pool.fetch("SELECT id, inventory_quantity FROM products")
    }
