"""The nightly retraining: the event log in, better models out, but only if they are better.

    log window -> labelled impressions -> features (serving engine) -> split by time: older | recent
        older -> LambdaMART (IPS-weighted), continued from the serving one -> candidate reranker  -+
        older -> (query, chosen product) pairs, fine-tuning the serving one -> candidate embedding -+-> gate
        recent + the shipped relevance set: candidate vs serving, same data, same metric     serve or refuse

The gate compares each candidate with the model serving now, on the most recent part of the window (held
out from training) and on the relevance set shipped with Agora, and promotes it only if it is not worse
than the serving one by more than `promotion_margin` (NDCG@10, 0-1) on either. A refused candidate is kept
in the registry with its metrics and the reason. Too little data is not a reason to train at all: the step
is skipped and the report says why.

The reranker is trained on features computed by the serving engine (its embedding model included), the
behavioural ones as they stood just before each search (`feedback.signal_history`); a new embedding model
promoted in the same run is picked up by the next run's features. The service swaps promoted models in by
itself (see `market.search.indexer`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from feedback import datasets, events, gate
from feedback.embedding_training import fine_tune_embedding
from feedback.propensity import Propensity
from feedback.reranker_training import ndcg_on, train_reranker
from feedback.retrain_report import Decision, RetrainOptions, RetrainReport, StepClock
from feedback.signal_history import SignalHistory
from market.core.settings import Settings
from ranking.documents import embedding_text
from ranking.embedder import embedder_from_settings
from ranking.engine import MatchingEngine
from ranking.features import FEATURES, Signals
from ranking.offline.evaluate import RelevanceSet, load_relevance_set
from ranking.offline.train_seed import DEFAULT_DATASET
from ranking.registry import ModelRegistry
from ranking.reranker import RerankerModel
from sellers import catalog as sellers

log = logging.getLogger(__name__)

# Below these, a model would learn noise: the step is skipped rather than trained and refused.
MIN_TRAINING_SEARCHES = 30
MIN_HELD_OUT_SEARCHES = 10
MIN_PAIRS = 32  # one batch of in-batch negatives
# A cap that keeps a night's work bounded whatever the log holds: features are recomputed per search.
MAX_TRAINING_SEARCHES = 20_000
MAX_HELD_OUT_SEARCHES = 5_000


async def retrain(
    pool: asyncpg.Pool, settings: Settings, engine: MatchingEngine, options: RetrainOptions | None = None
) -> RetrainReport:
    """One retraining run over the log window ending now; returns what was promoted, refused or skipped.

    `engine` is the serving engine (the service's models over today's catalog, as
    `market.search.indexer.serving_engine` makes it): it computes the training features and sets the bar."""
    options = options or RetrainOptions()
    until = options.now or datetime.now(UTC)
    since = until - timedelta(days=settings.retrain_window_days)
    report = RetrainReport(since=since, until=until)
    clock = StepClock()
    registry = ModelRegistry(pool, settings.data_dir)

    with clock.step("dataset"):
        impressions = await datasets.load_labelled_impressions(
            pool,
            since=since,
            until=until,
            attribution_window=timedelta(hours=settings.attribution_window_hours),
        )
        report.impressions = len(impressions)
        engine.signals = await _signals_before(pool, since)
        history = await SignalHistory.load(pool, engine.signals, impressions, since=since, until=until)
        propensity = Propensity.estimate_from_swaps(impressions, fallback_eta=settings.position_bias_eta)
        data = await asyncio.to_thread(
            datasets.build_training_set,
            engine,
            _sample(impressions, options.seed),
            history.at,
            propensity,
        )
        older, recent = data.split_by_time(settings.retrain_holdout_fraction)
        if options.tamper is not None:
            older = options.tamper(older)
        report.training_searches, report.held_out_searches = len(older.group_sizes), len(recent.group_sizes)

    relevance = load_relevance_set(DEFAULT_DATASET)
    report.decisions.append(
        await _retrain_reranker(
            registry, settings, engine, older, recent, relevance, propensity, report, clock
        )
    )
    if options.train_embedding:
        report.decisions.append(
            await _retrain_embedding(
                registry, settings, engine, older, recent, relevance, report, clock, options
            )
        )
    report.timings = clock.timings
    return report


# -- the reranker -------------------------------------------------------------------------------------------


async def _retrain_reranker(
    registry: ModelRegistry,
    settings: Settings,
    engine: MatchingEngine,
    older: datasets.TrainingSet,
    recent: datasets.TrainingSet,
    relevance: RelevanceSet,
    propensity: Propensity,
    report: RetrainReport,
    clock: StepClock,
) -> Decision:
    if len(older.group_sizes) < MIN_TRAINING_SEARCHES:
        return Decision(
            "reranker",
            "skipped",
            f"only {len(older.group_sizes)} searches with a click or better to learn from "
            f"(at least {MIN_TRAINING_SEARCHES} are needed)",
        )
    if len(recent.group_sizes) < MIN_HELD_OUT_SEARCHES:
        return Decision(
            "reranker",
            "skipped",
            f"only {len(recent.group_sizes)} recent searches to judge a new model on "
            f"(at least {MIN_HELD_OUT_SEARCHES} are needed)",
        )
    serving = engine.reranker
    # Boosting continues from the serving model when it reads the features in today's order (a model from
    # before a feature was added cannot be continued and is replaced by one trained from scratch).
    start = serving if serving is not None and serving.features == FEATURES else None
    gains = datasets.grade_gains(settings.click_gain)
    with clock.step("reranker"):
        train, early_stop = older.split_by_time(0.1)
        booster = await asyncio.to_thread(
            train_reranker,
            train,
            early_stop if len(early_stop.group_sizes) else None,
            dask_scheduler=settings.dask_scheduler,
            params={"label_gain": list(gains)},
            init_model=start.booster if start else None,
        )
    version = _version_name("reranker", booster.model_to_string().encode())
    candidate = RerankerModel(version=version, booster=booster, features=FEATURES)
    with clock.step("evaluation"):
        held_out = {
            "candidate": ndcg_on(candidate, recent, debiased=True, gains=gains),
            "serving": ndcg_on(serving, recent, debiased=True, gains=gains) if serving else 0.0,
        }
        on_relevance = await asyncio.to_thread(
            gate.relevance_ndcg, settings, engine.embedder, relevance, candidate, serving
        )
    reason = gate.verdict("reranker", settings.promotion_margin, held_out, on_relevance)
    metadata = {
        "origin": "retrained from the event log",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_window": {"since": report.since.isoformat(), "until": report.until.isoformat()},
        "train_searches": len(train.group_sizes),
        "train_rows": len(train.labels),
        "held_out_searches": len(recent.group_sizes),
        "position_bias": propensity.describe(),
        "grade_gains": list(gains),
        "dask": bool(settings.dask_scheduler),
        "continued_from": start.version if start else None,
        "trees_added": booster.current_iteration() - (start.booster.current_iteration() if start else 0),
        "best_iteration": booster.best_iteration,
        "offline_metrics": {
            "held_out_ndcg@10": held_out,
            "relevance_set_ndcg@10": on_relevance,
            # `models list` shows this figure for every reranker, the seed one included.
            "hybrid+rerank": {"ndcg@10": on_relevance["candidate"]},
        },
        "gate": {"margin": settings.promotion_margin, "refused": reason},
        "serving_before": serving.version if serving else None,
    }
    candidate = RerankerModel(version, booster, FEATURES, metadata)
    with tempfile.TemporaryDirectory() as scratch:
        candidate.save(Path(scratch))
        status = "refused" if reason else "serving"
        await registry.register("reranker", version, Path(scratch), metadata, status=status)
    metrics = {"held_out_ndcg@10": held_out, "relevance_set_ndcg@10": on_relevance}
    if reason:
        return Decision("reranker", "refused", reason, version, metrics)
    return Decision("reranker", "promoted", "not worse than the serving model", version, metrics)


# -- the embedding model ------------------------------------------------------------------------------------


async def _retrain_embedding(
    registry: ModelRegistry,
    settings: Settings,
    engine: MatchingEngine,
    older: datasets.TrainingSet,
    recent: datasets.TrainingSet,
    relevance: RelevanceSet,
    report: RetrainReport,
    clock: StepClock,
    options: RetrainOptions,
) -> Decision:
    pairs = _text_pairs(engine, older)
    if len(pairs) < MIN_PAIRS:
        return Decision(
            "embedding", "skipped", f"only {len(pairs)} (query, chosen product) pairs (at least {MIN_PAIRS})"
        )
    gains = datasets.grade_gains(settings.click_gain)
    held_out = _held_out_judgements(recent, gains)
    if len(held_out[0]) < MIN_HELD_OUT_SEARCHES:
        return Decision(
            "embedding", "skipped", f"only {len(held_out[0])} recent searches to judge a new model on"
        )
    if settings.embedding_train_seconds <= 0 or settings.embedding_max_pairs <= 0:
        return Decision("embedding", "skipped", "embedding fine-tuning is off (no time budget or no pairs)")
    serving = engine.embedder
    with tempfile.TemporaryDirectory(dir=_scratch_dir(settings)) as scratch:
        out = Path(scratch) / "model"
        with clock.step("embedding"):
            trained = await asyncio.to_thread(
                fine_tune_embedding,
                serving.path,
                pairs,
                out,
                time_budget_seconds=settings.embedding_train_seconds,
                max_pairs=settings.embedding_max_pairs,
                seed=options.seed,
                progress=options.progress,
            )
        with clock.step("evaluation"):
            candidate = await asyncio.to_thread(embedder_from_settings, settings, out)
            metrics = await asyncio.to_thread(
                gate.compare_embeddings,
                settings,
                engine,
                candidate,
                serving,
                held_out,
                relevance,
                options.seed,
            )
        held = {name: figures["held_out"]["ndcg@10"] for name, figures in metrics.items()}
        rel = {name: figures["relevance_set"]["ndcg@10"] for name, figures in metrics.items()}
        reason = gate.verdict("embedding", settings.promotion_margin, held, rel)
        version = _version_name("embedding", candidate.model_id.encode())
        metadata = {
            "origin": "fine-tuned on (query, chosen product) pairs from the event log",
            "base": serving.model_id,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_window": {"since": report.since.isoformat(), "until": report.until.isoformat()},
            "pairs_available": len(pairs),
            "grade_gains": list(gains),  # what the held-out judgements counted each grade as worth
            "training": {
                "pairs_used": trained.pairs_used,
                "steps": trained.steps,
                "seconds": round(trained.seconds, 1),
                "stopped_by_budget": trained.stopped_by_budget,
                "loss": trained.loss,
            },
            "offline_metrics": metrics,
            "gate": {"margin": settings.promotion_margin, "refused": reason},
            "serving_before": serving.model_id,
        }
        await registry.ensure_base_embedding(serving.path, serving.model_id)
        await registry.register(
            "embedding", version, out, metadata, status="refused" if reason else "serving"
        )
    summary = {"held_out_ndcg@10": held, "relevance_set_ndcg@10": rel}
    if reason:
        return Decision("embedding", "refused", reason, version, summary)
    return Decision("embedding", "promoted", "not worse than the serving model", version, summary)


def _text_pairs(engine: MatchingEngine, data: datasets.TrainingSet) -> list[tuple[str, str]]:
    """(query, text of a product the shopper chose) for each positive row, purchases first."""
    ranked = sorted(data.positive_pairs(min_grade=1), key=lambda pair: -pair[2])
    pairs, seen = [], set()
    for query, product_id, _grade in ranked:
        product = engine.catalog.get(product_id)
        if product is None or (query, product_id) in seen:
            continue
        seen.add((query, product_id))
        pairs.append((query, embedding_text(product)))
    return pairs


def _held_out_judgements(
    recent: datasets.TrainingSet, gains: Sequence[float]
) -> tuple[dict[str, str], dict[str, dict[int, float]]]:
    """The recent searches as judged queries for the embedding gate: each distinct query text with the
    products shoppers chose for it, graded so that the evaluation's gain (2**grade - 1) is what `gains`
    (`datasets.grade_gains`) says the logged grade is worth, as at the reranker's gate. A product worth
    nothing there (a click that was not kept, by default) is no positive here either, and a search with no
    positive left judges nothing."""
    queries: dict[str, str] = {}
    labels: dict[str, dict[int, float]] = {}
    for query, product_id, grade in recent.positive_pairs(min_grade=1):
        if gains[grade] <= 0:
            continue
        key = query.lower().strip()  # one judged query per distinct text, its grades merged
        queries[key] = query
        grades = labels.setdefault(key, {})
        grades[product_id] = max(grades.get(product_id, 0.0), math.log2(1.0 + gains[grade]))
    return queries, labels


# -- shared -------------------------------------------------------------------------------------------------


async def _signals_before(pool: asyncpg.Pool, since: datetime) -> Signals:
    """Behavioural signals as they stood when the window opened (the training features replay the window
    from there, `feedback.signal_history`): the relevance set is judged with these, never with counts
    that include the window's own clicks and purchases."""
    return Signals(
        product_stats=await events.product_stats(pool, before=since),
        seller_quality=await sellers.seller_catalog_quality(pool),
    )


def _sample(impressions: list[datasets.LabelledImpression], seed: int) -> list[datasets.LabelledImpression]:
    """At most MAX_TRAINING_SEARCHES + MAX_HELD_OUT_SEARCHES searches with a positive, time order kept."""
    useful = [i for i in impressions if any(shown.grade > 0 for shown in i.shown)]
    limit = MAX_TRAINING_SEARCHES + MAX_HELD_OUT_SEARCHES
    if len(useful) <= limit:
        return useful
    chosen = sorted(random.Random(seed).sample(range(len(useful)), limit))
    return [useful[i] for i in chosen]


def _version_name(kind: str, content: bytes) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{kind}-{stamp}-{hashlib.sha256(content).hexdigest()[:6]}"


def _scratch_dir(settings: Settings) -> Path:
    directory = settings.data_dir / "models" / "scratch"
    directory.mkdir(parents=True, exist_ok=True)
    return directory
