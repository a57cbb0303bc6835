"""The seed relevance set: judged queries over the demo catalog, for training the reranker before any
shopper has clicked.

`python -m ranking.offline.seed_relevance OUTPUT_DIR` writes product.csv, query.csv and label.csv in the WANDS
layout that `ranking.offline.evaluate.load_relevance_set` reads. The shipped copy lives in ranking/relevance/demo.

Products. The whole demo catalog: every product of every `DEMO_SELLERS` seller (seed 0), numbered
1..N in seller order (catalog ids are strings, WANDS ids are integers). `product_class` is the leaf of
the category, `product_features` the catalog attributes, plus brand, price, stock columns.

Queries. Each query starts from a randomly sampled product and names some of its facets, so it has at
least that product as an Exact match; the templates, phrased the way shoppers type, are described and
written in `ranking.offline.seed_queries`.

Grades, per (query, product), from the facets a query names (`SeedQuery`), never from its wording:
* scope: the query's subcategory; queries naming no product type (brand, brand + model) take the root
  category as scope. Products outside the scope are Irrelevant (0).
* Exact (2): in scope and matching every named facet: the title contains the noun, the brand is the
  brand, the title starts with "<brand> <model> ", each named attribute has exactly the named value
  ("men's" does not match unisex), the description contains the named feature. Uses name no facet.
* Partial (1): in scope but missing at least one named facet.
Labelled per query: every Exact product, Partial ones (sampled) up to 60 relevant in all, and 20
Irrelevant ones (half from the same root category when the scope is a subcategory, as hard negatives).
Unjudged products count as irrelevant in evaluation. Everything is drawn from one seeded
`random.Random`, so the files are byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from market.taxonomy.demo_catalog import DEMO_SELLERS, demo_seller_products
from market.taxonomy.vocabulary import ROOTS, RootCategory, Subcategory
from ranking.documents import IndexedProduct
from ranking.offline.evaluate import OPTIONAL_PRODUCT_COLUMNS, PRODUCT_COLUMNS
from ranking.offline.seed_queries import SeedQuery, contains_phrase, make_queries

QUERY_COUNT = 360
RELEVANT_LABELS = 60  # Exact + Partial per query; every Exact product is labelled even beyond this
IRRELEVANT_LABELS = 20
DEFAULT_OUTPUT = Path(__file__).parent.parent / "relevance" / "demo"

PRODUCT_HEADER = PRODUCT_COLUMNS + OPTIONAL_PRODUCT_COLUMNS  # the WANDS layout plus our optional columns
LABEL_NAMES = {2.0: "Exact", 1.0: "Partial", 0.0: "Irrelevant"}


@dataclass
class SeedSet:
    products: list[IndexedProduct]
    queries: list[SeedQuery]
    labels: list[dict[int, float]]  # per query, in query order: product_id -> grade


def grade(query: SeedQuery, product: IndexedProduct) -> float:
    """2 (Exact), 1 (Partial) or 0 (Irrelevant): see the module docstring."""
    if query.category:
        in_scope = product.category == query.category
    else:
        in_scope = product.category_parts[:1] == [query.root]
    if not in_scope:
        return 0.0
    matches = (
        (query.noun is None or contains_phrase(product.title, query.noun))
        and (query.brand is None or product.brand == query.brand)
        and (query.model is None or product.title.startswith(f"{product.brand} {query.model} "))
        and all(product.attributes.get(key) == value for key, value in query.attributes)
        and (query.feature is None or query.feature.lower() in product.description.lower())
    )
    return 2.0 if matches else 1.0


# --- the catalog ---------------------------------------------------------------------------------------


def catalog() -> list[tuple[IndexedProduct, RootCategory, Subcategory]]:
    """The demo catalog as the relevance set holds it, with each product's place in the vocabulary."""
    places = {f"{root.name} > {sub.path}": (root, sub) for root in ROOTS for sub in root.subcategories}
    rows = []
    for seller in DEMO_SELLERS:
        for item in demo_seller_products(seller):
            product = IndexedProduct(
                product_id=len(rows) + 1,
                title=item["title"],
                category=item["category"],
                brand=item["brand"],
                description=item["description"],
                attributes=dict(item["attributes"]),
                currency=item["price"]["currency"],
                price_amount=item["price"]["amount"],
                availability=item["availability"],
                inventory_quantity=item["inventory_quantity"],
            )
            rows.append((product, *places[item["category"]]))
    return rows


# --- labels and files ----------------------------------------------------------------------------------


def _labels(rng: random.Random, query: SeedQuery, products: Sequence[IndexedProduct]) -> dict[int, float]:
    graded = [(product, grade(query, product)) for product in products]
    exact = [p.product_id for p, g in graded if g == 2.0]
    partial = [p.product_id for p, g in graded if g == 1.0]
    outside = [p for p, g in graded if g == 0.0]
    partial = sorted(rng.sample(partial, min(len(partial), max(0, RELEVANT_LABELS - len(exact)))))
    # Hard negatives first: same department, another product type (only when the scope is a subcategory).
    near = [p.product_id for p in outside if query.category and p.category_parts[:1] == [query.root]]
    negatives = rng.sample(near, min(len(near), IRRELEVANT_LABELS // 2))
    taken = set(negatives)
    far = [p.product_id for p in outside if p.product_id not in taken]
    negatives += rng.sample(far, min(len(far), IRRELEVANT_LABELS - len(negatives)))
    labels = {pid: 2.0 for pid in exact} | {pid: 1.0 for pid in partial} | {pid: 0.0 for pid in negatives}
    return dict(sorted(labels.items()))


def build_seed_set(*, query_count: int = QUERY_COUNT, seed: int = 0) -> SeedSet:
    rng = random.Random(f"agora-seed-relevance:{seed}")
    rows = catalog()
    products = [product for product, _, _ in rows]
    queries = make_queries(rng, rows, query_count)
    return SeedSet(products, queries, [_labels(rng, query, products) for query in queries])


def write_seed_set(directory: Path, *, query_count: int = QUERY_COUNT, seed: int = 0) -> SeedSet:
    """Writes product.csv, query.csv and label.csv into `directory` (created if needed)."""
    seed_set = build_seed_set(query_count=query_count, seed=seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    products = [
        (
            p.product_id,
            p.title,
            p.category_parts[-1],
            " / ".join(p.category_parts),
            p.description,
            "|".join(f"{key}:{value}" for key, value in p.attributes.items()),
            p.brand,
            p.price_amount,
            p.currency,
            p.availability,
            p.inventory_quantity,
        )
        for p in seed_set.products
    ]
    queries = [(n, q.text, q.query_class) for n, q in enumerate(seed_set.queries, start=1)]
    labels = [(n, grades) for n, grades in enumerate(seed_set.labels, start=1)]
    label_rows = [(qid, pid, LABEL_NAMES[g]) for qid, grades in labels for pid, g in grades.items()]
    _write(directory / "product.csv", PRODUCT_HEADER, products)
    _write(directory / "query.csv", ("query_id", "query", "query_class"), queries)
    _write(
        directory / "label.csv",
        ("id", "query_id", "product_id", "label"),
        [(n, *row) for n, row in enumerate(label_rows, start=1)],
    )
    return seed_set


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    # Plain TSV, as WANDS: QUOTE_NONE makes the writer refuse a tab or newline rather than quote it.
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(
            handle, delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None, lineterminator="\n"
        )
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ranking.offline.seed_relevance", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "output_dir",
        type=Path,
        nargs="?",
        default=DEFAULT_OUTPUT,
        help=f"where to write the three files (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--queries", type=int, default=QUERY_COUNT, help="how many queries to make")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    seed_set = write_seed_set(args.output_dir, query_count=args.queries, seed=args.seed)
    label_count = sum(len(grades) for grades in seed_set.labels)
    print(
        f"wrote {len(seed_set.products)} products, {len(seed_set.queries)} queries and "
        f"{label_count} labels to {args.output_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
