"""The flywheel's commands: the model registry, the event log, the simulator, retraining and its schedule."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import get_args

import click

from feedback.schemas import EventType
from market.app.cli import _database_url, _reachable_base, _run, _with_pool, main
from market.core.settings import Settings


@main.group()
def models() -> None:
    """The model registry."""


@models.command("list")
@click.pass_obj
def models_list(settings: Settings) -> None:
    """Every model version, newest first."""
    from ranking.registry import ModelRegistry

    async def listing(pool):
        registry = ModelRegistry(pool, settings.data_dir)
        await registry.ensure_seed_reranker()
        return await registry.list()

    for model in _run(_with_pool(settings, _database_url(settings), listing, migrate=True)):
        click.echo(
            f"{model.version:<44} {model.kind:<10} {model.status:<9} {model.created_at:%Y-%m-%d %H:%M}  "
            f"{_figures(model.metadata)}"
        )


def _figures(metadata: dict) -> str:
    """A model's offline figures in a few words, and why the gate refused it if it did."""
    metrics = metadata.get("offline_metrics", {})
    parts = []
    if "ndcg@10" in metrics.get("hybrid+rerank", {}):
        parts.append(f"relevance-set ndcg@10={metrics['hybrid+rerank']['ndcg@10']:.4f}")
    if "held_out_ndcg@10" in metrics:
        parts.append(f"held-out ndcg@10={metrics['held_out_ndcg@10']['candidate']:.4f}")
    if "candidate" in metrics and "held_out" in metrics["candidate"]:  # an embedding model
        parts.append(f"held-out dense ndcg@10={metrics['candidate']['held_out']['ndcg@10']:.4f}")
        parts.append(f"relevance-set dense ndcg@10={metrics['candidate']['relevance_set']['ndcg@10']:.4f}")
    if refused := (metadata.get("gate") or {}).get("refused"):
        parts.append(f"refused: {refused}")
    return "  ".join(parts)


@models.command("promote")
@click.argument("version")
@click.pass_obj
def models_promote(settings: Settings, version: str) -> None:
    """Serve VERSION; a running service swaps it in within AGORA_MODEL_POLL_SECONDS."""
    from ranking.registry import ModelRegistry, UnknownVersion

    async def promote(pool):
        return await ModelRegistry(pool, settings.data_dir).promote(version)

    try:
        promoted = _run(_with_pool(settings, _database_url(settings), promote, migrate=True))
    except UnknownVersion:
        raise click.ClickException(f"no model version {version!r}; see 'agora models list'") from None
    click.echo(f"{promoted.version} now serves ({promoted.kind})")


@main.group()
def events() -> None:
    """The event log."""


def _moment(_: click.Context, parameter: click.Parameter, value: str | None):
    from datetime import datetime

    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2025-05-01T00:00:00Z)") from None


@events.command("export")
@click.option("--since", callback=_moment, help="From this time on (ISO 8601; without a zone, UTC).")
@click.option("--until", callback=_moment, help="Before this time (ISO 8601) [now].")
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(get_args(EventType)),
    help="Only events of this type; repeatable.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here [stdout]."
)
@click.pass_obj
def events_export(settings: Settings, since, until, types: tuple[str, ...], out: Path | None) -> None:
    """Write the event log as NDJSON, one event per line in (occurred_at, event_id) order, streamed from
    the database page by page; the same lines as GET /v1/operator/events."""
    from feedback import export

    async def write(pool) -> int:
        try:
            pages = export.ndjson_pages(pool, since=since, until=until, types=types)
        except export.ExportRangeError as exc:
            raise click.BadParameter(str(exc), param_hint="--since/--until") from None
        count = 0
        sink = out.open("wb") if out else sys.stdout.buffer
        try:
            async for chunk in pages:
                sink.write(chunk)
                count += chunk.count(b"\n")
        finally:
            sink.flush()
            if out:
                sink.close()
        return count

    count = _run(_with_pool(settings, _database_url(settings), write, migrate=True))
    click.echo(f"exported {count} events" + (f" to {out}" if out else ""), err=True)


@main.command()
@click.option("--shoppers", "count", type=click.IntRange(min=1), required=True, help="How many shoppers.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Same seed, same shoppers and decisions."
)
@click.option(
    "--base-url", default=None, help="The server to shop at [AGORA_PUBLIC_URL or AGORA_HOST:AGORA_PORT]."
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Simulated days; between two days the nightly retraining runs (see --no-retrain).",
)
@click.option("--no-retrain", is_flag=True, help="Several days of traffic without retraining between them.")
@click.option(
    "--no-restock",
    is_flag=True,
    help="With several days: sellers do not put back overnight what sold, so stock runs down.",
)
@click.option(
    "--panel",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="With several days: shoppers of the fixed panel whose conversion is measured each day.",
)
@click.pass_obj
def simulate(
    settings: Settings,
    count: int,
    seed: int,
    base_url: str | None,
    concurrency: int,
    days: int,
    no_retrain: bool,
    no_restock: bool,
    panel: int,
) -> None:
    """Simulated shoppers with hidden needs search, click, fill carts and pay (Stripe test card) on a
    running server, through its HTTP API; prints the day's figures. Their needs come from the catalog in
    this node's database. The behaviour model: feedback/simulator/behaviour.py.

    With --days N, N days run with the nightly retraining between them (in this process, on this node's
    database; the server picks up what is promoted), and one row per day is printed: the ranking's NDCG@10
    against the shoppers' hidden needs, the conversion of a fixed panel of --panel shoppers who shop
    against each day's ranking with the same random draws (in this process, leaving no trace), the day's
    traffic, conversion, GMV, how many products the sellers restocked overnight (what sold goes back to the
    stock it had when the run began) and what the retraining decided."""
    import httpx

    from feedback.loop import format_days, run_loop
    from feedback.simulator import connect, draw_shoppers, format_stats, load_catalog, run_day
    from market.search.indexer import serving_engine

    url = (base_url or settings.public_url or _reachable_base(settings)).rstrip("/")

    async def one_day(pool):
        catalog = await load_catalog(pool)
        if not catalog:
            raise click.ClickException(
                "the catalog is empty: nothing to shop for (try 'agora demo --seed-only')"
            )
        shoppers = draw_shoppers(catalog, count, seed=seed)
        async with connect(url) as client:
            return format_stats(await run_day(client, shoppers, seed=seed, concurrency=concurrency))

    async def many_days(pool):
        try:
            history = await run_loop(
                pool,
                settings,
                url,
                lambda: serving_engine(pool, settings),
                days=days,
                shoppers_per_day=count,
                seed=seed,
                concurrency=concurrency,
                conversion_panel_size=panel,
                retrain_between=not no_retrain,
                restock_nightly=not no_restock,
                on_day=lambda day: click.echo(f"day {day.number}: {day.traffic.paid_orders} paid", err=True),
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        return format_days(history)

    try:
        click.echo(_run(_with_pool(settings, _database_url(settings), one_day if days == 1 else many_days)))
    except ExceptionGroup as group:
        unreachable, _ = group.split(httpx.TransportError)
        if unreachable is None:
            raise
        raise click.ClickException(f"cannot reach {url}: {unreachable.exceptions[0]}") from None
    except httpx.TransportError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None


@main.command()
@click.option("--no-embedding", is_flag=True, help="Retrain the reranker only.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_obj
def retrain(settings: Settings, no_embedding: bool, as_json: bool) -> None:
    """Retrain the reranker and the embedding model on the event log once; promote what passes the gate."""
    from feedback.retrain import RetrainOptions
    from feedback.retrain import retrain as run
    from market.search.indexer import serving_engine

    options = RetrainOptions(train_embedding=not no_embedding, progress=not as_json)

    async def once(pool):
        return await run(pool, settings, await serving_engine(pool, settings), options)

    report = _run(_with_pool(settings, _database_url(settings), once, migrate=True))
    click.echo(json.dumps(report_as_dict(report), indent=2) if as_json else format_report(report))


@main.command()
@click.option("--cron", default=None, help="When to retrain [AGORA_RETRAIN_CRON, '0 3 * * *'].")
@click.pass_obj
def worker(settings: Settings, cron: str | None) -> None:
    """Retrain on a schedule (nightly by default), until stopped."""
    from feedback import worker as schedule
    from feedback.retrain import RetrainOptions
    from feedback.retrain import retrain as run
    from market.search.indexer import serving_engine

    expression = cron or settings.retrain_cron
    try:
        first = schedule.next_run(expression, datetime.now())
    except schedule.CronError as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    click.echo(f"retraining at '{expression}'; next run {first:%Y-%m-%d %H:%M}")

    async def nightly(pool):
        return await run(pool, settings, await serving_engine(pool, settings), RetrainOptions())

    async def forever(pool) -> None:
        await schedule.run_forever(
            expression,
            lambda: nightly(pool),
            on_result=lambda report: click.echo(format_report(report)),
        )

    _run(_with_pool(settings, _database_url(settings), forever, migrate=True))


@models.command("rollback")
@click.argument("version")
@click.pass_obj
def models_rollback(settings: Settings, version: str) -> None:
    """Serve VERSION again (one that served before); a running service swaps it in within seconds."""
    from ranking.registry import ModelRegistry, RollbackRefused, UnknownVersion

    async def rollback(pool):
        return await ModelRegistry(pool, settings.data_dir).rollback(version)

    try:
        model = _run(_with_pool(settings, _database_url(settings), rollback, migrate=True))
    except UnknownVersion:
        raise click.ClickException(f"no model version {version!r}; see 'agora models list'") from None
    except RollbackRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{model.version} serves again ({model.kind})")


def format_report(report) -> str:
    lines = [
        (
            f"window {report.since:%Y-%m-%d %H:%M} .. {report.until:%Y-%m-%d %H:%M} UTC: "
            f"{report.impressions} searches logged, {report.training_searches} to train on, "
            f"{report.held_out_searches} held out"
        ),
    ]
    for decision in report.decisions:
        lines.append(f"{decision.kind:<10} {decision.outcome:<9} {decision.version or '-'}")
        lines.append(f"           {decision.reason}")
        for name, figures in decision.metrics.items():
            if isinstance(figures, dict) and {"candidate", "serving"} <= figures.keys():
                lines.append(
                    f"           {name}: candidate {figures['candidate']:.4f}, serving {figures['serving']:.4f}"
                )
    lines.append("time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items()))
    return "\n".join(lines)


def report_as_dict(report) -> dict:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "impressions": report.impressions,
        "training_searches": report.training_searches,
        "held_out_searches": report.held_out_searches,
        "decisions": [
            {
                "kind": d.kind,
                "outcome": d.outcome,
                "version": d.version,
                "reason": d.reason,
                "metrics": d.metrics,
            }
            for d in report.decisions
        ],
        "timings_seconds": {name: round(seconds, 2) for name, seconds in report.timings.items()},
    }
