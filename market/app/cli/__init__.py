"""The `agora` command: serve the marketplace, manage its database, load a demo, import catalogs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
import msgspec

from market.core.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Agora, the agentic-commerce marketplace. Settings come from AGORA_* variables and .env."""
    # SIGTERM ends the process through normal exit, so the embedded PostgreSQL is stopped cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # OpenMP threads (LightGBM's) that spin while idle starve llama.cpp's threads on a small machine: the
    # assistant's first reply took 9-11 s instead of ~3.5 s. It must be set before LightGBM is loaded.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        ctx.obj = load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def _host_and_port(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--port", type=int, default=None, help="Port to listen on [AGORA_PORT, 8000].")(
        command
    )
    return click.option("--host", default=None, help="Address to listen on [AGORA_HOST, 127.0.0.1].")(command)


@main.command()
@_host_and_port
@click.pass_obj
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes serving HTTP [AGORA_WORKERS, 1]."
)
def serve(settings: Settings, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP service (migrating the database first)."""
    if workers is not None:
        settings = msgspec.structs.replace(settings, workers=workers)
    _serve(settings, host, port)


@main.command()
@_host_and_port
@click.option("--seed-only", is_flag=True, help="Load the demo data and exit instead of serving.")
@click.pass_obj
def demo(settings: Settings, host: str | None, port: int | None, seed_only: bool) -> None:
    """Create demo sellers with a multi-category catalog, then serve, taking payments in Stripe test mode.

    Without AGORA_STRIPE_SECRET_KEY, payments go to a local Stripe started for the demo (the project's
    devtools/stripe_local, with its own test payment page); its webhooks come back to this server.
    """
    from market.app.demo import describe_accounts, open_payout_accounts, seed_demo
    from market.app.local_stripe import LocalStripeUnavailable, start_local_stripe
    from payments.gateway import StripeGateway

    settings = msgspec.structs.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    url = _database_url(settings)
    accounts = _run(
        _with_pool(
            settings, url, lambda pool: seed_demo(pool, settings.data_dir, progress=True), migrate=True
        )
    )
    click.echo(describe_accounts(accounts, settings.data_dir))
    if seed_only:
        return
    local = None
    if not settings.stripe_secret_key:
        try:
            local = start_local_stripe()
        except LocalStripeUnavailable as exc:
            click.echo(f"Payments are off: {exc}")
        else:
            settings = local.settings_for(settings)
            local.deliver_webhooks_to(f"{_reachable_base(settings)}/v1/stripe/webhook")
            click.echo(f"Stripe (test mode): a local server at {local.url}, with its own test payment page")
    try:
        gateway = StripeGateway.from_settings(settings)
        if gateway is not None:
            opened = _run(
                _with_pool(
                    settings,
                    url,
                    lambda pool: open_payout_accounts(
                        pool, gateway, accounts, fresh_stripe=local is not None
                    ),
                )
            )
            click.echo(f"Payout accounts (Stripe Connect) for the demo sellers: {', '.join(opened)}")
        _serve(settings, None, None, url)
    finally:
        if local is not None:
            local.stop()


def _reachable_base(settings: Settings) -> str:
    """Where a process on this machine reaches the server (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply pending migrations (safe to run twice, or from two processes at once)."""
    from market.core import migrate

    async def upgrade(pool) -> list[migrate.Migration]:
        async with pool.acquire() as conn:
            return await migrate.upgrade(conn)

    applied = _run(_with_pool(settings, _database_url(settings), upgrade))
    for migration in applied:
        click.echo(f"applied {migration.version:04d}_{migration.name}")
    click.echo(f"{len(applied)} migration(s) applied; the schema is current.")


@main.group()
def catalog() -> None:
    """Seller catalogs."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--seller-key", required=True, envvar="AGORA_SELLER_KEY", help="The seller's API key [AGORA_SELLER_KEY]."
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "ndjson"]),
    default=None,
    help="File format; by default taken from the file's extension.",
)
@click.option("--show-rejected", default=20, show_default=True, help="How many rejected rows to print.")
@click.pass_obj
def catalog_import(
    settings: Settings, file: Path, seller_key: str, file_format: str | None, show_rejected: int
) -> None:
    """Import a CSV or NDJSON catalog FILE for the seller holding --seller-key, streaming it in batches.

    Exits with status 1 when some rows were rejected (each is printed with its line), 0 otherwise.
    """
    file_format = file_format or _format_from_extension(file)
    summary = _run(
        _with_pool(
            settings,
            _database_url(settings),
            lambda pool: _import_file(pool, seller_key, file, file_format, settings),
        )
    )
    click.echo(
        f"{summary.rows} rows: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.rejected_count} rejected"
    )
    for rejected in summary.rejected[:show_rejected]:
        where = f" ({rejected.field})" if rejected.field else ""
        click.echo(f"  line {rejected.line}{where}: {rejected.message}", err=True)
    if summary.rejected_count > show_rejected:
        click.echo(f"  ... and {summary.rejected_count - show_rejected} more", err=True)
    if summary.rejected_count:
        sys.exit(1)


@main.group()
def index() -> None:
    """The search index."""


@index.command("rebuild")
@click.pass_obj
def index_rebuild(settings: Settings) -> None:
    """Re-embed the whole catalog into a new vector index, saved in the data dir.

    A running service keeps the index it has; ask it to rebuild in place with
    POST /v1/operator/index/rebuild instead, or restart it after this command.
    """
    from market.search.indexer import SearchIndexer

    async def rebuild(pool) -> int:
        return await SearchIndexer(_engine(settings), pool, settings).rebuild(progress=True)

    count = _run(_with_pool(settings, _database_url(settings), rebuild, migrate=True))
    click.echo(f"indexed {count} products into {settings.data_dir / 'index'}")


@main.group("eval")
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
    import json
    from importlib import resources

    from ranking.offline.evaluate import format_table, load_relevance_set
    from ranking.offline.stages import evaluate_engine
    from ranking.registry import SEED_RERANKER_PACKAGE
    from ranking.reranker import RerankerModel

    try:
        relevance = load_relevance_set(dataset, progress=not as_json)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    engine = _engine(settings)
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
    import json

    from market.app.assistant_eval import evaluate_in_process, format_table
    from market.assistant import dialogues

    try:
        script = dialogues.load(path or dialogues.DEMO_PATH)
    except (ValueError, KeyError, OSError) as exc:
        raise click.ClickException(f"cannot read the dialogues: {exc}") from None
    script = script[:limit] if limit else script
    result = _run(evaluate_in_process(settings, script, progress=not as_json))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(format_table(result))
    for failure in result["hallucination_details"]:
        click.echo(f"  hallucination: {failure}")


def _serve(settings: Settings, host: str | None, port: int | None, url: str | None = None) -> None:
    import uvicorn

    from market.app.asgi import create_app

    host = host or settings.host
    port = settings.port if port is None else port
    url = url or _database_url(settings)
    click.echo(f"Agora on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    click.echo(
        f"Dashboards: http://{host}:{port}/operator (operator token), http://{host}:{port}/seller (seller key)"
    )
    if not settings.operator_token:
        click.echo(f"Operator token: in {settings.operator_token_file}")
    if settings.workers > 1:
        from market.app.workers import serve_workers

        click.echo(f"{settings.workers} worker processes")
        serve_workers(settings, url, host, port)
        return
    uvicorn.run(
        create_app(settings, url, show_progress=True), host=host, port=port, log_level=settings.log_level
    )


def _engine(settings: Settings):
    from market.search.indexer import service_embedder
    from ranking.engine import MatchingEngine

    return MatchingEngine(service_embedder(settings), exact_below=settings.exact_index_below)


def _database_url(settings: Settings) -> str:
    from market.core.db import database_url

    return database_url(settings)


async def _with_pool(
    settings: Settings, url: str, work: Callable[..., Awaitable[T]], *, migrate: bool = False
) -> T:
    from market.core import db
    from market.core import migrate as migrations

    pool = await db.create_pool(url, settings)
    try:
        if migrate:
            async with pool.acquire() as conn:
                await migrations.upgrade(conn)
        return await work(pool)
    finally:
        await pool.close()


def _run(coroutine: Awaitable[T]) -> T:
    from market.core.errors import DomainError
    from market.core.migrate import MigrationError
    from sellers.importer import MalformedBody

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except (MalformedBody, MigrationError) as exc:
        raise click.ClickException(str(exc)) from None


def _format_from_extension(file: Path) -> str:
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    raise click.UsageError(f"cannot tell the format of {file.name}; pass --format csv or --format ndjson")


async def _import_file(pool, seller_key: str, file: Path, file_format: str, settings: Settings):
    from tqdm import tqdm

    from sellers import accounts, catalog
    from sellers.importer import CsvReader, NdjsonReader

    principal = await accounts.authenticate(pool, seller_key)
    reader = CsvReader() if file_format == "csv" else NdjsonReader()
    with tqdm(total=file.stat().st_size, unit="B", unit_scale=True, desc=file.name, file=sys.stderr) as bar:

        def progress(bytes_read: int, rows: int) -> None:
            bar.update(bytes_read - bar.n)
            bar.set_postfix(rows=rows, refresh=False)

        return await catalog.import_stream(
            pool,
            principal.seller,
            _read_chunks(file),
            reader,
            batch_size=settings.max_batch_items,
            from_text=file_format == "csv",
            on_progress=progress,
        )


async def _read_chunks(file: Path, chunk_size: int = 1 << 18) -> AsyncIterator[bytes]:
    with file.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


# The flywheel's commands (models, events, simulate, retrain, worker) live beside, registered on import.
from market.app.cli import flywheel as flywheel_cli  # noqa: F401

# `agora report`, the market's headline figures, lives with the other metrics.
from market.app.cli import report as report_cli  # noqa: F401
