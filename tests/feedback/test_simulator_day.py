"""A simulated day against the real app (search engine, event API, carts, checkout through the local
Stripe): the shoppers' traffic lands in the log like anyone's, paid orders appear, and the day's figures
agree with what the database holds."""

from __future__ import annotations

from collections import Counter

from feedback.simulator import draw_shoppers, format_stats, load_catalog, run_day
from tests.feedback.conftest import KEEN, PHONES, RUNNING


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
