"""Train the shipped reranker on a mix of relevance sets and measure it on queries it never saw.

    python -m ranking.offline.train_mix --set ranking/relevance/demo --set path/to/crowdflower:1 \
        [--folds 5] [--ablation] [--out ranking/seed_model]

`--set DIR[:GRADE]`: a relevance set and, for a numeric scale, the grade that means irrelevant (see
`agora eval relevance --irrelevant-grade`). Each set's queries are split into `folds` parts by query; a
model trained on every set's other parts scores each part, so every query's hybrid+rerank figure comes from
a model that never saw it (cross-validation by query), while lexical, dense and hybrid need no training and
are measured on the same queries. The model saved is then trained on all queries of all sets.
`--ablation` repeats the cross-validation with each feature group blanked (set to NaN, which LightGBM
treats as absent), giving each group's contribution per set.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ranking.embedder import Embedder
from ranking.features import FEATURES, Signals, feature_matrix
from ranking.offline.evaluate import METRICS, load_relevance_set, ndcg_at_k, recall_at_k, reciprocal_rank
from ranking.offline.evaluate import score_queries as score_stages
from ranking.offline.selection import shift_grades
from ranking.offline.stages import _request, engine_over, stage_rankers
from ranking.reranker import RerankerModel, train_lambdarank

HERE = Path(__file__).parent.parent
DEFAULT_OUT = HERE / "seed_model"

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "retrieval scores": (
        "dense_score",
        "dense_rank",
        "lexical_score",
        "lexical_rank",
        "fused_score",
        "lexical_scaled",
        "dense_scaled",
    ),
    "query-title match": (
        "title_overlap",
        "title_coverage",
        "number_match",
        "exact_id_match",
        "query_tokens",
    ),
    "query kind": ("query_kind", "known_share"),
    "catalog fields": ("brand_match", "category_overlap", "attribute_overlap"),
    "price and stock": (
        "log_price",
        "price_to_budget",
        "discount",
        "in_stock",
        "log_inventory",
        "freshness_days",
    ),
    "shopper behaviour": ("log_impressions", "click_rate", "cart_rate", "conversion_rate", "seller_quality"),
}


@dataclass
class QueryRows:
    query_id: str
    product_ids: np.ndarray
    matrix: np.ndarray
    labels: np.ndarray  # grades of the candidates (unjudged: 0)
    grades: dict[int, float]  # every judged grade of the query, for the metrics


@dataclass
class PreparedSet:
    name: str
    queries: list[QueryRows]
    stage_scores: dict[str, np.ndarray]  # lexical, dense, hybrid per query (rows of METRICS)


def parse_set(text: str) -> tuple[Path, float | None]:
    path, _, grade = text.rpartition(":") if ":" in text else (text, "", "")
    return Path(path), float(grade) if grade else None


def prepare(path: Path, irrelevant: float | None, embedder: Embedder, cache_dir: Path | None) -> PreparedSet:
    relevance = load_relevance_set(path)
    if irrelevant is not None:
        relevance = shift_grades(relevance, irrelevant)
    engine = engine_over(relevance, embedder, cache_dir=cache_dir, progress=True)
    query_ids, scores = score_stages(stage_rankers(engine), relevance, progress=True)
    rows, signals = [], Signals()
    for query_id in tqdm(query_ids, desc=f"features {path.name}", unit=" queries"):
        grades = relevance.labels[query_id]
        candidates = engine.retrieve(_request(relevance.queries[query_id]))
        ids = np.array([c.product.product_id for c in candidates], dtype=np.int64)
        rows.append(
            QueryRows(
                query_id,
                ids,
                feature_matrix(relevance.queries[query_id], candidates, signals),
                np.array([grades.get(int(pid), 0.0) for pid in ids], dtype=np.float32),
                grades,
            )
        )
    return PreparedSet(path.name, rows, scores)


def folds_of(query_ids: Sequence[str], folds: int, seed: int = 7) -> dict[str, int]:
    shuffled = sorted(query_ids)
    random.Random(seed).shuffle(shuffled)
    return {query_id: i % folds for i, query_id in enumerate(shuffled)}


def train(rows: Sequence[QueryRows], blank: Sequence[int] = ()) -> RerankerModel:
    useful = [r for r in rows if len(r.labels) and (r.labels > 0).any()]  # nothing to learn otherwise
    matrix = np.vstack([r.matrix for r in useful])
    if blank:
        matrix = matrix.copy()
        matrix[:, list(blank)] = np.nan
    labels = np.concatenate([r.labels for r in useful]).round().astype(np.int32)
    booster = train_lambdarank(matrix, labels, [len(r.labels) for r in useful], num_rounds=150)
    return RerankerModel(version="candidate", booster=booster, features=FEATURES)


def reranked_scores(model: RerankerModel, rows: QueryRows, blank: Sequence[int] = ()) -> np.ndarray:
    matrix = rows.matrix
    if blank:
        matrix = matrix.copy()
        matrix[:, list(blank)] = np.nan
    order = np.argsort(-model.score(matrix), kind="stable")
    ranked = rows.product_ids[order].tolist()
    return np.array(
        [
            ndcg_at_k(ranked, rows.grades, 10),
            recall_at_k(ranked, rows.grades, 100),
            reciprocal_rank(ranked, rows.grades),
        ]
    )


def cross_validate(
    sets: Sequence[PreparedSet], folds: int, blank: Sequence[int] = ()
) -> dict[str, np.ndarray]:
    """hybrid+rerank per query of each set, each scored by a model trained without that query's fold."""
    assignment = {s.name: folds_of([r.query_id for r in s.queries], folds) for s in sets}
    results = {s.name: np.zeros((len(s.queries), len(METRICS))) for s in sets}
    for fold in range(folds):
        training = [r for s in sets for r in s.queries if assignment[s.name][r.query_id] != fold]
        model = train(training, blank)
        for s in sets:
            for i, rows in enumerate(s.queries):
                if assignment[s.name][rows.query_id] == fold:
                    results[s.name][i] = reranked_scores(model, rows, blank)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the shipped reranker on several relevance sets.")
    parser.add_argument("--set", dest="sets", action="append", required=True, metavar="DIR[:GRADE]")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="save the model trained on everything here")
    args = parser.parse_args(argv)
    embedder = Embedder()
    sets = [prepare(*parse_set(text), embedder, args.cache_dir) for text in args.sets]
    reranked = cross_validate(sets, args.folds)
    ndcg = METRICS.index("ndcg@10")
    print(f"\nNDCG@10 / Recall@100 per set ({args.folds}-fold by query for hybrid+rerank)")
    for s in sets:
        print(f"{s.name} ({len(s.queries)} queries)")
        for stage, scores in [*s.stage_scores.items(), ("hybrid+rerank", reranked[s.name])]:
            means = scores.mean(axis=0)
            print(f"  {stage:<14} {means[0]:.4f}  {means[1]:.4f}  {means[2]:.4f}")
    if args.ablation:
        print("\nablation: NDCG@10 of hybrid+rerank without each feature group (cross-validated)")
        print("  " + "  ".join(f"{s.name:>12}" for s in sets) + "  group")
        print(
            "  " + "  ".join(f"{reranked[s.name][:, ndcg].mean():12.4f}" for s in sets) + "  (all features)"
        )
        for group, names in FEATURE_GROUPS.items():
            blank = [FEATURES.index(name) for name in names]
            scores = cross_validate(sets, args.folds, blank)
            print(
                "  "
                + "  ".join(f"{scores[s.name][:, ndcg].mean():12.4f}" for s in sets)
                + f"  without {group}"
            )
    if args.out:
        model = train([r for s in sets for r in s.queries])
        with tempfile.TemporaryDirectory() as scratch:  # the version name is the digest of the model itself
            model.booster.save_model(f"{scratch}/model.txt")
            digest = hashlib.sha256(Path(f"{scratch}/model.txt").read_bytes()).hexdigest()[:8]
        by_set = {
            s.name: {
                stage: dict(zip(METRICS, map(float, scores.mean(axis=0)), strict=True))
                for stage, scores in [*s.stage_scores.items(), ("hybrid+rerank", reranked[s.name])]
            }
            for s in sets
        }
        metadata = {
            "origin": "seed relevance sets",
            "dataset": "+".join(s.name for s in sets),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_window": "relevance sets (no logged events yet)",
            "train_queries": sum(len(s.queries) for s in sets),
            "folds": args.folds,
            # The first set's figures where `agora models list` looks; hybrid+rerank cross-validated.
            "offline_metrics": by_set[sets[0].name],
            "offline_metrics_by_set": by_set,
        }
        RerankerModel(f"reranker-seed-{digest}", model.booster, FEATURES, metadata).save(args.out)
        print(f"saved reranker-seed-{digest} to {args.out}")


if __name__ == "__main__":
    main()
