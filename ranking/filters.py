"""The engine's in-memory view of the searchable catalog, and exact filtering over it.

Filters are answered from columns kept by product id (price, currency, stock) and from inverted sets
(category path prefixes, brands, attribute values), so that building the set of allowed products for a
query costs about a millisecond on 100k products. The allowed ids are handed to retrieval, so a selective
filter still fills the page, and every result is checked again against the filter before it is shown.

Exclusions (`exclude_brands`, `exclude_categories`, `exclude_attributes`) take away what the same values
would select as inclusions. Given an exchange-rate table (`market.core.money.ExchangeRates`, which the
engine holds), a price range in one currency also keeps products priced in another whose price, converted,
is within it (`price_conversion`); without one, or for a currency the table lacks, a price range keeps only
products priced in its own currency.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated

import msgspec
import numpy as np

from market.core.money import ExchangeRates, Money
from ranking.documents import IndexedProduct

NO_PRICE = -1
NO_CURRENCY = -1
_LARGEST_PRICE = np.iinfo(np.int64).max
ALLOWED_CACHE_SIZE = 256  # distinct non-price filters whose allowed ids are kept between catalog changes
MAX_EXCLUDED = 20  # values per exclusion (and attribute keys): a shopper's "not these", not a blocklist
EXCLUDED_CHARS = 100
# A price bound in minor units: any a 64-bit integer holds (the price columns' type), so that a larger one
# is refused with the request rather than overflowing the comparison.
PriceBound = Annotated[int, msgspec.Meta(ge=0, le=int(_LARGEST_PRICE))]
# Not blank: a category needs a named level, a brand or attribute value a letter or digit.
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=750, pattern=r"[^\s>]")]
Excluded = Annotated[str, msgspec.Meta(min_length=1, max_length=EXCLUDED_CHARS, pattern=r"\S")]


class SearchFilters(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every filter is optional. Prices are integer minor units of `currency`, bounds included; with the
    operator's exchange-rate table, products priced in another currency are compared by their price
    converted into `currency`. Brands, categories and attribute values compare ignoring case."""

    min_price: PriceBound | None = None
    max_price: PriceBound | None = None
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] | None = None
    category: Category | None = None
    brand: Annotated[str, msgspec.Meta(min_length=1, max_length=70, pattern=r"\S")] | None = None
    in_stock: bool | None = None
    attributes: dict[str, str | list[str]] | None = None
    exclude_brands: Annotated[
        list[Excluded],
        msgspec.Meta(
            max_length=MAX_EXCLUDED,
            description=f"never show products of these brands (at most {MAX_EXCLUDED}, each up to "
            f"{EXCLUDED_CHARS} characters)",
        ),
    ] = []
    exclude_categories: Annotated[
        list[Category],
        msgspec.Meta(
            max_length=MAX_EXCLUDED,
            description="never show products in these category paths or below them (`Shoes > Running`; "
            f"at most {MAX_EXCLUDED})",
        ),
    ] = []
    exclude_attributes: Annotated[
        dict[str, Annotated[list[Excluded], msgspec.Meta(max_length=MAX_EXCLUDED)]],
        msgspec.Meta(
            max_length=MAX_EXCLUDED,
            description='never show products having any of these attribute values: {"color": ["grey"]} '
            f"(at most {MAX_EXCLUDED} names and {MAX_EXCLUDED} values each, each up to {EXCLUDED_CHARS} "
            "characters)",
        ),
    ] = {}

    def is_empty(self) -> bool:
        return self == SearchFilters()


def price_conversion(filters: SearchFilters, rates: ExchangeRates | None) -> ExchangeRates | None:
    """The table the filters' price range is applied through, to products priced in other currencies:
    `rates` when there is a range in a currency the table has, else None (the range then keeps products
    priced in its own currency only, as `currency` alone always does)."""
    if rates is None or not filters.currency or (filters.min_price is None and filters.max_price is None):
        return None
    return rates if filters.currency in rates.rates else None


def converted_price(
    product: IndexedProduct, filters: SearchFilters, conversion: ExchangeRates | None
) -> Money | None:
    """The product's price in the filters' currency, when their range was applied through `conversion`
    (from `price_conversion`) and the product is priced in another currency; None otherwise."""
    currency, amount = filters.currency, product.price_amount
    if conversion is None or not currency or amount is None or product.currency in (None, "", currency):
        return None
    converted = conversion.convert(amount, product.currency, currency)
    return None if converted is None else Money(converted, currency)


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


@dataclass(frozen=True, slots=True)
class _FilterKeys:
    """A product's (or a filter's) values as the filters compare them: normalised once."""

    currency: str | None
    category_prefixes: frozenset[str]
    brand: str
    attribute_pairs: frozenset[tuple[str, str]]


def _product_keys(product: IndexedProduct) -> _FilterKeys:
    return _FilterKeys(
        currency=product.currency,
        category_prefixes=frozenset(category_prefixes(product.category)),
        brand=_norm(product.brand),
        attribute_pairs=frozenset(_attribute_pairs(product)),
    )


@dataclass(frozen=True, slots=True)
class CompiledFilters:
    filters: SearchFilters
    category: str | None  # the deepest normalised prefix the product's path must contain
    brand: str | None
    attributes: tuple[frozenset[tuple[str, str]], ...]  # one alternative set per attribute key
    # Exclusions, normalised; a blank one names nothing and excludes nothing.
    excluded_brands: frozenset[str]
    excluded_categories: frozenset[str]  # the deepest prefix of each path: a product's path must not have it
    excluded_attributes: frozenset[tuple[str, str]]
    everything: bool  # no filter at all: every product matches


def _compile(filters: SearchFilters) -> CompiledFilters:
    attributes = []
    for key, wanted in (filters.attributes or {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        attributes.append(frozenset((_norm(key), _norm(value)) for value in values))
    prefixes = category_prefixes(filters.category) if filters.category else []
    excluded_paths = (category_prefixes(path) for path in filters.exclude_categories)
    return CompiledFilters(
        filters=filters,
        category=prefixes[-1] if prefixes else ("" if filters.category else None),
        brand=_norm(filters.brand) if filters.brand else None,
        attributes=tuple(attributes),
        excluded_brands=frozenset(brand for brand in map(_norm, filters.exclude_brands) if brand),
        excluded_categories=frozenset(path[-1] for path in excluded_paths if path),
        excluded_attributes=frozenset(
            (_norm(key), _norm(value))
            for key, values in filters.exclude_attributes.items()
            for value in values
        ),
        everything=filters.is_empty(),
    )


class CatalogView:
    def __init__(self) -> None:
        self._products: dict[int, IndexedProduct] = {}
        self._keys: dict[int, _FilterKeys] = {}
        self._version = 0  # bumped by every change; cached allowed ids are valid for one version
        self._allowed_cache: OrderedDict[bytes, tuple[int, np.ndarray]] = OrderedDict()
        self._compiled_cache: OrderedDict[bytes, CompiledFilters] = OrderedDict()
        self._lock = threading.RLock()
        self._prices = np.full(1024, NO_PRICE, dtype=np.int64)
        self._currency_of = np.full(1024, NO_CURRENCY, dtype=np.int16)  # an index into _currency_codes
        self._currency_codes: dict[str, int] = {}
        self._currencies: dict[str, set[int]] = defaultdict(set)
        self._in_stock: set[int] = set()
        self._categories: dict[str, set[int]] = defaultdict(set)
        self._brands: dict[str, set[int]] = defaultdict(set)
        self._attributes: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._groups: dict[tuple, set[int]] = defaultdict(set)  # the variants of one product, by group key

    def __len__(self) -> int:
        return len(self._products)

    def __contains__(self, product_id: int) -> bool:
        return product_id in self._products

    def get(self, product_id: int) -> IndexedProduct | None:
        return self._products.get(product_id)

    def variants(self, product: IndexedProduct) -> list[IndexedProduct]:
        """Every searchable variant of `product` (itself included) when it is sold in variants; else []."""
        key = product.group_key
        if key is None:
            return []
        with self._lock:
            return [self._products[product_id] for product_id in self._groups.get(key, ())]

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._products)

    def upsert(self, products: Iterable[IndexedProduct]) -> None:
        with self._lock:
            self._version += 1
            for product in products:
                self._forget(product.product_id)
                self._remember(product)

    def remove(self, product_ids: Iterable[int]) -> None:
        with self._lock:
            self._version += 1
            for product_id in product_ids:
                self._forget(product_id)

    def allowed_ids(self, filters: SearchFilters, rates: ExchangeRates | None = None) -> np.ndarray | None:
        """The ids of products passing `filters` (sorted int64), or None when nothing is filtered; `rates`
        the exchange-rate table a price range may be applied through (see `price_conversion`)."""
        if filters.is_empty():
            return None
        conversion = price_conversion(filters, rates)
        with self._lock:
            if conversion is not None:
                rest = msgspec.structs.replace(filters, currency=None, min_price=None, max_price=None)
                # Only a price range: every priced product, straight from the column (no set to build).
                ids = (
                    np.flatnonzero(self._prices != NO_PRICE)
                    if rest.is_empty()
                    else self._allowed_without_price(rest)
                )
                return self._within_converted_range(ids, filters, conversion)
            ids = self._allowed_without_price(filters)
            if filters.min_price is not None or filters.max_price is not None:
                prices = self._prices[ids]
                keep = prices != NO_PRICE
                if filters.min_price is not None:
                    keep &= prices >= filters.min_price
                if filters.max_price is not None:
                    keep &= prices <= filters.max_price
                ids = ids[keep]
        return ids

    def _within_converted_range(
        self, ids: np.ndarray, filters: SearchFilters, rates: ExchangeRates
    ) -> np.ndarray:
        """`ids` whose price, converted into the filters' currency, is within their range: compared in each
        product's own currency, against the range of prices that convert into the filters' range."""
        prices, currencies = self._prices[ids], self._currency_of[ids]
        keep = np.zeros(len(ids), dtype=bool)
        for currency, code in self._currency_codes.items():
            prices_within = rates.source_range(
                filters.min_price, filters.max_price, currency, filters.currency
            )
            if prices_within is None:  # no rate: its products cannot be compared
                continue
            first, last = prices_within
            selected = (currencies == code) & (prices != NO_PRICE) & (prices >= min(first, _LARGEST_PRICE))
            if last is not None:
                selected &= prices <= min(last, _LARGEST_PRICE)
            keep |= selected
        return ids[keep]

    def _allowed_without_price(self, filters: SearchFilters) -> np.ndarray:
        """Sorted ids passing every filter but the price range; shared by callers, so never modify it."""
        key = msgspec.json.encode(msgspec.structs.replace(filters, min_price=None, max_price=None))
        cached = self._allowed_cache.get(key)
        if cached is not None and cached[0] == self._version:
            self._allowed_cache.move_to_end(key)
            return cached[1]
        compiled = self._compiled(filters)
        sets: list[set[int]] = []
        if filters.currency:
            sets.append(self._currencies.get(filters.currency, set()))
        if compiled.category is not None:
            sets.append(self._categories.get(compiled.category, set()))
        if compiled.brand is not None:
            sets.append(self._brands.get(compiled.brand, set()))
        if filters.in_stock:
            sets.append(self._in_stock)
        for alternatives in compiled.attributes:
            union: set[int] = set()
            for pair in alternatives:
                union |= self._attributes.get(pair, set())
            sets.append(union)
        excluded = [self._brands.get(brand, set()) for brand in compiled.excluded_brands]
        excluded += [self._categories.get(prefix, set()) for prefix in compiled.excluded_categories]
        excluded += [self._attributes.get(pair, set()) for pair in compiled.excluded_attributes]
        if sets or excluded:
            sets.sort(key=len)
            chosen = sets[0].intersection(*sets[1:]) if sets else set(self._products)
            chosen.difference_update(*excluded)
            ids = np.fromiter(chosen, dtype=np.int64, count=len(chosen))
        else:
            ids = np.fromiter(self._products, dtype=np.int64, count=len(self._products))
        ids.sort()
        ids.flags.writeable = False
        self._allowed_cache[key] = (self._version, ids)
        while len(self._allowed_cache) > ALLOWED_CACHE_SIZE:
            self._allowed_cache.popitem(last=False)
        return ids

    def compile(self, filters: SearchFilters) -> CompiledFilters:
        """`filters` normalised once, for checking many products with `matches`."""
        return self._compiled(filters)

    def _compiled(self, filters: SearchFilters) -> CompiledFilters:
        key = msgspec.json.encode(filters)
        with self._lock:
            compiled = self._compiled_cache.get(key)
            if compiled is None:
                compiled = self._compiled_cache[key] = _compile(filters)
                while len(self._compiled_cache) > ALLOWED_CACHE_SIZE:
                    self._compiled_cache.popitem(last=False)
            return compiled

    def matches(
        self,
        product: IndexedProduct,
        filters: SearchFilters | CompiledFilters,
        rates: ExchangeRates | None = None,
    ) -> bool:
        """The same rules as `allowed_ids`, for one product: the last check before a result is shown.
        A search checks a hundred candidates: it passes `compile(filters)` rather than the filters."""
        compiled = filters if isinstance(filters, CompiledFilters) else self._compiled(filters)
        if compiled.everything:  # half of all searches: ~150 checks per search that could only pass
            return True
        filters = compiled.filters
        keys = self._keys.get(product.product_id)
        if keys is None or self._products.get(product.product_id) is not product:
            keys = _product_keys(product)  # a product this view does not hold (or an older version)
        conversion = price_conversion(filters, rates)
        if filters.currency and conversion is None and keys.currency != filters.currency:
            return False
        if filters.min_price is not None or filters.max_price is not None:
            price = product.price_amount
            if price is not None and conversion is not None:
                price = conversion.convert(price, keys.currency, filters.currency) if keys.currency else None
            if price is None:
                return False
            if filters.min_price is not None and price < filters.min_price:
                return False
            if filters.max_price is not None and price > filters.max_price:
                return False
        # A blank category or brand names nothing: nothing matches it (as in allowed_ids).
        if compiled.category is not None and compiled.category not in keys.category_prefixes:
            return False
        if compiled.brand is not None and (not compiled.brand or compiled.brand != keys.brand):
            return False
        if filters.in_stock and not product.in_stock:
            return False
        if (
            keys.brand in compiled.excluded_brands
            or not compiled.excluded_categories.isdisjoint(keys.category_prefixes)
            or not compiled.excluded_attributes.isdisjoint(keys.attribute_pairs)
        ):
            return False
        return all(not alternatives.isdisjoint(keys.attribute_pairs) for alternatives in compiled.attributes)

    def _remember(self, product: IndexedProduct) -> None:
        product_id = product.product_id
        self._products[product_id] = product
        keys = self._keys[product_id] = _product_keys(product)
        if product_id >= len(self._prices):
            size = max(product_id + 1, 2 * len(self._prices))
            grown = np.full(size, NO_PRICE, dtype=np.int64)
            grown[: len(self._prices)] = self._prices
            grown_currencies = np.full(size, NO_CURRENCY, dtype=np.int16)
            grown_currencies[: len(self._currency_of)] = self._currency_of
            self._prices, self._currency_of = grown, grown_currencies
        self._prices[product_id] = NO_PRICE if product.price_amount is None else product.price_amount
        self._currency_of[product_id] = (
            self._currency_codes.setdefault(product.currency, len(self._currency_codes))
            if product.currency
            else NO_CURRENCY
        )
        if product.currency:
            self._currencies[product.currency].add(product_id)
        if product.in_stock:
            self._in_stock.add(product_id)
        for prefix in keys.category_prefixes:
            self._categories[prefix].add(product_id)
        if product.brand:
            self._brands[keys.brand].add(product_id)
        for pair in keys.attribute_pairs:
            self._attributes[pair].add(product_id)
        if product.group_key is not None:
            self._groups[product.group_key].add(product_id)

    def _forget(self, product_id: int) -> None:
        product = self._products.pop(product_id, None)
        if product is None:
            return
        keys = self._keys.pop(product_id)
        self._prices[product_id] = NO_PRICE
        self._currency_of[product_id] = NO_CURRENCY
        if product.currency:
            self._currencies[product.currency].discard(product_id)
        self._in_stock.discard(product_id)
        for prefix in keys.category_prefixes:
            self._categories[prefix].discard(product_id)
        if product.brand:
            self._brands[keys.brand].discard(product_id)
        for pair in keys.attribute_pairs:
            self._attributes[pair].discard(product_id)
        if product.group_key is not None:
            members = self._groups[product.group_key]
            members.discard(product_id)
            if not members:
                del self._groups[product.group_key]
