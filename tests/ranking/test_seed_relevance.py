"""The shipped seed relevance set: loadable, judged sensibly by the catalog's own data, reproducible."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from market.taxonomy.demo_catalog import DEMO_SELLERS
from ranking.documents import IndexedProduct
from ranking.offline.evaluate import RelevanceSet, load_relevance_set
from ranking.offline.seed_relevance import DEFAULT_OUTPUT, SeedQuery, build_seed_set, write_seed_set

SHIPPED = Path(__file__).resolve().parents[2] / "ranking" / "relevance" / "demo"
FILES = ("product.csv", "query.csv", "label.csv")


@functools.cache
def shipped() -> RelevanceSet:
    return load_relevance_set(SHIPPED)


@functools.cache
def seed_queries() -> tuple[SeedQuery, ...]:
    """The facets behind the shipped queries, regenerated (query ids run 1..N in this order)."""
    return tuple(build_seed_set().queries)


def facets_match(query: SeedQuery, product: IndexedProduct) -> bool:
    """Re-derived from the loaded product alone, independently of the generator's own grading."""
    checks = [
        query.noun is None or re.search(rf"\b{re.escape(query.noun.lower())}\b", product.title.lower()),
        query.brand is None or product.brand == query.brand,
        # Titles open with brand and model line ("Stridewell Tempo 2 Men's ..." is a Tempo).
        query.model is None or product.title.startswith(f"{product.brand} {query.model} "),
        query.feature is None or query.feature.lower() in product.description.lower(),
        *(product.attributes.get(key) == value for key, value in query.attributes),
    ]
    return all(checks)


def in_scope(query: SeedQuery, product: IndexedProduct) -> bool:
    if query.category is not None:
        return product.category == query.category
    return product.category_parts[0] == query.root


def test_shipped_set_is_where_the_generator_writes_it() -> None:
    assert DEFAULT_OUTPUT.resolve() == SHIPPED
    assert sum((SHIPPED / name).stat().st_size for name in FILES) < 2_000_000


def test_shipped_set_loads_with_the_whole_catalog() -> None:
    relevance = shipped()
    assert len(relevance.products) == sum(seller.product_count for seller in DEMO_SELLERS)
    assert [p.product_id for p in relevance.products] == list(range(1, len(relevance.products) + 1))
    first = relevance.products[0]
    assert first.brand and first.currency == "USD" and first.price_amount and first.attributes
    assert " > " in first.category
    assert len(relevance.queries) >= 250
    assert set(relevance.labels) == set(relevance.queries)
    texts = [text.lower() for text in relevance.queries.values()]
    assert len(set(texts)) == len(texts)  # no query asked twice


def test_every_query_has_an_exact_product_and_a_bounded_label_list() -> None:
    for query_id, grades in shipped().labels.items():
        assert 2.0 in grades.values(), query_id
        assert 0.0 in grades.values(), query_id
        partial = sum(1 for grade in grades.values() if grade == 1.0)
        exact = sum(1 for grade in grades.values() if grade == 2.0)
        assert exact + partial <= max(60, exact)
        assert set(grades.values()) <= {0.0, 1.0, 2.0}


def test_grades_follow_from_the_catalog_data() -> None:
    relevance = shipped()
    queries = seed_queries()
    assert [relevance.queries[str(n)] for n in range(1, len(queries) + 1)] == [q.text for q in queries]
    products = {product.product_id: product for product in relevance.products}
    for n, query in enumerate(queries, start=1):
        grades = relevance.labels[str(n)]
        for product_id, grade in grades.items():
            product = products[product_id]
            if grade == 2.0:
                assert in_scope(query, product) and facets_match(query, product), (query, product.title)
            elif grade == 1.0:
                assert in_scope(query, product) and not facets_match(query, product), (query, product.title)
            else:
                assert not in_scope(query, product), (query, product.title)
        # Every Exact product in the catalog is labelled, so unjudged ones really are not Exact.
        exact = {
            pid
            for pid, product in products.items()
            if in_scope(query, product) and facets_match(query, product)
        }
        assert exact == {pid for pid, grade in grades.items() if grade == 2.0}, query


def test_queries_vary_like_shoppers_type() -> None:
    queries = seed_queries()
    assert any(q.category is None and q.model for q in queries)  # "veloce fleetfoot"
    assert any(q.category is None and q.brand and not q.model for q in queries)  # "stridewell"
    assert any(q.brand and q.category for q in queries)  # "stridewell sandals"
    assert any(len(q.attributes) >= 2 for q in queries)  # "women's hiking boots size 8"
    assert any(q.feature for q in queries)
    assert any(q.noun is None and q.category and not q.attributes and not q.brand for q in queries)  # generic
    assert any(q.text != q.text.lower() for q in queries) and any(q.text == q.text.lower() for q in queries)
    categories = {q.category for q in queries if q.category}
    assert len(categories) >= 40  # spread over the catalog, not piled into one department


def test_generation_is_deterministic(tmp_path: Path) -> None:
    small_a = write_seed_set(tmp_path / "a", query_count=30)
    write_seed_set(tmp_path / "b", query_count=30)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert len(small_a.queries) == 30
    assert (tmp_path / "a" / "query.csv").read_text().count("\n") == 31


def test_shipped_files_are_current(tmp_path: Path) -> None:
    # The shipped set is exactly what the generator makes today: regenerate it when the catalog changes
    # (python -m ranking.offline.seed_relevance ranking/relevance/demo).
    write_seed_set(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
