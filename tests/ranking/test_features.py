"""The reranker's features: each column checked against a value worked out by hand."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ranking.documents import IndexedProduct
from ranking.features import (
    ABSENT_RANK,
    FEATURES,
    Candidate,
    ProductStats,
    Signals,
    feature_matrix,
    product_profile,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SELLER, UNRATED_SELLER = uuid.uuid4(), uuid.uuid4()


def trail_shoe() -> IndexedProduct:
    return IndexedProduct(
        product_id=7,
        title="Trail Running Shoes",
        brand="Stridewell",
        category="Shoes > Running",
        attributes={"color": "Blue", "size": ["10", "11"]},
        seller_id=SELLER,
        external_id="SW-TR1200",
        gtin="0123456789012",
        currency="USD",
        price_amount=12_900,
        list_price_amount=17_200,
        inventory_quantity=3,
        updated_at=NOW - timedelta(days=2, hours=12),
    )


def bare_product() -> IndexedProduct:
    """A product from a relevance set: no price, no brand, no seller, no stock, no date."""
    return IndexedProduct(
        product_id=8, title="Wool Socks", availability="out_of_stock", seller_id=UNRATED_SELLER
    )


def row(matrix: np.ndarray, index: int) -> dict[str, float]:
    return {name: float(matrix[index, column]) for column, name in enumerate(FEATURES)}


def test_every_feature_of_a_candidate_matches_the_hand_computed_value():
    candidate = Candidate(
        trail_shoe(),
        dense_score=0.8,
        dense_rank=2,
        lexical_score=11.5,
        lexical_rank=1,
        fused_score=0.0325,
        lexical_scaled=1.0,
        dense_scaled=0.5,
        query_kind=2.0,
        known_share=0.8,
    )
    signals = Signals(
        product_stats={7: ProductStats(impressions=150, clicks=15, add_to_carts=4, purchases=2)},
        seller_quality={SELLER: 0.9},
    )
    features = row(
        feature_matrix(
            "blue stridewell running shoe sw-tr1200", [candidate], signals, budget=15_000, now=NOW
        ),
        0,
    )
    # query tokens: blue, stridewell, running, shoe (shoes folded), sw, tr1200 -> 6
    expected = {
        "dense_score": 0.8,
        "dense_rank": 2,
        "lexical_score": 11.5,
        "lexical_rank": 1,
        "fused_score": 0.0325,
        "title_overlap": 2 / 6,  # running, shoe
        "brand_match": 1,
        "category_overlap": 2 / 6,  # shoe, running
        "attribute_overlap": 1 / 6,  # blue
        "exact_id_match": 1,  # the SKU is in the query
        "query_tokens": 6,
        "log_price": math.log1p(129.0),
        "price_to_budget": 12_900 / 15_000,
        "discount": 1 - 12_900 / 17_200,
        "in_stock": 1,
        "log_inventory": math.log1p(3),
        "log_impressions": math.log1p(150),
        "click_rate": (15 + 0.05 * 50) / (150 + 50),
        "cart_rate": (4 + 1) / (15 + 10),
        "conversion_rate": (2 + 1) / (15 + 20),
        "seller_quality": 0.9,
        "freshness_days": 2.5,
        "lexical_scaled": 1.0,
        "dense_scaled": 0.5,
        "query_kind": 2.0,
        "known_share": 0.8,
        # normalised words: blue, stridewell, running, shoe, sw, tr1200; the title has running, shoe
        "title_coverage": 2 / 6,
        "number_match": 0.0,  # tr1200, the one word with a digit, is not in the title
        "title_pairs": 1 / 5,  # of the query's 5 adjacent pairs the title has "running shoe"
        "title_length": 3,  # trail, running, shoe
    }
    assert features == pytest.approx(expected, rel=1e-6)


def test_what_a_product_or_the_log_does_not_say_is_missing_or_neutral():
    features = row(feature_matrix("wool socks", [Candidate(bare_product())], Signals(), now=NOW), 0)
    for name in ("dense_score", "log_price", "price_to_budget", "seller_quality", "freshness_days"):
        assert math.isnan(features[name]), name
    assert features["dense_rank"] == features["lexical_rank"] == ABSENT_RANK
    assert features["title_overlap"] == 1 and features["brand_match"] == 0  # no brand never "matches"
    assert features["discount"] == features["in_stock"] == features["log_inventory"] == 0
    # never shown: the smoothing priors, not zero or undefined rates
    assert features["log_impressions"] == 0
    assert features["click_rate"] == pytest.approx(0.05)
    assert features["cart_rate"] == pytest.approx(0.1)
    assert features["conversion_rate"] == pytest.approx(0.05)


def test_without_a_budget_price_to_budget_is_missing_and_rows_follow_the_candidates_order():
    shoe, socks = Candidate(trail_shoe()), Candidate(bare_product())
    matrix = feature_matrix("shoes", [socks, shoe], Signals(), now=NOW)
    assert matrix.shape == (2, len(FEATURES)) and matrix.dtype == np.float32
    assert np.isnan(matrix[:, FEATURES.index("price_to_budget")]).all()
    assert matrix[:, FEATURES.index("title_overlap")].tolist() == [0, 1]
    assert feature_matrix("shoes", [], Signals(), now=NOW).shape == (0, len(FEATURES))


def test_a_short_identifier_is_not_an_exact_match_and_a_query_word_is_not_a_brand_match():
    product = IndexedProduct(product_id=1, title="Mug", brand="Acme Home", external_id="A1")
    features = row(feature_matrix("acme a1 mug", [Candidate(product)], Signals(), now=NOW), 0)
    assert features["exact_id_match"] == 0  # "a1" is too short to be named on purpose
    assert features["brand_match"] == 0  # only one of the brand's two words


def test_a_product_profile_is_made_once_per_product_version():
    product = trail_shoe()
    assert product_profile(product) is product_profile(product)
    assert product_profile(trail_shoe()) is not product_profile(product)
