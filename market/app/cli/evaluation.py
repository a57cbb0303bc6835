"""`agora eval`: relevance of the search stages and the shopping assistant's dialogues, offline."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from market.app.cli.common import run
from market.app.shopper_eval import SETS
from market.core.settings import Settings


@click.group("eval")
def evaluation() -> None:
    """Offline evaluation."""


@evaluation.command("relevance")
@click.option(
    "--dataset",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A directory with product.csv, query.csv and label.csv (the WANDS layout).",
)
@click.option(
    "--model",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A reranker directory (model.txt + meta.json); default: the one Agora ships.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N queries only.")
@click.option(
    "--min-judgments",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Skip queries with fewer judged products (any grade).",
)
@click.option(
    "--queries",
    "queries_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Evaluate only the query ids listed in FILE (one a line; # starts a comment).",
)
@click.option(
    "--irrelevant-grade",
    type=float,
    default=None,
    help="On a numeric scale, the grade that means irrelevant (CrowdFlower: 1): it and lower grades gain "
    "nothing, higher ones count from it. Default: grades as they are (0 irrelevant).",
)
@click.option(
    "--approximate",
    is_flag=True,
    help="Search vectors with the serving index (IVF above the configured size) instead of exactly.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where product vectors are kept per model and catalog (default: the user cache dir).",
)
@click.option("--no-cache", is_flag=True, help="Embed the catalog again and keep nothing.")
@click.option(
    "--per-query",
    "per_query_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write each query's scores per stage to FILE (NDJSON).",
)
@click.option(
    "--compare",
    nargs=2,
    metavar="STAGE STAGE",
    default=None,
    help="Compare two stages query by query on NDCG@10: wins, ties, losses, 95% bootstrap interval.",
)
@click.option("--quiet", is_flag=True, help="No progress bars on stderr.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (stages, counts, comparison) on stdout."
)
@click.pass_obj
def eval_relevance(
    settings: Settings,
    dataset: Path,
    model: Path | None,
    limit: int | None,
    min_judgments: int,
    queries_file: Path | None,
    irrelevant_grade: float | None,
    approximate: bool,
    cache_dir: Path | None,
    no_cache: bool,
    per_query_path: Path | None,
    compare: tuple[str, str] | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """NDCG@10, Recall@100 and MRR of each stage (lexical, dense, hybrid, hybrid+rerank) on a relevance set.

    Progress goes to stderr (also with --json); the counts of queries evaluated and skipped go with the
    results."""
    from importlib import resources

    import platformdirs

    from ranking.embedder import embedder_from_settings
    from ranking.offline import selection
    from ranking.offline.comparison import paired_comparison
    from ranking.offline.evaluate import METRICS, format_table, load_relevance_set, mean_scores, score_queries
    from ranking.offline.stages import engine_over, stage_rankers
    from ranking.registry import SEED_RERANKER_PACKAGE
    from ranking.reranker import RerankerModel

    progress = not quiet
    try:
        relevance = load_relevance_set(dataset, progress=progress)
        wanted = selection.Selection(
            limit=limit,
            min_judgments=min_judgments,
            query_ids=selection.read_query_ids(queries_file) if queries_file else None,
        )
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if irrelevant_grade is not None:
        relevance = selection.shift_grades(relevance, irrelevant_grade)
    relevance, counts = selection.select(relevance, wanted)
    if not counts.selected:
        raise click.ClickException(f"no query left to evaluate: {_counts_line(counts)}")
    cache = None if no_cache else cache_dir or platformdirs.user_cache_path("agora") / "embeddings"
    engine = engine_over(
        relevance,
        embedder_from_settings(settings),
        exact=not approximate,
        exact_below=settings.exact_index_below,
        cache_dir=cache,
        progress=progress,
    )
    engine.swap_reranker(RerankerModel.load(model or Path(str(resources.files(SEED_RERANKER_PACKAGE)))))
    stages = stage_rankers(engine)
    if compare and any(name not in stages for name in compare):
        raise click.ClickException(f"--compare takes two of: {', '.join(stages)}")
    query_ids, scores = score_queries(stages, relevance, progress=progress)
    results = mean_scores(scores)
    comparison = None
    if compare:
        ndcg = METRICS.index("ndcg@10")
        comparison = paired_comparison(scores[compare[0]][:, ndcg], scores[compare[1]][:, ndcg])
    if per_query_path is not None:
        with per_query_path.open("w", encoding="utf-8") as sink:
            for row, query_id in enumerate(query_ids):
                record = {
                    "query_id": query_id,
                    "query": relevance.queries[query_id],
                    "judged": len(relevance.labels[query_id]),
                    "stages": {
                        name: dict(zip(METRICS, map(float, rows[row]), strict=True))
                        for name, rows in scores.items()
                    },
                }
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    if as_json:
        payload = {"stages": results, "queries": dataclasses.asdict(counts)}
        if comparison:
            payload["comparison"] = {
                "first": compare[0],
                "second": compare[1],
                **dataclasses.asdict(comparison),
            }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(format_table(results))
    click.echo(_counts_line(counts))
    if comparison:
        click.echo(
            f"{compare[0]} vs {compare[1]} (NDCG@10, per query): {comparison.wins} wins, {comparison.ties} "
            f"ties, {comparison.losses} losses; mean difference {comparison.mean_difference:+.4f} "
            f"(95% bootstrap interval {comparison.low:+.4f} to {comparison.high:+.4f})"
        )


def _counts_line(counts) -> str:
    return (
        f"queries: {counts.selected} evaluated of {counts.queries}; skipped {counts.without_relevant} without "
        f"a relevant product, {counts.too_few_judgments} with too few judgments, {counts.not_listed} not "
        f"listed, {counts.over_limit} over the limit"
    )


@evaluation.command("assistant")
@click.option(
    "--set",
    "which",
    type=click.Choice([*SETS, "all"]),
    default="shoppers",
    show_default=True,
    help="Which dialogues: the generated regression set, the hand-written shopper set, its holdout, the fresh "
    "sets written later by other testers, or all of them.",
)
@click.option(
    "--dialogues",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The generated set's dialogues (JSON, the generator's format); default: the shipped ones.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Run only the first N dialogues of each set (a shopper set's order goes round its classes).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Run only the shopper dialogues whose id starts with ID (repeatable): 'refinement-05', 'exclusion'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by set instead of tables.")
@click.option(
    "--failures",
    "failures_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write every failed check of the shopper sets to FILE (NDJSON): dialogue, turn, what the shopper "
    "said, the reply, the products shown, the cart.",
)
@click.pass_obj
def eval_assistant(
    settings: Settings,
    which: str,
    path: Path | None,
    limit: int | None,
    only: tuple[str, ...],
    as_json: bool,
    failures_path: Path | None,
) -> None:
    """Dialogues through the shopping assistant, with the configured backend.

    generated: scripted dialogues made from the demo catalog (a regression check): action and slot
    accuracy, task success, hallucinated products or prices, turn latency (p50/p95). shoppers / holdout / fresh*:
    hand-written shopper dialogues (market/assistant/dialogues/shoppers/FORMAT.md): task success overall and
    per class (every check of every turn holds), failed checks by kind, hallucinations, turn latency.

    It runs the app in this process against its own throwaway embedded PostgreSQL and data dir (in a
    temporary directory, seeded with the demo catalog and deleted afterwards), so neither AGORA_DATABASE_URL
    nor the data dir's database is read or written; only the embedding model's cache is shared.
    """

    from market.app import assistant_eval, shopper_eval
    from market.assistant import dialogues

    names = shopper_eval.SETS if which == "all" else (which,)
    try:
        generated = dialogues.load(path or dialogues.DEMO_PATH) if "generated" in names else None
        for name in names:
            if name in shopper_eval.SHOPPER_SETS:
                shopper_eval.load_set(name)
    except (ValueError, KeyError, OSError) as exc:
        raise click.ClickException(f"cannot read the dialogues: {exc}") from None
    results, failures = run(
        shopper_eval.evaluate_sets(
            settings, names, limit=limit, only=only, generated=generated, progress=not as_json
        )
    )
    if failures_path is not None:
        with failures_path.open("w", encoding="utf-8") as sink:
            for failure in failures:
                sink.write(json.dumps(failure, ensure_ascii=False) + "\n")
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for name, result in results.items():
        if name == "generated":
            click.echo(f"set generated\n{assistant_eval.format_table(result)}")
            click.echo(f"payments  {result.get('payments', '?')}")
        else:
            click.echo(shopper_eval.format_table(result))
        for problem in result["hallucination_details"]:
            click.echo(f"  hallucination: {problem}")
        for error in result.get("errors", []):
            click.echo(f"  error: {error}")
        click.echo()
    if failures_path is not None:
        click.echo(f"{len(failures)} failed checks written to {failures_path}")
