"""Offline relevance evaluation: load a judged relevance set and score ranking stages on it.

A relevance set is a directory laid out like Wayfair's WANDS benchmark: three tab-separated files with
header rows.

* `product.csv`: `product_id`, `product_name`, `product_class`, `category hierarchy` (levels separated by
  " / "), `product_description`, `product_features` ("key:value" pairs separated by "|"). Other columns
  (WANDS has rating_count, average_rating, review_count) are ignored, except the optional `brand`,
  `price_amount`, `currency`, `availability` and `inventory_quantity` that our own sets add.
* `query.csv`: `query_id`, `query` and, optionally, `query_class`.
* `label.csv`: `id`, `query_id`, `product_id`, `label`: `Exact`, `Partial` or `Irrelevant` (grades 2, 1,
  0, any case), or a non-negative number used as the grade.

Reading. Every record is one physical line (`csv.QUOTE_NONE`), so a description with a stray `"` is read
verbatim and cannot swallow the lines after it, and error messages give true line numbers. WANDS was
written by pandas, which wraps a field in quotes when it contains one (query 208 is
`"fawkes 36"" blue vanity"`); a field that is exactly such a quoted string is unwrapped, as pandas would.
A row with fewer fields than the header gets empty ones (as pandas reads it); one with more is an error.
Labels are kept as given, even for products or queries the other files lack: that is the benchmark's
judgment, and an unretrievable relevant product rightly costs recall.

Metrics. `ndcg_at_k` uses gain 2**grade - 1 and a log2(rank + 1) discount, with the ideal ranking built
from all judged grades of the query; products without a label count as irrelevant. A ranker that returns
a product twice gets credit for it once. `recall_at_k` and `reciprocal_rank` count products with grade > 0
as relevant. All three return 0.0 for a query without any relevant product; `evaluate` skips such queries
(they say nothing about a ranker), so the 0.0 never reaches a mean.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ranking.documents import IndexedProduct

GRADES = {"exact": 2.0, "partial": 1.0, "irrelevant": 0.0}

PRODUCT_COLUMNS = (
    "product_id",
    "product_name",
    "product_class",
    "category hierarchy",
    "product_description",
    "product_features",
)
OPTIONAL_PRODUCT_COLUMNS = ("brand", "price_amount", "currency", "availability", "inventory_quantity")
QUERY_COLUMNS = ("query_id", "query")
LABEL_COLUMNS = ("query_id", "product_id", "label")  # WANDS's running `id` column carries no information

METRICS = ("ndcg@10", "recall@100", "mrr")
_HEADINGS = {"ndcg@10": "NDCG@10", "recall@100": "Recall@100", "mrr": "MRR"}

StageRanker = Callable[[str], Sequence[int]]


@dataclass
class RelevanceSet:
    products: list[IndexedProduct]
    queries: dict[str, str]  # query_id -> text
    labels: dict[str, dict[int, float]]  # query_id -> {product_id: grade}


# --- loading -------------------------------------------------------------------------------------------


def load_relevance_set(directory: Path, *, progress: bool = False) -> RelevanceSet:
    """Reads product.csv, query.csv and label.csv from `directory` (see the module docstring)."""
    directory = Path(directory)
    _raise_field_size_limit()
    products = _load_products(directory / "product.csv", progress)
    queries = _load_queries(directory / "query.csv", progress)
    labels = _load_labels(directory / "label.csv", progress)
    return RelevanceSet(products=products, queries=queries, labels=labels)


def _load_products(path: Path, progress: bool) -> list[IndexedProduct]:
    products: list[IndexedProduct] = []
    seen: set[int] = set()
    for line, row in _read_table(path, PRODUCT_COLUMNS, progress):
        product_id = _parse_int(row, "product_id", path, line)
        if product_id in seen:
            raise ValueError(f"{path}:{line}: column 'product_id': duplicate product id {product_id}")
        seen.add(product_id)
        levels = [level.strip() for level in row["category hierarchy"].split(" / ") if level.strip()]
        # Without a hierarchy the product class is the best category there is.
        category = " > ".join(levels) if levels else row["product_class"].strip()
        product = IndexedProduct(
            product_id=product_id,
            title=row["product_name"].strip(),
            category=category,
            brand=row.get("brand", "").strip(),
            description=row["product_description"].strip(),
            attributes=_parse_features(row["product_features"]),
        )
        if row.get("price_amount", "").strip():
            product.price_amount = _parse_int(row, "price_amount", path, line)
        if row.get("currency", "").strip():
            product.currency = row["currency"].strip()
        if row.get("availability", "").strip():
            product.availability = row["availability"].strip()
        if row.get("inventory_quantity", "").strip():
            product.inventory_quantity = _parse_int(row, "inventory_quantity", path, line)
        else:
            product.inventory_quantity = 1  # a benchmark without stock data (WANDS): everything is available
        products.append(product)
    return products


def _load_queries(path: Path, progress: bool) -> dict[str, str]:
    queries: dict[str, str] = {}
    for line, row in _read_table(path, QUERY_COLUMNS, progress):
        query_id = row["query_id"].strip()
        if not query_id:
            raise ValueError(f"{path}:{line}: column 'query_id': empty query id")
        if query_id in queries:
            raise ValueError(f"{path}:{line}: column 'query_id': duplicate query id {query_id!r}")
        queries[query_id] = row["query"].strip()
    return queries


def _load_labels(path: Path, progress: bool) -> dict[str, dict[int, float]]:
    labels: dict[str, dict[int, float]] = {}
    for line, row in _read_table(path, LABEL_COLUMNS, progress):
        query_id = row["query_id"].strip()
        if not query_id:
            raise ValueError(f"{path}:{line}: column 'query_id': empty query id")
        product_id = _parse_int(row, "product_id", path, line)
        labels.setdefault(query_id, {})[product_id] = _parse_grade(row["label"], path, line)
    return labels


def _read_table(path: Path, required: Sequence[str], progress: bool) -> Iterator[tuple[int, dict[str, str]]]:
    """Yields (line number, {column: value}) for each data row; checks the header has `required`."""
    if not path.is_file():
        raise FileNotFoundError(f"relevance set file not found: {path}")
    optional = OPTIONAL_PRODUCT_COLUMNS + ("query_class",)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [_unquote(name).strip() for name in next(reader, [])]
        missing = [name for name in required if name not in header]
        if missing:
            raise ValueError(
                f"{path}:1: header lacks column(s) {', '.join(map(repr, missing))} "
                f"(found {', '.join(map(repr, header)) or 'nothing'})"
            )
        # Only the columns we use, at their first position: WANDS's extra columns cost nothing.
        wanted = {name: header.index(name) for name in (*required, *optional) if name in header}
        for row in tqdm(reader, desc=path.name, unit=" rows", disable=not progress):
            if not row or row == [""]:
                continue
            if len(row) > len(header):
                raise ValueError(
                    f"{path}:{reader.line_num}: {len(row)} tab-separated fields but the header "
                    f"names {len(header)} columns"
                )
            yield (
                reader.line_num,
                {name: _unquote(row[index]) if index < len(row) else "" for name, index in wanted.items()},
            )


def _unquote(field: str) -> str:
    """`"fawkes 36"" blue vanity"` -> `fawkes 36" blue vanity`; anything not wholly quoted stays verbatim."""
    if len(field) >= 2 and field[0] == field[-1] == '"' and '"' not in field[1:-1].replace('""', ""):
        return field[1:-1].replace('""', '"')
    return field


def _parse_int(row: Mapping[str, str], column: str, path: Path, line: int) -> int:
    text = row[column].strip()
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}:{line}: column {column!r}: expected an integer, got {text!r}") from None


def _parse_grade(text: str, path: Path, line: int) -> float:
    key = text.strip().lower()
    if key in GRADES:
        return GRADES[key]
    try:
        grade = float(key)
    except ValueError:
        grade = math.nan
    if not math.isfinite(grade) or grade < 0:
        raise ValueError(
            f"{path}:{line}: column 'label': unknown label {text!r} "
            "(expected Exact, Partial, Irrelevant or a non-negative number)"
        )
    return grade


def _parse_features(text: str) -> dict[str, object]:
    """`color:black|size : 10` -> {"color": "black", "size": "10"}; a repeated key collects a list."""
    attributes: dict[str, object] = {}
    last_key = None
    for piece in text.split("|"):
        key, colon, value = piece.partition(":")
        key, value = key.strip(), value.strip()
        if not colon:
            # No key: the value itself held a "|", so the piece continues the previous value.
            if last_key is not None and piece.strip() and isinstance(attributes[last_key], str):
                attributes[last_key] = f"{attributes[last_key]}|{piece.strip()}"
            continue
        if not key or not value:  # WANDS has pieces such as " : gray wood"
            continue
        if key in attributes:
            previous = attributes[key]
            attributes[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            attributes[key] = value
        last_key = key
    return attributes


def _raise_field_size_limit() -> None:
    # WANDS descriptions and feature lists run past the csv module's 128 KiB default; the limit is a C
    # long, which is 32 bits on Windows, so step down from sys.maxsize until it is accepted.
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


# --- metrics -------------------------------------------------------------------------------------------


def _distinct(ranked: Iterable[int], k: int | None = None) -> list[int]:
    """The first `k` distinct product ids, in order: a repeated product earns nothing the second time."""
    seen: set[int] = set()
    top: list[int] = []
    for product_id in ranked:
        if k is not None and len(top) >= k:
            break
        if product_id not in seen:
            seen.add(product_id)
            top.append(product_id)
    return top


def ndcg_at_k(ranked: Sequence[int], grades: Mapping[int, float], k: int = 10) -> float:
    """Normalized DCG of the top `k`; 0.0 when the query has no product with grade > 0."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.array([2.0 ** grades.get(product_id, 0.0) - 1.0 for product_id in _distinct(ranked, k)])
    ideal = np.sort(np.array([2.0**grade - 1.0 for grade in grades.values()]))[::-1][:k]
    ideal_dcg = float(ideal @ discounts[: len(ideal)])
    if ideal_dcg <= 0.0:
        return 0.0
    return float(gains @ discounts[: len(gains)]) / ideal_dcg


def recall_at_k(ranked: Sequence[int], grades: Mapping[int, float], k: int = 100) -> float:
    """Share of the products with grade > 0 found in the top `k`; 0.0 when there are none (see above)."""
    relevant = {product_id for product_id, grade in grades.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(_distinct(ranked, k))) / len(relevant)


def reciprocal_rank(ranked: Sequence[int], grades: Mapping[int, float]) -> float:
    """1 / rank (counting from 1) of the first product with grade > 0; 0.0 if the list has none."""
    for rank, product_id in enumerate(_distinct(ranked), start=1):
        if grades.get(product_id, 0.0) > 0:
            return 1.0 / rank
    return 0.0


def judged_queries(relevance: RelevanceSet) -> list[str]:
    """The ids of the queries with at least one product graded above 0, in the set's order."""
    return [
        query_id
        for query_id in relevance.queries
        if any(grade > 0 for grade in relevance.labels.get(query_id, {}).values())
    ]


def score_queries(
    stages: Mapping[str, StageRanker], relevance: RelevanceSet, *, progress: bool = False
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Each stage's NDCG@10, Recall@100 and MRR per judged query: (query ids, {stage: rows of METRICS})."""
    judged = judged_queries(relevance)
    if not judged:
        raise ValueError("no query in the relevance set has a product labelled with a grade above 0")
    scores = {name: np.zeros((len(judged), len(METRICS))) for name in stages}
    # Queries outside, stages inside: one progress bar, and every stage sees the queries in the same order.
    for row, query_id in enumerate(tqdm(judged, desc="evaluating", unit=" queries", disable=not progress)):
        text, grades = relevance.queries[query_id], relevance.labels[query_id]
        for name, ranker in stages.items():
            ranked = [int(product_id) for product_id in ranker(text)]
            scores[name][row] = (
                ndcg_at_k(ranked, grades, 10),
                recall_at_k(ranked, grades, 100),
                reciprocal_rank(ranked, grades),
            )
    return judged, scores


def mean_scores(scores: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    return {
        name: dict(zip(METRICS, map(float, rows.mean(axis=0)), strict=True)) for name, rows in scores.items()
    }


def evaluate(
    stages: Mapping[str, StageRanker], relevance: RelevanceSet, *, progress: bool = False
) -> dict[str, dict[str, float]]:
    """Mean NDCG@10, Recall@100 and MRR per stage over the queries with at least one relevant label."""
    return mean_scores(score_queries(stages, relevance, progress=progress)[1])


def format_table(results: dict[str, dict[str, float]]) -> str:
    """One row per stage, the metrics to 4 decimals, columns aligned."""
    header = ["Stage", *(_HEADINGS[metric] for metric in METRICS)]
    rows = [[name, *(f"{scores[metric]:.4f}" for metric in METRICS)] for name, scores in results.items()]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]

    def line(cells: list[str]) -> str:
        # Stage names read left to right; numbers line up on the decimal point.
        padded = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded)

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
