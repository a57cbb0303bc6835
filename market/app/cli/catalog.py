"""`agora catalog import`: a seller's CSV or NDJSON file, streamed in with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import click

from market.app.cli.common import database_url, run, with_pool
from market.core.settings import Settings


@click.group()
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
    summary = run(
        with_pool(
            settings,
            database_url(settings),
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
