"""Fusion weighs the words and the vectors by what kind of query it is."""

from __future__ import annotations

import numpy as np
import pytest

from ranking.documents import IndexedProduct
from ranking.fusion import QueryKind, QueryProfile, classify, lexical_weight, scaled_dense, scaled_lexical
from ranking.lexical import LexicalIndex


def test_model_numbers_and_gtins_are_identifiers() -> None:
    assert classify(["wd-40", "spray"], 1.0, False).kind is QueryKind.IDENTIFIER
    assert classify(["tr-1200x"], 1.0, False).kind is QueryKind.IDENTIFIER
    assert classify(["0885909950805"], 1.0, False).kind is QueryKind.IDENTIFIER
    assert classify(["iphone", "5"], 1.0, False).kind is QueryKind.DESCRIPTIVE
    assert classify(["oakley"], 1.0, True).kind is QueryKind.BRAND


def test_words_weigh_more_for_identifiers_and_less_when_the_catalog_lacks_the_query_words() -> None:
    identifier = lexical_weight(QueryProfile(QueryKind.IDENTIFIER, 1.0))
    described = lexical_weight(QueryProfile(QueryKind.DESCRIPTIVE, 1.0))
    misspelt = lexical_weight(QueryProfile(QueryKind.DESCRIPTIVE, 0.0))
    assert identifier > described > misspelt > 0


def test_scores_are_scaled_within_their_list() -> None:
    assert scaled_lexical(np.array([10.0, 5.0])).tolist() == [1.0, 0.5]
    assert scaled_dense(np.array([0.8, 0.6, 0.4])).tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert scaled_dense(np.array([0.5, 0.5])).tolist() == [1.0, 1.0]
    assert scaled_lexical(np.array([])).tolist() == []


def test_the_index_tells_a_brand_only_query_and_words_it_does_not_hold() -> None:
    index = LexicalIndex()
    index.upsert(
        [
            IndexedProduct(product_id=1, title="Radar Sunglasses", brand="Oakley"),
            IndexedProduct(product_id=2, title="Running Shoes", brand="Acme"),
        ]
    )
    index.commit()
    _, profile = index.search_profiled("oakley", 5)
    assert profile.kind is QueryKind.BRAND
    _, profile = index.search_profiled("running zzyzx", 5)
    assert profile.kind is QueryKind.DESCRIPTIVE and profile.known_share == 0.5
