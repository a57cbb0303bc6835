"""`agora eval`: relevance of the search stages and the shopping assistant's dialogues, offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from market.app.cli.common import offline_engine, run
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
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object keyed by stage instead of a table."
)
@click.pass_obj
def eval_relevance(settings: Settings, dataset: Path, model: Path | None, as_json: bool) -> None:
    """NDCG@10, Recall@100 and MRR of each stage (lexical, dense, hybrid, hybrid+rerank) on a relevance set."""
    from importlib import resources

    from ranking.offline.evaluate import format_table, load_relevance_set
    from ranking.offline.stages import evaluate_engine
    from ranking.registry import SEED_RERANKER_PACKAGE
    from ranking.reranker import RerankerModel

    try:
        relevance = load_relevance_set(dataset, progress=not as_json)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    engine = offline_engine(settings)
    engine.load(relevance.products, progress=not as_json)
    engine.swap_reranker(RerankerModel.load(model or Path(str(resources.files(SEED_RERANKER_PACKAGE)))))
    results = evaluate_engine(engine, relevance, progress=not as_json)
    click.echo(json.dumps(results, indent=2) if as_json else format_table(results))


@evaluation.command("assistant")
@click.option(
    "--dialogues",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A dialogue set (JSON); default: the shipped one made from the demo catalog.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Run only the first N dialogues.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_obj
def eval_assistant(settings: Settings, path: Path | None, limit: int | None, as_json: bool) -> None:
    """Scripted shopper dialogues through the assistant: action and slot accuracy, task success,
    hallucinated products or prices, turn latency (p50/p95), with the configured backend.

    It runs the app in this process against its own throwaway embedded PostgreSQL and data dir (in a
    temporary directory, seeded with the demo catalog and deleted afterwards), so neither AGORA_DATABASE_URL
    nor the data dir's database is read or written; only the embedding model's cache is shared.
    """

    from market.app.assistant_eval import evaluate_in_process, format_table
    from market.assistant import dialogues

    try:
        script = dialogues.load(path or dialogues.DEMO_PATH)
    except (ValueError, KeyError, OSError) as exc:
        raise click.ClickException(f"cannot read the dialogues: {exc}") from None
    script = script[:limit] if limit else script
    result = run(evaluate_in_process(settings, script, progress=not as_json))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(format_table(result))
    for failure in result["hallucination_details"]:
        click.echo(f"  hallucination: {failure}")
