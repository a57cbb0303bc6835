"""The engine's in-memory view of the searchable catalog, and exact filtering over it.

Filters are answered from columns kept by product id (price, currency, stock) and from inverted sets
(category path prefixes, brands, attribute values), so that building the set of allowed products for a
query costs about a millisecond on 100k products. The allowed ids are handed to retrieval, so a selective
filter still fills the page, and every result is checked again against the filter before it is shown.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Annotated

import msgspec
import numpy as np

from ranking.documents import IndexedProduct

NO_PRICE = -1
MinorUnits = Annotated[int, msgspec.Meta(ge=0)]


class SearchFilters(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every filter is optional. Prices are integer minor units of `currency`, bounds included."""

    min_price: MinorUnits | None = None
    max_price: MinorUnits | None = None
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] | None = None
    # Not blank: a category needs a named level, a brand a letter or digit.
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=750, pattern=r"[^\s>]")] | None = None
    brand: Annotated[str, msgspec.Meta(min_length=1, max_length=70, pattern=r"\S")] | None = None
    in_stock: bool | None = None
    attributes: dict[str, str | list[str]] | None = None

    def is_empty(self) -> bool:
        return self == SearchFilters()


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def category_prefixes(category: str) -> list[str]:
    """`Shoes > Running > Trail` -> `shoes`, `shoes > running`, `shoes > running > trail`."""
    parts = [_norm(part) for part in category.split(">") if part.strip()]
    return [" > ".join(parts[: depth + 1]) for depth in range(len(parts))]


def _attribute_pairs(product: IndexedProduct) -> Iterator[tuple[str, str]]:
    for key, value in product.attributes.items():
        for item in value if isinstance(value, list) else [value]:
            yield _norm(key), _norm(item)


class CatalogView:
    def __init__(self) -> None:
        self._products: dict[int, IndexedProduct] = {}
        self._lock = threading.RLock()
        self._prices = np.full(1024, NO_PRICE, dtype=np.int64)
        self._currencies: dict[str, set[int]] = defaultdict(set)
        self._in_stock: set[int] = set()
        self._categories: dict[str, set[int]] = defaultdict(set)
        self._brands: dict[str, set[int]] = defaultdict(set)
        self._attributes: dict[tuple[str, str], set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._products)

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._products

    def get(self, product_id: int) -> IndexedProduct | None:
        return self._products.get(product_id)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._products)

    def upsert(self, products: Iterable[IndexedProduct]) -> None:
        with self._lock:
            for product in products:
                self._forget(product.product_id)
                self._remember(product)

    def remove(self, product_ids: Iterable[int]) -> None:
        with self._lock:
            for product_id in product_ids:
                self._forget(product_id)

    def allowed_ids(self, filters: SearchFilters) -> np.ndarray | None:
        """The ids of products passing `filters` (sorted int64), or None when nothing is filtered."""
        if filters.is_empty():
            return None
        with self._lock:
            sets: list[set[int]] = []
            if filters.currency:
                sets.append(self._currencies.get(filters.currency, set()))
            if filters.category:
                sets.append(self._categories.get(" > ".join(category_prefixes(filters.category)[-1:]), set()))
            if filters.brand:
                sets.append(self._brands.get(_norm(filters.brand), set()))
            if filters.in_stock:
                sets.append(self._in_stock)
            for key, wanted in (filters.attributes or {}).items():
                values = wanted if isinstance(wanted, list) else [wanted]
                union: set[int] = set()
                for value in values:
                    union |= self._attributes.get((_norm(key), _norm(value)), set())
                sets.append(union)
            if sets:
                sets.sort(key=len)
                chosen = set(sets[0]).intersection(*sets[1:])
                ids = np.fromiter(chosen, dtype=np.int64, count=len(chosen))
            else:
                ids = np.fromiter(self._products, dtype=np.int64, count=len(self._products))
            if filters.min_price is not None or filters.max_price is not None:
                prices = self._prices[ids]
                keep = prices != NO_PRICE
                if filters.min_price is not None:
                    keep &= prices >= filters.min_price
                if filters.max_price is not None:
                    keep &= prices <= filters.max_price
                ids = ids[keep]
        ids.sort()
        return ids

    def matches(self, product: IndexedProduct, filters: SearchFilters) -> bool:
        """The same rules as `allowed_ids`, for one product: the last check before a result is shown."""
        if filters.currency and product.currency != filters.currency:
            return False
        if filters.min_price is not None or filters.max_price is not None:
            if product.price_amount is None:
                return False
            if filters.min_price is not None and product.price_amount < filters.min_price:
                return False
            if filters.max_price is not None and product.price_amount > filters.max_price:
                return False
        if filters.category:
            wanted = category_prefixes(filters.category)
            if not wanted or wanted[-1] not in category_prefixes(product.category):
                return False
        # A blank brand names no brand: nothing matches it (as in allowed_ids), not the unbranded products.
        if filters.brand and (not _norm(filters.brand) or _norm(filters.brand) != _norm(product.brand)):
            return False
        if filters.in_stock and not product.in_stock:
            return False
        pairs = set(_attribute_pairs(product))
        for key, wanted in (filters.attributes or {}).items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if not any((_norm(key), _norm(value)) in pairs for value in values):
                return False
        return True

    def _remember(self, product: IndexedProduct) -> None:
        product_id = product.product_id
        self._products[product_id] = product
        if product_id >= len(self._prices):
            grown = np.full(max(product_id + 1, 2 * len(self._prices)), NO_PRICE, dtype=np.int64)
            grown[: len(self._prices)] = self._prices
            self._prices = grown
        self._prices[product_id] = NO_PRICE if product.price_amount is None else product.price_amount
        if product.currency:
            self._currencies[product.currency].add(product_id)
        if product.in_stock:
            self._in_stock.add(product_id)
        for prefix in category_prefixes(product.category):
            self._categories[prefix].add(product_id)
        if product.brand:
            self._brands[_norm(product.brand)].add(product_id)
        for pair in _attribute_pairs(product):
            self._attributes[pair].add(product_id)

    def _forget(self, product_id: int) -> None:
        product = self._products.pop(product_id, None)
        if product is None:
            return
        self._prices[product_id] = NO_PRICE
        if product.currency:
            self._currencies[product.currency].discard(product_id)
        self._in_stock.discard(product_id)
        for prefix in category_prefixes(product.category):
            self._categories[prefix].discard(product_id)
        if product.brand:
            self._brands[_norm(product.brand)].discard(product_id)
        for pair in _attribute_pairs(product):
            self._attributes[pair].discard(product_id)
