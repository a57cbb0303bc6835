"""The whole app with a small shop in it, for the flywheel's tests: search on, payments through the local
Stripe, one payable seller whose catalog is indexed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from feedback.simulator import Behaviour
from market.app.asgi import create_app
from market.core.settings import Settings
from tests.conftest import product, wait_until_ready
from tests.market.orders.conftest import payable_seller

DEADLINE_SECONDS = 20.0
RUNNING, PHONES = "Shoes > Running", "Electronics > Audio > Headphones"
CATALOG = [
    product(
        f"run-{n}",
        title=title,
        category=RUNNING,
        price={"amount": price, "currency": "USD"},
        inventory_quantity=50,
        attributes={"color": color},
    )
    for n, (title, price, color) in enumerate(
        [
            ("Cadence Road Running Shoe", 8_999, "red"),
            ("Tempo Trail Running Shoe", 12_999, "blue"),
            ("Pacer Racing Flat", 15_999, "black"),
            ("Drift Road Running Shoe", 6_999, "white"),
            ("Meridian Trail Running Shoe", 10_999, "red"),
        ]
    )
] + [
    product(
        f"hp-{n}",
        title=title,
        brand="Auralis",
        category=PHONES,
        price={"amount": price, "currency": "USD"},
        inventory_quantity=50,
        attributes={"color": color},
        description=f"{title}, wireless.",
    )
    for n, (title, price, color) in enumerate(
        [
            ("Pulse Over-Ear Headphones", 19_999, "black"),
            ("Arc Earbuds", 4_999, "white"),
            ("Nova Sport Earbuds", 6_999, "black"),
            ("Orbit On-Ear Headphones", 9_999, "silver"),
        ]
    )
]
# Keen shoppers, so that a small day still sells.
KEEN = Behaviour(click=(0.1, 0.6, 0.9), add_to_cart=(0.05, 0.5, 0.9), checkout=(0.3, 0.8, 1.0))


@pytest.fixture
async def shop(
    payment_settings: Settings, database_url: str, pool: asyncpg.Pool
) -> AsyncIterator[AsyncTestClient]:
    """The whole app: search on, payments through the local Stripe; one payable seller, indexed."""
    async with AsyncTestClient(create_app(payment_settings, database_url)) as client:
        await wait_until_ready(client)
        await payable_seller(client, "Trailhead Outfitters", CATALOG)
        target = await pool.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
        deadline = time.monotonic() + DEADLINE_SECONDS
        while client.app.state.engine.seq < target:
            assert time.monotonic() < deadline, "the search index did not catch up with the catalog"
            await asyncio.sleep(0.05)
        yield client
