"""Train the first reranker, the one Agora ships, before any shopper has clicked.

    python -m ranking.offline.train_seed [--dataset ranking/relevance/demo] [--out ranking/seed_model]

It learns from the seed relevance set (made from the demo catalog by `ranking.offline.seed_relevance`, see its
docstring for how queries and grades are made): the engine indexes the set's products, the fused
candidates of each training query become feature rows graded by the set's labels, and LambdaMART learns
to order them. A fifth of the queries is held out and every stage is measured on it; the figures go into
the model's metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ranking.embedder import Embedder
from ranking.engine import MatchingEngine
from ranking.features import FEATURES
from ranking.offline.evaluate import format_table, load_relevance_set
from ranking.offline.stages import evaluate_engine, split_queries, subset, training_rows
from ranking.reranker import RerankerModel, train_lambdarank

HERE = Path(__file__).parent.parent  # the ranking package
DEFAULT_DATASET = HERE / "relevance" / "demo"
DEFAULT_OUT = HERE / "seed_model"


def train_seed(dataset: Path, *, holdout: float = 0.2, progress: bool = True) -> tuple[RerankerModel, dict]:
    relevance = load_relevance_set(dataset)
    engine = MatchingEngine(Embedder())
    engine.load(relevance.products, progress=progress)
    judged = [
        qid
        for qid, grades in relevance.labels.items()
        if any(g > 0 for g in grades.values()) and qid in relevance.queries
    ]
    train_ids, held_out = split_queries(judged, holdout)
    train = training_rows(engine, relevance, train_ids, progress=progress)
    valid = training_rows(engine, relevance, held_out, progress=progress)
    booster = train_lambdarank(
        train.matrix, train.labels, train.group_sizes, valid=(valid.matrix, valid.labels, valid.group_sizes)
    )
    with tempfile.TemporaryDirectory() as scratch:  # the version name is the digest of the model itself
        booster.save_model(f"{scratch}/model.txt")
        digest = hashlib.sha256(Path(f"{scratch}/model.txt").read_bytes()).hexdigest()[:8]
    model = RerankerModel(version=f"reranker-seed-{digest}", booster=booster, features=FEATURES)
    engine.swap_reranker(model)
    metrics = evaluate_engine(engine, subset(relevance, held_out), progress=progress)
    metadata = {
        "origin": "seed relevance set",
        "dataset": dataset.name,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_window": "seed relevance set (no logged events yet)",
        "train_queries": len(train.query_ids),
        "train_rows": len(train.labels),
        "held_out_queries": len(valid.query_ids),
        "best_iteration": booster.best_iteration,
        "offline_metrics": metrics,
    }
    return RerankerModel(model.version, booster, FEATURES, metadata), metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the seed reranker from the seed relevance set.")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    model, metrics = train_seed(args.dataset)
    model.save(args.out)
    print(format_table(metrics))
    print(f"saved {model.version} to {args.out}")
    print(json.dumps(model.metadata["offline_metrics"], indent=2))


if __name__ == "__main__":
    main()
