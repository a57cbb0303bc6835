"""Public relevance sets written by others, turned into the layout `agora eval relevance` reads.

The project ships no outside data: each set stays under its own terms, and this module converts the files a
user downloaded into a directory of product.csv, query.csv and label.csv (see `ranking.offline.evaluate`).

    python -m ranking.offline.outside_sets crowdflower path/to/train.csv out/crowdflower

* **CrowdFlower "Search Results Relevance"** (Kaggle competition, 2015; the competition's rules, no
  redistribution here): `train.csv` from https://www.kaggle.com/c/crowdflower-search-relevance/data. 10,158
  (query, product) pairs of 261 real shopper queries on several retailers' sites, each rated 1-4 by three
  people (`median_relevance`). A product is one distinct (title, description); its id is the first row's
  `id`. Grades are written as given (1-4), so evaluate with `--irrelevant-grade 1`: 1 is "irrelevant".
* **Wayfair WANDS** (MIT licence): https://github.com/wayfair/WANDS, `dataset/` (the large files are Git LFS
  objects: `git lfs pull`). Already in the layout; `agora eval relevance --dataset WANDS/dataset` reads it as
  it is (grades Exact 2 / Partial 1 / Irrelevant 0). `sample` below cuts it to a size that embeds in minutes.
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import re
from pathlib import Path

from ranking.offline.evaluate import RelevanceSet, load_relevance_set

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """HTML (CrowdFlower descriptions carry markup) to one line of plain text, safe in a TSV field."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip()


def convert_crowdflower(train_csv: Path, out: Path) -> tuple[int, int, int]:
    """Write the layout from CrowdFlower's train.csv; returns (products, queries, labels)."""
    products: dict[tuple[str, str], int] = {}
    queries: dict[str, str] = {}
    labels: dict[tuple[str, int], int] = {}
    with Path(train_csv).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            title, description = clean_text(row["product_title"]), clean_text(row["product_description"])
            product_id = products.setdefault((title, description), int(row["id"]))
            text = clean_text(row["query"])
            query_id = queries.setdefault(text, str(len(queries) + 1))
            labels[(query_id, product_id)] = int(row["median_relevance"])
    rows = [
        (product_id, title, "", "", description, "") for (title, description), product_id in products.items()
    ]
    _write(out, rows, [(qid, text) for text, qid in queries.items()], labels)
    return len(products), len(queries), len(labels)


def sample(relevance: RelevanceSet, out: Path, *, queries: int, distractors: int, seed: int = 7) -> None:
    """A smaller set: `queries` queries drawn at random, every product judged for them, and `distractors`
    other products drawn at random (so retrieval still has to find the judged ones in a crowd)."""
    rng = random.Random(seed)
    judged = sorted(qid for qid, grades in relevance.labels.items() if qid in relevance.queries and grades)
    chosen = sorted(rng.sample(judged, min(queries, len(judged))), key=judged.index)
    needed = {pid for qid in chosen for pid in relevance.labels[qid]}
    others = [p.product_id for p in relevance.products if p.product_id not in needed]
    keep = needed | set(rng.sample(others, min(distractors, len(others))))
    rows = [
        (
            p.product_id,
            p.title,
            "",
            p.category.replace(" > ", " / "),
            p.description,
            "|".join(f"{k}:{v}" for k, v in p.attributes.items() if not isinstance(v, list)),
        )
        for p in relevance.products
        if p.product_id in keep
    ]
    grades = {(qid, pid): grade for qid in chosen for pid, grade in relevance.labels[qid].items()}
    _write(out, rows, [(qid, relevance.queries[qid]) for qid in chosen], grades)


def _write(out: Path, products: list[tuple], queries: list[tuple[str, str]], labels: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: tuple[str, ...], rows) -> None:
        # One record a line, fields verbatim (the reader takes them so): no tab or newline is left in one.
        with (out / name).open("w", encoding="utf-8", newline="") as handle:
            handle.write("\t".join(header) + "\n")
            for row in rows:
                handle.write("\t".join(_field(value) for value in row) + "\n")

    table(
        "product.csv",
        (
            "product_id",
            "product_name",
            "product_class",
            "category hierarchy",
            "product_description",
            "product_features",
        ),
        products,
    )
    table("query.csv", ("query_id", "query"), queries)
    table(
        "label.csv",
        ("id", "query_id", "product_id", "label"),
        ((i, qid, pid, _grade(g)) for i, ((qid, pid), g) in enumerate(labels.items())),
    )


def _field(value: object) -> str:
    return _SPACE.sub(" ", str(value)).replace("\t", " ").strip()


def _grade(grade: float) -> str:
    return str(int(grade)) if float(grade).is_integer() else str(grade)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Convert a public relevance set into Agora's layout.")
    commands = parser.add_subparsers(dest="command", required=True)
    crowdflower = commands.add_parser("crowdflower", help="CrowdFlower Search Results Relevance train.csv")
    crowdflower.add_argument("train_csv", type=Path)
    crowdflower.add_argument("out", type=Path)
    cut = commands.add_parser("sample", help="a smaller copy of a set: some queries, their products, more")
    cut.add_argument("dataset", type=Path)
    cut.add_argument("out", type=Path)
    cut.add_argument("--queries", type=int, default=200)
    cut.add_argument("--distractors", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.command == "crowdflower":
        counts = convert_crowdflower(args.train_csv, args.out)
        print("wrote {} products, {} queries, {} labels to {}".format(*counts, args.out))
    else:
        sample(load_relevance_set(args.dataset), args.out, queries=args.queries, distractors=args.distractors)
        print(f"wrote a sample of {args.dataset} to {args.out}")


if __name__ == "__main__":
    main()
