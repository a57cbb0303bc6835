"""Choosing the queries of an outside set, its grade scale, comparing two stages, converting its files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from ranking.documents import IndexedProduct
from ranking.offline.comparison import paired_comparison
from ranking.offline.embedding_cache import catalog_digest
from ranking.offline.evaluate import RelevanceSet, evaluate, load_relevance_set
from ranking.offline.outside_sets import convert_crowdflower
from ranking.offline.selection import Selection, read_query_ids, select, shift_grades


def _set() -> RelevanceSet:
    return RelevanceSet(
        products=[IndexedProduct(product_id=i, title=f"p{i}") for i in range(1, 6)],
        queries={"a": "red", "b": "blue", "c": "green", "d": "grey"},
        labels={"a": {1: 4, 2: 1}, "b": {3: 1}, "c": {4: 2, 5: 3, 1: 1}, "d": {}},
    )


def test_on_a_one_to_four_scale_grade_one_is_irrelevant_and_gains_nothing() -> None:
    shifted = shift_grades(_set(), 1)
    assert shifted.labels["a"] == {1: 3, 2: 0} and shifted.labels["b"] == {3: 0}
    # As-is, the product judged irrelevant (1) counts as relevant: MRR is 1.0 for a ranker showing it first.
    shows_irrelevant_first = {"r": lambda text: {"red": [2, 1], "green": [1, 4, 5], "blue": [3]}[text]}
    assert evaluate(shows_irrelevant_first, _set())["r"]["mrr"] == 1.0
    shifted_queries, _ = select(shifted, Selection())
    assert evaluate(shows_irrelevant_first, shifted_queries)["r"]["mrr"] == pytest.approx((0.5 + 0.5) / 2)


def test_selection_counts_every_query_it_leaves_out() -> None:
    chosen, counts = select(shift_grades(_set(), 1), Selection(min_judgments=3))
    assert list(chosen.queries) == ["c"]
    assert (counts.queries, counts.selected, counts.without_relevant, counts.too_few_judgments) == (
        4,
        1,
        2,
        1,
    )
    chosen, counts = select(_set(), Selection(limit=1))
    assert list(chosen.queries) == ["a"] and counts.over_limit == 2


def test_a_query_id_file_picks_the_queries(tmp_path: Path) -> None:
    listed = tmp_path / "ids.txt"
    listed.write_text("# the hard ones\nc\n\nb\n")
    chosen, counts = select(_set(), Selection(query_ids=read_query_ids(listed)))
    assert list(chosen.queries) == ["b", "c"] and counts.not_listed == 2


def test_paired_comparison_counts_wins_and_brackets_the_mean_difference() -> None:
    first, second = np.array([0.9, 0.5, 0.5, 0.2]), np.array([0.4, 0.5, 0.6, 0.1])
    result = paired_comparison(first, second)
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    assert result.mean_difference == pytest.approx(0.125)
    assert result.low <= result.mean_difference <= result.high
    with pytest.raises(ValueError):
        paired_comparison(first, second[:2])


def test_the_catalog_digest_changes_with_the_embedded_text_only() -> None:
    products = [IndexedProduct(product_id=1, title="Red shoe")]
    same = [IndexedProduct(product_id=1, title="Red shoe", price_amount=100)]
    other = [IndexedProduct(product_id=1, title="Blue shoe")]
    assert catalog_digest(products) == catalog_digest(same) != catalog_digest(other)


def test_crowdflower_train_file_converts_to_a_readable_set(tmp_path: Path) -> None:
    raw = tmp_path / "train.csv"
    with raw.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "query", "product_title", "product_description", "median_relevance", "relevance_variance"]
        )
        writer.writerow([1, "led lights", 'String Lights 6" "LED"', "<p>Warm\twhite</p>", 4, 0])
        writer.writerow([2, "led lights", "Desk Lamp", "", 1, 0.5])
        writer.writerow([3, "desk lamp", "Desk Lamp", "", 4, 0])  # the same product under another query
    assert convert_crowdflower(raw, tmp_path / "set") == (2, 2, 3)
    relevance = load_relevance_set(tmp_path / "set")
    assert [p.title for p in relevance.products] == ['String Lights 6" "LED"', "Desk Lamp"]
    assert relevance.products[0].description == "Warm white"
    assert relevance.labels == {"1": {1: 4.0, 2: 1.0}, "2": {2: 4.0}}
