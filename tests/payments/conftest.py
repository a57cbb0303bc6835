"""Fixtures for the payments tests: a gateway on the local Stripe server, and the rows the ledger's
foreign keys point at (sellers, orders, refunds), made with plain SQL because payments knows nothing of
how the orders code creates them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from payments.gateway import StripeGateway
from tests.conftest import LocalStripe


@pytest.fixture
async def gateway(stripe_server: LocalStripe) -> AsyncIterator[StripeGateway]:
    stripe = StripeGateway(stripe_server.api_key, api_base=stripe_server.url)
    yield stripe
    await stripe.close()


async def stripe_get(stripe_server: LocalStripe, path: str, **params: str) -> dict:
    """An object as Stripe holds it, read over plain HTTP (to check what the gateway sent)."""
    async with httpx.AsyncClient(base_url=stripe_server.url) as http:
        answer = await http.get(path, params=params, auth=(stripe_server.api_key, ""))
    answer.raise_for_status()
    return answer.json()


def unique(prefix: str) -> str:
    """An id no other test (sharing the run's Stripe server) will use."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def add_seller(db: asyncpg.Connection, name: str = "Trailhead Outfitters") -> uuid.UUID:
    return await db.fetchval(
        "INSERT INTO sellers (name, email, country, currency) VALUES ($1, $2, 'US', 'USD') RETURNING id",
        name,
        f"{uuid.uuid4().hex[:8]}@shop.example",
    )


async def add_order(
    db: asyncpg.Connection, *, total_amount: int, platform_fee_amount: int, currency: str = "USD"
) -> uuid.UUID:
    return await db.fetchval(
        """
        INSERT INTO orders (payment_flow, currency, total_amount, platform_fee_amount, transfer_group,
                            reserved_until)
        VALUES ('payment_intent', $1, $2, $3, $4, $5) RETURNING id
        """,
        currency,
        total_amount,
        platform_fee_amount,
        unique("group"),
        datetime.now(UTC) + timedelta(minutes=30),
    )


async def add_refund(
    db: asyncpg.Connection, order_id: uuid.UUID, *, amount: int, platform_fee_amount: int
) -> uuid.UUID:
    return await db.fetchval(
        """
        INSERT INTO refunds (order_id, amount, platform_fee_amount, reason, requested_by, lines)
        VALUES ($1, $2, $3, 'damaged in transit', 'operator', '[]'::jsonb) RETURNING id
        """,
        order_id,
        amount,
        platform_fee_amount,
    )
