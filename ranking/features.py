"""The features the reranker sees for one (query, candidate product) pair.

Each feature is a number with a stable name; a model stores the list it was trained on and the engine
feeds it exactly those, in that order. Missing values are NaN, which LightGBM handles natively.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from ranking.documents import IndexedProduct

FEATURES: tuple[str, ...] = (
    "dense_score",
    "dense_rank",
    "lexical_score",
    "lexical_rank",
    "fused_score",
    "title_overlap",
    "brand_match",
    "category_overlap",
    "attribute_overlap",
    "exact_id_match",
    "query_tokens",
    "log_price",
    "price_to_budget",
    "discount",
    "in_stock",
    "log_inventory",
    "log_impressions",
    "click_rate",
    "cart_rate",
    "conversion_rate",
    "seller_quality",
    "freshness_days",
)
ABSENT_RANK = 1000.0
_TOKEN = re.compile(r"[a-z0-9]+")
# Smoothing for rates: a product shown 3 times and clicked once is not a 33% product.
PRIOR_IMPRESSIONS = 50.0
PRIOR_CLICK_RATE = 0.05


def tokens(text: str) -> set[str]:
    """Lower-case word tokens with a crude plural fold, so 'shoes' meets 'shoe'."""
    found = set()
    for token in _TOKEN.findall(text.lower()):
        found.add(
            token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token
        )
    return found


@dataclass(frozen=True, slots=True)
class ProductTokens:
    """A product's word tokens per field, for the field-match features."""

    title: frozenset[str]
    brand: frozenset[str]
    category: frozenset[str]
    attributes: frozenset[str]
    identifiers: tuple[str, ...]  # lower-cased SKU and GTIN long enough to be named on purpose


def product_tokens(product: IndexedProduct) -> ProductTokens:
    """The product's tokens, computed on first use and kept on the product (a new version is a new object)."""
    if product.tokens is None:
        attribute_tokens: set[str] = set()
        for value in product.attributes.values():
            attribute_tokens |= tokens(" ".join(map(str, value)) if isinstance(value, list) else str(value))
        product.tokens = ProductTokens(
            title=frozenset(tokens(product.title)),
            brand=frozenset(tokens(product.brand)),
            category=frozenset(tokens(product.category)),
            attributes=frozenset(attribute_tokens),
            identifiers=tuple(
                identifier
                for identifier in (product.external_id.lower(), (product.gtin or "").lower())
                if len(identifier) >= 4
            ),
        )
    return product.tokens


@dataclass(frozen=True, slots=True)
class ProductStats:
    """What shoppers did with one product, from the event log."""

    impressions: int = 0
    clicks: int = 0
    add_to_carts: int = 0
    purchases: int = 0


@dataclass(slots=True)
class Signals:
    """Everything besides the product itself that features are computed from; refreshed in the background."""

    product_stats: Mapping[int, ProductStats] = field(default_factory=dict)
    seller_quality: Mapping[UUID, float] = field(default_factory=dict)


@dataclass(slots=True)
class Candidate:
    product: IndexedProduct
    dense_score: float = math.nan
    dense_rank: float = ABSENT_RANK
    lexical_score: float = 0.0
    lexical_rank: float = ABSENT_RANK
    fused_score: float = 0.0


def feature_matrix(
    query: str,
    candidates: Sequence[Candidate],
    signals: Signals,
    *,
    budget: int | None = None,
    now: datetime | None = None,
) -> np.ndarray:
    """One row per candidate, one column per name in FEATURES."""
    now = now or datetime.now(UTC)
    query_tokens = tokens(query)
    n_query = max(len(query_tokens), 1)
    lowered_query = query.lower()
    rows = []
    no_stats = ProductStats()
    for candidate in candidates:
        product = candidate.product
        fields = product_tokens(product)
        stats = signals.product_stats.get(product.product_id, no_stats)
        price = product.price_amount
        rows.append(
            (
                candidate.dense_score,
                candidate.dense_rank,
                candidate.lexical_score,
                candidate.lexical_rank,
                candidate.fused_score,
                len(query_tokens & fields.title) / n_query,
                float(bool(product.brand) and fields.brand <= query_tokens),
                len(query_tokens & fields.category) / n_query,
                len(query_tokens & fields.attributes) / n_query,
                float(any(identifier in lowered_query for identifier in fields.identifiers)),
                float(len(query_tokens)),
                math.log1p(price / 100) if price is not None else math.nan,
                price / budget if price is not None and budget else math.nan,
                _discount(product),
                float(product.in_stock),
                math.log1p(product.inventory_quantity),
                math.log1p(stats.impressions),
                (stats.clicks + PRIOR_CLICK_RATE * PRIOR_IMPRESSIONS)
                / (stats.impressions + PRIOR_IMPRESSIONS),
                (stats.add_to_carts + 1.0) / (stats.clicks + 10.0),
                (stats.purchases + 1.0) / (stats.clicks + 20.0),
                signals.seller_quality.get(product.seller_id, math.nan) if product.seller_id else math.nan,
                (now - product.updated_at).total_seconds() / 86400 if product.updated_at else math.nan,
            )
        )
    return np.array(rows, dtype=np.float32).reshape(len(candidates), len(FEATURES))


def _discount(product: IndexedProduct) -> float:
    if product.list_price_amount and product.price_amount is not None and product.list_price_amount > 0:
        return 1 - product.price_amount / product.list_price_amount
    return 0.0
