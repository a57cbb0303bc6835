"""Products as the assistant's tools describe them: the listing as the catalog holds it now, what can be
bought of it, the seller's policies, the seller's other listings of the same product (other sizes and
colours), and the card the shopper's screen shows.

The variants of one product are the seller's listings sharing its `group_id`, as the search index holds
them (no database query). A listing without one is grouped by the seller's title with its own size and
colour taken out ("Northloom Henley - Navy, Size M" and "... - Olive, Size L" are one henley).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import asyncpg

from market.assistant.agent import replies
from market.assistant.agent.tools import ProductCard
from market.core.errors import NotFound
from market.core.money import Money
from ranking.documents import IndexedProduct
from ranking.engine import MatchingEngine
from sellers import accounts, catalog, inventory
from sellers.schemas import CardExtras

_NOISE = re.compile(r"\b(?:size|sz|in)\b|[-,/()|:]", re.IGNORECASE)
MAX_VARIANTS = 24


async def describe(
    pool: asyncpg.Pool,
    engine: MatchingEngine | None,
    product_ids: list[int],
    *,
    description_chars: int,
    with_variants: bool = False,
) -> list[tuple[dict[str, Any], ProductCard]]:
    """The products as the catalog holds them now, with what can be bought of each; in the given order."""
    found = {p.product_id: p for p in await catalog.searchable_products(pool, product_ids)}
    missing = [str(pid) for pid in product_ids if pid not in found]
    if missing:
        raise NotFound("product_not_found", f"no product {', '.join(missing)} is on offer")
    async with pool.acquire() as conn:
        stock = await inventory.available(conn, product_ids)
        extras = await catalog.card_extras(conn, product_ids)
    policies = await accounts.policies(pool, list({product.seller_id for product in found.values()}))
    described = []
    for position, pid in enumerate(product_ids, start=1):
        product = found[pid]
        list_price = product.list_price.amount if product.list_price else None
        policy = policies.get(product.seller_id)
        entry = {
            "product_id": pid,
            "title": product.title,
            "brand": product.brand,
            "category": product.category,
            "seller_name": extras[pid].seller_name if pid in extras else None,
            "availability": product.availability,
            "available": stock.get(pid, 0),
            "attributes": product.attributes,
            "description": product.description[:description_chars],
            "policy": _policy_json(policy) if policy else None,
            "variants": variants(engine, pid) if with_variants and engine is not None else None,
        } | prices(product.price.amount, list_price, product.price.currency)
        card = card_for(pid, product.title, position, str(product.seller_id), product.price, extras)
        described.append(({k: v for k, v in entry.items() if v not in (None, "", {}, [])}, card))
    return described


def variants(engine: MatchingEngine, product_id: int) -> list[dict[str, Any]]:
    """The seller's other searchable listings of the same product, with their size and colour."""
    product = engine.catalog.get(product_id)
    if product is None:
        return []
    if product.group_key is not None:
        others = [other for other in engine.catalog.variants(product) if other.product_id != product_id]
    else:
        others = _titled_alike(engine, product)
    return [
        {
            "product_id": other.product_id,
            "size": (other.attributes or {}).get("size"),
            "color": (other.attributes or {}).get("color"),
        }
        for other in sorted(others, key=lambda other: other.product_id)[:MAX_VARIANTS]
    ]


def _titled_alike(engine: MatchingEngine, product: IndexedProduct) -> list[IndexedProduct]:
    """The seller's listings without a group whose titles name the same product as `product`'s."""
    key = _variant_key(product)
    found = []
    for other_id in engine.catalog.ids():
        other = engine.catalog.get(other_id)
        if other is None or other_id == product.product_id or other.seller_id != product.seller_id:
            continue
        if other.group_key is None and _variant_key(other) == key:
            found.append(other)
            if len(found) >= MAX_VARIANTS:
                break
    return found


def _variant_key(product: IndexedProduct) -> str:
    title = product.title.lower()
    for key in ("size", "color", "colour"):
        value = (product.attributes or {}).get(key)
        if isinstance(value, str) and value:
            title = re.sub(rf"(?<![\w.]){re.escape(value.lower())}(?![\w.])", " ", title)
    return " ".join(_NOISE.sub(" ", title).split())


def _policy_json(policy: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ships_to": list(policy.ships_to),
        "return_window_days": policy.return_window_days,
    }
    for name in ("shipping_price", "free_shipping_over"):
        money = getattr(policy, name)
        if money is not None:
            data[name] = replies.money_json(money.amount, money.currency)
    return data


def card_for(
    product_id: int,
    title: str,
    position: int,
    seller_id: str | None,
    price: Any,
    extras: dict[int, CardExtras],
    **labels: Any,
) -> ProductCard:
    extra = extras.get(product_id)
    return ProductCard(
        product_id=product_id,
        title=title,
        position=position,
        seller_id=seller_id,
        seller_name=extra.seller_name if extra else None,
        price=Money(price.amount, price.currency) if price else None,
        image=extra.image if extra else None,
        **{key: value for key, value in labels.items() if value is not None},
    )


def prices(amount: int, list_amount: int | None, currency: str) -> dict[str, Any]:
    found: dict[str, Any] = {"price": replies.money_json(amount, currency)}
    if list_amount is not None and list_amount > amount:
        found["list_price"] = replies.money_json(list_amount, currency)
        # A whole percent, rounded down: never claim more off than the prices give.
        found["discount_percent"] = (list_amount - amount) * 100 // list_amount
    return found


async def extras_of(pool: asyncpg.Pool, product_ids: Sequence[int]) -> dict[int, CardExtras]:
    if not product_ids:
        return {}
    async with pool.acquire() as conn:
        return await catalog.card_extras(conn, product_ids)
