"""Does fine-tuning the embedding model on judged pairs help queries it was not trained on?

    nice .venv/bin/python bench/finetune_cv.py --set data/crowdflower:1 --work /tmp/finetune-cv \
        [--min-grade 2] [--folds 5] [--only-folds 0,1] [--seconds 600] [--max-pairs 1280] [--report]

The set's judged queries are split into folds exactly as `ranking.offline.train_mix` splits them. For each
fold, the base model is fine-tuned (`feedback.embedding_training.fine_tune_embedding`) on the (query,
product text) pairs of the other folds whose grade, after `:GRADE` shifted the scale, is at least
`--min-grade` (a seeded sample of `--max-pairs` of them, one pass, capped at `--seconds`); the whole catalog
is re-embedded by the fine-tuned model, and the fold's queries are scored by dense, hybrid and
hybrid+rerank against the base model on the very same queries. Two rerankers: the shipped seed model
(trained on every query of the set, so in-sample for both encoders) and one trained per fold on the other
folds' candidates by the same encoder (as a retraining would: the reranker learns the dense scores of the
encoder it serves with). Vectors are cached per model under `--work`, so a second run starts in seconds;
each fold's per-query scores are kept in `--work`/results.json, so folds can be run a few at a time. Prints
a table per fold and pooled, with a paired comparison per stage (`--report`: only that).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from feedback.embedding_training import fine_tune_embedding
from ranking.documents import embedding_text
from ranking.embedder import Embedder
from ranking.model_files import default_model_path
from ranking.offline.comparison import paired_comparison
from ranking.offline.evaluate import METRICS, RelevanceSet, load_relevance_set
from ranking.offline.selection import shift_grades
from ranking.offline.train_mix import PreparedSet, folds_of, parse_set, prepare, reranked_scores, train
from ranking.registry import SEED_RERANKER_PACKAGE
from ranking.reranker import RerankerModel

STAGES = ("dense", "hybrid", "hybrid+rerank (shipped)", "hybrid+rerank (cv)")
NDCG = METRICS.index("ndcg@10")


def judged_pairs(relevance: RelevanceSet, query_ids, min_grade: float) -> list[tuple[str, str]]:
    texts = {p.product_id: embedding_text(p) for p in relevance.products}
    return [
        (relevance.queries[qid], texts[pid])
        for qid in query_ids
        for pid, grade in relevance.labels.get(qid, {}).items()
        if grade >= min_grade and pid in texts
    ]


def loaded(text: str) -> RelevanceSet:
    path, irrelevant = parse_set(text)
    relevance = load_relevance_set(path)
    return shift_grades(relevance, irrelevant) if irrelevant is not None else relevance


def per_query(prepared: PreparedSet, shipped: RerankerModel, assignment: dict[str, int], fold: int):
    """NDCG@10 of each stage for the fold's queries (in the prepared order), with the fold's cv reranker."""
    training = [r for r in prepared.queries if assignment[r.query_id] != fold]
    held = [i for i, r in enumerate(prepared.queries) if assignment[r.query_id] == fold]
    cv_model = train(training)
    return {
        "dense": prepared.stage_scores["dense"][held, NDCG],
        "hybrid": prepared.stage_scores["hybrid"][held, NDCG],
        "hybrid+rerank (shipped)": np.array(
            [reranked_scores(shipped, prepared.queries[i])[NDCG] for i in held]
        ),
        "hybrid+rerank (cv)": np.array([reranked_scores(cv_model, prepared.queries[i])[NDCG] for i in held]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", required=True, metavar="DIR[:GRADE]")
    parser.add_argument("--work", type=Path, required=True, help="models, vectors and results go here")
    parser.add_argument("--min-grade", type=float, default=2.0, help="after the shift (CrowdFlower 3-4: 2)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-folds", default=None, help="comma-separated fold numbers (default: all)")
    parser.add_argument("--seconds", type=float, default=600.0, help="fine-tuning budget per fold")
    parser.add_argument("--max-pairs", type=int, default=1280)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--report", action="store_true", help="only print the table of the folds run")
    args = parser.parse_args(argv)
    saved = args.work / "results.json"  # folds of earlier runs are kept: the folds can be run a few at a time
    results = {int(f): r for f, r in json.loads(saved.read_text()).items()} if saved.is_file() else {}
    if args.report:
        print_pooled(results)
        return

    set_path, irrelevant = parse_set(args.set)
    relevance = loaded(args.set)
    cache, onnx = args.work / "vectors", args.work / "onnx"
    shipped = RerankerModel.load(Path(str(resources.files(SEED_RERANKER_PACKAGE))))

    started = time.monotonic()
    base = prepare(set_path, irrelevant, Embedder(cache_dir=onnx), cache)
    print(f"base prepared in {time.monotonic() - started:.0f} s", flush=True)
    assignment = folds_of([r.query_id for r in base.queries], args.folds)
    folds = [int(f) for f in args.only_folds.split(",")] if args.only_folds else list(range(args.folds))

    for fold in folds:
        fold_started = time.monotonic()
        training_ids = [qid for qid, f in assignment.items() if f != fold]
        pairs = judged_pairs(relevance, training_ids, args.min_grade)
        out = args.work / f"fold{fold}" / "model"
        report = fine_tune_embedding(
            default_model_path(),
            pairs,
            out,
            time_budget_seconds=args.seconds,
            max_pairs=args.max_pairs,
            batch_size=args.batch_size,
            progress=False,
        )
        tuned_at = time.monotonic()
        tuned = prepare(set_path, irrelevant, Embedder(out, cache_dir=onnx), cache)
        done = time.monotonic()
        before = per_query(base, shipped, assignment, fold)
        after = per_query(tuned, shipped, assignment, fold)
        results[fold] = {
            "queries": len(before["dense"]),
            "pairs": len(pairs),
            "report": {
                "pairs_used": report.pairs_used,
                "steps": report.steps,
                "train_seconds": round(report.seconds, 1),
                "stopped_by_budget": report.stopped_by_budget,
                "loss": round(report.loss, 4),
            },
            "seconds": {
                "fine_tune": round(tuned_at - fold_started, 1),
                "embed_and_score": round(done - tuned_at, 1),
                "total": round(time.monotonic() - fold_started, 1),
            },
            "before": {stage: scores.tolist() for stage, scores in before.items()},
            "after": {stage: scores.tolist() for stage, scores in after.items()},
        }
        saved.write_text(json.dumps(results, indent=1))
        summary = {k: v for k, v in results[fold].items() if k in ("queries", "pairs", "report", "seconds")}
        print(f"\nfold {fold}: {json.dumps(summary)}")
        for stage in STAGES:
            b, a = np.mean(before[stage]), np.mean(after[stage])
            print(f"  {stage:<26} base {b:.4f}  tuned {a:.4f}  {a - b:+.4f}", flush=True)
    print_pooled(results)


def print_pooled(results: dict[int, dict]) -> None:
    print("\n| fold | queries | " + " | ".join(f"{stage} base / tuned" for stage in STAGES) + " | minutes |")
    print("|---|---:|" + "---:|" * len(STAGES) + "---:|")
    for fold in sorted(results):
        r = results[fold]
        cells = [f"{np.mean(r['before'][s]):.4f} / {np.mean(r['after'][s]):.4f}" for s in STAGES]
        print(f"| {fold} | {r['queries']} | " + " | ".join(cells) + f" | {r['seconds']['total'] / 60:.1f} |")
    print(f"\npooled over folds {sorted(results)}: tuned - base [95% interval], wins/ties/losses")
    for stage in STAGES:
        before = np.concatenate([results[f]["before"][stage] for f in sorted(results)])
        after = np.concatenate([results[f]["after"][stage] for f in sorted(results)])
        c = paired_comparison(after, before)
        print(
            f"  {stage:<26} base {before.mean():.4f}  tuned {after.mean():.4f}  "
            f"{c.mean_difference:+.4f} [{c.low:+.4f}, {c.high:+.4f}]  {c.wins}/{c.ties}/{c.losses} "
            f"(n={len(before)})"
        )


if __name__ == "__main__":
    main()
