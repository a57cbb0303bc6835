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
    "--set",
    "which",
    type=click.Choice(["generated", "shoppers", "holdout", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "all"]),
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
