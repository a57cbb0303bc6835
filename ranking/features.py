"""The features the reranker sees for one (query, candidate product) pair.

Each feature is a number with a stable name; a model stores the list it was trained on and the engine
feeds it exactly those, in that order. Missing values are NaN, which LightGBM handles natively.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from ranking.documents import IndexedProduct
from ranking.query_text import words as text_words

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
    # Features that mean the same on any catalog (no brand, category, price or history needed).
    "lexical_scaled",
    "dense_scaled",
    "query_kind",
    "known_share",
    "title_coverage",
    "number_match",
    "title_pairs",
    "title_length",
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
class ProductProfile:
    """What the features need of one product version, derived once: its word tokens per field (for the
    field matches) and the numbers that do not depend on the query (price, stock, age)."""

    title: frozenset[str]
    title_words: frozenset[str]  # ranking.query_text words: measures and model numbers normalised
    title_pairs: frozenset[tuple[str, str]]  # adjacent pairs of those words ("led light" in a title)
    brand: frozenset[str]
    category: frozenset[str]
    attributes: frozenset[str]
    identifiers: tuple[str, ...]  # lower-cased SKU and GTIN long enough to be named on purpose
    has_brand: bool
    # price, log_price, discount, in_stock, log_inventory, updated_at as seconds since the epoch
    numbers: tuple[float, float, float, float, float, float]


def product_profile(product: IndexedProduct) -> ProductProfile:
    """The product's profile, made on first use and kept on the product (a new version is a new object)."""
    if product.profile is None:
        title_words = text_words(product.title)
        attribute_tokens: set[str] = set()
        for value in product.attributes.values():
            attribute_tokens |= tokens(" ".join(map(str, value)) if isinstance(value, list) else str(value))
        price = product.price_amount
        product.profile = ProductProfile(
            title=frozenset(tokens(product.title)),
            title_words=frozenset(title_words),
            title_pairs=frozenset(itertools.pairwise(title_words)),
            brand=frozenset(tokens(product.brand)),
            category=frozenset(tokens(product.category)),
            attributes=frozenset(attribute_tokens),
            identifiers=tuple(
                identifier
                for identifier in (product.external_id.lower(), (product.gtin or "").lower())
                if len(identifier) >= 4
            ),
            has_brand=bool(product.brand),
            numbers=(
                math.nan if price is None else float(price),
                math.nan if price is None else math.log1p(price / 100),
                _discount(product),
                float(product.in_stock),
                math.log1p(product.inventory_quantity),
                product.updated_at.timestamp() if product.updated_at else math.nan,
            ),
        )
    return product.profile


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
    lexical_scaled: float = 0.0  # within the lexical list, 0..1 (ranking.fusion)
    dense_scaled: float = 0.0  # within the dense list, 0..1
    query_kind: float = 0.0  # ranking.fusion.KIND_CODE of the query
    known_share: float = 1.0  # share of the query's words the catalog holds


def feature_matrix(
    query: str,
    candidates: Sequence[Candidate],
    signals: Signals,
    *,
    budget: int | np.ndarray | None = None,
    now: datetime | None = None,
) -> np.ndarray:
    """One row per candidate, one column per name in FEATURES. `budget`: the shopper's highest price, in
    the candidates' currency, or one per candidate in its own (a budget converted from another currency).

    Only what needs the query or the candidate's own objects is done per candidate in Python; everything
    arithmetic is done on whole columns (a search scores ~150 candidates, and this runs on every search)."""
    now_seconds = (now or datetime.now(UTC)).timestamp()
    query_tokens = tokens(query)
    query_sequence = text_words(query)
    query_words = frozenset(query_sequence)
    query_pairs = frozenset(itertools.pairwise(query_sequence))
    query_numbers = frozenset(word for word in query_words if any(ch.isdigit() for ch in word))
    in_query = query.lower().__contains__
    product_stats, seller_quality = signals.product_stats, signals.seller_quality
    no_stats = ProductStats()
    nan = math.nan
    rows = []
    for candidate in candidates:
        product = candidate.product
        profile = product.profile or product_profile(product)
        stats = product_stats.get(product.product_id, no_stats)
        rows.append(
            (
                candidate.dense_score,
                candidate.dense_rank,
                candidate.lexical_score,
                candidate.lexical_rank,
                candidate.fused_score,
                len(query_tokens & profile.title),
                profile.has_brand and profile.brand <= query_tokens,
                len(query_tokens & profile.category),
                len(query_tokens & profile.attributes),
                any(map(in_query, profile.identifiers)),  # a map: no generator made per candidate
                *profile.numbers,
                stats.impressions,
                stats.clicks,
                stats.add_to_carts,
                stats.purchases,
                seller_quality.get(product.seller_id, nan) if product.seller_id else nan,
                candidate.lexical_scaled,
                candidate.dense_scaled,
                candidate.query_kind,
                candidate.known_share,
                len(query_words & profile.title_words),
                len(query_numbers & profile.title_words) if query_numbers else nan,
                len(query_pairs & profile.title_pairs) if query_pairs else nan,
                len(profile.title_words),
            )
        )
    # One flat run of numbers: np.fromiter converts them faster than np.array does a list of tuples.
    given = np.fromiter(
        itertools.chain.from_iterable(rows), dtype=np.float64, count=len(rows) * _GIVEN_COLUMNS
    ).reshape(len(rows), _GIVEN_COLUMNS)
    (
        dense_score, dense_rank, lexical_score, lexical_rank, fused_score,
        title_hits, brand_match, category_hits, attribute_hits, exact_id_match,
        price, log_price, discount, in_stock, log_inventory, updated_at,
        impressions, clicks, add_to_carts, purchases, quality,
        lexical_scaled, dense_scaled, query_kind, known_share, title_word_hits, number_hits,
        pair_hits, title_length,
    ) = given.T  # fmt: skip
    n_query = max(len(query_tokens), 1)
    columns = (
        dense_score,
        dense_rank,
        lexical_score,
        lexical_rank,
        fused_score,
        title_hits / n_query,
        brand_match,
        category_hits / n_query,
        attribute_hits / n_query,
        exact_id_match,
        np.full(len(candidates), float(len(query_tokens))),
        log_price,
        _per_budget(price, budget),
        discount,
        in_stock,
        log_inventory,
        np.log1p(impressions),
        (clicks + PRIOR_CLICK_RATE * PRIOR_IMPRESSIONS) / (impressions + PRIOR_IMPRESSIONS),
        (add_to_carts + 1.0) / (clicks + 10.0),
        (purchases + 1.0) / (clicks + 20.0),
        quality,
        (now_seconds - updated_at) / 86400,
        lexical_scaled,
        dense_scaled,
        query_kind,
        known_share,
        title_word_hits / max(len(query_words), 1),
        number_hits / max(len(query_numbers), 1),
        pair_hits / max(len(query_pairs), 1),
        title_length,
    )
    return np.stack(columns, axis=1).astype(np.float32, copy=False).reshape(len(candidates), len(FEATURES))


_GIVEN_COLUMNS = 29  # the per-candidate values feature_matrix gathers before computing the features


def _per_budget(price: np.ndarray, budget: int | np.ndarray | None) -> np.ndarray:
    """Price over budget; NaN without a budget (or for a budget of 0)."""
    if budget is None:
        return np.full(len(price), math.nan)
    budget = np.asarray(budget, dtype=np.float64)
    return np.where(budget > 0, price / np.where(budget > 0, budget, 1.0), math.nan)


def _discount(product: IndexedProduct) -> float:
    if product.list_price_amount and product.price_amount is not None and product.list_price_amount > 0:
        return 1 - product.price_amount / product.list_price_amount
    return 0.0
