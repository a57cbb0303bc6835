"""`agora eval relevance` on an outside set: chosen queries, a 1-4 scale, counts, per-query output, a
paired comparison, and product vectors kept for the next run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from market.app.cli import main

PRODUCTS = [
    (1, "Red Running Shoes", "Lightweight road running shoes"),
    (2, "Blue Rain Jacket", "Waterproof hooded jacket"),
    (3, "Stainless Steel Water Bottle", "Keeps drinks cold"),
    (4, "Trail Running Shoes", "Grippy shoes for trails"),
]
QUERIES = [("q1", "running shoes"), ("q2", "rain jacket"), ("q3", "water bottle")]
LABELS = [("q1", 1, 4), ("q1", 4, 3), ("q1", 2, 1), ("q2", 2, 4), ("q3", 3, 1)]  # q3: only irrelevant


def write_set(directory: Path) -> Path:
    directory.mkdir()
    header = (
        "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features\n"
    )
    rows = "".join(f"{pid}\t{title}\t\t\t{description}\t\n" for pid, title, description in PRODUCTS)
    (directory / "product.csv").write_text(header + rows)
    (directory / "query.csv").write_text("query_id\tquery\n" + "".join(f"{q}\t{t}\n" for q, t in QUERIES))
    labels = "".join(f"{i}\t{q}\t{p}\t{g}\n" for i, (q, p, g) in enumerate(LABELS))
    (directory / "label.csv").write_text("id\tquery_id\tproduct_id\tlabel\n" + labels)
    return directory


def test_an_outside_set_is_evaluated_with_its_scale_counts_and_a_paired_comparison(tmp_path: Path) -> None:
    dataset, cache, per_query = write_set(tmp_path / "set"), tmp_path / "cache", tmp_path / "per-query.ndjson"
    args = [
        "eval",
        "relevance",
        "--dataset",
        str(dataset),
        "--irrelevant-grade",
        "1",
        "--cache-dir",
        str(cache),
    ]
    env = {"AGORA_DATA_DIR": str(tmp_path / "data")}

    result = CliRunner().invoke(
        main, [*args, "--json", "--per-query", str(per_query), "--compare", "hybrid", "lexical"], env=env
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # q3 has only a product graded 1, which on this scale is irrelevant: it is skipped and counted.
    assert payload["queries"]["selected"] == 2 and payload["queries"]["without_relevant"] == 1
    assert set(payload["stages"]) == {"lexical", "dense", "hybrid", "hybrid+rerank"}
    comparison = payload["comparison"]
    assert comparison["wins"] + comparison["ties"] + comparison["losses"] == 2
    records = [json.loads(line) for line in per_query.read_text().splitlines()]
    assert [r["query_id"] for r in records] == ["q1", "q2"] and records[0]["judged"] == 3
    assert len(list(cache.glob("*.npy"))) == 1  # the vectors are kept for the next run

    limited = CliRunner().invoke(main, [*args, "--limit", "1", "--quiet"], env=env)
    assert limited.exit_code == 0, limited.output
    assert "queries: 1 evaluated of 3" in limited.output and "1 over the limit" in limited.output


def test_a_selection_that_leaves_no_query_is_said_plainly(tmp_path: Path) -> None:
    dataset = write_set(tmp_path / "set")
    result = CliRunner().invoke(
        main,
        ["eval", "relevance", "--dataset", str(dataset), "--min-judgments", "5", "--quiet", "--no-cache"],
        env={"AGORA_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.exit_code == 1 and "no query left to evaluate" in result.output
