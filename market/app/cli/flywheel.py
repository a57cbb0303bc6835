"""The loop's commands: `agora simulate` (synthetic shoppers), `agora retrain` and `agora worker` (its schedule)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import click

from market.app.cli.common import database_url, reachable_base, run, with_pool
from market.core.settings import Settings


@click.command()
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

    url = (base_url or settings.public_url or reachable_base(settings)).rstrip("/")

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
        click.echo(run(with_pool(settings, database_url(settings), one_day if days == 1 else many_days)))
    except ExceptionGroup as group:
        unreachable, _ = group.split(httpx.TransportError)
        if unreachable is None:
            raise
        raise click.ClickException(f"cannot reach {url}: {unreachable.exceptions[0]}") from None
    except httpx.TransportError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None


@click.command()
@click.option("--no-embedding", is_flag=True, help="Retrain the reranker only.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_obj
def retrain(settings: Settings, no_embedding: bool, as_json: bool) -> None:
    """Retrain the reranker and the embedding model on the event log once; promote what passes the gate."""
    from feedback.retrain import RetrainOptions
    from feedback.retrain import retrain as retrain_once
    from market.search.indexer import serving_engine

    options = RetrainOptions(train_embedding=not no_embedding, progress=not as_json)

    async def once(pool):
        return await retrain_once(pool, settings, await serving_engine(pool, settings), options)

    report = run(with_pool(settings, database_url(settings), once, migrate=True))
    click.echo(json.dumps(report_as_dict(report), indent=2) if as_json else format_report(report))


@click.command()
@click.option("--cron", default=None, help="When to retrain [AGORA_RETRAIN_CRON, '0 3 * * *'].")
@click.pass_obj
def worker(settings: Settings, cron: str | None) -> None:
    """Retrain on a schedule (nightly by default), until stopped."""
    from feedback import worker as schedule
    from feedback.retrain import RetrainOptions
    from feedback.retrain import retrain as retrain_once
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
        return await retrain_once(pool, settings, await serving_engine(pool, settings), RetrainOptions())

    async def forever(pool) -> None:
        await schedule.run_forever(
            expression,
            lambda: nightly(pool),
            on_result=lambda report: click.echo(format_report(report)),
        )

    run(with_pool(settings, database_url(settings), forever, migrate=True))


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
